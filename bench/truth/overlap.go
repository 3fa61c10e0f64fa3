package main

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"time"

	"sahara/platform/truth"
)

// overlapTau is the confidence at which dynamic overlap stops asking.
const overlapTau = 0.95

// overlap replays each real set's answers in a seeded random order through
// Incremental.Observe and stops asking for an item once its confidence
// reaches overlapTau (after at least two answers), with a full Update after
// every 5% of growth. It reports the share of answers used and the gold
// accuracy of ds on them, against ds on every answer and against a static
// overlap of the same budget (each item's first answers, as evenly as the
// budget allows); once with no control items and once with 20% of the gold
// as control items (clamped in every fit, scored on the other 80%).
func overlap(dir string) {
	fmt.Printf("## Dynamic overlap on the real sets: ds, answers in a random order (seed 1), stop at confidence %.2f after ≥ 2 answers\n\n", overlapTau)
	fmt.Println("| dataset | answers | per item | controls | all answers: accuracy | answers used | dynamic: accuracy | static, same budget: accuracy | s |")
	fmt.Println("|---|---:|---:|---|---:|---:|---:|---:|---:|")
	ents, err := os.ReadDir(dir)
	check(err)
	for _, e := range ents {
		a, g := filepath.Join(dir, e.Name(), "answers.csv"), filepath.Join(dir, e.Name(), "gold.csv")
		if _, err := os.Stat(g); err != nil {
			continue
		}
		d, _, err := truth.LoadAnswersFile(a, false)
		check(err)
		gold, _, err := truth.LoadGoldFile(g, d)
		check(err)
		type answer struct{ i, n int32 }
		order := make([]answer, 0, d.NumLabels())
		for i := 0; i < d.NumItems(); i++ {
			for n := d.ItemStart[i]; n < d.ItemStart[i+1]; n++ {
				order = append(order, answer{int32(i), n})
			}
		}
		rand.New(rand.NewSource(1)).Shuffle(len(order), func(x, y int) { order[x], order[y] = order[y], order[x] })
		for _, withControls := range []bool{false, true} {
			ctl, eval := &truth.Gold{Class: map[int]int32{}}, gold
			if withControls {
				ctl, eval = truth.SplitControl(gold, 0.2, 1)
			}
			// score is the accuracy on eval of a fit on a dataset of some answers.
			score := func(sub *truth.Dataset, r *truth.Result) float64 {
				idx := sub.ItemIndexes()
				hit, n := 0, 0
				for it, c := range eval.Class {
					if c < 0 {
						continue
					}
					n++
					if j, ok := idx[d.Items[it]]; ok && r.Label[j] >= 0 && sub.Classes[r.Label[j]] == d.Classes[c] {
						hit++
					}
				}
				return 100 * float64(hit) / float64(n)
			}
			// fit runs ds on the answers kept, with the controls clamped.
			fit := func(keep func(q int) bool) float64 {
				inc, err := truth.NewIncremental("ds", truth.Options{})
				check(err)
				for it, c := range ctl.Class {
					inc.SetControl(d.Items[it], d.Classes[c])
				}
				for q, x := range order {
					if keep(q) {
						check(inc.Add(d.Items[x.i], d.Workers[d.Worker[x.n]], d.Classes[d.Label[x.n]]))
					}
				}
				r, err := inc.Update(0)
				check(err)
				return score(inc.Dataset(), r)
			}
			all := fit(func(int) bool { return true })
			t0 := time.Now()
			inc, err := truth.NewIncremental("ds", truth.Options{})
			check(err)
			for it, c := range ctl.Class {
				inc.SetControl(d.Items[it], d.Classes[c])
			}
			closed := make([]bool, d.NumItems())
			used := 0
			for _, x := range order {
				if closed[x.i] {
					continue
				}
				est, err := inc.Observe(d.Items[x.i], d.Workers[d.Worker[x.n]], d.Classes[d.Label[x.n]])
				check(err)
				used++
				if inc.ObservedSinceUpdate() > used/20 {
					_, err = inc.Update(0)
					check(err)
				}
				if est.Answers >= 2 && est.Confidence >= overlapTau {
					closed[x.i] = true
				}
			}
			r, err := inc.Update(0)
			check(err)
			dyn := score(inc.Dataset(), r)
			secs := time.Since(t0).Seconds()
			// Static overlap with the same number of answers: every item its
			// first c answers in arrival order, and one more for the first
			// items (in index order) until the budget is spent.
			c := used / d.NumItems()
			extra := used - c*d.NumItems()
			taken := make([]int, d.NumItems())
			keep := make([]bool, len(order))
			for q, x := range order {
				limit := c
				if int(x.i) < extra {
					limit++
				}
				if taken[x.i] < limit {
					taken[x.i]++
					keep[q] = true
				}
			}
			static := fit(func(q int) bool { return keep[q] })
			controls := "none"
			if withControls {
				controls = fmt.Sprintf("%d (20%% of gold)", len(ctl.Class))
			}
			fmt.Printf("| %s | %d | %.1f | %s | %.2f | %.1f%% | %.2f | %.2f | %.1f |\n", e.Name(), d.NumLabels(),
				float64(d.NumLabels())/float64(d.NumItems()), controls, all, 100*float64(used)/float64(d.NumLabels()), dyn, static, secs)
		}
	}
	fmt.Println()
}
