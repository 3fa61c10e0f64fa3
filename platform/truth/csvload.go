package truth

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"sync"
)

// The answers loader cuts the file into pieces of whole lines and parses them
// on every core; one merger then takes the pieces in file order, so ids get
// the same indices (order of first appearance), errors the same line numbers
// and the Dataset the same bytes as a one-line-at-a-time read would give.
//
// Each parser keeps its own worker and class tables across its pieces, so a
// worker costs the merger one lookup per parser, not one per answer; items
// (usually grouped, and far more of them) get a table per piece.

// loadChunkBytes is the size a piece is cut at (at the next line end); a
// variable so tests can cut small files into many pieces.
var loadChunkBytes = 1 << 20

// answerChunk is one piece of the file: its bytes, then what its parser made of them.
type answerChunk struct {
	buf     []byte
	last    bool  // the end of the file (the last line may lack its '\n')
	readErr error // a read error right after buf

	parser *chunkParser
	// Ids in order of first appearance: the items of this piece, and the
	// workers and classes its parser had not met before.
	items, newWorkers, newClasses []string
	rowItem, rowWorker, rowLabel  []int32 // piece item index, parser worker and class ids
	rowValue                      []float64
	lines                         int   // lines in buf
	firstRow                      int   // line of the first answer (0: none)
	headers                       []int // lines that are a header item,worker,label
	// Lines (0: none) and labels of the first numeric and first text label,
	// for the check that labels do not mix across the whole file.
	firstNum, firstText           int
	firstNumLabel, firstTextLabel string
	errLine                       int // the first bad line (0: none), and what is wrong
	errMsg                        string

	done chan struct{}
}

// chunkParser is one parsing goroutine's state.
type chunkParser struct {
	numeric  bool
	workers  keyTable
	classes  keyTable
	items    keyTable
	fields   [][]byte
	nWorkers int // ids this parser has handed out, so a piece lists only the new ones
	nClasses int
}

// parse fills c from c.buf; it stops at the first bad line.
func (p *chunkParser) parse(c *answerChunk) {
	c.parser = p
	c.items, c.newWorkers, c.newClasses = c.items[:0], c.newWorkers[:0], c.newClasses[:0]
	c.rowItem, c.rowWorker, c.rowLabel, c.rowValue = c.rowItem[:0], c.rowWorker[:0], c.rowLabel[:0], c.rowValue[:0]
	c.lines, c.firstRow, c.headers = 0, 0, c.headers[:0]
	c.firstNum, c.firstText, c.firstNumLabel, c.firstTextLabel = 0, 0, "", ""
	c.errLine, c.errMsg = 0, ""
	p.items.reset()
	var lastItem []byte
	lastItemIdx := int32(-1)
	fail := func(msg string) { c.errLine, c.errMsg = c.lines, msg }
	b := c.buf
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		c.lines++
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		f, err := splitFields(line, p.fields[:0])
		p.fields = f
		if err != nil {
			fail(err.Error())
			return
		}
		if isHeader(f, "item", "worker", "label") {
			c.headers = append(c.headers, c.lines)
			continue
		}
		if len(f) != 3 {
			fail(fmt.Sprintf("expected 3 fields item,worker,label, got %d", len(f)))
			return
		}
		for i, col := range []string{"item", "worker", "label"} {
			if len(f[i]) == 0 {
				fail(fmt.Sprintf("empty %s field", col))
				return
			}
		}
		if c.firstRow == 0 {
			c.firstRow = c.lines
		}
		if p.numeric {
			v, err := strconv.ParseFloat(string(f[2]), 64)
			if err != nil {
				fail(fmt.Sprintf("label %q is not a number, but the method needs numeric labels (use a categorical method, or fix the label)", f[2]))
				return
			}
			c.rowValue = append(c.rowValue, v)
		} else {
			if c.firstNum == 0 || c.firstText == 0 {
				if isNumber(f[2]) {
					if c.firstNum == 0 {
						c.firstNum, c.firstNumLabel = c.lines, string(f[2])
					}
				} else if c.firstText == 0 {
					c.firstText, c.firstTextLabel = c.lines, string(f[2])
				}
			}
			c.rowLabel = append(c.rowLabel, p.classes.id(f[2]))
		}
		if lastItemIdx < 0 || !bytes.Equal(f[0], lastItem) {
			lastItemIdx = p.items.id(f[0])
			lastItem = f[0] // points into buf (or a quoted line's own copy): stable for the whole piece
		}
		c.rowItem = append(c.rowItem, lastItemIdx)
		c.rowWorker = append(c.rowWorker, p.workers.id(f[1]))
	}
	c.items = append(c.items, p.items.keys...)
	c.newWorkers = append(c.newWorkers, p.workers.keys[p.nWorkers:]...)
	c.newClasses = append(c.newClasses, p.classes.keys[p.nClasses:]...)
	p.nWorkers, p.nClasses = len(p.workers.keys), len(p.classes.keys)
}

