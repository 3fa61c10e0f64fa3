package truth

import "math"

// FleissKappa is Fleiss' kappa over the items with at least two answers
// (the variable-raters form: each item's agreement uses its own count).
// NaN when no item has two answers or every answer is the same class.
func FleissKappa(d *Dataset) float64 {
	K := d.NumClasses()
	if d.Numeric || K == 0 {
		return math.NaN()
	}
	counts := make([]float64, K)
	total := make([]float64, K)
	sumP, items, answers := 0.0, 0, 0.0
	for i := 0; i < d.NumItems(); i++ {
		s, e := d.ItemStart[i], d.ItemStart[i+1]
		m := float64(e - s)
		if m < 2 {
			continue
		}
		clear(counts)
		for n := s; n < e; n++ {
			counts[d.Label[n]]++
		}
		sq := 0.0
		for k, c := range counts {
			sq += c * c
			total[k] += c
		}
		sumP += (sq - m) / (m * (m - 1))
		items++
		answers += m
	}
	if items == 0 {
		return math.NaN()
	}
	pBar := sumP / float64(items)
	pe := 0.0
	for _, t := range total {
		p := t / answers
		pe += p * p
	}
	if pe >= 1 {
		return math.NaN()
	}
	return (pBar - pe) / (1 - pe)
}

// KrippendorffAlpha is Krippendorff's alpha: nominal for categorical
// labels, interval for numeric ones. Items with fewer than two answers are
// not pairable and are left out, as the coefficient defines.
func KrippendorffAlpha(d *Dataset) float64 {
	if d.Numeric {
		return alphaInterval(d)
	}
	K := d.NumClasses()
	counts := make([]float64, K)
	diag := 0.0              // Σ_c o_cc
	nc := make([]float64, K) // n_c
	n := 0.0
	for i := 0; i < d.NumItems(); i++ {
		s, e := d.ItemStart[i], d.ItemStart[i+1]
		m := float64(e - s)
		if m < 2 {
			continue
		}
		clear(counts)
		for j := s; j < e; j++ {
			counts[d.Label[j]]++
		}
		for k, c := range counts {
			diag += c * (c - 1) / (m - 1)
			nc[k] += c
		}
		n += m
	}
	if n <= 1 {
		return math.NaN()
	}
	sq := 0.0
	for _, c := range nc {
		sq += c * c
	}
	de := n*n - sq
	if de == 0 {
		return math.NaN()
	}
	return 1 - (n-1)*(n-diag)/de
}

// alphaInterval uses the squared difference metric. Σ over ordered pairs
// i≠j of (v_i−v_j)² = 2(m·Σv² − (Σv)²) keeps it linear in the answers.
func alphaInterval(d *Dataset) float64 {
	do, n := 0.0, 0.0
	sumV, sumV2 := 0.0, 0.0
	for i := 0; i < d.NumItems(); i++ {
		s, e := d.ItemStart[i], d.ItemStart[i+1]
		m := float64(e - s)
		if m < 2 {
			continue
		}
		a, b := 0.0, 0.0
		for j := s; j < e; j++ {
			v := d.Value[j]
			a += v
			b += v * v
		}
		do += 2 * (m*b - a*a) / (m - 1)
		n += m
		sumV += a
		sumV2 += b
	}
	if n <= 1 {
		return math.NaN()
	}
	de := 2 * (n*sumV2 - sumV*sumV) / (n - 1)
	if de == 0 {
		return math.NaN()
	}
	return 1 - do/de
}
