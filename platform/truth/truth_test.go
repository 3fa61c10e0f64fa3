package truth

import (
	"errors"
	"math"
	"math/rand"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func load(t *testing.T, csv string) *Dataset {
	t.Helper()
	d, _, err := LoadAnswers(strings.NewReader(csv), "answers.csv", false)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func goldOf(t *testing.T, d *Dataset, csv string) *Gold {
	t.Helper()
	g, _, err := LoadGold(strings.NewReader(csv), "gold.csv", d)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestMajorityVoteTiesSplit(t *testing.T) {
	d := load(t, "item,worker,label\nq1,w1,cat\nq1,w2,dog\nq2,w1,cat\nq2,w2,cat\nq2,w3,dog\n")
	r, err := Aggregate(d, "mv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	// classes sorted: cat=0, dog=1
	if p := r.Posterior[0:2]; p[0] != 0.5 || p[1] != 0.5 {
		t.Fatalf("tied item posterior = %v, want [0.5 0.5]", p)
	}
	if p := r.Posterior[2:4]; !near(p[0], 2.0/3, 1e-12) {
		t.Fatalf("q2 posterior = %v, want cat 2/3", p)
	}
	// A tie scores half: q1 gold dog (tie) = 0.5, q2 gold cat = 1.
	acc, n := Accuracy(r, goldOf(t, d, "item,label\nq1,dog\nq2,cat\n"), nil)
	if n != 2 || acc != 0.75 {
		t.Fatalf("accuracy = %v over %d, want 0.75 over 2", acc, n)
	}
}

// Worker A agrees with the control truth; B and C always answer the
// opposite. Majority vote follows B and C; with the control items clamped,
// every model that learns worker quality must follow A.
func TestControlItemsTeachWorkerQuality(t *testing.T) {
	var b strings.Builder
	b.WriteString("item,worker,label\n")
	for i := 0; i < 40; i++ {
		truth, wrong := "yes", "no"
		if i%3 == 0 {
			truth, wrong = "no", "yes"
		}
		for _, w := range []struct{ name, lbl string }{{"A", truth}, {"B", wrong}, {"C", wrong}} {
			b.WriteString("i" + strconv.Itoa(i) + "," + w.name + "," + w.lbl + "\n")
		}
	}
	d := load(t, b.String())
	var gb strings.Builder
	for i := 0; i < 40; i++ {
		truth := "yes"
		if i%3 == 0 {
			truth = "no"
		}
		gb.WriteString("i" + strconv.Itoa(i) + "," + truth + "\n")
	}
	gold := goldOf(t, d, gb.String())
	ctl, eval := SplitControl(gold, 0.25, 1)
	mv, _ := Aggregate(d, "mv", Options{Control: ctl})
	if acc, _ := Accuracy(mv, eval, nil); acc != 0 {
		t.Fatalf("mv accuracy %v, want 0 (B and C outvote A)", acc)
	}
	for _, m := range []string{"wawa", "ds", "onecoin", "mace", "ibcc", "glad", "bwa", "ebcc", "auto"} {
		r, err := Aggregate(d, m, Options{Control: ctl})
		if err != nil {
			t.Fatal(err)
		}
		acc, _ := Accuracy(r, eval, nil)
		if m == "wawa" || m == "bwa" {
			// Vote weighting cannot invert a worker: it can only down-weight.
			continue
		}
		if acc < 0.99 {
			t.Errorf("%s accuracy %.3f with control items, want 1", m, acc)
		}
		for it, c := range ctl.Class {
			if r.Label[it] != c {
				t.Errorf("%s: control item %s not clamped", m, d.Items[it])
			}
		}
	}
}

// Every method handles an item with no answers (label -1, not counted right)
// and a worker with a single answer.
func TestEmptyItemAndSingleAnswerWorker(t *testing.T) {
	d := load(t, "q1,w1,a\nq1,w2,a\nq1,w3,b\nq2,w1,b\nq2,w2,b\nq2,w4,b\n")
	// Append an item with no answers, as the platform does for an item
	// that was posted but not yet answered.
	d.Items = append(d.Items, "q3")
	d.ItemStart = append(d.ItemStart, d.ItemStart[len(d.ItemStart)-1])
	for _, m := range append(append([]string(nil), CategoricalMethods...), "auto") {
		r, err := Aggregate(d, m, Options{})
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if r.Label[2] != -1 {
			t.Errorf("%s: item with no answers got label %d, want -1", m, r.Label[2])
		}
		if r.Label[0] != 0 || r.Label[1] != 1 {
			t.Errorf("%s: labels %v, want [0 1 -1]", m, r.Label)
		}
		for k := 0; k < r.K*2; k++ {
			if p := r.Posterior[k]; math.IsNaN(p) || p < 0 || p > 1 {
				t.Errorf("%s: posterior %v out of range", m, r.Posterior)
			}
		}
		if len(r.WorkerQuality) != 4 || math.IsNaN(r.WorkerQuality[3]) {
			t.Errorf("%s: worker quality %v", m, r.WorkerQuality)
		}
	}
}

func TestMethodsOnSyntheticCrowd(t *testing.T) {
	d, g := Synthesize(SynthConfig{Items: 2000, Workers: 60, Classes: 3, Labels: 14000, AccMin: 0.55, AccMax: 0.95, Spammers: 0.3, Seed: 7})
	mv, _ := Aggregate(d, "mv", Options{})
	mvAcc, _ := Accuracy(mv, g, nil)
	for _, m := range CategoricalMethods {
		r, err := Aggregate(d, m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		acc, _ := Accuracy(r, g, nil)
		t.Logf("%-8s %.4f iters=%d", m, acc, r.Iterations)
		// With 30% spammers, every quality-aware model must beat plain voting.
		if m != "mv" && acc <= mvAcc {
			t.Errorf("%s accuracy %.4f not above majority vote %.4f", m, acc, mvAcc)
		}
	}
	// DS recovers worker accuracy: spammers (~1/3) sit far below good workers.
	r, _ := Aggregate(d, "ds", Options{})
	if r.WorkerQuality[0] < 0.5 && r.WorkerQuality[1] < 0.5 && r.WorkerQuality[2] < 0.5 {
		t.Errorf("the most active workers all look like spammers: %v", r.WorkerQuality[:3])
	}
}

func TestThreadsGiveTheSameAnswer(t *testing.T) {
	d, _ := Synthesize(SynthConfig{Items: 5000, Workers: 100, Classes: 2, Labels: 30000, AccMin: 0.6, AccMax: 0.9, Seed: 3})
	for _, m := range []string{"ds", "ibcc", "mace", "onecoin", "ebcc", "glad"} {
		r1, _ := Aggregate(d, m, Options{Threads: 1})
		r2, _ := Aggregate(d, m, Options{Threads: 2})
		for i := range r1.Posterior {
			if !near(r1.Posterior[i], r2.Posterior[i], 1e-9) {
				t.Fatalf("%s: posterior %d differs between 1 and 2 threads: %v vs %v", m, i, r1.Posterior[i], r2.Posterior[i])
			}
		}
	}
}

func TestNumericAggregates(t *testing.T) {
	d, _, err := LoadAnswers(strings.NewReader("item,worker,label\nx,a,1\nx,b,2\nx,c,3\nx,d,100\ny,a,5\n"), "answers.csv", true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]float64{"mean": {26.5, 5}, "median": {2.5, 5}, "trimmed": {26.5, 5}}
	for m, w := range want {
		r, err := Aggregate(d, m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Value[0] != w[0] || r.Value[1] != w[1] {
			t.Errorf("%s = %v, want %v", m, r.Value, w)
		}
	}
	r, _ := Aggregate(d, "trimmed", Options{Trim: 0.25})
	if r.Value[0] != 2.5 {
		t.Errorf("trimmed 25%% = %v, want 2.5", r.Value[0])
	}
	g, _, err := LoadGold(strings.NewReader("x,3\ny,4\n"), "gold.csv", d)
	if err != nil {
		t.Fatal(err)
	}
	med, _ := Aggregate(d, "median", Options{})
	if mae, n := MAE(med, g); n != 2 || mae != 0.75 {
		t.Errorf("MAE = %v over %d, want 0.75 over 2", mae, n)
	}
	if _, err := Aggregate(d, "ds", Options{}); err == nil || !strings.Contains(err.Error(), "not for numeric") {
		t.Errorf("ds on numeric labels: %v", err)
	}
}

// Fleiss' kappa: the worked example of Fleiss (1971) as reproduced in most
// references: 10 items, 14 raters, 5 categories, κ = 0.210.
func TestFleissKappaReference(t *testing.T) {
	table := [][5]int{{0, 0, 0, 0, 14}, {0, 2, 6, 4, 2}, {0, 0, 3, 5, 6}, {0, 3, 9, 2, 0}, {2, 2, 8, 1, 1},
		{7, 7, 0, 0, 0}, {3, 2, 6, 3, 0}, {2, 5, 3, 2, 2}, {6, 5, 2, 1, 0}, {0, 2, 2, 3, 7}}
	b := NewBuilder(false)
	for i, row := range table {
		r := 0
		for c, n := range row {
			for j := 0; j < n; j++ {
				b.Add(strconv.Itoa(i), strconv.Itoa(r), strconv.Itoa(c+1))
				r++
			}
		}
	}
	if k := FleissKappa(b.Build()); !near(k, 0.2099, 5e-4) {
		t.Fatalf("kappa = %.4f, want 0.210", k)
	}
}

// Krippendorff's alpha: the reliability data of Krippendorff's "Computing
// Krippendorff's alpha-reliability" (4 coders, 12 units, missing values):
// nominal 0.743, interval 0.849.
func TestKrippendorffAlphaReference(t *testing.T) {
	data := [4][12]string{
		{"1", "2", "3", "3", "2", "1", "4", "1", "2", "", "", ""},
		{"1", "2", "3", "3", "2", "2", "4", "1", "2", "5", "", "3"},
		{"", "3", "3", "3", "2", "3", "4", "2", "2", "5", "1", ""},
		{"1", "2", "3", "3", "2", "4", "4", "1", "2", "5", "1", ""},
	}
	for _, numeric := range []bool{false, true} {
		b := NewBuilder(numeric)
		for c, row := range data {
			for u, v := range row {
				if v != "" {
					b.Add("u"+strconv.Itoa(u), "c"+strconv.Itoa(c), v)
				}
			}
		}
		a := KrippendorffAlpha(b.Build())
		want := 0.743
		if numeric {
			want = 0.849
		}
		if !near(a, want, 5e-4) {
			t.Errorf("alpha (numeric=%v) = %.4f, want %.3f", numeric, a, want)
		}
	}
}

func TestBadInput(t *testing.T) {
	cases := []struct {
		name, csv string
		numeric   bool
		want      string
	}{
		{"malformed row", "item,worker,label\na,w,1\nb,w\n", false, "answers.csv line 3: expected 3 fields"},
		{"empty file", "", false, "no answers"},
		{"header only", "item,worker,label\n", false, "no answers"},
		{"empty field", "a,,1\n", false, "line 1: empty worker"},
		{"mixed labels", "item,worker,label\na,w,1\nb,w,2\nc,w,maybe\n", false, `line 4: label "maybe" mixes with label "1" of line 2`},
		{"numeric method, text label", "a,w,1.5\nb,w,high\n", true, `line 2: label "high" is not a number`},
		{"bad quotes", "a,w,\"x\n", false, "line 1: bad quoting"},
	}
	for _, c := range cases {
		_, _, err := LoadAnswers(strings.NewReader(c.csv), "answers.csv", c.numeric)
		var ie *InputError
		if err == nil || !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	d := load(t, "a,w1,x\nb,w1,y\n")
	g, warns, err := LoadGold(strings.NewReader("item,label\na,x\nzz,y\nb,never\n"), "gold.csv", d)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 2 || !strings.Contains(warns[0].String(), `gold.csv line 3: gold item "zz" has no answers`) ||
		!strings.Contains(warns[1].String(), `line 4: gold label "never"`) {
		t.Fatalf("warnings = %v", warns)
	}
	if len(g.Class) != 2 {
		t.Fatalf("gold = %v, want a and b", g.Class)
	}
	if _, _, err := LoadGold(strings.NewReader("a\n"), "gold.csv", d); err == nil || !strings.Contains(err.Error(), "gold.csv line 1: expected 2 fields") {
		t.Errorf("short gold row: %v", err)
	}
	if _, err := Aggregate(d, "nope", Options{}); err == nil || !strings.Contains(err.Error(), "unknown method") {
		t.Errorf("unknown method: %v", err)
	}
}

func TestQuotedFieldsAndCRLF(t *testing.T) {
	d := load(t, "item,worker,label\r\n\"a,1\",w1,\"yes, sure\"\r\n\"a,1\",w2,no\r\n")
	if d.NumItems() != 1 || d.Items[0] != "a,1" || d.Classes[1] != "yes, sure" {
		t.Fatalf("items %v classes %v", d.Items, d.Classes)
	}
}

// The loader's shortcut for a row of the same item as the row before must
// not change what is built: rows grouped by item or interleaved, and an item
// that comes back after others, give the same items and answers.
func TestRowOrderDoesNotChangeTheDataset(t *testing.T) {
	grouped := load(t, "a,w1,x\na,w2,y\nb,w1,y\nb,w3,y\nc,w2,x\n")
	mixed := load(t, "a,w1,x\nb,w1,y\na,w2,y\nc,w2,x\nb,w3,y\n")
	for _, d := range []*Dataset{grouped, mixed} {
		if strings.Join(d.Items, " ") != "a b c" {
			t.Fatalf("items %v, want a b c in order of first appearance", d.Items)
		}
	}
	answers := func(d *Dataset) string {
		var b strings.Builder
		for i := range d.Items {
			for n := d.ItemStart[i]; n < d.ItemStart[i+1]; n++ {
				b.WriteString(d.Items[i] + ":" + d.Workers[d.Worker[n]] + "=" + d.Classes[d.Label[n]] + " ")
			}
		}
		return b.String()
	}
	if g, m := answers(grouped), answers(mixed); g != "a:w1=x a:w2=y b:w1=y b:w3=y c:w2=x " || m != g {
		t.Fatalf("grouped %q, interleaved %q", g, m)
	}
}

// New answers folded in with two warm passes land where a full run from
// scratch lands.
func TestIncrementalWarmStart(t *testing.T) {
	full, _ := Synthesize(SynthConfig{Items: 3000, Workers: 80, Classes: 2, Labels: 24000, AccMin: 0.6, AccMax: 0.95, Seed: 11})
	inc, err := NewIncremental("ds", Options{})
	if err != nil {
		t.Fatal(err)
	}
	cut := full.NumLabels() * 95 / 100
	add := func(lo, hi int) {
		for i := 0; i < full.NumItems(); i++ {
			for n := full.ItemStart[i]; n < full.ItemStart[i+1]; n++ {
				if int(n) >= lo && int(n) < hi {
					inc.Add(full.Items[i], full.Workers[full.Worker[n]], full.Classes[full.Label[n]])
				}
			}
		}
	}
	add(0, cut)
	if _, err := inc.Update(0); err != nil {
		t.Fatal(err)
	}
	add(cut, full.NumLabels())
	r, err := inc.Update(2)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := Aggregate(inc.Dataset(), "ds", Options{Tol: 1e-10, MaxIter: 500})
	diff := 0
	maxd := 0.0
	for i := range ref.Label {
		if ref.Label[i] != r.Label[i] {
			diff++
		}
		maxd = math.Max(maxd, math.Abs(ref.Posterior[2*i]-r.Posterior[2*i]))
	}
	if diff > 3 || maxd > 0.05 {
		t.Fatalf("after 2 warm passes: %d labels differ from a full run, max posterior gap %.4f", diff, maxd)
	}
	cold, _ := Aggregate(inc.Dataset(), "ds", Options{MaxIter: 2})
	coldDiff := 0
	for i := range ref.Label {
		if ref.Label[i] != cold.Label[i] {
			coldDiff++
		}
	}
	t.Logf("labels off the converged answer after 2 passes: warm %d, cold %d", diff, coldDiff)
	if _, err := NewIncremental("mv", Options{}); err == nil {
		t.Error("incremental mv accepted")
	}
}

// Observe folds answers in one at a time: the counts stay exactly those of
// the posteriors (no drift from taking an item's share out and putting it
// back), the labels land near a full converged run, and an Update after
// brings them the rest of the way.
func TestIncrementalObserve(t *testing.T) {
	full, _ := Synthesize(SynthConfig{Items: 3000, Workers: 80, Classes: 3, Labels: 24000, AccMin: 0.5, AccMax: 0.95, Seed: 12})
	for _, method := range []string{"ds", "onecoin", "mace", "ibcc"} {
		inc, _ := NewIncremental(method, Options{})
		// Every 10th answer of an item, and every answer of the last 100
		// items, arrives after the first fit: more answers on items already
		// seen (dynamic overlap) and new items.
		late := func(i int, n int32) bool { return i >= full.NumItems()-100 || (n-full.ItemStart[i])%10 == 9 }
		for pass := 0; pass < 2; pass++ {
			for i := 0; i < full.NumItems(); i++ {
				for n := full.ItemStart[i]; n < full.ItemStart[i+1]; n++ {
					if late(i, n) != (pass == 1) {
						continue
					}
					it, w, l := full.Items[i], full.Workers[full.Worker[n]], full.Classes[full.Label[n]]
					if pass == 0 {
						inc.Add(it, w, l)
						continue
					}
					e, err := inc.Observe(it, w, l)
					if err != nil {
						t.Fatal(err)
					}
					if e.Item != it || e.Confidence < 1.0/3 || e.Confidence > 1 {
						t.Fatalf("%s: Observe(%s) = %+v", method, it, e)
					}
					if again, ok := inc.Estimate(it); !ok || again != e {
						t.Fatalf("%s: Estimate(%s) = %+v, %v after Observe gave %+v", method, it, again, ok, e)
					}
				}
			}
			if pass == 0 {
				if _, err := inc.Update(0); err != nil {
					t.Fatal(err)
				}
			}
		}
		l := inc.live
		if l.rows != full.NumLabels() || inc.b.Len() != full.NumLabels() {
			t.Fatalf("%s: the state accounts for %d answers of %d", method, l.rows, full.NumLabels())
		}
		// The counts are the posteriors' shares, summed afresh.
		K := l.K
		C := make([]float64, len(l.C))
		cc := make([]float64, K)
		for it := 0; it < len(l.T)/K; it++ {
			post := l.T[it*K : it*K+K]
			for _, c := range l.itemCodes(int32(it)) {
				addTo(C[int(c)*K:int(c)*K+K], post)
			}
			addTo(cc, post)
		}
		for j := range C {
			if !near(C[j], l.C[j], 1e-9) {
				t.Fatalf("%s: count %d drifted: %v, summed afresh %v", method, j, l.C[j], C[j])
			}
		}
		for k := range cc {
			if !near(cc[k], l.cc[k], 1e-9) {
				t.Fatalf("%s: class total %d drifted: %v, summed afresh %v", method, k, l.cc[k], cc[k])
			}
		}
		// Near a converged run on everything; an Update closes the gap.
		ref, _ := Aggregate(inc.b.Build(), method, Options{Tol: 1e-10, MaxIter: 500})
		off := func(T []float64) int {
			n := 0
			for i := range ref.Label {
				best := 0
				for k := 1; k < K; k++ {
					if T[i*K+k] > T[i*K+best] {
						best = k
					}
				}
				if int32(best) != ref.Label[i] {
					n++
				}
			}
			return n
		}
		observed := off(l.T)
		r, err := inc.Update(2)
		if err != nil {
			t.Fatal(err)
		}
		updated := off(r.Posterior)
		t.Logf("%s: labels off a converged run on all answers: after Observe %d, after Update(2) %d (of %d)", method, observed, updated, len(ref.Label))
		if observed > 10 || updated > 3 {
			t.Errorf("%s: %d labels off after Observe, %d after Update(2)", method, observed, updated)
		}
	}
}

// Observe's edges: the first answer, answers Add-ed since the last update,
// a class never seen before, new workers, control items and unknown items.
func TestIncrementalObserveEdges(t *testing.T) {
	inc, _ := NewIncremental("ds", Options{})
	if _, ok := inc.Estimate("x"); ok {
		t.Fatal("an estimate before any answer")
	}
	if _, err := inc.Update(0); err == nil || !strings.Contains(err.Error(), "no answers") {
		t.Fatalf("Update with no answers: %v", err)
	}
	e, err := inc.Observe("x", "w1", "a") // the first answer: a full fit
	if err != nil || e.Label != "a" || e.Answers != 1 {
		t.Fatalf("first Observe = %+v, %v", e, err)
	}
	inc.Add("x", "w2", "b")
	inc.Add("y", "w1", "a")
	if e, _ = inc.Observe("x", "w3", "b"); e.Answers != 3 || e.Label != "b" { // the Add-ed answers folded in
		t.Fatalf("Observe after Add = %+v", e)
	}
	if e, _ = inc.Observe("y", "w4", "c"); e.Answers != 2 || len(inc.Dataset().Classes) != 3 { // a new class: a full fit
		t.Fatalf("Observe of a new class = %+v, classes %v", e, inc.Dataset().Classes)
	}
	rows := inc.live.rows
	e, _ = inc.Observe("z", "w9", "c") // a new item and a new worker, folded in locally
	if e.Label != "c" || e.Answers != 1 || inc.live.rows != rows+1 || inc.live.W != 5 {
		t.Fatalf("Observe of a new item by a new worker = %+v (W %d)", e, inc.live.W)
	}
	inc.SetControl("z", "a")
	if e, _ = inc.Observe("z", "w1", "c"); e.Label != "a" || e.Confidence != 1 {
		t.Fatalf("a control item = %+v, want its known class", e)
	}
	if _, ok := inc.Estimate("nope"); ok {
		t.Fatal("an estimate for an item never answered")
	}
	if n := inc.ObservedSinceUpdate(); n != 2 { // z twice; the rest took full fits
		t.Fatalf("ObservedSinceUpdate = %d, want 2", n)
	}
	rows = inc.b.Len()
	for _, a := range [][3]string{{"", "w1", "a"}, {"x", "", "a"}, {"x", "w1", ""}} {
		if _, err := inc.Observe(a[0], a[1], a[2]); err == nil || !strings.Contains(err.Error(), "empty") {
			t.Errorf("Observe%q: %v, want an error naming the empty field", a, err)
		}
		if err := inc.Add(a[0], a[1], a[2]); err == nil {
			t.Errorf("Add%q accepted", a)
		}
	}
	if inc.b.Len() != rows || inc.live.rows != rows {
		t.Fatal("a refused answer was recorded")
	}
	if _, err := inc.Update(1); err != nil || inc.ObservedSinceUpdate() != 0 {
		t.Fatalf("after Update: %v, ObservedSinceUpdate %d", err, inc.ObservedSinceUpdate())
	}
}

func TestDigamma(t *testing.T) {
	// ψ(1) = −γ, ψ(0.5) = −γ − 2 ln 2, ψ(10) = H_9 − γ.
	g := 0.5772156649015329
	h9 := 0.0
	for k := 1; k <= 9; k++ {
		h9 += 1 / float64(k)
	}
	for _, c := range [][2]float64{{1, -g}, {0.5, -g - 2*math.Ln2}, {10, h9 - g}} {
		if v := digamma(c[0]); !near(v, c[1], 1e-10) {
			t.Errorf("digamma(%v) = %v, want %v", c[0], v, c[1])
		}
	}
}

// blend keeps the best single method unless averaging in another one gains
// at least one held-out item.
func TestAutoBlendSelection(t *testing.T) {
	const K = 2
	// Three items with truth 0, 0, 1. Method 0 is right on items 0 and 1
	// with low confidence on item 2 (wrong); method 1 is confidently right
	// on item 2 and barely wrong on item 1; method 2 is always wrong.
	truth := []int32{0, 0, 1}
	oof := [][]float64{
		{0.9, 0.1, 0.9, 0.1, 0.55, 0.45},
		{0.6, 0.4, 0.45, 0.55, 0.05, 0.95},
		{0.1, 0.9, 0.1, 0.9, 0.9, 0.1},
	}
	if h := heldOutHits(oof, truth, K, map[int]int{0: 1}); h != 2 {
		t.Fatalf("method 0 alone: %v hits", h)
	}
	w := blend(oof, truth, K, 0)
	if len(w) != 2 || w[0] == 0 || w[1] == 0 {
		t.Fatalf("blend %v, want methods 0 and 1", w)
	}
	if h := heldOutHits(oof, truth, K, w); h != 3 {
		t.Fatalf("blend hits %v, want 3", h)
	}
	// When nothing helps, the single best stays alone.
	if w := blend(oof[:1], truth, K, 0); len(w) != 1 {
		t.Fatalf("single candidate: %v", w)
	}
}

// confidenceSet keeps the candidates McNemar's test cannot tell from the
// best: on 10 control items, one miss (z = 1) and two-way ties on two
// items (z = 1/√0.5 = 1.41) stay, three misses (z = 3/√3 = 1.73) and ties
// on four items (z = 2/√1 = 2) go; a copy of the best stays.
func TestAutoConfidenceSet(t *testing.T) {
	const K, n = 2, 10
	truth := make([]int32, n)
	post := func(wrong, tied int) []float64 {
		p := make([]float64, 0, n*K)
		for q := 0; q < n; q++ {
			switch {
			case q < wrong:
				p = append(p, 0.2, 0.8)
			case q < wrong+tied:
				p = append(p, 0.5, 0.5)
			default:
				p = append(p, 0.9, 0.1)
			}
		}
		return p
	}
	oof := [][]float64{post(0, 0), post(1, 0), post(3, 0), post(0, 2), post(0, 4), post(0, 0)}
	w := confidenceSet(oof, truth, K, 0, confidenceZ)
	for j, keep := range []bool{true, true, false, true, false, true} {
		if (w[j] > 0) != keep {
			t.Errorf("candidate %d: weight %d, want kept=%v (set %v)", j, w[j], keep, w)
		}
	}
	// A candidate better than the one called best is not dropped either.
	if w := confidenceSet(oof, truth, K, 1, confidenceZ); w[0] == 0 || w[5] == 0 {
		t.Errorf("set around a weaker best %v: the better candidates were dropped", w)
	}
	if h := itemHits(post(1, 2), truth, K); h[0] != 0 || h[1] != 0.5 || h[3] != 1 {
		t.Errorf("item hits %v, want 0, 0.5, 0.5, 1, ...", h)
	}
}

// cliqueCrowd: four workers who, on 40% of the items (the hard ones), all
// give the same wrong answer, and three independent workers right 80% of
// the time. Every model that takes workers as independent follows the
// four on the hard items.
func cliqueCrowd(t *testing.T, seed int64) (*Dataset, *Gold) {
	rng := rand.New(rand.NewSource(seed))
	var b, g strings.Builder
	lab := []string{"no", "yes"}
	for i := 0; i < 600; i++ {
		y := rng.Intn(2)
		hard := rng.Float64() < 0.4
		it := "i" + strconv.Itoa(i)
		g.WriteString(it + "," + lab[y] + "\n")
		for w := 0; w < 4; w++ {
			l := y
			if hard || rng.Float64() < 0.05 {
				l = 1 - y
			}
			b.WriteString(it + ",clique" + strconv.Itoa(w) + "," + lab[l] + "\n")
		}
		for w := 0; w < 3; w++ {
			l := y
			if rng.Float64() < 0.2 {
				l = 1 - y
			}
			b.WriteString(it + ",solo" + strconv.Itoa(w) + "," + lab[l] + "\n")
		}
	}
	d := load(t, b.String())
	return d, goldOf(t, d, g.String())
}

// EBCC's subtypes learn, from control items, that the clique's agreement on
// a hard item is one piece of evidence, not four.
func TestEBCCSeesThroughACliqueOfCorrelatedWorkers(t *testing.T) {
	d, gold := cliqueCrowd(t, 1)
	ctl, eval := SplitControl(gold, 0.2, 1)
	acc := map[string]float64{}
	for _, m := range []string{"mv", "ds", "ibcc", "ebcc"} {
		r, err := Aggregate(d, m, Options{Control: ctl})
		if err != nil {
			t.Fatal(err)
		}
		acc[m], _ = Accuracy(r, eval, nil)
	}
	t.Logf("accuracy on the held-out items: %v", acc)
	// The hard items are 40%: following the clique caps a model near 60%.
	for _, m := range []string{"mv", "ds", "ibcc"} {
		if acc[m] > 0.7 {
			t.Errorf("%s accuracy %.3f: the clique case is not hard for independent-worker models", m, acc[m])
		}
	}
	// Right on the easy items and on the hard ones the solo workers get
	// right by majority (0.8³ + 3·0.8²·0.2 ≈ 0.9): near 0.6 + 0.4·0.9.
	if acc["ebcc"] < 0.85 {
		t.Errorf("ebcc accuracy %.3f with control items, want ≥ 0.85", acc["ebcc"])
	}
	r, _ := Aggregate(d, "ebcc", Options{Control: ctl})
	// Its marginal confusion rows are distributions, and the solo workers
	// are rated above the clique, who are wrong on 43% of the items.
	K := r.K
	for w := range d.Workers {
		for k := 0; k < K; k++ {
			s := 0.0
			for l := 0; l < K; l++ {
				s += r.Confusion[(w*K+k)*K+l]
			}
			if !near(s, 1, 1e-9) {
				t.Fatalf("worker %s: confusion row %d sums to %v", d.Workers[w], k, s)
			}
		}
	}
	wi := map[string]int{}
	for w, name := range d.Workers {
		wi[name] = w
	}
	if q, c := r.WorkerQuality[wi["solo0"]], r.WorkerQuality[wi["clique0"]]; q <= c {
		t.Errorf("solo worker quality %.3f not above the clique's %.3f", q, c)
	}
}

// Unanimous answers need no model: every item takes its one answer, with
// high confidence, whatever the random start of the subtypes.
func TestEBCCUnanimous(t *testing.T) {
	d := load(t, "q1,w1,a\nq1,w2,a\nq2,w1,b\nq2,w2,b\nq3,w1,c\nq3,w2,c\nq3,w3,c\n")
	r, err := Aggregate(d, "ebcc", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int32{0, 1, 2} {
		if r.Label[i] != want || r.Confidence(i) < 0.8 {
			t.Errorf("item %s: label %d (confidence %.3f), want %d", d.Items[i], r.Label[i], r.Confidence(i), want)
		}
	}
}

// Large tables are kept in float32 for the pass (Dawid–Skene's family at
// K > 2, and ebcc): on a crowd where both precisions can run, they give the
// same labels, posteriors well within what could move a label, and about the
// same passes; and the float32 path is reproducible run to run, and close on
// one thread and two. ebcc drifts further (its subtypes make the likelihood
// flat, so float32's rounding in the counts moves posteriors by ~1e-4 over
// 75 passes, against ~1e-7 for the others).
func TestFloat32TablesMatchFloat64(t *testing.T) {
	d, g := Synthesize(SynthConfig{Items: 6000, Workers: 150, Classes: 5, Labels: 42000, AccMin: 0.5, AccMax: 0.95, Spammers: 0.2, Seed: 9})
	old, oldE := f32Entries, ebccF32Entries
	defer func() { f32Entries, ebccF32Entries = old, oldE }()
	for _, m := range []string{"ds", "onecoin", "mace", "ibcc", "ebcc"} {
		tol := 1e-5
		if m == "ebcc" {
			tol = 1e-3
		}
		f32Entries, ebccF32Entries = 1<<30, 1<<30 // float64
		r64, _ := Aggregate(d, m, Options{Threads: 2})
		f32Entries, ebccF32Entries = 0, 0 // float32
		r32, _ := Aggregate(d, m, Options{Threads: 2})
		again, _ := Aggregate(d, m, Options{Threads: 2})
		one, _ := Aggregate(d, m, Options{Threads: 1})
		worst := 0.0
		for i := range r64.Posterior {
			worst = max(worst, math.Abs(r64.Posterior[i]-r32.Posterior[i]))
			if again.Posterior[i] != r32.Posterior[i] || !near(one.Posterior[i], r32.Posterior[i], tol) {
				t.Fatalf("%s: float32 posterior %d is not reproducible: %v, again %v, one thread %v", m, i, r32.Posterior[i], again.Posterior[i], one.Posterior[i])
			}
		}
		for i := range r64.Label {
			if r64.Label[i] != r32.Label[i] {
				t.Errorf("%s: item %d labelled %d in float64, %d in float32", m, i, r64.Label[i], r32.Label[i])
			}
		}
		a64, _ := Accuracy(r64, g, nil)
		a32, _ := Accuracy(r32, g, nil)
		t.Logf("%-8s accuracy %.4f / %.4f, passes %d / %d, largest posterior difference %.1e", m, a64, a32, r64.Iterations, r32.Iterations, worst)
		if worst > 10*tol || abs(r64.Iterations-r32.Iterations) > 2 {
			t.Errorf("%s: float32 tables move a posterior by %.1e (passes %d against %d)", m, worst, r32.Iterations, r64.Iterations)
		}
	}
}

func abs(x int) int { return max(x, -x) }

// auto's cross-validation runs are one job per (fold, candidate), with no
// wait between folds, on as many threads as it is given: the schedule
// changes no score and no choice.
func TestAutoSameOnAnyThreads(t *testing.T) {
	d, g := Synthesize(SynthConfig{Items: 1500, Workers: 40, Classes: 3, Labels: 9000, AccMin: 0.5, AccMax: 0.95, Spammers: 0.2, Seed: 21})
	control, _ := SplitControl(g, 0.2, 1)
	var first *Result
	for _, th := range []int{1, 2, 3} {
		r, err := Aggregate(d, "auto", Options{Control: control, Threads: th, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = r
			if len(r.CV) != len(autoCandidates) {
				t.Fatalf("CV scores for %d candidates, want %d", len(r.CV), len(autoCandidates))
			}
			continue
		}
		if !reflect.DeepEqual(r.CV, first.CV) || r.Chosen != first.Chosen {
			t.Fatalf("%d threads: CV %v chose %q; 1 thread: %v chose %q", th, r.CV, r.Chosen, first.CV, first.Chosen)
		}
		for i := range r.Posterior {
			if !near(r.Posterior[i], first.Posterior[i], 1e-9) {
				t.Fatalf("%d threads: posterior %d is %v, on 1 thread %v", th, i, r.Posterior[i], first.Posterior[i])
			}
		}
	}
}

// GLAD's log σ(x) and log σ(−x) come from one exponential: they match the
// two-exponential forms to rounding, stay finite where those overflow, and
// the two probabilities sum to one.
func TestLogSigmoids(t *testing.T) {
	for _, x := range []float64{-700, -546, -30, -2.5, -1e-9, 0, 1e-9, 0.7, 3, 40, 546, 700} {
		pos, neg := logSigmoids(x)
		if math.IsInf(pos, 0) || math.IsInf(neg, 0) || math.IsNaN(pos) || math.IsNaN(neg) {
			t.Fatalf("x=%v: log σ = %v, %v", x, pos, neg)
		}
		for _, c := range [][2]float64{{pos, -math.Log1p(math.Exp(-x))}, {neg, -math.Log1p(math.Exp(x))}} {
			if !math.IsInf(c[1], 0) && math.Abs(c[0]-c[1]) > 1e-15*math.Max(1, math.Abs(c[1])) {
				t.Errorf("x=%v: %v, want %v", x, c[0], c[1])
			}
		}
		if s := math.Exp(pos) + math.Exp(neg); math.Abs(s-1) > 1e-15 {
			t.Errorf("x=%v: σ(x)+σ(−x) = %v", x, s)
		}
		// glad's E-step takes σ along with them for the next M-step: the same bits as sigmoid.
		if p2, n2, s := logSigmoidsAndSigmoid(x); p2 != pos || n2 != neg || s != sigmoid(x) {
			t.Errorf("x=%v: logSigmoidsAndSigmoid = %v, %v, %v, want %v, %v, %v", x, p2, n2, s, pos, neg, sigmoid(x))
		}
	}
}

// AutoVersus pairs auto's hits with another method's item by item:
// discordant counts per split, the gap, and McNemar's z with the continuity
// correction; Best takes the first of the methods on a tie.
func TestAutoVersusPairsItems(t *testing.T) {
	row := BenchRow{Accuracy: map[string]float64{"mv": 0.5, "ds": 0.75, "glad": 0.75}, repeats: 1,
		itemHits: map[string][]float64{
			"auto": {1, 0, 0, 0.5, 1},
			"ds":   {1, 1, 1, 0, 1},
		}}
	c, ok := row.AutoVersus("ds")
	if !ok || c.OtherOnly != 2 || c.AutoOnly != 0.5 || c.Gap != 1.5 {
		t.Fatalf("got %+v, %v; want 2 items only ds gets right, 0.5 only auto, gap 1.5", c, ok)
	}
	if want := 0.5 / math.Sqrt(2.5); math.Abs(c.Z-want) > 1e-12 {
		t.Fatalf("z %.6f, want (|2 − 0.5| − 1)/√2.5 = %.6f", c.Z, want)
	}
	if _, ok := row.AutoVersus("mv"); ok {
		t.Fatal("mv has no item hits in this row, so there is nothing to pair")
	}
	// Two repeats of the same items: the same split's counts, so the same z.
	row.repeats = 2
	row.itemHits["auto"] = append(row.itemHits["auto"], row.itemHits["auto"]...)
	row.itemHits["ds"] = append(row.itemHits["ds"], row.itemHits["ds"]...)
	if c2, _ := row.AutoVersus("ds"); c2 != c {
		t.Fatalf("two repeats of one split: %+v, want %+v", c2, c)
	}
	// Auto ahead by less than the correction: z is 0, not negative.
	row.repeats = 1
	row.itemHits = map[string][]float64{"auto": {1, 0}, "ds": {0, 0.5}}
	if c, _ := row.AutoVersus("ds"); c.Gap != -0.5 || c.Z != 0 {
		t.Fatalf("got %+v, want gap −0.5 and z 0", c)
	}
	if b := row.Best([]string{"mv", "ds", "glad"}); b != "ds" {
		t.Fatalf("best %q, want ds (first of the two at 0.75)", b)
	}
}

// Without enough control items to cross-validate on, auto runs the
// ensemble (the robust default: bench/truth/README.md, unsupervised table),
// with whatever control items there are clamped.
func TestAutoWithoutControlsRunsTheEnsemble(t *testing.T) {
	d, g := Synthesize(SynthConfig{Items: 600, Workers: 30, Classes: 3, Labels: 3000, AccMin: 0.55, AccMax: 0.9, Spammers: 0.2, Seed: 5})
	few := &Gold{Class: map[int]int32{}}
	for _, it := range sortedKeys(g.Class)[:AutoMinControl-1] {
		few.Class[it] = g.Class[it]
	}
	for _, ctl := range []*Gold{nil, few} {
		a, err := Aggregate(d, "auto", Options{Control: ctl})
		if err != nil {
			t.Fatal(err)
		}
		e, err := Aggregate(d, "ensemble", Options{Control: ctl})
		if err != nil {
			t.Fatal(err)
		}
		if a.Method != "auto" || a.Chosen != "ensemble" || !reflect.DeepEqual(a.Posterior, e.Posterior) {
			t.Fatalf("%d control items: auto chose %q (method %q); want the ensemble's posteriors", ctl.Len(), a.Chosen, a.Method)
		}
	}
}
