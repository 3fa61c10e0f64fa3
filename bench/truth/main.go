// Command truth benchmarks the truth-inference library:
//
//	go run ./bench/truth              # speed + end-to-end + accuracy table
//	go run ./bench/truth -only speed  # one part: speed, methods, e2e, incremental, overlap or accuracy
//
// speed:    Dawid–Skene label-passes/s (answers × EM passes / second) on a
//
//	seeded synthetic crowd, K = 2, 5, 10, on 1 thread and on all.
//
// methods:  every method to convergence on the 10M-answer K=2 crowd, all
//
//	threads: seconds, passes and accuracy against the generator's truth.
//
// e2e:      10M answers / 1M items / 10k workers written to CSV, then loaded
//
//	and aggregated to convergence in a child process whose peak RSS is read
//	from the kernel.
//
// incremental: one late answer each on 10,000 items of the e2e crowd, folded
//
//	in by Incremental.Observe one at a time, against Update's passes.
//
// overlap:  dynamic overlap on the real sets through Incremental.Observe:
//
//	answers used and accuracy against static overlap of the same budget.
//
// accuracy: every method and auto on the real sets (nested cross-validation).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sahara/internal/machine"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sahara/platform/truth"
)

// classCounts are the K the speed and e2e parts run (-k); methodList the
// methods the methods part runs (-methods).
var (
	classCounts []int
	methodList  []string
)

func main() {
	only := flag.String("only", "", "run one part: speed, methods, e2e, incremental, overlap or accuracy")
	data := flag.String("data", "../shared/datasets/crowd", "folder of real datasets for the accuracy table")
	e2eFile := flag.String("e2e-child", "", "internal: load and aggregate this answers file, print JSON")
	labels := flag.Int("labels", 10_000_000, "answers in the end-to-end set")
	repeats := flag.Int("repeats", 1, "accuracy: cross-validations on splits seeded 1, 2, …, averaged")
	ks := flag.String("k", "2,5,10", "speed and e2e: the class counts to run, comma-separated")
	ms := flag.String("methods", strings.Join(truth.CategoricalMethods, ","), "methods: the methods to run, comma-separated (auto too, with 1% of items as control items)")
	flag.Parse()
	for _, f := range strings.Split(*ks, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k < 2 {
			check(fmt.Errorf("-k %q: want class counts of 2 or more, such as 2,5,10", *ks))
		}
		classCounts = append(classCounts, k)
	}
	for _, m := range strings.Split(*ms, ",") {
		if m = strings.TrimSpace(m); !slices.Contains(truth.CategoricalMethods, m) && m != "auto" {
			check(fmt.Errorf("-methods: %q is not one of %s, auto", m, strings.Join(truth.CategoricalMethods, ", ")))
		}
		methodList = append(methodList, m)
	}
	if *e2eFile != "" {
		e2eChild(*e2eFile)
		return
	}
	fmt.Printf("# truth bench — %s, %d cores (GOMAXPROCS %d), %s\n\n", time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.GOMAXPROCS(0), machine.CPUModel())
	if *only == "" || *only == "speed" {
		speed()
	}
	if *only == "" || *only == "methods" {
		methods()
	}
	if *only == "" || *only == "e2e" {
		e2e(*labels)
	}
	if *only == "" || *only == "incremental" {
		incremental(*labels)
	}
	if *only == "" || *only == "overlap" {
		overlap(*data)
	}
	if *only == "" || *only == "accuracy" {
		accuracy(*data, *repeats)
	}
}

