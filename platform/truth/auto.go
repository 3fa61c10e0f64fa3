package truth

import (
	"fmt"
	"math/rand"
	"sync"
)

// aggregateMany runs several methods at once, each on one thread: the
// simple methods are single-threaded anyway, so this uses the cores better
// than running the methods one after another with threads each.
func aggregateMany(d *Dataset, methods []string, o Options, par int) ([]*Result, error) {
	rs := make([]*Result, len(methods))
	errs := make([]error, len(methods))
	sem := make(chan struct{}, max(par, 1))
	var wg sync.WaitGroup
	for j, m := range methods {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			rs[j], errs[j] = Aggregate(d, m, o)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return rs, nil
}

// autoCandidates are the methods auto chooses among, in order of preference
// when their cross-validated accuracies tie.
var autoCandidates = []string{"ibcc", "ds", "bwa", "mace", "onecoin", "glad", "wawa", "mv"}

// ensembleMembers are the quality-aware models the ensemble averages.
var ensembleMembers = []string{"ds", "onecoin", "mace", "glad", "ibcc", "bwa", "wawa"}

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

// autoFallback is used when there are too few control items to choose by.
const autoFallback = "ibcc"

// minControlForCV is the least number of control items auto cross-validates on.
const minControlForCV = 10

// auto picks a method per dataset by cross-validation on the control items:
// the control items are split into folds; each candidate runs with all but
// one fold clamped and is scored on the held-out fold. The candidate with
// the most held-out hits wins; other candidates are then blended in (a
// weighted posterior average, see blend) only while that gains held-out
// items. The winner or blend then runs with every control item clamped.
// No single method wins everywhere (Dawid–Skene loses to majority vote on
// some real sets), so the data decides.
func auto(d *Dataset, o Options) (*Result, error) {
	control := o.Control
	if control == nil || len(control.Class) < minControlForCV {
		r, err := Aggregate(d, autoFallback, o)
		if err != nil {
			return nil, err
		}
		r.Chosen = autoFallback
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
	// (each item is held out once), for choosing a weighted blend below.
	oof := make([][]float64, len(autoCandidates))
	for j := range oof {
		oof[j] = make([]float64, len(keys)*K)
	}
	truth := make([]int32, len(keys))
	for j, it := range keys {
		truth[j] = control.Class[it]
	}
	for f := 0; f < folds; f++ {
		train := &Gold{Class: map[int]int32{}}
		test := &Gold{Class: map[int]int32{}}
		for j, it := range keys {
			if j%folds == f {
				test.Class[it] = control.Class[it]
			} else {
				train.Class[it] = control.Class[it]
			}
		}
		fo := o
		fo.Control = train
		fo.Warm = nil
		fo.Threads = 1
		rs, err := aggregateMany(d, autoCandidates, fo, o.Threads)
		if err != nil {
			return nil, err
		}
		for j, m := range autoCandidates {
			acc, n := Accuracy(rs[j], test, nil)
			hits[m] += acc * float64(n)
			for q, it := range keys {
				if q%folds == f {
					copy(oof[j][q*K:q*K+K], rs[j].Posterior[it*K:it*K+K])
				}
			}
		}
	}
	// Held-out accuracy decides; ties keep the earlier candidate. (Brier
	// score, a mix of both, repeated fold splits and an ensemble candidate
	// were measured too, on the 14 real sets: each chose worse overall.)
	best := autoCandidates[0]
	for _, m := range autoCandidates[1:] {
		if hits[m] > hits[best]+1e-9 {
			best = m
		}
	}
	weights := blend(oof, truth, K, autoIndex(best))
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

// heldOutHits scores a weighted blend of held-out posteriors (ties split).
func heldOutHits(oof [][]float64, truth []int32, K int, w map[int]int) float64 {
	hits := 0.0
	p := make([]float64, K)
	for q, g := range truth {
		for k := range p {
			p[k] = 0
		}
		for j := range oof { // index order, not map order: sums are reproducible
			n := w[j]
			if n == 0 {
				continue
			}
			for k := 0; k < K; k++ {
				p[k] += float64(n) * oof[j][q*K+k]
			}
		}
		top, tied := p[0], 0
		for _, v := range p {
			top = max(top, v)
		}
		for _, v := range p {
			if v >= top-1e-12*max(1, top) {
				tied++
			}
		}
		if g >= 0 && p[g] >= top-1e-12*max(1, top) {
			hits += 1 / float64(tied)
		}
	}
	return hits
}

// blend grows a weighted average of candidates from the best single one
// by greedy forward selection with replacement (Caruana et al., 2004): each
// round adds the candidate that most raises held-out hits on the control
// items, and stops when none raises them by at least one item. Returns
// candidate index → weight; a single entry means "just the best method".
func blend(oof [][]float64, truth []int32, K, start int) map[int]int {
	w := map[int]int{start: 1}
	cur := heldOutHits(oof, truth, K, w)
	for round := 0; round < 10; round++ {
		bestJ, bestHits := -1, cur+1-1e-9
		for j := range oof {
			w[j]++
			if h := heldOutHits(oof, truth, K, w); h > bestHits {
				bestJ, bestHits = j, h
			}
			if w[j]--; w[j] == 0 {
				delete(w, j)
			}
		}
		if bestJ < 0 {
			break
		}
		w[bestJ]++
		cur = bestHits
	}
	return w
}

// mix runs the blend's candidates with every control item clamped and
// averages their posteriors with the blend's weights.
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
		name += fmt.Sprintf("%s×%d", m, int(weights[i]))
	}
	r.finish(d, o.Control)
	r.Chosen = name
	return r, nil
}
