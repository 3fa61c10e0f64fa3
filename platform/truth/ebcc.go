package truth

import (
	"math"
	"math/rand"
)

// EBCC (Li, Rubinstein and Cohn, ICML 2019): enhanced Bayesian classifier
// combination. Each true class k has M subtypes; an item's (class, subtype)
// pair is latent, and every worker has one confusion row per pair. Workers
// whose errors go together (they all confuse the same hard items of a
// class) share a subtype, so their agreement on such items is not counted
// as independent evidence — the correlation that every other model here
// assumes away. Inference is mean-field variational Bayes with Dirichlet
// priors on the class proportions, the subtype proportions of each class
// and each worker's rows; the subtypes are broken apart by a seeded random
// start, so results are reproducible.
//
// Priors are the paper's defaults: α = 1 on the class proportions, 0.1
// spread over the M subtypes of each class, and 4 on the diagonal / 1 off
// it for each worker's rows.
const (
	ebccSubtypes = 10
	ebccAlpha    = 1.0
	ebccSubPrior = 0.1
	ebccDiag     = 4.0
	ebccOff      = 1.0
	ebccSeed     = 1234
)

func ebcc(d *Dataset, o Options) *Result {
	K, W, I := d.NumClasses(), d.NumWorkers(), d.NumItems()
	M := ebccSubtypes
	KM := K * M
	s := newEMState(d, o) // answer codes, clamps and thread chunks
	// V[(w*K+l)*KM + k*M+m] = E[log P(worker w answers l | class k, subtype m)]:
	// an answer with code c = w*K+l adds the row V[c*KM:(c+1)*KM].
	V := make([]float64, W*K*KM)
	logTau := make([]float64, K)
	logPi := make([]float64, KM)
	N := make([][]float64, s.threads)   // per thread: Σ q(k,m) over answers, same layout as V
	sub := make([][]float64, s.threads) // per thread: Σ_i q(k,m)
	ll := make([]float64, s.threads)
	// Large tables are read and added into in float32 by the E-step, as in
	// Dawid–Skene's pass (see ebccF32Entries); the M-step stays float64.
	var V32 []float32
	var N32 [][]float32
	if W*K*KM > ebccF32Entries {
		V32 = make([]float32, W*K*KM)
		N32 = make([][]float32, s.threads)
	}
	for t := range N {
		if V32 == nil || t == 0 {
			N[t] = make([]float64, W*K*KM)
		}
		if V32 != nil {
			N32[t] = make([]float32, W*K*KM)
		}
		sub[t] = make([]float64, KM)
	}
	T := initialPosterior(d, o)
	subPrior := ebccSubPrior / float64(M) // the prior on each subtype's share
	// reduce sums the per-thread counts into slot 0 and clears the others.
	reduce := func() {
		if V32 != nil {
			sumInto(N[0], N32)
		} else {
			sumInto(N[0], N[1:])
		}
		sumInto(sub[0], sub[1:])
	}

	// The start: class from the vote (or warm/clamped posterior), subtype
	// from a seeded Dirichlet(1) draw per item.
	rng := rand.New(rand.NewSource(ebccSeed))
	q := make([]float64, M)
	for i := 0; i < I; i++ {
		if d.ItemStart[i] == d.ItemStart[i+1] {
			continue // no answers: nothing to learn from (and no label)
		}
		// One draw of subtype shares per item, used for every class.
		z := 0.0
		for m := 0; m < M; m++ {
			q[m] = rng.ExpFloat64()
			z += q[m]
		}
		for k := 0; k < K; k++ {
			for m := 0; m < M; m++ {
				r := T[i*K+k] * q[m] / z
				sub[0][k*M+m] += r
				for n := d.ItemStart[i]; n < d.ItemStart[i+1]; n++ {
					N[0][int(s.code[n])*KM+k*M+m] += r
				}
			}
		}
	}

	mstep := func() {
		reduce()
		cnt, sb := N[0], sub[0]
		tot := 0.0
		for k := 0; k < K; k++ {
			ck := ebccAlpha
			zk := 0.0
			for m := 0; m < M; m++ {
				ck += sb[k*M+m]
				zk += sb[k*M+m] + subPrior
			}
			logTau[k] = ck
			tot += ck
			dz := digamma(zk)
			for m := 0; m < M; m++ {
				logPi[k*M+m] = digamma(sb[k*M+m]+subPrior) - dz
			}
		}
		dt := digamma(tot)
		for k := range logTau {
			logTau[k] = digamma(logTau[k]) - dt
		}
		for w := 0; w < W; w++ {
			for km := 0; km < KM; km++ {
				dz := digamma(ebccRowTotal(cnt, w, km, K, KM))
				for l := 0; l < K; l++ {
					V[(w*K+l)*KM+km] = digamma(cnt[(w*K+l)*KM+km]+ebccPrior(l, km/M)) - dz
				}
			}
		}
		if V32 != nil {
			for j, v := range V {
				V32[j] = float32(v)
			}
		}
		clear(cnt)
		clear(sb)
	}

	estep := func(slot, a, b int) {
		acc := make([]float64, KM)
		out := make([]float64, KM)
		live := make([]int, 0, KM)
		sb := sub[slot]
		for i := a; i < b; i++ {
			if d.ItemStart[i] == d.ItemStart[i+1] {
				continue
			}
			for k := 0; k < K; k++ {
				for m := 0; m < M; m++ {
					acc[k*M+m] = logTau[k] + logPi[k*M+m]
				}
			}
			for n := d.ItemStart[i]; n < d.ItemStart[i+1]; n++ {
				c := int(s.code[n])
				if V32 != nil {
					addRow(acc, V32[c*KM:(c+1)*KM])
				} else {
					addRow(acc, V[c*KM:(c+1)*KM])
				}
			}
			if c := s.clamp[i]; c >= 0 {
				for j := range acc {
					if j/M != int(c) {
						acc[j] = math.Inf(-1)
					}
				}
			}
			var lz float64
			lz, live = normalizeLogLive(acc, out, live[:0])
			ll[slot] += lz
			for k := 0; k < K; k++ {
				t := 0.0
				for m := 0; m < M; m++ {
					t += out[k*M+m]
				}
				T[i*K+k] = t
			}
			for _, j := range live {
				sb[j] += out[j]
			}
			for n := d.ItemStart[i]; n < d.ItemStart[i+1]; n++ {
				c := int(s.code[n])
				if V32 != nil {
					addLive(N32[slot][c*KM:(c+1)*KM], live, out)
				} else {
					addLive(N[slot][c*KM:(c+1)*KM], live, out)
				}
			}
		}
	}

	r := &Result{Method: "ebcc", K: K}
	prev := math.Inf(-1)
	for it := 0; it < o.MaxIter; it++ {
		mstep()
		clear(ll)
		s.parallel(estep)
		total := 0.0
		for _, v := range ll {
			total += v
		}
		r.Iterations = it + 1
		if math.Abs(total-prev) <= o.Tol*math.Abs(total) {
			r.Converged = true
			break
		}
		prev = total
	}

	// Point estimates from the last counts: each worker's confusion per true
	// class is its subtype rows weighted by the class's subtype shares.
	reduce()
	cnt, sb := N[0], sub[0]
	share := make([]float64, KM)
	classShare := make([]float64, K)
	totAll := 0.0
	for k := 0; k < K; k++ {
		z := 0.0
		for m := 0; m < M; m++ {
			share[k*M+m] = sb[k*M+m] + subPrior
			z += share[k*M+m]
			classShare[k] += sb[k*M+m]
		}
		for m := 0; m < M; m++ {
			share[k*M+m] /= z
		}
		classShare[k] += ebccAlpha
		totAll += classShare[k]
	}
	r.Confusion = make([]float64, W*K*K)
	r.WorkerQuality = make([]float64, W)
	for w := 0; w < W; w++ {
		for km := 0; km < KM; km++ {
			k := km / M
			z := ebccRowTotal(cnt, w, km, K, KM)
			for l := 0; l < K; l++ {
				r.Confusion[(w*K+k)*K+l] += share[km] * (cnt[(w*K+l)*KM+km] + ebccPrior(l, k)) / z
			}
		}
		for k := 0; k < K; k++ {
			r.WorkerQuality[w] += classShare[k] / totAll * r.Confusion[(w*K+k)*K+k]
		}
	}
	r.Posterior = T
	r.finish(d, o.Control)
	return r
}