// speed runs a fixed number of EM passes (no early stop) so the rate is
// per pass, comparable across K and thread counts.
func speed() {
	fmt.Println("## Dawid–Skene speed (label-passes/s = answers × passes / s)")
	fmt.Println()
	fmt.Println("| K | answers | items | workers | threads | passes | seconds | M label-passes/s | speed-up |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	const passes = 20
	for _, K := range classCounts {
		d, _ := truth.Synthesize(truth.SynthConfig{Items: 1_000_000, Workers: 10_000, Classes: K, Labels: 10_000_000,
			AccMin: 0.55, AccMax: 0.95, Spammers: 0.1, Seed: 42})
		var one float64
		for _, th := range []int{1, runtime.GOMAXPROCS(0)} {
			best := 0.0
			for rep := 0; rep < 3; rep++ { // best of 3: the machine is shared
				t0 := time.Now()
				r, _ := truth.Aggregate(d, "ds", truth.Options{Threads: th, MaxIter: passes, Tol: 1e-300})
				s := time.Since(t0).Seconds()
				rate := float64(d.NumLabels()) * float64(r.Iterations) / s / 1e6
				best = max(best, rate)
			}
			if th == 1 {
				one = best
			}
			fmt.Printf("| %d | %d | %d | %d | %d | %d | %.2f | %.1f | %.2fx |\n", K, d.NumLabels(), d.NumItems(), d.NumWorkers(),
				th, passes, float64(d.NumLabels())*passes/best/1e6, best, best/one)
		}
		runtime.GC()
	}
	fmt.Println()
}

// methods runs each method as a user would (default options, every core)
// on the 10M-answer K=2 crowd: what each costs at the scale the platform
// aggregates.
func methods() {
	fmt.Println("## Every method at 10M answers / 1M items / 10k workers, K=2, to convergence (default options, all threads)")
	fmt.Println()
	fmt.Println("| method | seconds | passes | converged | M label-passes/s | accuracy |")
	fmt.Println("|---|---:|---:|---|---:|---:|")
	d, g := truth.Synthesize(truth.SynthConfig{Items: 1_000_000, Workers: 10_000, Classes: 2, Labels: 10_000_000,
		AccMin: 0.55, AccMax: 0.95, Spammers: 0.1, Seed: 42})
	// auto chooses by its control items, so it gets every 100th item's truth
	// (10k, as a labelling project's control tasks) and is scored on the rest.
	control := &truth.Gold{Class: map[int]int32{}}
	for it := 0; it < d.NumItems(); it += 100 {
		control.Class[it] = g.Class[it]
	}
	for _, m := range methodList {
		runtime.GC()
		o, skip := truth.Options{}, (*truth.Gold)(nil)
		if m == "auto" {
			o.Control, skip = control, control
		}
		t0 := time.Now()
		r, err := truth.Aggregate(d, m, o)
		check(err)
		s := time.Since(t0).Seconds()
		acc, _ := truth.Accuracy(r, g, skip)
		fmt.Printf("| %s | %.2f | %d | %v | %.1f | %.4f |\n", m, s, r.Iterations, r.Converged,
			float64(d.NumLabels())*float64(r.Iterations)/s/1e6, acc)
	}
	fmt.Println()
}

type e2eResult struct {
	Load, Aggregate, Total float64
	Iterations             int
	Converged              bool
	Accuracy               float64
	Labels                 int
}

func e2e(labels int) {
	dir, err := os.MkdirTemp("", "truth-e2e")
	check(err)
	defer os.RemoveAll(dir)
	fmt.Println("## End to end: CSV load + Dawid–Skene to convergence (child process)")
	fmt.Println()
	fmt.Println("| K | answers | items | workers | CSV MB | load s | EM s | passes | total s | peak RSS MiB | accuracy |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, K := range classCounts {
		d, g := truth.Synthesize(truth.SynthConfig{Items: labels / 10, Workers: 10_000, Classes: K, Labels: labels,
			AccMin: 0.55, AccMax: 0.95, Spammers: 0.1, Seed: 42})
		a := filepath.Join(dir, "answers.csv")
		f, err := os.Create(a)
		check(err)
		check(truth.WriteAnswersCSV(f, d))
		check(f.Close())
		gf, err := os.Create(filepath.Join(dir, "gold.csv"))
		check(err)
		check(truth.WriteGoldCSV(gf, d, g))
		check(gf.Close())
		st, _ := os.Stat(a)
		items, workers := d.NumItems(), d.NumWorkers()
		d, g = nil, nil
		runtime.GC()
		cmd := exec.Command(os.Args[0], "-e2e-child", a)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		check(err)
		var r e2eResult
		check(json.Unmarshal(out, &r))
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss / 1024 // KiB → MiB
		fmt.Printf("| %d | %d | %d | %d | %.0f | %.2f | %.2f | %d | %.2f | %d | %.4f |\n", K, r.Labels, items, workers,
			float64(st.Size())/1e6, r.Load, r.Aggregate, r.Iterations, r.Total, rss, r.Accuracy)
	}
	fmt.Println()
}

func e2eChild(path string) {
	t0 := time.Now()
	d, _, err := truth.LoadAnswersFile(path, false)
	check(err)
	g, _, err := truth.LoadGoldFile(filepath.Join(filepath.Dir(path), "gold.csv"), d)
	check(err)
	t1 := time.Now()
	r, err := truth.Aggregate(d, "ds", truth.Options{Tol: 1e-6})
	check(err)
	t2 := time.Now()
	acc, _ := truth.Accuracy(r, g, nil)
	check(json.NewEncoder(os.Stdout).Encode(e2eResult{Load: t1.Sub(t0).Seconds(), Aggregate: t2.Sub(t1).Seconds(),
		Total: t2.Sub(t0).Seconds(), Iterations: r.Iterations, Converged: r.Converged, Accuracy: acc, Labels: d.NumLabels()}))
}

func accuracy(dir string, repeats int) {
	for _, unsup := range []bool{false, true} {
		if unsup {
			fmt.Println("## Accuracy (%), unsupervised: no control items (the classic benchmark setting)")
		} else {
			fmt.Printf("## Accuracy (%%), nested 5-fold cross-validation over the gold: every method gets 4 folds as control items (%d split(s), averaged)\n", repeats)
		}
		fmt.Println()
		t0 := time.Now()
		cfg := truth.BenchConfig{Unsupervised: unsup, Seed: 1}
		if !unsup {
			cfg.Repeats = repeats
		}
		rows, err := truth.BenchDir(dir, cfg)
		check(err)
		truth.WriteBenchTable(os.Stdout, rows, nil)
		fmt.Println()
		truth.WriteAutoSignificance(os.Stdout, rows, nil)
		fmt.Printf("\n(%.0f s)\n\n", time.Since(t0).Seconds())
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
