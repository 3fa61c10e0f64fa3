package truth

import (
	"fmt"
	"math"
	"math/rand"
	"sync"
)

// aggregateMany runs several methods, par at once, each with o's threads
// (callers pass one): the simple methods are single-threaded anyway, so
// this uses the cores better than running the methods one after another
// with threads each. From manyThreadedFrom answers up it does run them one
// after another with par threads each: there one ebcc run is most of the
// work, and on one thread it left the other cores idle after the cheap
// methods were done (the ensemble at 10M answers: BenchmarkManySchedule).
func aggregateMany(d *Dataset, methods []string, o Options, par int) ([]*Result, error) {
	rs := make([]*Result, len(methods))
	errs := make([]error, len(methods))
	if d.NumLabels() >= manyThreadedFrom && par > 1 {
		o.Threads, par = par, 1
	}
	forEach(len(methods), par, func(j int) { rs[j], errs[j] = Aggregate(d, methods[j], o) })
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return rs, nil
}

// manyThreadedFrom is the number of answers from which aggregateMany runs
// its methods one after another, each on every thread: the ensemble took
// 1.03x the time that way at 1M answers, 0.90x at 2M and 0.75x at 4M
// (BenchmarkManySchedule, two threads). Every real set here
// is below it (the largest has 216,725 answers), so their results are the
// ones of one thread per method, bit for bit. (A variable so the benchmark
// can compare the two schedules.)
var manyThreadedFrom = 2_000_000

// forEach runs fn(0), …, fn(n-1), at most par at once, starting them in order.
func forEach(n, par int, fn func(i int)) {
	sem := make(chan struct{}, max(par, 1))
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i)
		})
	}
	wg.Wait()
}

// autoCandidates are the methods auto chooses among, in order of preference
// when their cross-validated accuracies tie.
var autoCandidates = []string{"ibcc", "ds", "bwa", "ebcc", "mace", "onecoin", "glad", "wawa", "mv"}

// ensembleMembers are the quality-aware models the ensemble averages.
var ensembleMembers = []string{"ds", "onecoin", "mace", "glad", "ibcc", "bwa", "ebcc", "wawa"}

// ensemble averages the posteriors of several worker models. Their errors
// are partly independent, so the average is rarely far from the best
// member on any set, which makes it a low-variance choice when the control
// items are too few to tell the members apart.
func ensemble(d *Dataset, o Options) (*Result, error) {
	single := o
	single.Threads = 1
	rs, err := aggregateMany(d, ensembleMembers, single, o.Threads)
	if err != nil {
		return nil, err
	}
	r := average(d, rs, nil)
	r.Method = "ensemble"
	r.finish(d, o.Control)
	return r, nil
}

// average combines results by a weighted mean of their posteriors and
// worker qualities (nil weights: equal).
func average(d *Dataset, rs []*Result, weights []float64) *Result {
	total := 0.0
	for i := range rs {
		if weights == nil {
			total++
		} else {
			total += weights[i]
		}
	}
	r := &Result{K: d.NumClasses(), Converged: true}
	r.Posterior = make([]float64, len(rs[0].Posterior))
	r.WorkerQuality = make([]float64, d.NumWorkers())
	for i, m := range rs {
		f := 1 / total
		if weights != nil {
			f = weights[i] / total
		}
		for j, p := range m.Posterior {
			r.Posterior[j] += f * p
		}
		for w, q := range m.WorkerQuality {
			r.WorkerQuality[w] += f * q
		}
		r.Iterations = max(r.Iterations, m.Iterations)
		r.Converged = r.Converged && m.Converged
	}
	return r
}

// autoFoldBarrier runs auto's cross-validation a fold at a time, waiting for
// each fold's runs before the next (the schedule before the pooled one);
// only BenchmarkAutoSchedule sets it, to compare the two side by side.
var autoFoldBarrier = false

// AutoDefault is the method auto runs when there are fewer than
// AutoMinControl control items to choose by.
// With nothing to choose on, the default should be the method that does
// well on every kind of crowd, not the best on some: on the 14 real sets
// without control items the ensemble's mean accuracy is 86.47% (ebcc 86.51,
// bwa 86.22, ibcc 85.63, the fallback before) and its largest gap to a
// set's best method the smallest of all, 5.3 points (ebcc 8.9 on Web, ibcc
// 9.2 on ZenCrowd_us, bwa 10.6 on TREC). It costs its eight members' time:
// about 100 s at 10M answers, where ds takes 0.3 s (bench/truth/README.md).
const AutoDefault = "ensemble"

