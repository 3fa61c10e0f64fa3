package truth

import (
	"errors"
	"fmt"
	"io"
	"math/rand"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// withPieces runs f with the loader cutting files at size bytes and with
// the given number of parsers.
func withPieces(t *testing.T, size, procs int, f func()) {
	t.Helper()
	oldSize, oldProcs := loadChunkBytes, runtime.GOMAXPROCS(procs)
	loadChunkBytes = size
	defer func() { loadChunkBytes = oldSize; runtime.GOMAXPROCS(oldProcs) }()
	f()
}

// pieceSizes cut the test files into one piece, a few, and one or two lines each.
var pieceSizes = []int{1 << 20, 4096, 200, 1}

// A file cut into pieces and parsed on several cores builds exactly the
// Dataset that adding its rows one by one in file order builds: same ids in
// the same order, same answers. The rows are shuffled (items come back after
// others), with CRLF and blank lines, quoted fields, and an item id longer
// than a piece.
func TestLoaderPiecesBuildWhatOneByOneBuilds(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	long := strings.Repeat("long-item-", 700) // 7,000 bytes: longer than most pieces
	type row struct{ item, worker, label string }
	var rows []row
	for n := 0; n < 3000; n++ {
		it := fmt.Sprintf("i%d", rng.Intn(400))
		if n%997 == 0 {
			it = long
		}
		rows = append(rows, row{it, fmt.Sprintf("w%d", rng.Intn(60)), []string{"cat", "dog", "yes, sure", "bird"}[rng.Intn(4)]})
	}
	var csv strings.Builder
	csv.WriteString("item,worker,label\r\n")
	for n, r := range rows {
		lbl := r.label
		if strings.Contains(lbl, ",") {
			lbl = `"` + lbl + `"`
		}
		end := "\n"
		if n%7 == 0 {
			end = "\r\n"
		}
		if n%50 == 0 {
			csv.WriteString("\n  \n")
		}
		csv.WriteString(r.item + "," + r.worker + "," + lbl + end)
	}
	text := strings.TrimSuffix(csv.String(), "\n") // the last line without its end
	b := NewBuilder(false)
	for _, r := range rows {
		if err := b.Add(r.item, r.worker, r.label); err != nil {
			t.Fatal(err)
		}
	}
	want := b.Build()
	for _, size := range pieceSizes {
		for _, procs := range []int{1, 2, 3} {
			withPieces(t, size, procs, func() {
				got, warns, err := LoadAnswers(strings.NewReader(text), "answers.csv", false)
				if err != nil || len(warns) != 1 || !strings.Contains(warns[0].Msg, "answers repeat a worker's earlier answer") {
					t.Fatalf("pieces of %d bytes, %d parsers: %v %v (want the warning of repeated answers alone)", size, procs, err, warns)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("pieces of %d bytes, %d parsers: the dataset differs from adding the rows one by one", size, procs)
				}
			})
		}
	}
	// Numeric labels take the same path.
	nb := NewBuilder(true)
	var ncsv strings.Builder
	for n := 0; n < 500; n++ {
		it, wk, v := fmt.Sprintf("i%d", rng.Intn(80)), fmt.Sprintf("w%d", rng.Intn(20)), fmt.Sprintf("%.3f", rng.NormFloat64())
		nb.Add(it, wk, v)
		ncsv.WriteString(it + "," + wk + "," + v + "\n")
	}
	nwant := nb.Build()
	for _, size := range pieceSizes {
		withPieces(t, size, 2, func() {
			got, _, err := LoadAnswers(strings.NewReader(ncsv.String()), "answers.csv", true)
			if err != nil || !reflect.DeepEqual(got, nwant) {
				t.Fatalf("numeric, pieces of %d bytes: %v", size, err)
			}
		})
	}
}

// Errors keep the line number and message a one-line-at-a-time read gives,
// wherever the pieces are cut: the first bad line of the file is the one
// named, even when a later piece has its own bad line and is parsed first,
// and labels that mix are caught across pieces.
func TestLoaderErrorsAcrossPieces(t *testing.T) {
	var good strings.Builder
	good.WriteString("item,worker,label\n")
	for n := 2; n <= 2000; n++ { // lines 2..2000
		fmt.Fprintf(&good, "i%d,w%d,%d\n", n/5, n%13, n%2)
	}
	lines := strings.Split(strings.TrimSuffix(good.String(), "\n"), "\n")
	with := func(edits map[int]string) string {
		out := append([]string(nil), lines...)
		for ln, s := range edits {
			out[ln-1] = s
		}
		return strings.Join(out, "\n") + "\n"
	}
	cases := []struct {
		name  string
		edits map[int]string
		want  string
	}{
		{"malformed row far down", map[int]string{1777: "i9,w1"}, "answers.csv line 1777: expected 3 fields item,worker,label, got 2"},
		{"the first of two bad rows", map[int]string{1500: "i9,,1", 1900: "i9,w1"}, "answers.csv line 1500: empty worker field"},
		{"text label far from the first number", map[int]string{1234: "i9,w1,maybe"}, `answers.csv line 1234: label "maybe" mixes with label "0" of line 2`},
		{"mixed labels before a bad row", map[int]string{900: "i9,w1,maybe", 901: "x"}, `line 900: label "maybe" mixes`},
		{"bad row before mixed labels", map[int]string{899: "x", 900: "i9,w1,maybe"}, "line 899: expected 3 fields"},
		{"bad quotes", map[int]string{1999: `i9,w1,"1`}, "line 1999: bad quoting"},
	}
	for _, c := range cases {
		text := with(c.edits)
		for _, size := range pieceSizes {
			withPieces(t, size, 2, func() {
				_, _, err := LoadAnswers(strings.NewReader(text), "answers.csv", false)
				var ie *InputError
				if err == nil || !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s, pieces of %d bytes: error %v, want one containing %q", c.name, size, err, c.want)
				}
			})
		}
	}
	// A text label first and a number far below: the number's line is named.
	text := "a,w,yes\n" + strings.Repeat("\n", 3000) + "b,w,7\n"
	for _, size := range pieceSizes {
		withPieces(t, size, 2, func() {
			_, _, err := LoadAnswers(strings.NewReader(text), "answers.csv", false)
			if err == nil || !strings.Contains(err.Error(), `line 3002: label "7" mixes with label "yes" of line 1`) {
				t.Errorf("pieces of %d bytes: %v", size, err)
			}
		})
	}
}

