package fingerprint

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

func sampleCSV(rows int, seed int64) string {
	r := rand.New(rand.NewSource(seed))
	var b strings.Builder
	b.WriteString("id,text,label,score\n")
	for i := 0; i < rows; i++ {
		text := fmt.Sprintf("review %d of item %d", r.Intn(1e6), r.Intn(500))
		if r.Intn(10) == 0 {
			text = `said "great", twice` // must stay quoted
		}
		fmt.Fprintf(&b, "%d,%s,%s,%.3f\n", i, quoteIfNeeded(text), []string{"pos", "neg", "neu"}[r.Intn(3)], r.Float64())
	}
	return b.String()
}

func quoteIfNeeded(s string) string {
	if needsQuotes(s) {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

func sampleJSONL(rows int, seed int64) string {
	r := rand.New(rand.NewSource(seed))
	var b strings.Builder
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&b, `{"id":%d,"prompt":"question %d","answer":"answer %d","rating":%d,"meta":{"src":"web","n":[1,2]}}`+"\n", i, r.Intn(1e6), r.Intn(1e6), r.Intn(5))
	}
	return b.String()
}

func keys(n int) []Candidate {
	var out []Candidate
	for i := 0; i < n; i++ {
		who := fmt.Sprintf("0x%040x", i+1)
		out = append(out, Candidate{Licensee: who, Key: LicenseeKey([]byte("node secret"), 7, who)})
	}
	return out
}

func mark(t *testing.T, f Format, data string, k Key) string {
	var out bytes.Buffer
	st, err := Mark(f, strings.NewReader(data), &out, k)
	if err != nil {
		t.Fatal(err)
	}
	if st.Bits < st.Rows {
		t.Fatalf("%s: only %d bits in %d rows", f, st.Bits, st.Rows)
	}
	return out.String()
}

// leak takes a random fraction of the lines (after the header), shuffled.
func leak(data string, frac float64, r *rand.Rand, header bool) string {
	lines := strings.Split(strings.TrimSuffix(data, "\n"), "\n")
	head := ""
	if header {
		head, lines = lines[0]+"\n", lines[1:]
	}
	r.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	n := int(float64(len(lines)) * frac)
	return head + strings.Join(lines[:n], "\n") + "\n"
}

func TestCopiesReadTheSameAsTheOriginal(t *testing.T) {
	k := keys(1)[0].Key
	orig := sampleCSV(2000, 1)
	marked := mark(t, CSV, orig, k)
	a, _ := csv.NewReader(strings.NewReader(orig)).ReadAll()
	b, err := csv.NewReader(strings.NewReader(marked)).ReadAll()
	if err != nil || !reflect.DeepEqual(a, b) {
		t.Fatalf("the marked CSV reads differently: %v", err)
	}
	if marked == orig {
		t.Fatal("the CSV copy carries no mark")
	}
	origJ := sampleJSONL(2000, 2)
	markedJ := mark(t, JSONL, origJ, k)
	ol, ml := strings.Split(origJ, "\n"), strings.Split(markedJ, "\n")
	for i := range ol {
		if ol[i] == "" {
			continue
		}
		var x, y any
		json.Unmarshal([]byte(ol[i]), &x)
		if err := json.Unmarshal([]byte(ml[i]), &y); err != nil || !reflect.DeepEqual(x, y) {
			t.Fatalf("line %d reads differently: %s vs %s", i, ol[i], ml[i])
		}
	}
	// Two licensees get different copies.
	if mark(t, CSV, orig, keys(2)[1].Key) == marked {
		t.Fatal("two licensees got the same copy")
	}
}

func TestTraceNamesTheLicenseeFromAShuffledSubset(t *testing.T) {
	cands := keys(20)
	r := rand.New(rand.NewSource(3))
	for _, c := range []struct {
		f      Format
		data   string
		header bool
	}{{CSV, sampleCSV(10_000, 4), true}, {JSONL, sampleJSONL(10_000, 5), false}} {
		guilty := cands[13]
		copy := mark(t, c.f, c.data, guilty.Key)
		for _, frac := range []float64{0.01, 0.2} {
			v, err := Trace(c.f, strings.NewReader(leak(copy, frac, r, c.header)), cands)
			if err != nil {
				t.Fatal(err)
			}
			if v.Licensee != guilty.Licensee {
				t.Fatalf("%s, %.0f%% leaked: accused %q (%s)", c.f, frac*100, v.Licensee, v.Reason)
			}
			if v.Scores[1].Z > 4 {
				t.Fatalf("%s: an innocent licensee scored z = %.1f", c.f, v.Scores[1].Z)
			}
		}
		// The unmarked original accuses nobody.
		v, _ := Trace(c.f, strings.NewReader(c.data), cands)
		if v.Licensee != "" {
			t.Fatalf("%s: the original accused %s (%s)", c.f, v.Licensee, v.Reason)
		}
	}
}

func TestReserialisedCopies(t *testing.T) {
	cands := keys(5)
	guilty := cands[2]
	// JSON re-dumped compact keeps key order: still traced.
	copy := mark(t, JSONL, sampleJSONL(3000, 6), guilty.Key)
	var compact strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(copy), "\n") {
		var b bytes.Buffer
		json.Compact(&b, []byte(l))
		compact.WriteString(b.String() + "\n")
	}
	v, _ := Trace(JSONL, strings.NewReader(compact.String()), cands)
	if v.Licensee != guilty.Licensee {
		t.Fatalf("compact JSON: %s", v.Reason)
	}
	// A CSV rewritten by a CSV library loses the quoting: nobody is
	// accused, and the reason says the file carries no mark.
	rows, _ := csv.NewReader(strings.NewReader(mark(t, CSV, sampleCSV(3000, 7), guilty.Key))).ReadAll()
	var b bytes.Buffer
	csv.NewWriter(&b).WriteAll(rows)
	v, _ = Trace(CSV, &b, cands)
	if v.Licensee != "" || !strings.Contains(v.Reason, "no mark") {
		t.Fatalf("rewritten CSV: %+v", v.Reason)
	}
}

func TestBadInput(t *testing.T) {
	k := keys(1)[0].Key
	if _, err := Mark(JSONL, strings.NewReader("{\"a\":1}\n[1,2]\n"), &bytes.Buffer{}, k); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("array line: %v", err)
	}
	if _, err := Mark(CSV, strings.NewReader("a,b\n\"open,1\n"), &bytes.Buffer{}, k); err == nil || !strings.Contains(err.Error(), "not closed") {
		t.Fatalf("open quote: %v", err)
	}
	if _, err := Detect("weights.bin", []byte{0, 1, 2}); err == nil {
		t.Fatal("binary accepted")
	}
}