// readChunks cuts r into pieces of whole lines (each ends at the first line
// end at or after size bytes), each taken from free, and hands each to the
// parsers (work) and, in file order, to the merger (order).
func readChunks(r io.Reader, size int, free <-chan *answerChunk, work, order chan<- *answerChunk, stop <-chan struct{}) {
	defer close(work)
	defer close(order)
	var carry []byte
	for {
		var c *answerChunk
		select {
		case c = <-free:
		case <-stop:
			return
		}
		c.buf = append(c.buf[:0], carry...)
		c.last, c.readErr = false, nil
		cut := -1 // where the piece ends: the first line end at or after size
		scanned := 0
		for {
			if len(c.buf) >= size {
				from := max(size-1, scanned)
				if i := bytes.IndexByte(c.buf[from:], '\n'); i >= 0 {
					cut = from + i
					break
				}
				scanned = len(c.buf)
			}
			n := max(size-len(c.buf), 512)
			c.buf = slices.Grow(c.buf, n)
			k, err := r.Read(c.buf[len(c.buf) : len(c.buf)+n])
			c.buf = c.buf[:len(c.buf)+k]
			if err == io.EOF {
				c.last = true
				break
			}
			if err != nil {
				c.last, c.readErr = true, err
				break
			}
		}
		if c.last {
			carry = carry[:0]
		} else {
			carry = append(carry[:0], c.buf[cut+1:]...)
			c.buf = c.buf[:cut+1]
		}
		c.done = make(chan struct{})
		select {
		case order <- c:
		case <-stop:
			return
		}
		work <- c // never blocks: work holds as many as there are pieces
		if c.last {
			return
		}
	}
}

// LoadAnswers reads answers as CSV with columns item,worker,label (a header
// line with those names is optional, and skipped with a warning when it comes
// again further down, as in files joined end to end). name is used in
// messages. Numeric labels are required when numeric is set; otherwise every
// distinct label is a class, and a mix of numeric and non-numeric labels is
// rejected because it almost always means two files or two columns were mixed
// up. The file is parsed on every core.
func LoadAnswers(r io.Reader, name string, numeric bool) (*Dataset, []Warning, error) {
	parsers := max(1, runtime.GOMAXPROCS(0))
	pieces := 2*parsers + 2 // in flight at once: bounds the memory
	free := make(chan *answerChunk, pieces)
	for i := 0; i < pieces; i++ {
		free <- &answerChunk{}
	}
	work := make(chan *answerChunk, pieces)
	order := make(chan *answerChunk, pieces)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// On an early return (a bad line), no goroutine may go on reading r.
	defer func() { close(stop); wg.Wait() }()
	wg.Go(func() { readChunks(r, loadChunkBytes, free, work, order, stop) })
	for i := 0; i < parsers; i++ {
		p := &chunkParser{numeric: numeric, classes: keyTable{scan: true}}
		wg.Go(func() {
			for c := range work {
				p.parse(c)
				close(c.done)
			}
		})
	}

	m := newAnswerMerger(name, numeric)
	for c := range order {
		<-c.done
		if err := m.merge(c); err != nil {
			return nil, nil, err
		}
		c.buf = c.buf[:0]
		free <- c
	}
	b := m.b
	if b.Len() == 0 {
		return nil, nil, &InputError{name, 0, "no answers: the file is empty or has only a header; expected rows item,worker,label"}
	}
	d := b.Build()
	return d, append(m.warnings(), datasetWarnings(d, name)...), nil
}

// datasetWarnings are what is odd, but safe to go on with, in a loaded set.
func datasetWarnings(d *Dataset, name string) []Warning {
	var warns []Warning
	if !d.Numeric && len(d.Classes) == 1 {
		warns = append(warns, Warning{name, 0, fmt.Sprintf("every answer has the same label %q: nothing to aggregate", d.Classes[0])})
	}
	if n, item, worker := repeatedAnswers(d); n > 0 {
		warns = append(warns, Warning{name, 0, fmt.Sprintf("%d answers repeat a worker's earlier answer on the same item (the first: worker %q on item %q); "+
			"each is counted as one more answer, so remove the repeats if they are resubmissions", n, d.Workers[worker], d.Items[item])})
	}
	return warns
}

