package truth

import (
	"encoding/gob"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestAutoRulesOnRealSets compares ways for auto to choose or combine its
// candidates on the 14 real sets, under the same nested cross-validation as
// the accuracy bench (bench/truth/README.md, "Auto against the bar"):
//
//	TRUTH_RULES=/tmp/truth-rules.gob go test ./platform/truth -run AutoRules -v
//	TRUTH_RULES=/tmp/truth-rules10.gob TRUTH_RULES_FOLDS=10 go test ./platform/truth -run AutoRules -v
//	TRUTH_RULES=/tmp/truth-rules-5seeds.gob TRUTH_RULES_SEEDS=5 go test ./platform/truth -run AutoRules -v
//
// The first run caches every method's posteriors on each outer fold's
// held-out items and every candidate's inner-CV out-of-fold posteriors on the
// control items (about a minute); later runs only combine them.

type rulesFold struct {
	EvalTruth []int32
	Eval      map[string][]float64 // method → n_eval×K
	CtlTruth  []int32
	OOF       [][]float64 // candidate → n_ctl×K
}

type rulesSet struct {
	Name       string
	K          int
	Candidates []string // autoCandidates when the cache was built: OOF is in this order
	Folds      []rulesFold
}

func buildRulesCache(t *testing.T, out string) {
	// auto uses 5 inner folds; TRUTH_RULES_FOLDS tries another number (a new cache file).
	innerFolds := 5
	if v := os.Getenv("TRUTH_RULES_FOLDS"); v != "" {
		fmt.Sscan(v, &innerFolds)
	}
	// TRUTH_RULES_SEEDS repeats the outer cross-validation on splits seeded
	// 1..S, as BenchConfig.Repeats does (a new cache file).
	seeds := int64(1)
	if v := os.Getenv("TRUTH_RULES_SEEDS"); v != "" {
		fmt.Sscan(v, &seeds)
	}
	// TRUTH_RULES_FIRST_SEED starts the splits elsewhere (seeds F..F+S-1), to check a
	// rule chosen on one set of splits against splits it was not chosen on.
	first := int64(1)
	if v := os.Getenv("TRUTH_RULES_FIRST_SEED"); v != "" {
		fmt.Sscan(v, &first)
	}
	root := crowdDir
	ents, _ := os.ReadDir(root)
	var sets []rulesSet
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
		set := rulesSet{Name: e.Name(), K: K, Candidates: autoCandidates}
		for seed := first; seed < first+seeds; seed++ {
			keys := sortedKeys(gold.Class)
			rng := rand.New(rand.NewSource(seed))
			rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
			for f := 0; f < 5; f++ {
				ctl := &Gold{Class: map[int]int32{}}
				var evalItems []int
				var fold rulesFold
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
				for inf := 0; inf < innerFolds; inf++ {
					train := &Gold{Class: map[int]int32{}}
					for j, it := range ik {
						if j%innerFolds != inf {
							train.Class[it] = ctl.Class[it]
						}
					}
					rs, err := aggregateMany(d, autoCandidates, Options{Control: train, Seed: seed, Threads: 1}, 2)
					if err != nil {
						t.Fatal(err)
					}
					for j := range autoCandidates {
						for q, it := range ik {
							if q%innerFolds == inf {
								copy(fold.OOF[j][q*K:q*K+K], rs[j].Posterior[it*K:it*K+K])
							}
						}
					}
				}
				set.Folds = append(set.Folds, fold)
			}
		}
		sets = append(sets, set)
	}
	f, _ := os.Create(out)
	defer f.Close()
	if err := gob.NewEncoder(f).Encode(sets); err != nil {
		t.Fatal(err)
	}
}

func xAcc(p []float64, truth []int32, K int) float64 {
	hits := 0.0
	for _, h := range itemHits(p, truth, K) {
		hits += h
	}
	return hits
}

