package truth

import (
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
	r := &Result{Method: "ensemble", K: d.NumClasses(), Converged: true}
	r.Posterior = make([]float64, len(rs[0].Posterior))
	r.WorkerQuality = make([]float64, d.NumWorkers())
	inv := 1 / float64(len(rs))
	for _, m := range rs {
		for j, p := range m.Posterior {
			r.Posterior[j] += p * inv
		}
		for w, q := range m.WorkerQuality {
			r.WorkerQuality[w] += q * inv
		}
		r.Iterations = max(r.Iterations, m.Iterations)
		r.Converged = r.Converged && m.Converged
	}
	r.finish(d, o.Control)
	return r, nil
}

// autoFallback is used when there are too few control items to choose by.
const autoFallback = "ibcc"

// minControlForCV is the least number of control items auto cross-validates on.
const minControlForCV = 10

// auto picks a method per dataset by cross-validation on the control items:
// the control items are split into folds; each candidate runs with all but
// one fold clamped and is scored on the held-out fold. The candidate with
// the most held-out hits wins, and then runs with every control item clamped.
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
	r, err := Aggregate(d, best, o)
	if err != nil {
		return nil, err
	}
	r.Method = "auto"
	r.Chosen = best
	r.CV = make(map[string]float64, len(hits))
	for m, h := range hits {
		r.CV[m] = h / float64(len(keys))
	}
	return r, nil
}