// A header line is skipped where a file starts with it (after blank lines
// too) and, with a warning naming its line, where files were joined end to end.
func TestLoaderRepeatedHeader(t *testing.T) {
	part := "item,worker,label\na,w1,x\nb,w2,y\n"
	for _, size := range pieceSizes {
		withPieces(t, size, 2, func() {
			d, warns, err := LoadAnswers(strings.NewReader("\n"+part+part+part), "answers.csv", false)
			if err != nil {
				t.Fatal(err)
			}
			if d.NumLabels() != 6 || d.NumItems() != 2 || d.NumWorkers() != 2 {
				t.Fatalf("pieces of %d bytes: %d answers, %d items, %d workers; want 6, 2, 2", size, d.NumLabels(), d.NumItems(), d.NumWorkers())
			}
			// Joined copies also repeat every answer: the second warning.
			if len(warns) != 2 || !strings.Contains(warns[0].String(), "answers.csv line 5: the header item,worker,label comes again") ||
				!strings.Contains(warns[0].Msg, "1 more") || !strings.HasPrefix(warns[1].Msg, "4 answers repeat") {
				t.Fatalf("pieces of %d bytes: warnings %v", size, warns)
			}
			d, warns, err = LoadAnswers(strings.NewReader("\n\nitem,worker,label\n"+"a,w1,x\nb,w1,y\n"), "answers.csv", false)
			if err != nil || len(warns) != 0 || d.NumLabels() != 2 {
				t.Fatalf("pieces of %d bytes: a leading header: %v %v", size, err, warns)
			}
		})
	}
}

// Gold rows find their items whether they follow the answers' item order
// (the shortcut) or not (the map), with unknown items among them.
func TestGoldInAnyOrder(t *testing.T) {
	d := load(t, "a,w1,x\nb,w1,y\nc,w2,x\nd,w2,y\n")
	inOrder := "a,x\nb,y\nzz,x\nc,y\nd,x\n"
	shuffled := "d,x\nzz,x\nb,y\na,x\nc,y\n"
	var got []map[int]int32
	for _, csv := range []string{inOrder, shuffled} {
		g, warns, err := LoadGold(strings.NewReader(csv), "gold.csv", d)
		if err != nil || len(warns) != 1 || !strings.Contains(warns[0].Msg, `"zz" has no answers`) {
			t.Fatalf("%q: %v %v", csv, err, warns)
		}
		got = append(got, g.Class)
	}
	want := map[int]int32{0: 0, 1: 1, 2: 1, 3: 0}
	if !reflect.DeepEqual(got[0], want) || !reflect.DeepEqual(got[1], want) {
		t.Fatalf("gold in order %v, shuffled %v; want %v", got[0], got[1], want)
	}
}

