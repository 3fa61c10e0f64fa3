package truth

import (
	"fmt"
	"io"
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
		if !e.IsDir() {
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
	row := BenchRow{Dataset: name, Items: d.NumItems(), Workers: d.NumWorkers(), Labels: d.NumLabels(),
		Classes: d.NumClasses(), Gold: len(gold.Class), Accuracy: map[string]float64{}}
	var keys []int
	picks := map[string]int{}
	t0 := time.Now()
	methods := append(append([]string(nil), cfg.Methods...), "auto")
	repeats := max(cfg.Repeats, 1)
	for rep := range repeats {
		seed := cfg.Seed + int64(rep)
		keys = sortedKeys(gold.Class)
		rng := rand.New(rand.NewSource(seed))
		rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		if err := benchFolds(d, keys, gold, folds, methods, cfg.Unsupervised, seed, row.Accuracy, picks); err != nil {
			return row, err
		}
	}
	for m := range row.Accuracy {
		row.Accuracy[m] /= float64(len(keys) * repeats)
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
// and its correct held-out items are added to hits (auto's picks to picks).
func benchFolds(d *Dataset, keys []int, gold *Gold, folds int, methods []string, unsupervised bool, seed int64, hits map[string]float64, picks map[string]int) error {
	for f := 0; f < folds; f++ {
		ctl := &Gold{Class: map[int]int32{}}
		eval := &Gold{Class: map[int]int32{}}
		for j, it := range keys {
			c := gold.Class[it]
			if j%folds == f {
				eval.Class[it] = c
			} else if c >= 0 {
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
			acc, n := Accuracy(r, eval, nil)
			hits[m] += acc * float64(n)
			if m == "auto" {
				picks[r.Chosen]++
			}
		}
	}
	return nil
}

// WriteBenchTable prints rows as a Markdown table, accuracies in percent,
// the best method of each row in bold.
func WriteBenchTable(w io.Writer, rows []BenchRow, methods []string) {
	if methods == nil {
		methods = CategoricalMethods
	}
	cols := append(append([]string(nil), methods...), "auto")
	fmt.Fprintf(w, "| dataset | items | workers | labels | K | gold | control/fold | %s | auto picks | time s |\n", strings.Join(cols, " | "))
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|%s---|---:|\n", strings.Repeat("---:|", len(cols)))
	for _, r := range rows {
		best := 0.0
		for _, m := range methods {
			best = max(best, r.Accuracy[m])
		}
		var cells []string
		for _, c := range cols {
			s := fmt.Sprintf("%.2f", 100*r.Accuracy[c])
			if r.Accuracy[c] >= best-1e-12 {
				s = "**" + s + "**"
			}
			cells = append(cells, s)
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %d | %s | %s | %.2f |\n", r.Dataset, r.Items, r.Workers, r.Labels,
			r.Classes, r.Gold, r.Controls, strings.Join(cells, " | "), r.Chosen, r.Seconds)
	}
}