// AutoMinControl is the least number of control items auto cross-validates on.
const AutoMinControl = 10

// auto picks a method per dataset by cross-validation on the control items:
// the control items are split into folds; each candidate runs with all but
// one fold clamped and is scored on the held-out fold. The candidate with
// the most held-out hits is the best; every candidate that is not
// significantly worse than it (see confidenceSet) is kept, and the kept
// ones run with every control item clamped and are averaged. No single
// method wins everywhere (Dawid–Skene loses to majority vote on some real
// sets), so the data decides; where the control items cannot tell the
// leaders apart, their average is the low-variance choice.
func auto(d *Dataset, o Options) (*Result, error) {
	control := o.Control
	if control == nil || len(control.Class) < AutoMinControl {
		r, err := Aggregate(d, AutoDefault, o)
		if err != nil {
			return nil, err
		}
		r.Chosen = AutoDefault
		r.Method = "auto"
		return r, nil
	}
	keys := sortedKeys(control.Class)
	rng := rand.New(rand.NewSource(o.Seed + 1))
	rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	folds := 5
	if len(keys) < folds {
		folds = len(keys)
	}
	hits := make(map[string]float64, len(autoCandidates))
	K := d.NumClasses()
	// oof[j] holds candidate j's held-out posterior of every control item
	// (each item is held out once), for comparing candidates item by item.
	oof := make([][]float64, len(autoCandidates))
	for j := range oof {
		oof[j] = make([]float64, len(keys)*K)
	}
	truth := make([]int32, len(keys))
	for j, it := range keys {
		truth[j] = control.Class[it]
	}
	trains := make([]*Gold, folds)
	tests := make([]*Gold, folds)
	for f := range trains {
		trains[f] = &Gold{Class: map[int]int32{}}
		tests[f] = &Gold{Class: map[int]int32{}}
		for j, it := range keys {
			if j%folds == f {
				tests[f].Class[it] = control.Class[it]
			} else {
				trains[f].Class[it] = control.Class[it]
			}
		}
	}
	// Every (fold, candidate) run is one job on one thread, started fold by
	// fold in candidate order, with no wait between folds: a fold's slowest
	// run no longer leaves the other cores idle (0.82–0.96x the time on four
	// real sets, BenchmarkAutoSchedule). Starting the slowest methods first
	// was tried too: on a 1M-answer crowd it put two ebcc runs side by side,
	// which share the cache badly, and was slower (1.1x in two CLI runs
	// each). Each job keeps only its held-out scores, so memory stays that of
	// as many runs as there are threads.
	type job struct{ j, f int }
	var jobs []job
	for f := 0; f < folds; f++ {
		for j := range autoCandidates {
			jobs = append(jobs, job{j, f})
		}
	}
	foldHits := make([][]float64, len(autoCandidates)) // [candidate][fold]
	errs := make([][]error, len(autoCandidates))
	for j := range foldHits {
		foldHits[j] = make([]float64, folds)
		errs[j] = make([]error, folds)
	}
	runJob := func(n int) {
		j, f := jobs[n].j, jobs[n].f
		fo := o
		fo.Control = trains[f]
		fo.Warm = nil
		fo.Threads = 1
		r, err := Aggregate(d, autoCandidates[j], fo)
		if err != nil {
			errs[j][f] = err
			return
		}
		acc, cnt := Accuracy(r, tests[f], nil)
		foldHits[j][f] = acc * float64(cnt)
		for q, it := range keys {
			if q%folds == f {
				copy(oof[j][q*K:q*K+K], r.Posterior[it*K:it*K+K])
			}
		}
	}
	if autoFoldBarrier { // the schedule before, for BenchmarkAutoSchedule
		C := len(autoCandidates)
		for f := 0; f < folds; f++ {
			forEach(C, o.Threads, func(n int) { runJob(f*C + n) })
		}
	} else {
		forEach(len(jobs), o.Threads, runJob)
	}
	for f := 0; f < folds; f++ { // summed in fold order, as the runs were before
		for j, m := range autoCandidates {
			if errs[j][f] != nil {
				return nil, errs[j][f]
			}
			hits[m] += foldHits[j][f]
		}
	}
	// Held-out accuracy decides; ties keep the earlier candidate. (Other
	// rules, from Brier score to greedy blends and pooled weights, were
	// measured on the 14 real sets: bench/truth/README.md.)
	best := autoCandidates[0]
	for _, m := range autoCandidates[1:] {
		if hits[m] > hits[best]+1e-9 {
			best = m
		}
	}
	weights := confidenceSet(oof, truth, K, autoIndex(best), confidenceZ)
	var r *Result
	var err error
	if len(weights) == 1 {
		r, err = Aggregate(d, best, o)
		if err != nil {
			return nil, err
		}
		r.Chosen = best
	} else {
		if r, err = mix(d, o, weights); err != nil {
			return nil, err
		}
	}
	r.Method = "auto"
	r.CV = make(map[string]float64, len(hits))
	for m, h := range hits {
		r.CV[m] = h / float64(len(keys))
	}
	return r, nil
}