// loadOneByOne is the loader's oracle: one line at a time through the
// line reader, the same rules (a header is skipped anywhere, and warned of
// after the first answer), no pieces and no threads.
func loadOneByOne(text string, numeric bool) (*Dataset, []Warning, error) {
	const name = "answers.csv"
	b := NewBuilder(numeric)
	lr := newLineReader(strings.NewReader(text))
	firstNum, firstText := 0, 0
	var numLabel, textLabel string
	var repeated []int
	for {
		f, err := lr.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, nil, &InputError{name, lr.line, err.Error()}
		}
		if isHeader(f, "item", "worker", "label") {
			if b.Len() > 0 {
				repeated = append(repeated, lr.line)
			}
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
		if numeric && !isNumber(f[2]) {
			return nil, nil, &InputError{name, lr.line, fmt.Sprintf("label %q is not a number, but the method needs numeric labels (use a categorical method, or fix the label)", f[2])}
		}
		if !numeric {
			if isNumber(f[2]) && firstNum == 0 {
				firstNum, numLabel = lr.line, string(f[2])
			} else if !isNumber(f[2]) && firstText == 0 {
				firstText, textLabel = lr.line, string(f[2])
			}
			if firstNum > 0 && firstText > 0 {
				if firstNum > firstText {
					return nil, nil, &InputError{name, firstNum, fmt.Sprintf("label %q mixes with label %q of line %d: labels must be all numbers or all category names", numLabel, textLabel, firstText)}
				}
				return nil, nil, &InputError{name, firstText, fmt.Sprintf("label %q mixes with label %q of line %d: labels must be all numbers or all category names", textLabel, numLabel, firstNum)}
			}
		}
		if err := b.addBytes(f[0], f[1], f[2]); err != nil {
			return nil, nil, &InputError{name, lr.line, err.Error()}
		}
	}
	if b.Len() == 0 {
		return nil, nil, &InputError{name, 0, "no answers: the file is empty or has only a header; expected rows item,worker,label"}
	}
	m := answerMerger{name: name, repeatedHeaders: repeated}
	d := b.Build()
	return d, append(m.warnings(), datasetWarnings(d, name)...), nil
}

// Any input, cut into pieces of any size and parsed by several parsers,
// gives what the one-line-at-a-time oracle gives: the same Dataset, the
// same warnings, or the same error. `go test -fuzz FuzzLoader ./platform/truth`
// explores further; the seeds below run as a plain test.
func FuzzLoader(f *testing.F) {
	for _, s := range []string{
		"item,worker,label\na,w1,x\nb,w2,y\n",
		"a,w,1\nb,w,2\n\n\nc,w,maybe\n",
		"a,w,yes\r\n\r\nb,w,7",
		"item,worker,label\na,w,x\nitem,worker,label\nb,v,y\n",
		"\"a,1\",w,\"yes, sure\"\nb,w,no\nc,,x\n",
		"a,w,\"x\nb,w,y\n",
		"a,w,1.5\nb,w,high\n",
		"x\n\n\n",
		"",
	} {
		f.Add(s, uint8(3), false)
		f.Add(s, uint8(1), true)
	}
	f.Fuzz(func(t *testing.T, text string, size uint8, numeric bool) {
		want, wantWarns, wantErr := loadOneByOne(text, numeric)
		withPieces(t, int(size)%64+1, 3, func() {
			got, warns, err := LoadAnswers(strings.NewReader(text), "answers.csv", numeric)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("pieces of %d bytes: error %v, the oracle's %v", int(size)%64+1, err, wantErr)
			}
			if !reflect.DeepEqual(got, want) || fmt.Sprint(warns) != fmt.Sprint(wantWarns) {
				t.Fatalf("pieces of %d bytes: dataset or warnings %v differ from the oracle's %v", int(size)%64+1, warns, wantWarns)
			}
		})
	})
}

// A worker answering the same item again is counted again, and the loader
// says so once, with the count and the first such pair.
func TestRepeatedAnswersWarn(t *testing.T) {
	_, warns, err := LoadAnswers(strings.NewReader("a,w1,x\na,w2,y\nb,w1,y\na,w1,x\nb,w1,x\nb,w1,y\n"), "answers.csv", false)
	if err != nil || len(warns) != 1 || !strings.Contains(warns[0].Msg, `3 answers repeat a worker's earlier answer on the same item (the first: worker "w1" on item "a")`) {
		t.Fatalf("%v %v", err, warns)
	}
	if _, warns, _ := LoadAnswers(strings.NewReader("a,w1,x\na,w2,y\nb,w1,y\n"), "answers.csv", false); len(warns) != 0 {
		t.Fatalf("no repeats, yet %v", warns)
	}
}