// repeatedAnswers counts answers whose worker already answered the same
// item, and names the first such pair (in item order).
func repeatedAnswers(d *Dataset) (n, item int, worker int32) {
	seen := make([]int32, d.NumWorkers()) // the last item each worker answered, +1
	for i := 0; i < d.NumItems(); i++ {
		for a := d.ItemStart[i]; a < d.ItemStart[i+1]; a++ {
			w := d.Worker[a]
			if seen[w] == int32(i+1) {
				if n == 0 {
					item, worker = i, w
				}
				n++
			}
			seen[w] = int32(i + 1)
		}
	}
	return n, item, worker
}

// answerMerger folds parsed pieces, in file order, into one Builder.
type answerMerger struct {
	name string
	b    *Builder
	line int // lines before the next piece
	// Global ids of each parser's worker and class ids.
	workerIDs, classIDs map[*chunkParser][]int32
	itemIDs             []int32
	firstNum, firstText int
	firstNumLabel       string
	firstTextLabel      string
	repeatedHeaders     []int
}

func newAnswerMerger(name string, numeric bool) *answerMerger {
	return &answerMerger{name: name, b: NewBuilder(numeric),
		workerIDs: map[*chunkParser][]int32{}, classIDs: map[*chunkParser][]int32{}}
}

func (m *answerMerger) merge(c *answerChunk) error {
	b := m.b
	at := func(local int) int { return m.line + local }
	for _, h := range c.headers {
		if b.Len() > 0 || (c.firstRow > 0 && h > c.firstRow) {
			m.repeatedHeaders = append(m.repeatedHeaders, at(h))
		}
	}
	if !m.b.numeric && (m.firstNum == 0 || m.firstText == 0) {
		if m.firstNum == 0 && c.firstNum > 0 {
			m.firstNum, m.firstNumLabel = at(c.firstNum), c.firstNumLabel
		}
		if m.firstText == 0 && c.firstText > 0 {
			m.firstText, m.firstTextLabel = at(c.firstText), c.firstTextLabel
		}
		if m.firstNum > 0 && m.firstText > 0 {
			// Both kinds were met before any bad line of this piece (its
			// parser stopped there), so this is the first error of the file.
			line, other, otherLine, lbl := m.firstText, m.firstNumLabel, m.firstNum, m.firstTextLabel
			if m.firstNum > m.firstText {
				line, other, otherLine, lbl = m.firstNum, m.firstTextLabel, m.firstText, m.firstNumLabel
			}
			return &InputError{m.name, line, fmt.Sprintf("label %q mixes with label %q of line %d: labels must be all numbers or all category names", lbl, other, otherLine)}
		}
	}
	if c.errLine > 0 {
		return &InputError{m.name, at(c.errLine), c.errMsg}
	}
	if c.readErr != nil { // the piece was read whole but the read after it failed
		return &InputError{m.name, at(c.lines), c.readErr.Error()}
	}
	m.itemIDs = m.itemIDs[:0]
	for _, s := range c.items {
		m.itemIDs = append(m.itemIDs, b.items.idOf(s))
	}
	w := m.workerIDs[c.parser]
	for _, s := range c.newWorkers {
		w = append(w, b.workers.idOf(s))
	}
	m.workerIDs[c.parser] = w
	for _, it := range c.rowItem {
		b.rowItem = append(b.rowItem, m.itemIDs[it])
	}
	for _, wk := range c.rowWorker {
		b.rowWorker = append(b.rowWorker, w[wk])
	}
	if m.b.numeric {
		b.rowValue = append(b.rowValue, c.rowValue...)
	} else {
		cl := m.classIDs[c.parser]
		for _, s := range c.newClasses {
			cl = append(cl, b.classes.idOf(s))
		}
		m.classIDs[c.parser] = cl
		for _, l := range c.rowLabel {
			b.rowLabel = append(b.rowLabel, cl[l])
		}
	}
	m.line += c.lines
	return nil
}

// warnings reports header lines met again after the answers began.
func (m *answerMerger) warnings() []Warning {
	h := m.repeatedHeaders
	if len(h) == 0 {
		return nil
	}
	msg := "the header item,worker,label comes again after answers (files joined end to end?); skipped"
	if len(h) > 1 {
		msg = fmt.Sprintf("%s, as are %d more such lines", msg, len(h)-1)
	}
	return []Warning{{m.name, h[0], msg}}
}
