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
		lr.fields = lr.fields[:0]
		if bytes.IndexByte(b, '"') >= 0 {
			rec, cerr := csv.NewReader(bytes.NewReader(b)).Read()
			if cerr != nil {
				return nil, fmt.Errorf("bad quoting: %v", cerr)
			}
			for _, f := range rec {
				lr.fields = append(lr.fields, []byte(f))
			}
			return lr.fields, nil
		}
		for {
			i := bytes.IndexByte(b, ',')
			if i < 0 {
				lr.fields = append(lr.fields, bytes.TrimSpace(b))
				break
			}
			lr.fields = append(lr.fields, bytes.TrimSpace(b[:i]))
			b = b[i+1:]
		}
		return lr.fields, nil
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

// LoadAnswers reads answers as CSV with columns item,worker,label (a header
// line with those names is optional). name is used in messages. Numeric
// labels are required when numeric is set; otherwise every distinct label is
// a class, and a mix of numeric and non-numeric labels is rejected because it
// almost always means two files or two columns were mixed up.
func LoadAnswers(r io.Reader, name string, numeric bool) (*Dataset, []Warning, error) {
	b := NewBuilder(numeric)
	lr := newLineReader(r)
	var warns []Warning
	firstNum, firstText := 0, 0
	var firstNumLabel, firstTextLabel string
	for {
		f, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, &InputError{name, lr.line, err.Error()}
		}
		if b.Len() == 0 && isHeader(f, "item", "worker", "label") {
			continue
		}
		if len(f) != 3 {
			return nil, nil, &InputError{name, lr.line, fmt.Sprintf("expected 3 fields item,worker,label, got %d", len(f))}
		}
		for i, col := range []string{"item", "worker", "label"} {
			if len(f[i]) == 0 {
				return nil, nil, &InputError{name, lr.line, fmt.Sprintf("empty %s field", col)}
			}
		}
		if numeric {
			if !isNumber(f[2]) {
				return nil, nil, &InputError{name, lr.line, fmt.Sprintf("label %q is not a number, but the method needs numeric labels (use a categorical method, or fix the label)", f[2])}
			}
		} else if firstNum == 0 || firstText == 0 {
			if isNumber(f[2]) {
				if firstNum == 0 {
					firstNum, firstNumLabel = lr.line, string(f[2])
				}
			} else if firstText == 0 {
				firstText, firstTextLabel = lr.line, string(f[2])
			}
			if firstNum > 0 && firstText > 0 {
				at, other, otherLine, lbl := firstText, firstNumLabel, firstNum, firstTextLabel
				if firstNum > firstText {
					at, other, otherLine, lbl = firstNum, firstTextLabel, firstText, firstNumLabel
				}
				return nil, nil, &InputError{name, at, fmt.Sprintf("label %q mixes with label %q of line %d: labels must be all numbers or all category names", lbl, other, otherLine)}
			}
		}
		if err := b.addBytes(f[0], f[1], f[2]); err != nil {
			return nil, nil, &InputError{name, lr.line, err.Error()}
		}
	}
	if b.Len() == 0 {
		return nil, nil, &InputError{name, 0, "no answers: the file is empty or has only a header; expected rows item,worker,label"}
	}
	d := b.Build()
	if !numeric && len(d.Classes) == 1 {
		warns = append(warns, Warning{name, 0, fmt.Sprintf("every answer has the same label %q: nothing to aggregate", d.Classes[0])})
	}
	return d, warns, nil
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
	items := d.ItemIndexes()
	classes := map[string]int32{}
	for i, c := range d.Classes {
		classes[c] = int32(i)
	}
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
		it, ok := items[string(f[0])]
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

// ErrNoGold is returned by evaluations that need gold items and got none.
var ErrNoGold = errors.New("no gold items to evaluate on")
