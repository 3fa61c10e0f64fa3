package truth

import (
	"math"
	"sync"
)

// A confusionModel is one of the worker models that EM fits through a
// per-worker table: given the expected counts C[(w*K+o)*K+t] (worker w
// answered o while the truth was t) and the expected class totals, its
// M-step writes L[(w*K+o)*K+t] = log P(o | t, w) (or its expectation, for
// variational Bayes) and logPrior[t]. Dawid–Skene, one-coin, MACE and IBCC
// differ only here, so they share one fused E+M pass. The M-step is one
// row block per worker (workerRows) and the class prior, so the incremental
// mode can redo only the workers an answer touched.
type confusionModel interface {
	name() string
	classPrior(classCount, logPrior []float64)
	workerRows(C []float64, K int, L []float64, w int)
}

// mstep is the whole M-step: the class prior, then every worker's rows.
func mstep(m confusionModel, C, cc []float64, W, K int, L, logPrior []float64) {
	m.classPrior(cc, logPrior)
	for w := 0; w < W; w++ {
		m.workerRows(C, K, L, w)
	}
}

// emState holds the buffers of one EM run.
type emState struct {
	d       *Dataset
	K, W    int
	code    []int32 // per answer: worker*K + label
	clamp   []int32 // per item: known class, or -1
	T       []float64
	L       []float64
	prior   []float64
	chunks  []int // item boundaries of the thread chunks
	C       [][]float64
	cc      [][]float64
	ll      []float64
	threads int
	// Large tables (see f32Entries): the pass reads L32 and adds into C32,
	// per thread; the M-step still works on L and C[0] in float64.
	L32 []float32
	C32 [][]float32
}

// f32Entries is the table size (W·K·K entries; 4 MiB in float64) above
// which the pass keeps its tables in float32. Each answer touches one row of
// the log-confusion table and one of the counts at random, so at scale the
// pass waits on the cache, and halving the rows' bytes pays: 0.62x the time
// at K = 10 with 10k workers (1M entries), but only 0.9–0.99x at K = 5
// (250k entries, which stay float64). BenchmarkFloat32Tables measures it. The
// rounding (a relative 6e-8 on each log-probability and count) is far below
// what moves a label; smaller tables — every real set here — stay in
// float64, bit for bit as before. K = 2 has its own pass with rows of two
// entries and is never switched. (A variable so tests can switch it.)
var f32Entries = 1 << 19

func newEMState(d *Dataset, o Options) *emState {
	K, W, I := d.NumClasses(), d.NumWorkers(), d.NumItems()
	s := &emState{d: d, K: K, W: W, threads: o.Threads}
	s.code = make([]int32, d.NumLabels())
	for n, w := range d.Worker {
		s.code[n] = w*int32(K) + d.Label[n]
	}
	s.clamp = make([]int32, I)
	for i := range s.clamp {
		s.clamp[i] = -1
	}
	if o.Control != nil {
		for it, c := range o.Control.Class {
			s.clamp[it] = c
		}
	}
	s.chunks = itemChunks(d, s.threads)
	return s
}

// itemChunks splits the items into chunks of about equal answer counts,
// several per thread so a slow chunk does not hold the others back; it
// returns the chunk boundaries (one chunk for one thread).
func itemChunks(d *Dataset, threads int) []int {
	I := d.NumItems()
	parts := threads
	if parts > 1 {
		parts *= 4
	}
	N := d.NumLabels()
	chunks := []int{0}
	for p := 1; p < parts; p++ {
		target := int32(int64(N) * int64(p) / int64(parts))
		lo := chunks[len(chunks)-1]
		i := lo + searchStart(d.ItemStart[lo:I], target)
		if i > lo && i < I {
			chunks = append(chunks, i)
		}
	}
	return append(chunks, I)
}

// allocTables makes the confusion tables and per-thread counts of runEM
// (ebcc uses the state for its answer codes, clamps and chunks alone).
func (s *emState) allocTables() {
	K, W := s.K, s.W
	s.L = make([]float64, W*K*K)
	s.prior = make([]float64, K)
	s.C = make([][]float64, s.threads)
	s.cc = make([][]float64, s.threads)
	s.ll = make([]float64, s.threads)
	small := K == 2 || W*K*K <= f32Entries
	for t := range s.C {
		if small || t == 0 {
			s.C[t] = make([]float64, W*K*K)
		}
		s.cc[t] = make([]float64, K)
	}
	if !small {
		s.L32 = make([]float32, W*K*K)
		s.C32 = make([][]float32, s.threads)
		for t := range s.C32 {
			s.C32[t] = make([]float32, W*K*K)
		}
	}
}

