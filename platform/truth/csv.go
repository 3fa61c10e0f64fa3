package truth

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// Warning is a problem in the input that is safe to go on with.
type Warning struct {
	File string
	Line int
	Msg  string
}

func (w Warning) String() string {
	if w.Line > 0 {
		return fmt.Sprintf("%s line %d: %s", w.File, w.Line, w.Msg)
	}
	return fmt.Sprintf("%s: %s", w.File, w.Msg)
}

// InputError names the file, the line and what is wrong with it.
type InputError struct {
	File string
	Line int
	Msg  string
}

func (e *InputError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s line %d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// lineReader yields the fields of each CSV line. Plain lines (no quotes) are
// split in place without allocation; quoted lines go through encoding/csv.
type lineReader struct {
	r      *bufio.Reader
	line   int
	fields [][]byte
	long   []byte
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 1<<20), fields: make([][]byte, 0, 4)}
}

// next returns the fields of the next non-empty line, or io.EOF.
func (lr *lineReader) next() ([][]byte, error) {
	for {
		b, err := lr.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull { // a line longer than the buffer
			lr.long = append(lr.long[:0], b...)
			for err == bufio.ErrBufferFull {
				b, err = lr.r.ReadSlice('\n')
				lr.long = append(lr.long, b...)
			}
			b = lr.long
		}
		if len(b) == 0 && err != nil {
			return nil, err
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		lr.line++
		b = bytes.TrimRight(b, "\r\n")
		if len(bytes.TrimSpace(b)) == 0 {
			if err == io.EOF {
				return nil, io.EOF
			}
			continue
		}
		f, err := splitFields(b, lr.fields[:0])
		lr.fields = f
		return f, err
	}
}

// splitFields appends the fields of one line (no line end) to fields. Plain
// lines are split in place; lines with quotes go through encoding/csv.
func splitFields(b []byte, fields [][]byte) ([][]byte, error) {
	if bytes.IndexByte(b, '"') >= 0 {
		rec, err := csv.NewReader(bytes.NewReader(b)).Read()
		if err != nil {
			return fields, fmt.Errorf("bad quoting: %v", err)
		}
		for _, f := range rec {
			fields = append(fields, []byte(f))
		}
		return fields, nil
	}
	for {
		i := bytes.IndexByte(b, ',')
		if i < 0 {
			return append(fields, bytes.TrimSpace(b)), nil
		}
		fields = append(fields, bytes.TrimSpace(b[:i]))
		b = b[i+1:]
	}
}

func isHeader(f [][]byte, names ...string) bool {
	if len(f) != len(names) {
		return false
	}
	for i, n := range names {
		if !bytes.EqualFold(f[i], []byte(n)) {
			return false
		}
	}
	return true
}

func isNumber(b []byte) bool {
	// Plain digits are the common case (class ids such as 0 and 1) and
	// always parse: skip ParseFloat and its string copy for them.
	if len(b) > 0 && len(b) < 16 {
		digits := true
		for _, c := range b {
			if c < '0' || c > '9' {
				digits = false
				break
			}
		}
		if digits {
			return true
		}
	}
	_, err := strconv.ParseFloat(string(b), 64)
	return err == nil
}

// LoadAnswersFile reads an answers CSV (item,worker,label) from a file.
func LoadAnswersFile(path string, numeric bool) (*Dataset, []Warning, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return LoadAnswers(f, path, numeric)
}

// LoadGoldFile reads a gold CSV (item,label) from a file.
func LoadGoldFile(path string, d *Dataset) (*Gold, []Warning, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return LoadGold(f, path, d)
}

// LoadGold reads known answers, item,label, for the items of d. A gold item
// that no worker answered is reported as a warning and left out; so is a
// categorical gold label that no worker ever gave (it still counts as a
// miss for every method, so accuracy stays honest).
func LoadGold(r io.Reader, name string, d *Dataset) (*Gold, []Warning, error) {
	items := goldItems{d: d}
	classes := classIndexes(d)
	g := &Gold{}
	if d.Numeric {
		g.Value = map[int]float64{}
	} else {
		g.Class = map[int]int32{}
	}
	var warns []Warning
	lr := newLineReader(r)
	rows := 0
	for {
		f, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, &InputError{name, lr.line, err.Error()}
		}
		if rows == 0 && isHeader(f, "item", "label") {
			rows++
			continue
		}
		rows++
		if len(f) != 2 {
			return nil, nil, &InputError{name, lr.line, fmt.Sprintf("expected 2 fields item,label, got %d", len(f))}
		}
		it, ok := items.index(f[0])
		if !ok {
			warns = append(warns, Warning{name, lr.line, fmt.Sprintf("gold item %q has no answers; left out", f[0])})
			continue
		}
		if d.Numeric {
			v, err := strconv.ParseFloat(string(f[1]), 64)
			if err != nil {
				return nil, nil, &InputError{name, lr.line, fmt.Sprintf("gold label %q is not a number, but the answers are numeric", f[1])}
			}
			g.Value[it] = v
			continue
		}
		c, ok := classes[string(f[1])]
		if !ok {
			warns = append(warns, Warning{name, lr.line, fmt.Sprintf("gold label %q of item %q was never given by a worker; it counts as a miss", f[1], f[0])})
			c = -1
		}
		g.Class[it] = c
	}
	if g.Len() == 0 && len(warns) == 0 {
		return nil, nil, &InputError{name, 0, "no gold rows: the file is empty or has only a header; expected rows item,label"}
	}
	return g, warns, nil
}

// goldItems finds the items of gold rows. Gold files mostly list items in the
// answers' order, so the item after the last one found is tried first and the
// map of all items (a million entries for a large set) is built only when a
// row is out of that order.
type goldItems struct {
	d    *Dataset
	next int
	idx  map[string]int
}

func (g *goldItems) index(key []byte) (int, bool) {
	if g.next < len(g.d.Items) && g.d.Items[g.next] == string(key) {
		g.next++
		return g.next - 1, true
	}
	if g.idx == nil {
		g.idx = g.d.ItemIndexes()
	}
	i, ok := g.idx[string(key)]
	if ok {
		g.next = i + 1
	}
	return i, ok
}

// ErrNoGold is returned by evaluations that need gold items and got none.
var ErrNoGold = errors.New("no gold items to evaluate on")