// ebccF32Entries is the size of ebcc's per-answer tables (W·K·K·M entries,
// 1 MiB in float64) above which its E-step reads and adds into float32
// copies, as Dawid–Skene's pass does above f32Entries. Its rows are M times
// longer, so it pays sooner: 0.70x the time on one thread and 0.78x on two
// at K = 2 with 10k workers (400k entries; BenchmarkFloat32Tables). Every
// real set here stays below it (CF, the largest, has 115k). (A variable so
// tests can switch it.)
var ebccF32Entries = 1 << 17

// addLive adds out's live entries into a count row.
func addLive[F float32 | float64](row []F, live []int, out []float64) {
	for _, j := range live {
		row[j] += F(out[j])
	}
}

// ebccPrior is the Dirichlet prior of answering l given true class k.
func ebccPrior(l, k int) float64 {
	if l == k {
		return ebccDiag
	}
	return ebccOff
}

// ebccRowTotal is the Dirichlet total of worker w's row for (class, subtype) km.
func ebccRowTotal(cnt []float64, w, km, K, KM int) float64 {
	z := ebccDiag + float64(K-1)*ebccOff
	for l := 0; l < K; l++ {
		z += cnt[(w*K+l)*KM+km]
	}
	return z
}

// normalizeLogLive is normalizeLog that leaves out the entries more than
// ebccNegligible below the largest (their share is under 1e-26, far below
// a float64's precision next to 1) — subtypes an item has no part in — so
// the count updates skip them too. It appends the indices it kept to live.
func normalizeLogLive(acc, out []float64, live []int) (float64, []int) {
	m := acc[0]
	for _, v := range acc[1:] {
		if v > m { // not math.Max: its NaN and ±0 handling costs a sixth of a pass
			m = v
		}
	}
	z := 0.0
	cut := m - ebccNegligible
	for k, v := range acc {
		if v < cut {
			out[k] = 0
			continue
		}
		out[k] = math.Exp(v - m)
		z += out[k]
		live = append(live, k)
	}
	for _, k := range live {
		out[k] /= z
	}
	return m + math.Log(z), live
}

const ebccNegligible = 60
