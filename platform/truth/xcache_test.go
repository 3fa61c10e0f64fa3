package truth

import (
	"encoding/gob"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

// Experiment harness (not kept): caches every method's posteriors on each
// outer fold's held-out items and every auto candidate's inner-CV out-of-fold
// posteriors on the control items, so combination rules can be compared fast.

type xFold struct {
	EvalTruth []int32
	Eval      map[string][]float64 // method → n_eval×K
	CtlTruth  []int32
	OOF       [][]float64 // candidate → n_ctl×K
}

type xSet struct {
	Name  string
	K     int
	Folds []xFold
}

func TestXBuildCache(t *testing.T) {
	out := os.Getenv("XCACHE")
	if out == "" {
		t.Skip()
	}
	root := "../../../shared/datasets/crowd"
	ents, _ := os.ReadDir(root)
	var sets []xSet
	for _, e := range ents {
		a := filepath.Join(root, e.Name(), "answers.csv")
		g := filepath.Join(root, e.Name(), "gold.csv")
		if _, err := os.Stat(g); err != nil {
			continue
		}
		d, _, err := LoadAnswersFile(a, false)
		if err != nil {
			t.Fatal(err)
		}
		gold, _, err := LoadGoldFile(g, d)
		if err != nil {
			t.Fatal(err)
		}
		K := d.NumClasses()
		set := xSet{Name: e.Name(), K: K}
		keys := sortedKeys(gold.Class)
		seed := int64(1)
		rng := rand.New(rand.NewSource(seed))
		rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		for f := 0; f < 5; f++ {
			ctl := &Gold{Class: map[int]int32{}}
			var evalItems []int
			var fold xFold
			for j, it := range keys {
				c := gold.Class[it]
				if j%5 == f {
					evalItems = append(evalItems, it)
					fold.EvalTruth = append(fold.EvalTruth, c)
				} else if c >= 0 {
					ctl.Class[it] = c
				}
			}
			fold.Eval = map[string][]float64{}
			for _, m := range CategoricalMethods {
				r, err := Aggregate(d, m, Options{Control: ctl, Seed: seed})
				if err != nil {
					t.Fatal(err)
				}
				p := make([]float64, 0, len(evalItems)*K)
				for _, it := range evalItems {
					p = append(p, r.Posterior[it*K:it*K+K]...)
				}
				fold.Eval[m] = p
			}
			// auto's inner CV, as auto does it
			ik := sortedKeys(ctl.Class)
			irng := rand.New(rand.NewSource(seed + 1))
			irng.Shuffle(len(ik), func(i, j int) { ik[i], ik[j] = ik[j], ik[i] })
			fold.OOF = make([][]float64, len(autoCandidates))
			for j := range fold.OOF {
				fold.OOF[j] = make([]float64, len(ik)*K)
			}
			for _, it := range ik {
				fold.CtlTruth = append(fold.CtlTruth, ctl.Class[it])
			}
			for inf := 0; inf < 5; inf++ {
				train := &Gold{Class: map[int]int32{}}
				for j, it := range ik {
					if j%5 != inf {
						train.Class[it] = ctl.Class[it]
					}
				}
				rs, err := aggregateMany(d, autoCandidates, Options{Control: train, Seed: seed, Threads: 1}, 2)
				if err != nil {
					t.Fatal(err)
				}
				for j := range autoCandidates {
					for q, it := range ik {
						if q%5 == inf {
							copy(fold.OOF[j][q*K:q*K+K], rs[j].Posterior[it*K:it*K+K])
						}
					}
				}
			}
			set.Folds = append(set.Folds, fold)
		}
		sets = append(sets, set)
		t.Logf("%s cached", e.Name())
	}
	f, _ := os.Create(out)
	defer f.Close()
	if err := gob.NewEncoder(f).Encode(sets); err != nil {
		t.Fatal(err)
	}
}
