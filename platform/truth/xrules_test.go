package truth

import (
	"encoding/gob"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"
)

func xAcc(p []float64, truth []int32, K int) float64 {
	hits := 0.0
	for q, g := range truth {
		row := p[q*K : q*K+K]
		top := row[0]
		for _, v := range row {
			top = math.Max(top, v)
		}
		tied := 0
		for _, v := range row {
			if v >= top-1e-12*math.Max(1, top) {
				tied++
			}
		}
		if g >= 0 && row[g] >= top-1e-12*math.Max(1, top) {
			hits += 1 / float64(tied)
		}
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

func TestXRules(t *testing.T) {
	path := os.Getenv("XCACHE")
	if path == "" {
		t.Skip()
	}
	f, err := os.Open(path)
	if err != nil {
		t.Skip()
	}
	var sets []xSet
	if err := gob.NewDecoder(f).Decode(&sets); err != nil {
		t.Fatal(err)
	}
	type rule struct {
		name string
		pick func(fold xFold, K int) []float64 // weights over autoCandidates, applied to Eval posteriors
		log  bool
		bias func(fold xFold, K int) []float64
	}
	single := func(fold xFold, K int) []float64 {
		w := make([]float64, len(autoCandidates))
		best := 0
		bh := -1.0
		for j := range autoCandidates {
			if h := xAcc(fold.OOF[j], fold.CtlTruth, K); h > bh+1e-9 {
				best, bh = j, h
			}
		}
		w[best] = 1
		return w
	}
	caruana := func(fold xFold, K int) []float64 {
		best := 0
		bh := -1.0
		for j := range autoCandidates {
			if h := xAcc(fold.OOF[j], fold.CtlTruth, K); h > bh+1e-9 {
				best, bh = j, h
			}
		}
		wm := blend(fold.OOF, fold.CtlTruth, K, best)
		w := make([]float64, len(autoCandidates))
		for j, n := range wm {
			w[j] = float64(n)
		}
		return w
	}
	var rules []rule
	rules = append(rules, rule{name: "single", pick: single}, rule{name: "caruana (auto now)", pick: caruana})
	for _, lam := range []float64{0, 0.01, 0.1} {
		lam := lam
		rules = append(rules, rule{name: fmt.Sprintf("logpool l2=%g", lam), log: true,
			pick: func(fold xFold, K int) []float64 { w, _ := xLogpoolFit(fold.OOF, fold.CtlTruth, K, lam, false); return w }})
		rules = append(rules, rule{name: fmt.Sprintf("logpool+bias l2=%g", lam), log: true,
			pick: func(fold xFold, K int) []float64 { w, _ := xLogpoolFit(fold.OOF, fold.CtlTruth, K, lam, true); return w },
			bias: func(fold xFold, K int) []float64 { _, b := xLogpoolFit(fold.OOF, fold.CtlTruth, K, lam, true); return b }})
	}
	rules = append(rules, rule{name: "linpool EM", pick: func(fold xFold, K int) []float64 { return xLinpoolFit(fold.OOF, fold.CtlTruth, K) }})
	rules = append(rules, rule{name: "equal linear", pick: func(fold xFold, K int) []float64 {
		w := make([]float64, len(autoCandidates))
		for j := range w {
			w[j] = 1
		}
		return w
	}})

	var sb strings.Builder
	fmt.Fprintf(&sb, "\n%-16s %6s %6s", "set", "best", "mv")
	for _, r := range rules {
		fmt.Fprintf(&sb, " %8.8s", r.name)
	}
	sb.WriteString("\n")
	within := make([]int, len(rules))
	geMV := make([]int, len(rules))
	gap := make([]float64, len(rules))
	for _, s := range sets {
		K := s.K
		n := 0
		methodHits := map[string]float64{}
		ruleHits := make([]float64, len(rules))
		for _, fold := range s.Folds {
			n += len(fold.EvalTruth)
			for m, p := range fold.Eval {
				methodHits[m] += xAcc(p, fold.EvalTruth, K)
			}
			ps := make([][]float64, len(autoCandidates))
			for j, c := range autoCandidates {
				ps[j] = fold.Eval[c]
			}
			for ri, r := range rules {
				w := r.pick(fold, K)
				var b []float64
				if r.bias != nil {
					b = r.bias(fold, K)
				}
				ruleHits[ri] += xAcc(xCombine(ps, w, b, K, r.log), fold.EvalTruth, K)
			}
		}
		best := 0.0
		var ms []string
		for m := range methodHits {
			ms = append(ms, m)
		}
		sort.Strings(ms)
		for _, m := range ms {
			best = math.Max(best, 100*methodHits[m]/float64(n))
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
	t.Log(sb.String())
}