// combine applies weights (candidate index → weight) as a linear pool or a log-linear pool.
func xCombine(ps [][]float64, w []float64, bias []float64, K int, logpool bool) []float64 {
	n := len(ps[0]) / K
	out := make([]float64, n*K)
	for q := 0; q < n; q++ {
		row := out[q*K : q*K+K]
		for j, p := range ps {
			if w[j] == 0 {
				continue
			}
			for k := 0; k < K; k++ {
				if logpool {
					row[k] += w[j] * math.Log(math.Max(p[q*K+k], 1e-6))
				} else {
					row[k] += w[j] * p[q*K+k]
				}
			}
		}
		if logpool {
			mx := math.Inf(-1)
			for k := range row {
				if bias != nil {
					row[k] += bias[k]
				}
				mx = math.Max(mx, row[k])
			}
			s := 0.0
			for k := range row {
				row[k] = math.Exp(row[k] - mx)
				s += row[k]
			}
			for k := range row {
				row[k] /= s
			}
		}
	}
	return out
}

// logpoolFit learns non-negative weights and class biases maximizing the log-likelihood of the
// control truths under the log-linear pool, with L2 shrinkage of the weights toward start.
func xLogpoolFit(oof [][]float64, truth []int32, K int, lambda float64, useBias bool) ([]float64, []float64) {
	M := len(oof)
	w := make([]float64, M)
	for j := range w {
		w[j] = 1.0 / float64(M)
	}
	b := make([]float64, K)
	n := len(truth)
	lr := 0.5
	for it := 0; it < 400; it++ {
		gw := make([]float64, M)
		gb := make([]float64, K)
		p := xCombine(oof, w, b, K, true)
		for q, g := range truth {
			if g < 0 {
				continue
			}
			for k := 0; k < K; k++ {
				y := 0.0
				if int32(k) == g {
					y = 1
				}
				d := y - p[q*K+k]
				for j := 0; j < M; j++ {
					gw[j] += d * math.Log(math.Max(oof[j][q*K+k], 1e-6))
				}
				gb[k] += d
			}
		}
		for j := range w {
			w[j] += lr * (gw[j]/float64(n) - lambda*(w[j]-1.0/float64(M)))
			w[j] = math.Max(w[j], 0)
		}
		if useBias {
			for k := range b {
				b[k] += lr * gb[k] / float64(n)
			}
		}
	}
	return w, b
}

// linpoolFit learns mixture weights by EM on the control log-likelihood.
func xLinpoolFit(oof [][]float64, truth []int32, K int) []float64 {
	M := len(oof)
	w := make([]float64, M)
	for j := range w {
		w[j] = 1.0 / float64(M)
	}
	for it := 0; it < 200; it++ {
		acc := make([]float64, M)
		for q, g := range truth {
			if g < 0 {
				continue
			}
			s := 0.0
			for j := range w {
				s += w[j] * math.Max(oof[j][q*K+int(g)], 1e-9)
			}
			for j := range w {
				acc[j] += w[j] * math.Max(oof[j][q*K+int(g)], 1e-9) / s
			}
		}
		t := 0.0
		for _, a := range acc {
			t += a
		}
		for j := range w {
			w[j] = acc[j] / t
		}
	}
	return w
}

