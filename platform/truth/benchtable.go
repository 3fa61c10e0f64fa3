package truth

import (
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// BenchRow is one dataset's line of the accuracy table.
type BenchRow struct {
	Dataset                 string
	Items, Workers, Labels  int
	Classes, Gold, Controls int
	Accuracy                map[string]float64 // by method, "auto" included
	Chosen                  string             // auto's pick
	Seconds                 float64            // all methods together

	// itemHits[m] holds method m's hit on every scored item (1, 1/t for a
	// t-way tie that includes the gold, 0), in the same item order for
	// every method: each gold item once per repeat. AutoVersus pairs them.
	itemHits map[string][]float64
	repeats  int
}

// BenchConfig says how the table is made.
type BenchConfig struct {
	Methods []string // default: every categorical method
	// Folds of the nested cross-validation over the gold items (default 5).
	Folds int
	// Unsupervised gives the methods no control items (auto then uses its
	// fallback method): the classic benchmark setting.
	Unsupervised bool
	Seed         int64
	// Repeats runs the nested cross-validation this many times (default 1),
	// on splits seeded Seed, Seed+1, …, and averages the accuracies: each
	// gold item is then scored once per repeat. One split's luck in which
	// items become controls moves a method by a point on a 300-item set;
	// the average over splits is the better estimate of what a project
	// with that many control items gets.
	Repeats int
}

// BenchDir runs every method on every dataset folder under dir (a folder
// with answers.csv and gold.csv) and returns one row per folder, sorted by name.
func BenchDir(dir string, cfg BenchConfig) ([]BenchRow, error) {
	if cfg.Methods == nil {
		cfg.Methods = CategoricalMethods
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var rows []BenchRow
	for _, e := range ents {
		// os.Stat follows a symbolic link to a dataset folder (DirEntry.IsDir does not)
		if st, err := os.Stat(filepath.Join(dir, e.Name())); err != nil || !st.IsDir() {
			continue
		}
		a := filepath.Join(dir, e.Name(), "answers.csv")
		g := filepath.Join(dir, e.Name(), "gold.csv")
		if _, err := os.Stat(a); err != nil {
			continue
		}
		if _, err := os.Stat(g); err != nil {
			continue
		}
		row, err := BenchOne(e.Name(), a, g, cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("no dataset folders (with answers.csv and gold.csv) under %s", dir)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Dataset < rows[j].Dataset })
	return rows, nil
}

// SplitControl draws a seeded sample of the gold items as control items and
// returns (control, evaluation) sets.
func SplitControl(gold *Gold, frac float64, seed int64) (*Gold, *Gold) {
	keys := sortedKeys(gold.Class)
	rng := rand.New(rand.NewSource(seed))
	rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	n := int(frac*float64(len(keys)) + 0.5)
	ctl := &Gold{Class: map[int]int32{}}
	eval := &Gold{Class: map[int]int32{}}
	for j, it := range keys {
		c := gold.Class[it]
		if j < n && c >= 0 {
			ctl.Class[it] = c
		} else {
			eval.Class[it] = c
		}
	}
	return ctl, eval
}

// BenchOne makes the row of one dataset by nested cross-validation over its
// gold items: the gold is split into folds; for each fold, every method
// (auto included) gets the other folds as control items and is scored on
// the held-out fold. So each gold item is scored exactly once, while held
// out; every method sees the same control items; and auto chooses by its
// own inner cross-validation on those control items alone, never seeing the
// fold it is scored on.
func BenchOne(name, answers, goldPath string, cfg BenchConfig) (BenchRow, error) {
	d, _, err := LoadAnswersFile(answers, false)
	if err != nil {
		return BenchRow{}, err
	}
	gold, _, err := LoadGoldFile(goldPath, d)
	if err != nil {
		return BenchRow{}, err
	}
	folds := cfg.Folds
	if folds <= 1 {
		folds = 5
	}
	repeats := max(cfg.Repeats, 1)
	row := BenchRow{Dataset: name, Items: d.NumItems(), Workers: d.NumWorkers(), Labels: d.NumLabels(),
		Classes: d.NumClasses(), Gold: len(gold.Class), Accuracy: map[string]float64{},
		itemHits: map[string][]float64{}, repeats: repeats}
	var keys []int
	picks := map[string]int{}
	t0 := time.Now()
	methods := append(append([]string(nil), cfg.Methods...), "auto")
	for rep := range repeats {
		seed := cfg.Seed + int64(rep)
		keys = sortedKeys(gold.Class)
		rng := rand.New(rand.NewSource(seed))
		rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		if err := benchFolds(d, keys, gold, folds, methods, cfg.Unsupervised, seed, row.itemHits, picks); err != nil {
			return row, err
		}
	}
	for m, hs := range row.itemHits {
		sum := 0.0
		for _, h := range hs {
			sum += h
		}
		row.Accuracy[m] = sum / float64(len(keys)*repeats)
	}
	row.Controls = len(keys) - len(keys)/folds
	var ps []string
	blends := 0
	for m, n := range picks {
		if !slices.Contains(methods, m) {
			blends += n // auto's averages, e.g. "ds+glad+ibcc"
		}
	}
	for _, m := range methods {
		if picks[m] > 0 {
			ps = append(ps, fmt.Sprintf("%s×%d", m, picks[m]))
		}
	}
	if blends > 0 {
		ps = append(ps, fmt.Sprintf("avg×%d", blends))
	}
	row.Chosen = strings.Join(ps, " ")
	row.Seconds = time.Since(t0).Seconds()
	return row, nil
}

// benchFolds runs one nested cross-validation over the gold items in keys'
// order: for each fold, every method gets the other folds as control items
// and its hits on the held-out items are appended to hits[method] (auto's
// picks counted in picks).
func benchFolds(d *Dataset, keys []int, gold *Gold, folds int, methods []string, unsupervised bool, seed int64, hits map[string][]float64, picks map[string]int) error {
	for f := 0; f < folds; f++ {
		ctl := &Gold{Class: map[int]int32{}}
		for j, it := range keys {
			if c := gold.Class[it]; j%folds != f && c >= 0 {
				ctl.Class[it] = c
			}
		}
		if unsupervised {
			ctl = nil
		}
		for _, m := range methods {
			r, err := Aggregate(d, m, Options{Control: ctl, Seed: seed})
			if err != nil {
				return err
			}
			for j, it := range keys {
				if j%folds == f {
					hits[m] = append(hits[m], r.hit(it, gold.Class[it]))
				}
			}
			if m == "auto" {
				picks[r.Chosen]++
			}
		}
	}
	return nil
}

// Comparison is auto against another method, item by item, on the items a
// row scored: the paired view that tells a real gap from the luck of which
// items a set happens to hold.
type Comparison struct {
	Method string
	// OtherOnly counts the items where the other method is right and auto
	// wrong, AutoOnly the reverse (a tie counts its share): items a split,
	// averaged over the repeats.
	OtherOnly, AutoOnly float64
	// Gap = OtherOnly − AutoOnly: how many items a split auto is behind
	// (negative: ahead).
	Gap float64
	// Z is McNemar's statistic on these counts (one split's: each item is
	// scored once per repeat, so pooling the repeats would not add
	// independent evidence), with Edwards' continuity correction as R's
	// mcnemar.test applies by default: z = (|b − c| − 1) / √(b + c), signed.
	// Without the correction a gap of 3 items to none reads z = 1.73, where
	// the exact one-sided binomial test gives p = 0.125. Positive: the other
	// method is ahead; above SignificantZ it is ahead by more than chance
	// (one-sided 5%).
	Z float64
}

// SignificantZ is the one-sided 5% point of the normal distribution.
const SignificantZ = 1.645

// AutoVersus compares auto with method on the row's scored items; false
// when the row did not run both.
func (r BenchRow) AutoVersus(method string) (Comparison, bool) {
	c := Comparison{Method: method}
	au, o := r.itemHits["auto"], r.itemHits[method]
	if len(au) == 0 || len(au) != len(o) {
		return c, false
	}
	for q, h := range au {
		if d := o[q] - h; d > 0 {
			c.OtherOnly += d
		} else {
			c.AutoOnly -= d
		}
	}
	reps := float64(max(r.repeats, 1))
	c.OtherOnly /= reps
	c.AutoOnly /= reps
	c.Gap = c.OtherOnly - c.AutoOnly
	if d := math.Abs(c.Gap) - 1; d > 0 {
		c.Z = math.Copysign(d/math.Sqrt(c.OtherOnly+c.AutoOnly), c.Gap)
	}
	return c, true
}

// Best is the method of methods with the highest accuracy on the row (the
// first of them on a tie).
func (r BenchRow) Best(methods []string) string {
	best := ""
	for _, m := range methods {
		if a, ok := r.Accuracy[m]; ok && (best == "" || a > r.Accuracy[best]) {
			best = m
		}
	}
	return best
}

// WriteBenchTable prints rows as a Markdown table, accuracies in percent,
// the best method of each row in bold, and a last row with each column's
// mean over the sets (every set weighs the same, as in the literature's
// tables).
func WriteBenchTable(w io.Writer, rows []BenchRow, methods []string) {
	if methods == nil {
		methods = CategoricalMethods
	}
	cols := append(append([]string(nil), methods...), "auto")
	fmt.Fprintf(w, "| dataset | items | workers | labels | K | gold | control/fold | %s | auto picks | time s |\n", strings.Join(cols, " | "))
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|%s---|---:|\n", strings.Repeat("---:|", len(cols)))
	cells := func(acc map[string]float64) string {
		best := 0.0
		for _, m := range methods {
			best = max(best, acc[m])
		}
		var cs []string
		for _, c := range cols {
			s := fmt.Sprintf("%.2f", 100*acc[c])
			if acc[c] >= best-1e-12 {
				s = "**" + s + "**"
			}
			cs = append(cs, s)
		}
		return strings.Join(cs, " | ")
	}
	seconds := 0.0
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %d | %s | %s | %.2f |\n", r.Dataset, r.Items, r.Workers, r.Labels,
			r.Classes, r.Gold, r.Controls, cells(r.Accuracy), r.Chosen, r.Seconds)
		seconds += r.Seconds
	}
	if len(rows) > 1 {
		fmt.Fprintf(w, "| mean of %d sets | | | | | | | %s | | %.2f |\n", len(rows), cells(MeanAccuracy(rows)), seconds)
	}
}

