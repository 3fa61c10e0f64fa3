package main

import (
	"fmt"
	"math/rand"
	"runtime"
	"sort"
	"time"

	"sahara/platform/truth"
)

// incremental measures the two ways of folding new answers into a running
// aggregation (dynamic overlap): one late answer each on 10,000 items of
// the synthetic crowd, folded in by Observe one at a time, against Update —
// the batch way, whose one pass is what each answer would cost if the
// platform updated after every answer.
func incremental(labels int) {
	fmt.Printf("## Incremental: %d answers, then one more answer each on 10,000 items (ds, K=2)\n\n", labels)
	d, g := truth.Synthesize(truth.SynthConfig{Items: labels / 10, Workers: 10_000, Classes: 2, Labels: labels,
		AccMin: 0.55, AccMax: 0.95, Spammers: 0.1, Seed: 42})
	// The late answers: the last answer of 10,000 items picked at random.
	rng := rand.New(rand.NewSource(7))
	late := map[int]bool{}
	for len(late) < 10_000 {
		if i := rng.Intn(d.NumItems()); d.ItemStart[i+1]-d.ItemStart[i] >= 2 {
			late[i] = true
		}
	}
	type answer struct{ item, worker, label string }
	var lateAnswers []answer
	inc, err := truth.NewIncremental("ds", truth.Options{})
	check(err)
	for i := 0; i < d.NumItems(); i++ {
		for n := d.ItemStart[i]; n < d.ItemStart[i+1]; n++ {
			a := answer{d.Items[i], d.Workers[d.Worker[n]], d.Classes[d.Label[n]]}
			if late[i] && n == d.ItemStart[i+1]-1 {
				lateAnswers = append(lateAnswers, a)
				continue
			}
			check(inc.Add(a.item, a.worker, a.label))
		}
	}
	rng.Shuffle(len(lateAnswers), func(i, j int) { lateAnswers[i], lateAnswers[j] = lateAnswers[j], lateAnswers[i] })
	t0 := time.Now()
	_, err = inc.Update(0)
	check(err)
	first := time.Since(t0).Seconds()
	runtime.GC()
	// The late items' accuracy against the generator's truth.
	lateAcc := func(est func(item string) string) float64 {
		hit := 0
		for i := range late {
			if est(d.Items[i]) == d.Classes[g.Class[i]] {
				hit++
			}
		}
		return float64(hit) / float64(len(late))
	}
	before := lateAcc(func(it string) string { e, _ := inc.Estimate(it); return e.Label })
	lat := make([]float64, len(lateAnswers))
	t0 = time.Now()
	for q, a := range lateAnswers {
		t1 := time.Now()
		_, err := inc.Observe(a.item, a.worker, a.label)
		check(err)
		lat[q] = time.Since(t1).Seconds()
	}
	observeAll := time.Since(t0).Seconds()
	afterObserve := lateAcc(func(it string) string { e, _ := inc.Estimate(it); return e.Label })
	sort.Float64s(lat)
	// One pass of Update is what each answer would cost the batch way.
	t0 = time.Now()
	_, err = inc.Update(1)
	check(err)
	one := time.Since(t0).Seconds()
	t0 = time.Now()
	r, err := inc.Update(2)
	check(err)
	two := time.Since(t0).Seconds()
	items := inc.Dataset().ItemIndexes()
	afterUpdate := lateAcc(func(it string) string { return inc.Dataset().Classes[r.Label[items[it]]] })
	mean := observeAll / float64(len(lat))
	fmt.Println("| step | seconds | per late answer | late items' accuracy |")
	fmt.Println("|---|---:|---:|---:|")
	fmt.Printf("| first fit, Update(0) | %.2f | | %.4f |\n", first, before)
	fmt.Printf("| Observe, each answer | %.4f in all | %.1f µs mean, p50 %.1f, p99 %.1f | %.4f |\n", observeAll, mean*1e6,
		lat[len(lat)/2]*1e6, lat[len(lat)*99/100]*1e6, afterObserve)
	fmt.Printf("| Update(1): one pass over all | %.2f | (%.0fx an Observe) | |\n", one, one/mean)
	fmt.Printf("| Update(2) after | %.2f | | %.4f |\n", two, afterUpdate)
	fmt.Println()
}