func TestAutoRulesOnRealSets(t *testing.T) {
	path := os.Getenv("TRUTH_RULES")
	if path == "" {
		t.Skip("set TRUTH_RULES to a cache file to compare auto's selection rules")
	}
	if _, err := os.Stat(path); err != nil {
		buildRulesCache(t, path)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var sets []rulesSet
	if err := gob.NewDecoder(f).Decode(&sets); err != nil {
		t.Fatal(err)
	}
	for _, set := range sets {
		if !slices.Equal(set.Candidates, autoCandidates) {
			t.Fatalf("%s was built for auto's candidates %v, not today's %v: delete it (or name a new file) to rebuild it", path, set.Candidates, autoCandidates)
		}
	}
	type rule struct {
		name string
		pick func(fold rulesFold, K int) []float64 // weights over autoCandidates, applied to Eval posteriors
		log  bool
		bias func(fold rulesFold, K int) []float64
		vote bool // members vote with their top classes (ties split); the mean posterior breaks ties
		// temper, if set, raises each candidate's posteriors to a power fitted on the controls
		// (calibration) before they are combined.
		temper bool
	}
	single := func(fold rulesFold, K int) []float64 {
		w := make([]float64, len(autoCandidates))
		best := xBest(fold.OOF, fold.CtlTruth, K)
		w[best] = 1
		return w
	}
	caruana := func(fold rulesFold, K int) []float64 {
		best := xBest(fold.OOF, fold.CtlTruth, K)
		wm := blend(fold.OOF, fold.CtlTruth, K, best)
		w := make([]float64, len(autoCandidates))
		for j, n := range wm {
			w[j] = float64(n)
		}
		return w
	}
	bagged := func(nb int, frac float64, fromBest bool) func(fold rulesFold, K int) []float64 {
		return func(fold rulesFold, K int) []float64 {
			rng := rand.New(rand.NewSource(7))
			n := len(fold.CtlTruth)
			w := make([]float64, len(autoCandidates))
			for b := 0; b < nb; b++ {
				m := int(frac * float64(n))
				idx := make([]int, m)
				for i := range idx {
					idx[i] = rng.Intn(n)
				}
				sub := make([][]float64, len(fold.OOF))
				for j := range sub {
					sub[j] = make([]float64, m*K)
					for q, i := range idx {
						copy(sub[j][q*K:q*K+K], fold.OOF[j][i*K:i*K+K])
					}
				}
				tr := make([]int32, m)
				for q, i := range idx {
					tr[q] = fold.CtlTruth[i]
				}
				best := xBest(sub, tr, K)
				var wm map[int]int
				if fromBest {
					wm = blend(sub, tr, K, best)
				} else {
					wm = map[int]int{best: 1}
				}
				tot := 0
				for _, c := range wm {
					tot += c
				}
				for j, c := range wm {
					w[j] += float64(c) / float64(tot)
				}
			}
			return w
		}
	}
	var rules []rule
	rules = append(rules, rule{name: "single", pick: single}, rule{name: "caruana (auto before)", pick: caruana})
	rules = append(rules, rule{name: "bag20 caruana", pick: bagged(20, 1, true)}, rule{name: "bag20 single", pick: bagged(20, 1, false)},
		rule{name: "bag50 caruana .5", pick: bagged(50, 0.5, true)}, rule{name: "bag50 single .5", pick: bagged(50, 0.5, false)})
	for _, lam := range []float64{0, 0.1} {
		lam := lam
		rules = append(rules, rule{name: fmt.Sprintf("logpool l2=%g", lam), log: true,
			pick: func(fold rulesFold, K int) []float64 {
				w, _ := xLogpoolFit(fold.OOF, fold.CtlTruth, K, lam, false)
				return w
			}})
		rules = append(rules, rule{name: fmt.Sprintf("logpool+bias l2=%g", lam), log: true,
			pick: func(fold rulesFold, K int) []float64 {
				w, _ := xLogpoolFit(fold.OOF, fold.CtlTruth, K, lam, true)
				return w
			},
			bias: func(fold rulesFold, K int) []float64 {
				_, b := xLogpoolFit(fold.OOF, fold.CtlTruth, K, lam, true)
				return b
			}})
	}
	// One-standard-error rule (Breiman et al.): among the candidates whose held-out hits are
	// within one binomial standard error of the best, take the first in auto's preference order
	// (its tie order); optionally grow a blend from it.
	oneSE := func(grow bool) func(fold rulesFold, K int) []float64 {
		return func(fold rulesFold, K int) []float64 {
			n := float64(len(fold.CtlTruth))
			hs := make([]float64, len(autoCandidates))
			bh := -1.0
			for j := range autoCandidates {
				hs[j] = xAcc(fold.OOF[j], fold.CtlTruth, K)
				bh = math.Max(bh, hs[j])
			}
			se := math.Sqrt(bh * (n - bh) / n)
			pick := 0
			for j := range autoCandidates {
				if hs[j] >= bh-se {
					pick = j
					break
				}
			}
			wm := map[int]int{pick: 1}
			if grow {
				wm = blend(fold.OOF, fold.CtlTruth, K, pick)
			}
			w := make([]float64, len(autoCandidates))
			for j, c := range wm {
				w[j] = float64(c)
			}
			return w
		}
	}
	rules = append(rules, rule{name: "1se single", pick: oneSE(false)}, rule{name: "1se caruana", pick: oneSE(true)})
	// Model confidence set (auto now, confidenceSet): keep every candidate not significantly below
	// the best by a paired test at level z and average the kept ones equally; or grow a greedy
	// blend from the best over the kept ones only.
	mcs := func(z float64, grow bool) func(fold rulesFold, K int) []float64 {
		return func(fold rulesFold, K int) []float64 {
			best := xBest(fold.OOF, fold.CtlTruth, K)
			kept := confidenceSet(fold.OOF, fold.CtlTruth, K, best, z)
			if grow {
				sub := make([][]float64, len(fold.OOF))
				for j := range sub {
					if kept[j] > 0 {
						sub[j] = fold.OOF[j]
					} else {
						sub[j] = make([]float64, len(fold.OOF[j])) // never raises hits
					}
				}
				kept = blend(sub, fold.CtlTruth, K, best)
			}
			w := make([]float64, len(autoCandidates))
			for j, c := range kept {
				w[j] = float64(c)
			}
			return w
		}
	}
	rules = append(rules, rule{name: "mcs z1.64 vote", pick: mcs(confidenceZ, false), vote: true})
	rules = append(rules, rule{name: "mcs z1.64 tempered avg", pick: mcs(confidenceZ, false), temper: true})
	rules = append(rules, rule{name: "mcs z1.64 avg (auto now)", pick: mcs(confidenceZ, false)}, rule{name: "mcs z1 avg", pick: mcs(1, false)},
		rule{name: "mcs z2.33 avg", pick: mcs(2.326, false)}, rule{name: "mcs z1.64 caruana", pick: mcs(confidenceZ, true)})
	// The confidence set tested on a proper score instead of hits (session 14): paired
	// per-item loss differences are continuous, so the test has more power than on 0/1 hits.
	// byScore picks the best by the same loss too; else the best is the most hits, as auto.
	mcsScore := func(loss func(row []float64, g int32) float64, byScore bool) func(fold rulesFold, K int) []float64 {
		return func(fold rulesFold, K int) []float64 {
			n := len(fold.CtlTruth)
			ls := make([][]float64, len(fold.OOF))
			tot := make([]float64, len(fold.OOF))
			for j := range fold.OOF {
				ls[j] = make([]float64, n)
				for q, g := range fold.CtlTruth {
					if g >= 0 {
						ls[j][q] = loss(fold.OOF[j][q*K:q*K+K], g)
					}
					tot[j] += ls[j][q]
				}
			}
			best := xBest(fold.OOF, fold.CtlTruth, K)
			if byScore {
				for j := range tot {
					if tot[j] < tot[best]-1e-9 {
						best = j
					}
				}
			}
			w := make([]float64, len(autoCandidates))
			for j := range fold.OOF {
				sum, sq := 0.0, 0.0
				for q := 0; q < n; q++ {
					d := ls[j][q] - ls[best][q]
					sum += d
					sq += d * d
				}
				if j == best || sq == 0 || sum < confidenceZ*math.Sqrt(sq) {
					w[j] = 1
				}
			}
			return w
		}
	}
	brier := func(row []float64, g int32) float64 {
		s := 0.0
		for k, v := range row {
			y := 0.0
			if int32(k) == g {
				y = 1
			}
			s += (v - y) * (v - y)
		}
		return s
	}
	logLoss := func(row []float64, g int32) float64 { return -math.Log(math.Max(row[g], 1e-6)) }
	rules = append(rules, rule{name: "mcs brier", pick: mcsScore(brier, false)}, rule{name: "mcs brier byscore", pick: mcsScore(brier, true)},
		rule{name: "mcs logloss", pick: mcsScore(logLoss, false)}, rule{name: "mcs logloss byscore", pick: mcsScore(logLoss, true)})
	// Parsimony inside the confidence set (session 15): where the controls cannot tell the
	// kept candidates apart, take the simplest one (fewest parameters) rather than their
	// average; or take majority vote alone when it is kept, the average otherwise. Both
	// aim at "at or above majority vote": on CrowdScale_fact every quality-aware method agrees
	// with majority vote on all gold items but one 3–3 tie, which majority vote scores ½.
	occamOrder := []string{"mv", "wawa", "onecoin", "bwa", "glad", "mace", "ds", "ibcc", "ebcc"}
	mcsOccam := func(mvOnly bool) func(fold rulesFold, K int) []float64 {
		return func(fold rulesFold, K int) []float64 {
			best := xBest(fold.OOF, fold.CtlTruth, K)
			kept := confidenceSet(fold.OOF, fold.CtlTruth, K, best, confidenceZ)
			w := make([]float64, len(autoCandidates))
			if mvOnly {
				if mv := autoIndex("mv"); kept[mv] > 0 {
					w[mv] = 1
					return w
				}
				for j, c := range kept {
					w[j] = float64(c)
				}
				return w
			}
			for _, m := range occamOrder {
				if j := autoIndex(m); kept[j] > 0 {
					w[j] = 1
					return w
				}
			}
			return w
		}
	}
	rules = append(rules, rule{name: "mcs occam single", pick: mcsOccam(false)}, rule{name: "mcs mv-if-kept", pick: mcsOccam(true)})
	rules = append(rules, rule{name: "linpool EM", pick: func(fold rulesFold, K int) []float64 { return xLinpoolFit(fold.OOF, fold.CtlTruth, K) }})
	rules = append(rules, rule{name: "equal linear", pick: func(fold rulesFold, K int) []float64 {
		w := make([]float64, len(autoCandidates))
		for j := range w {
			w[j] = 1
		}
		return w
	}})

	// regime: split items by majority-vote agreement (max mv posterior) at the controls' median;
	// a Caruana blend per regime.
	mvIdx := autoIndex("mv")
	regime := func(fold rulesFold, K int, ps [][]float64, evalMV []float64) []float64 {
		n := len(fold.CtlTruth)
		agree := make([]float64, n)
		for q := 0; q < n; q++ {
			m := 0.0
			for k := 0; k < K; k++ {
				m = math.Max(m, fold.OOF[mvIdx][q*K+k])
			}
			agree[q] = m
		}
		sorted := append([]float64(nil), agree...)
		sort.Float64s(sorted)
		thr := sorted[n/2]
		var out []float64
		weights := make([][]float64, 2)
		for side := 0; side < 2; side++ {
			var idx []int
			for q := 0; q < n; q++ {
				if (agree[q] >= thr) == (side == 1) {
					idx = append(idx, q)
				}
			}
			sub := make([][]float64, len(fold.OOF))
			for j := range sub {
				for _, q := range idx {
					sub[j] = append(sub[j], fold.OOF[j][q*K:q*K+K]...)
				}
			}
			tr := make([]int32, len(idx))
			for i, q := range idx {
				tr[i] = fold.CtlTruth[q]
			}
			best := xBest(sub, tr, K)
			w := make([]float64, len(autoCandidates))
			for j, c := range blend(sub, tr, K, best) {
				w[j] = float64(c)
			}
			weights[side] = w
		}
		ne := len(ps[0]) / K
		out = make([]float64, 0, ne*K)
		for q := 0; q < ne; q++ {
			side := 0
			if evalMV[q] >= thr {
				side = 1
			}
			row := make([][]float64, len(ps))
			for j := range ps {
				row[j] = ps[j][q*K : q*K+K]
			}
			out = append(out, xCombine(row, weights[side], nil, K, false)...)
		}
		return out
	}
	var sb strings.Builder
	// TRUTH_RULES_ONLY keeps the rules whose names contain it (the bagged ones take minutes).
	if only := os.Getenv("TRUTH_RULES_ONLY"); only != "" {
		var kept []rule
		for _, r := range rules {
			if strings.Contains(r.name, only) {
				kept = append(kept, r)
			}
		}
		rules = kept
	}
	autoNow := -1
	for ri, r := range rules {
		if strings.Contains(r.name, "(auto now)") {
			autoNow = ri
		}
	}
	// Is auto's distance to the best method, and to majority vote, more than the noise of these
	// sets? McNemar on the scored items, pooled over the splits: b items where the other is right
	// and auto wrong (ties split), c the reverse, z = (b − c)/√(b + c). An item is scored once per
	// split, so pooled z overstates one split's by up to √splits; the table divides it out.
	var sig strings.Builder
	fmt.Fprintf(&sig, "\n%-16s %-8s %12s %12s %7s %12s %12s %7s\n", "set", "best", "gap items/s", "b/c", "z", "vs mv it/s", "b/c", "z")
	fmt.Fprintf(&sb, "\n%-16s %6s %6s", "set", "best", "mv")
	for _, r := range rules {
		fmt.Fprintf(&sb, " %8.8s", r.name)
	}
	sb.WriteString("\n")
	regimeOn := os.Getenv("TRUTH_RULES_ONLY") == ""
	if regimeOn {
		rules = append(rules, rule{name: "regime caruana"})
	}
	within := make([]int, len(rules))
	geMV := make([]int, len(rules))
	gap := make([]float64, len(rules))
	for _, s := range sets {
		K := s.K
		n := 0
		methodHits := map[string]float64{}
		ruleHits := make([]float64, len(rules))
		var autoItems []float64
		methodItems := map[string][]float64{}
		for _, fold := range s.Folds {
			n += len(fold.EvalTruth)
			for m, p := range fold.Eval {
				methodHits[m] += xAcc(p, fold.EvalTruth, K)
			}
			ps := make([][]float64, len(autoCandidates))
			for j, c := range autoCandidates {
				ps[j] = fold.Eval[c]
			}
			evalMV := make([]float64, len(fold.EvalTruth))
			for q := range evalMV {
				for k := 0; k < K; k++ {
					evalMV[q] = math.Max(evalMV[q], fold.Eval["mv"][q*K+k])
				}
			}
			if regimeOn {
				ruleHits[len(rules)-1] += xAcc(regime(fold, K, ps, evalMV), fold.EvalTruth, K)
			}
			for ri, r := range rules {
				if r.pick == nil {
					continue
				}
				w := r.pick(fold, K)
				var b []float64
				if r.bias != nil {
					b = r.bias(fold, K)
				}
				src := ps
				if r.temper {
					src = make([][]float64, len(ps))
					for j := range ps {
						if w[j] != 0 {
							src[j] = xTemper(ps[j], xFitTemper(fold.OOF[j], fold.CtlTruth, K), K)
						} else {
							src[j] = ps[j]
						}
					}
				}
				p := xCombine(src, w, b, K, r.log)
				if r.vote {
					p = xVote(ps, w, p, K)
				}
				ruleHits[ri] += xAcc(p, fold.EvalTruth, K)
				if ri == autoNow {
					autoItems = append(autoItems, itemHits(p, fold.EvalTruth, K)...)
					for m, mp := range fold.Eval {
						methodItems[m] = append(methodItems[m], itemHits(mp, fold.EvalTruth, K)...)
					}
				}
			}
		}
		best := 0.0
		bestM := ""
		var ms []string
		for m := range methodHits {
			ms = append(ms, m)
		}
		sort.Strings(ms)
		for _, m := range ms {
			if a := 100 * methodHits[m] / float64(n); a > best {
				best, bestM = a, m
			}
		}
		if autoNow >= 0 {
			splits := float64(len(s.Folds)) / 5
			mcnemar := func(other []float64) (float64, float64, float64) {
				b, c := 0.0, 0.0
				for q, h := range autoItems {
					if d := other[q] - h; d > 0 {
						b += d
					} else {
						c -= d
					}
				}
				z := 0.0
				if b+c > 0 {
					z = (b - c) / math.Sqrt(b+c) / math.Sqrt(splits)
				}
				return b, c, z
			}
			b1, c1, z1 := mcnemar(methodItems[bestM])
			b2, c2, z2 := mcnemar(methodItems["mv"])
			fmt.Fprintf(&sig, "%-16s %-8s %12.2f %12s %7.2f %12.2f %12s %7.2f\n", s.Name, bestM, (b1-c1)/splits,
				fmt.Sprintf("%.1f/%.1f", b1, c1), z1, (b2-c2)/splits, fmt.Sprintf("%.1f/%.1f", b2, c2), z2)
		}
		mv := 100 * methodHits["mv"] / float64(n)
		fmt.Fprintf(&sb, "%-16s %6.2f %6.2f", s.Name, best, mv)
		for ri := range rules {
			a := 100 * ruleHits[ri] / float64(n)
			mark := " "
			if a >= best-0.5 {
				within[ri]++
				mark = "*"
			}
			if a >= mv-1e-9 {
				geMV[ri]++
			}
			gap[ri] += math.Max(0, best-a)
			fmt.Fprintf(&sb, " %7.2f%s", a, mark)
		}
		sb.WriteString("\n")
	}
	fmt.Fprintf(&sb, "%-30s", "within 0.5 / >= mv / gap")
	for ri := range rules {
		fmt.Fprintf(&sb, " %2d/%2d/%.2f", within[ri], geMV[ri], gap[ri])
	}
	if autoNow >= 0 {
		sb.WriteString("\n\nauto now against the best method of each set and against majority vote (items a split; z of one split):")
		sb.WriteString(sig.String())
	}
	t.Log(sb.String())
}

// heldOutHits scores a weighted blend of held-out posteriors (ties split).
func heldOutHits(oof [][]float64, truth []int32, K int, w map[int]int) float64 {
	p := make([]float64, len(truth)*K)
	for j := range oof { // index order, not map order: sums are reproducible
		n := w[j]
		if n == 0 {
			continue
		}
		for i := range p {
			p[i] += float64(n) * oof[j][i]
		}
	}
	hits := 0.0
	for _, h := range itemHits(p, truth, K) {
		hits += h
	}
	return hits
}

// blend grows a weighted average of candidates from the best single one
// by greedy forward selection with replacement (Caruana et al., 2004): each
// round adds the candidate that most raises held-out hits on the control
// items, and stops when none raises them by at least one item. It was
// auto's rule before the confidence set. Returns candidate index → weight.
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

// xVote combines members by their votes: each member with weight w gives w to its top class
// (split over ties); a small share of the weighted mean posterior avg breaks tied votes.
func xVote(ps [][]float64, w, avg []float64, K int) []float64 {
	n := len(ps[0]) / K
	out := make([]float64, n*K)
	for j, p := range ps {
		if w[j] == 0 {
			continue
		}
		for q := 0; q < n; q++ {
			row := p[q*K : q*K+K]
			top, tied := topOf(row)
			for k, v := range row {
				if isTop(v, top) {
					out[q*K+k] += w[j] / float64(tied)
				}
			}
		}
	}
	for i := range out {
		out[i] += 1e-6 * avg[i]
	}
	return out
}

// xTemper raises each item's posterior to the power beta and renormalizes: a log-linear pool
// of one member.
func xTemper(p []float64, beta float64, K int) []float64 {
	return xCombine([][]float64{p}, []float64{beta}, nil, K, true)
}

// xFitTemper finds the power (0.02–5) that maximizes the held-out log-likelihood of the
// control truths; the log-likelihood is concave in it, so a golden-section search on log beta
// finds the maximum.
func xFitTemper(oof []float64, truth []int32, K int) float64 {
	ll := func(beta float64) float64 {
		t := xTemper(oof, beta, K)
		s := 0.0
		for q, g := range truth {
			if g >= 0 {
				s += math.Log(math.Max(t[q*K+int(g)], 1e-300))
			}
		}
		return s
	}
	lo, hi := math.Log(0.02), math.Log(5)
	phi := (math.Sqrt(5) - 1) / 2
	a, b := hi-phi*(hi-lo), lo+phi*(hi-lo)
	fa, fb := ll(math.Exp(a)), ll(math.Exp(b))
	for i := 0; i < 40; i++ {
		if fa < fb {
			lo, a, fa = a, b, fb
			b = lo + phi*(hi-lo)
			fb = ll(math.Exp(b))
		} else {
			hi, b, fb = b, a, fa
			a = hi - phi*(hi-lo)
			fa = ll(math.Exp(a))
		}
	}
	return math.Exp((lo + hi) / 2)
}

// xBest is the candidate with the most held-out hits; ties keep the earlier one, as auto does.
func xBest(oof [][]float64, truth []int32, K int) int {
	best, bh := 0, -1.0
	for j := range oof {
		if h := xAcc(oof[j], truth, K); h > bh+1e-9 {
			best, bh = j, h
		}
	}
	return best
}