// MeanAccuracy is each method's accuracy averaged over the rows, every set
// weighing the same.
func MeanAccuracy(rows []BenchRow) map[string]float64 {
	mean := map[string]float64{}
	for _, r := range rows {
		for m, a := range r.Accuracy {
			mean[m] += a / float64(len(rows))
		}
	}
	return mean
}

// WriteAutoSignificance prints, per row, auto against the row's best method
// and against majority vote, item by item (see Comparison): how many items
// a split auto is behind and McNemar's z. A gap whose z stays below
// SignificantZ is within the luck of which items the set holds.
func WriteAutoSignificance(w io.Writer, rows []BenchRow, methods []string) {
	if methods == nil {
		methods = CategoricalMethods
	}
	fmt.Fprintf(w, "| dataset | best method | auto behind it, items a split | only it right / only auto, a split | z | auto behind mv, items a split | only mv right / only auto, a split | z |\n")
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---:|---:|---:|\n")
	var zBest, zMV Comparison
	var zBestSet, zMVSet string
	cell := func(c Comparison, ok bool) string {
		if !ok {
			return "— | — | —"
		}
		return fmt.Sprintf("%.1f | %.1f / %.1f | %.2f", c.Gap, c.OtherOnly, c.AutoOnly, c.Z)
	}
	for _, r := range rows {
		b, okB := r.AutoVersus(r.Best(methods))
		v, okV := r.AutoVersus("mv")
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.Dataset, b.Method, cell(b, okB), cell(v, okV))
		if okB && (zBestSet == "" || b.Z > zBest.Z) {
			zBest, zBestSet = b, r.Dataset
		}
		if okV && (zMVSet == "" || v.Z > zMV.Z) {
			zMV, zMVSet = v, r.Dataset
		}
	}
	largest := func(c Comparison, set string) string {
		if set == "" {
			return "not run"
		}
		return fmt.Sprintf("%.2f (%s, %s)", c.Z, set, c.Method)
	}
	fmt.Fprintf(w, "\nLargest z against the best method: %s; against majority vote: %s. Significant (one-sided 5%%): z > %.3f.\n",
		largest(zBest, zBestSet), largest(zMV, zMVSet), SignificantZ)
}