func autoIndex(m string) int {
	for j, c := range autoCandidates {
		if c == m {
			return j
		}
	}
	return 0
}

// itemHits scores one candidate's held-out posteriors item by item: 1 for
// a hit, 1/t for a t-way tie that includes the truth, else 0.
func itemHits(oof []float64, truth []int32, K int) []float64 {
	h := make([]float64, len(truth))
	for q, g := range truth {
		h[q] = rowHit(oof[q*K:q*K+K], g)
	}
	return h
}

// rowHit scores one posterior row against the gold class g: 1 when g is the
// top class, 1/t when g is one of t classes tied at the top, else 0 (and 0
// for g < 0, a gold class no worker gave).
func rowHit(row []float64, g int32) float64 {
	if g < 0 {
		return 0
	}
	top, tied := topOf(row)
	if isTop(row[g], top) {
		return 1 / float64(tied)
	}
	return 0
}

// topOf returns the largest value of row and how many entries tie with it.
func topOf(row []float64) (top float64, tied int) {
	top = row[0]
	for _, v := range row {
		top = max(top, v)
	}
	for _, v := range row {
		if isTop(v, top) {
			tied++
		}
	}
	return top, tied
}

// isTop says whether v ties with the top value (to rounding).
func isTop(v, top float64) bool { return v >= top-1e-12*max(1, top) }

// confidenceZ is the one-sided 5% point of the normal distribution.
const confidenceZ = 1.645

// confidenceSet keeps the best candidate and every candidate whose held-out
// hits are not significantly below its own: McNemar's test, paired on the
// control items (Σd / √Σd² < z, d = the best's hit − the candidate's hit
// on an item; auto uses z = confidenceZ, one-sided 5%). That is a model
// confidence set (Hansen, Lunde and Nason 2011) taken in one step. Returns
// candidate index → weight 1; a single entry means "just the best method".
// On the 14 real sets it was compared with nineteen other rules on
// independent sets of splits and came nearest the best method overall, or
// within 0.02 point of the nearest (bench/truth/README.md).
func confidenceSet(oof [][]float64, truth []int32, K, best int, z float64) map[int]int {
	hits := make([][]float64, len(oof))
	for j := range oof {
		hits[j] = itemHits(oof[j], truth, K)
	}
	w := map[int]int{best: 1}
	for j := range oof {
		sum, sq := 0.0, 0.0
		for q := range truth {
			d := hits[best][q] - hits[j][q]
			sum += d
			sq += d * d
		}
		if sq == 0 || sum < z*math.Sqrt(sq) {
			w[j] = 1
		}
	}
	return w
}

// mix runs the chosen candidates with every control item clamped and
// averages their posteriors with the given weights.
func mix(d *Dataset, o Options, w map[int]int) (*Result, error) {
	var methods []string
	var weights []float64
	for j := range autoCandidates { // candidate order: reproducible
		if n := w[j]; n > 0 {
			methods = append(methods, autoCandidates[j])
			weights = append(weights, float64(n))
		}
	}
	single := o
	single.Threads = 1
	rs, err := aggregateMany(d, methods, single, o.Threads)
	if err != nil {
		return nil, err
	}
	r := average(d, rs, weights)
	name := ""
	for i, m := range methods {
		if name != "" {
			name += "+"
		}
		name += m
		if weights[i] != 1 {
			name += fmt.Sprintf("×%d", int(weights[i]))
		}
	}
	r.finish(d, o.Control)
	r.Chosen = name
	return r, nil
}