// searchStart returns the first index whose start is >= target.
func searchStart(starts []int32, target int32) int {
	lo, hi := 0, len(starts)
	for lo < hi {
		m := (lo + hi) / 2
		if starts[m] < target {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// parallel runs f over the item chunks on the threads; f gets the thread slot.
func (s *emState) parallel(f func(slot, a, b int)) { parallelChunks(s.chunks, s.threads, f) }

// parallelChunks runs f(slot, a, b) for every chunk [a,b) of chunks, on
// threads goroutines; slot is the goroutine's index, for its partial sums.
func parallelChunks(chunks []int, threads int, f func(slot, a, b int)) {
	nch := len(chunks) - 1
	if threads == 1 || nch == 1 {
		for c := 0; c < nch; c++ {
			f(0, chunks[c], chunks[c+1])
		}
		return
	}
	// Static assignment (thread t takes chunks t, t+threads, ...) keeps
	// each thread's partial sums in the same order on every run, so the
	// results are bit-for-bit reproducible.
	var wg sync.WaitGroup
	for t := 0; t < threads; t++ {
		wg.Go(func() {
			for c := t; c < nch; c += threads {
				f(t, chunks[c], chunks[c+1])
			}
		})
	}
	wg.Wait()
}

// reduce sums the per-thread counts into slot 0 and clears the others.
func (s *emState) reduce() (C, cc []float64, ll float64) {
	C, cc = s.C[0], s.cc[0]
	if s.C32 != nil {
		sumInto(C, s.C32) // C[0] was cleared before the pass
	} else {
		sumInto(C, s.C[1:])
	}
	sumInto(cc, s.cc[1:])
	ll = s.ll[0]
	for t := 1; t < s.threads; t++ {
		ll += s.ll[t]
		s.ll[t] = 0
	}
	return
}

// sumInto adds every part into dst, part after part, and clears the parts:
// the reduction of per-thread counts, in the same order on every run.
func sumInto[F float32 | float64](dst []float64, parts [][]F) {
	for _, p := range parts {
		for j, v := range p {
			dst[j] += float64(v)
		}
		clear(p)
	}
}

func (s *emState) clearCounts() {
	for t := range s.C {
		clear(s.C[t])
		clear(s.cc[t])
		s.ll[t] = 0
	}
	for t := range s.C32 {
		clear(s.C32[t])
	}
}

// accumulate adds the answers of items [a,b) weighted by the current T.
func (s *emState) accumulate(slot, a, b int) {
	K := s.K
	C, cc := s.C[slot], s.cc[slot]
	start, code, T := s.d.ItemStart, s.code, s.T
	for i := a; i < b; i++ {
		post := T[i*K : i*K+K]
		for n := start[i]; n < start[i+1]; n++ {
			j := int(code[n]) * K
			if s.C32 != nil {
				addTo(s.C32[slot][j:j+K], post)
			} else {
				addTo(C[j:j+K], post)
			}
		}
		for t, p := range post {
			cc[t] += p
		}
	}
}

// pass is the fused E+M step over items [a,b): the posterior of each item
// from the current table, then its answers' contribution to the next counts.
func (s *emState) pass(slot, a, b int) {
	switch {
	case s.K == 2:
		s.pass2(slot, a, b)
	default:
		s.passK(slot, a, b)
	}
}

// passK is pass for K > 2 classes, over tables of either precision: a
// predictable branch per row, and the float64 rows' loops as they were.
func (s *emState) passK(slot, a, b int) {
	K := s.K
	C, cc := s.C[slot], s.cc[slot]
	var C32 []float32
	if s.C32 != nil {
		C32 = s.C32[slot]
	}
	start, code, T, L, L32, clampc := s.d.ItemStart, s.code, s.T, s.L, s.L32, s.clamp
	acc := make([]float64, K)
	ll := 0.0
	for i := a; i < b; i++ {
		post := T[i*K : i*K+K]
		s0, s1 := start[i], start[i+1]
		if c := clampc[i]; c >= 0 {
			clear(post)
			post[c] = 1
		} else if s0 == s1 {
			for t := range post {
				post[t] = math.Exp(s.prior[t])
			}
		} else {
			copy(acc, s.prior)
			for n := s0; n < s1; n++ {
				j := int(code[n]) * K
				if L32 != nil {
					addRow(acc, L32[j:j+K])
					continue
				}
				row := L[j : j+K]
				for t := range acc {
					acc[t] += row[t]
				}
			}
			m := acc[0]
			for _, v := range acc[1:] {
				m = math.Max(m, v)
			}
			z := 0.0
			for t, v := range acc {
				e := math.Exp(v - m)
				post[t] = e
				z += e
			}
			inv := 1 / z
			for t := range post {
				post[t] *= inv
			}
			ll += m + math.Log(z)
		}
		for n := s0; n < s1; n++ {
			j := int(code[n]) * K
			if C32 != nil {
				addTo(C32[j:j+K], post)
				continue
			}
			row := C[j : j+K]
			for t, p := range post {
				row[t] += p
			}
		}
		for t, p := range post {
			cc[t] += p
		}
	}
	s.ll[slot] += ll
}

// pass2 is pass for two classes: one exponential per item and no inner loops.
func (s *emState) pass2(slot, a, b int) {
	C, cc := s.C[slot], s.cc[slot]
	start, code, T, L, clampc := s.d.ItemStart, s.code, s.T, s.L, s.clamp
	p0, p1 := s.prior[0], s.prior[1]
	ll, c0, c1 := 0.0, 0.0, 0.0
	for i := a; i < b; i++ {
		s0, s1 := start[i], start[i+1]
		var q0, q1 float64
		if c := clampc[i]; c >= 0 {
			q0, q1 = float64(1-c), float64(c)
		} else {
			a0, a1 := p0, p1
			for n := s0; n < s1; n++ {
				j := int(code[n]) * 2
				a0 += L[j]
				a1 += L[j+1]
			}
			// q1 = sigmoid(a1-a0), computed without overflow.
			dlt := a1 - a0
			if dlt >= 0 {
				e := math.Exp(-dlt)
				q1 = 1 / (1 + e)
				q0 = e * q1
				ll += a1 + math.Log1p(e)
			} else {
				e := math.Exp(dlt)
				q0 = 1 / (1 + e)
				q1 = e * q0
				ll += a0 + math.Log1p(e)
			}
		}
		T[2*i], T[2*i+1] = q0, q1
		for n := s0; n < s1; n++ {
			j := int(code[n]) * 2
			C[j] += q0
			C[j+1] += q1
		}
		c0 += q0
		c1 += q1
	}
	cc[0] += c0
	cc[1] += c1
	s.ll[slot] += ll
}

// addRow adds a table row to acc.
func addRow[F float32 | float64](acc []float64, row []F) {
	for j, v := range row {
		acc[j] += float64(v)
	}
}

// addTo adds v into a count row.
func addTo[F float32 | float64](row []F, v []float64) {
	for j, x := range v {
		row[j] += F(x)
	}
}

// runEM fits a confusion model by EM from a majority-vote (or warm) start.
func runEM(d *Dataset, m confusionModel, o Options) *Result {
	r, _ := fitEM(d, m, o)
	return r
}

// fitEM is runEM that also returns its state: on return s.T is the
// posterior, s.C[0] and s.cc[0] the expected counts it gives, and s.L and
// s.prior the tables it was computed from.
func fitEM(d *Dataset, m confusionModel, o Options) (*Result, *emState) {
	s := newEMState(d, o)
	s.allocTables()
	K := s.K
	s.T = initialPosterior(d, o)
	s.clearCounts()
	s.parallel(s.accumulate)
	C, cc, _ := s.reduce()
	r := &Result{Method: m.name(), K: K}
	prev := math.Inf(-1)
	for it := 0; it < o.MaxIter; it++ {
		mstep(m, C, cc, s.W, K, s.L, s.prior)
		if s.L32 != nil {
			for j, v := range s.L {
				s.L32[j] = float32(v)
			}
		}
		s.clearCounts()
		s.parallel(s.pass)
		var ll float64
		C, cc, ll = s.reduce()
		r.Iterations = it + 1
		if math.Abs(ll-prev) <= o.Tol*math.Abs(ll) {
			r.Converged = true
			break
		}
		prev = ll
	}
	r.Posterior = s.T
	r.Confusion = confusionFromLog(s.L, s.W, K)
	r.WorkerQuality = workerAccuracy(r.Confusion, s.prior, s.W, K)
	r.finish(d, o.Control)
	return r, s
}

// initialPosterior is the warm result's posterior where there is one, and
// the majority vote elsewhere; control items are clamped.
func initialPosterior(d *Dataset, o Options) []float64 {
	K, I := d.NumClasses(), d.NumItems()
	T := votePosterior(d, nil)
	if w := o.Warm; w != nil && w.K == K && w.Posterior != nil {
		n := min(len(w.Posterior)/K, I)
		for i := 0; i < n; i++ {
			// Items that gained answers since still start from the old
			// posterior: one pass folds the new answers in.
			copy(T[i*K:i*K+K], w.Posterior[i*K:i*K+K])
		}
	}
	if o.Control != nil {
		for it, c := range o.Control.Class {
			clear(T[it*K : it*K+K])
			T[it*K+int(c)] = 1
		}
	}
	return T
}

// confusionFromLog turns a log table L[(w*K+o)*K+t] into row-stochastic
// probabilities P[(w*K+t)*K+o].
func confusionFromLog(L []float64, W, K int) []float64 {
	P := make([]float64, W*K*K)
	for w := 0; w < W; w++ {
		for t := 0; t < K; t++ {
			z := 0.0
			for o := 0; o < K; o++ {
				v := math.Exp(L[(w*K+o)*K+t])
				P[(w*K+t)*K+o] = v
				z += v
			}
			for o := 0; o < K; o++ {
				P[(w*K+t)*K+o] /= z
			}
		}
	}
	return P
}

// workerAccuracy is each worker's chance of answering right, weighting each
// true class by the class prior.
func workerAccuracy(P, logPrior []float64, W, K int) []float64 {
	prior := make([]float64, K)
	z := 0.0
	for t := range prior {
		prior[t] = math.Exp(logPrior[t])
		z += prior[t]
	}
	q := make([]float64, W)
	for w := 0; w < W; w++ {
		for t := 0; t < K; t++ {
			q[w] += prior[t] / z * P[(w*K+t)*K+t]
		}
	}
	return q
}

// logClassPrior sets logPrior from the class totals with add-one smoothing.
func logClassPrior(cc, logPrior []float64) {
	z := 0.0
	for _, v := range cc {
		z += v + 1
	}
	for t, v := range cc {
		logPrior[t] = math.Log((v + 1) / z)
	}
}

// Dawid–Skene, MAP: a full confusion matrix per worker, Dirichlet prior that
// leans toward the diagonal (pseudo-counts diag on the diagonal, off
// elsewhere) so that workers with few answers stay near "better than chance"
// instead of collapsing to 0/1 estimates.
type fullConfusion struct{}

const (
	dsDiag = 2.0
	dsOff  = 1.0
)

func (fullConfusion) name() string { return "ds" }

func (fullConfusion) classPrior(cc, logPrior []float64) { logClassPrior(cc, logPrior) }

func (fullConfusion) workerRows(C []float64, K int, L []float64, w int) {
	offK := dsOff / float64(K-1)
	for t := 0; t < K; t++ {
		z := 0.0
		for o := 0; o < K; o++ {
			z += C[(w*K+o)*K+t]
		}
		z += dsDiag + dsOff
		lz := math.Log(z)
		for o := 0; o < K; o++ {
			a := offK
			if o == t {
				a = dsDiag
			}
			L[(w*K+o)*K+t] = math.Log(C[(w*K+o)*K+t]+a) - lz
		}
	}
}

// One-coin: one accuracy per worker, errors spread evenly over the other
// classes (the model behind ZBS and "worker accuracy" scores).
type oneCoin struct{}

func (oneCoin) name() string { return "onecoin" }

func (oneCoin) classPrior(cc, logPrior []float64) { logClassPrior(cc, logPrior) }

func (oneCoin) workerRows(C []float64, K int, L []float64, w int) {
	right, all := 0.0, 0.0
	for o := 0; o < K; o++ {
		for t := 0; t < K; t++ {
			v := C[(w*K+o)*K+t]
			all += v
			if o == t {
				right += v
			}
		}
	}
	p := (right + dsDiag) / (all + dsDiag + dsOff)
	lr, lw := math.Log(p), math.Log((1-p)/float64(K-1))
	for o := 0; o < K; o++ {
		for t := 0; t < K; t++ {
			if o == t {
				L[(w*K+o)*K+t] = lr
			} else {
				L[(w*K+o)*K+t] = lw
			}
		}
	}
}

// MACE (Hovy et al. 2013): a worker either knows the answer (probability
// theta) or spams from a personal distribution xi. P(o|t) = theta·[o=t] +
// (1-theta)·xi[o]. The M-step splits the expected counts on the diagonal
// between "knew it" and "spammed and hit it".
type mace struct {
	theta []float64
	xi    []float64
	spam  []float64 // scratch
}

func (*mace) name() string { return "mace" }

func (*mace) classPrior(cc, logPrior []float64) { logClassPrior(cc, logPrior) }

func (m *mace) workerRows(C []float64, K int, L []float64, w int) {
	// Workers start at theta 0.5 and a uniform xi; the incremental mode
	// adds workers as they come.
	for len(m.theta) <= w {
		m.theta = append(m.theta, 0.5)
		for range K {
			m.xi = append(m.xi, 1/float64(K))
		}
	}
	if len(m.spam) != K {
		m.spam = make([]float64, K)
	}
	spam := m.spam
	th, xi := m.theta[w], m.xi[w*K:w*K+K]
	known, all := 0.0, 0.0
	clear(spam)
	for o := 0; o < K; o++ {
		for t := 0; t < K; t++ {
			v := C[(w*K+o)*K+t]
			all += v
			if o == t {
				k := v * th / (th + (1-th)*xi[o])
				known += k
				spam[o] += v - k
			} else {
				spam[o] += v
			}
		}
	}
	// Beta(2,1)-like pull toward "knows", Dirichlet(1) smoothing on xi.
	th = (known + 1) / (all + 1.5)
	m.theta[w] = th
	zs := 0.0
	for o := range spam {
		zs += spam[o] + 0.5
	}
	for o := range spam {
		xi[o] = (spam[o] + 0.5) / zs
	}
	for o := 0; o < K; o++ {
		for t := 0; t < K; t++ {
			p := (1 - th) * xi[o]
			if o == t {
				p += th
			}
			L[(w*K+o)*K+t] = math.Log(p)
		}
	}
}

// IBCC (Kim & Ghahramani 2012), variational Bayes: Dirichlet posteriors over
// each worker's confusion rows and over the class proportions; the E-step
// uses E[log p], which shrinks workers with little evidence toward the prior
// instead of trusting a point estimate — robust on sparse sets.
type ibcc struct{}

const (
	ibccDiag = 2.0
	ibccOff  = 1.0
)

func (ibcc) name() string { return "ibcc" }

func (ibcc) classPrior(cc, logPrior []float64) {
	z := 0.0
	for _, v := range cc {
		z += v + 1
	}
	dz := digamma(z)
	for t, v := range cc {
		logPrior[t] = digamma(v+1) - dz
	}
}

func (ibcc) workerRows(C []float64, K int, L []float64, w int) {
	offK := ibccOff / float64(K-1)
	for t := 0; t < K; t++ {
		s := ibccDiag + ibccOff
		for o := 0; o < K; o++ {
			s += C[(w*K+o)*K+t]
		}
		ds := digamma(s)
		for o := 0; o < K; o++ {
			a := offK
			if o == t {
				a = ibccDiag
			}
			L[(w*K+o)*K+t] = digamma(C[(w*K+o)*K+t]+a) - ds
		}
	}
}

// digamma ψ(x) for x > 0: recurrence up to 6, then the asymptotic series.
func digamma(x float64) float64 {
	r := 0.0
	for x < 6 {
		r -= 1 / x
		x++
	}
	f := 1 / (x * x)
	return r + math.Log(x) - 0.5/x - f*(1.0/12-f*(1.0/120-f*(1.0/252-f*(1.0/240-f/132))))
}
