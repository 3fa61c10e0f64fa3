package truth

import (
	"bufio"
	"io"
	"math"
	"math/rand"
	"strconv"
)

// SynthConfig describes a seeded synthetic crowd: items with a true class,
// workers with a one-coin accuracy drawn from [AccMin, AccMax] (a share of
// them spammers answering at random), and answers spread over workers with
// a skewed activity, as real crowds are.
type SynthConfig struct {
	Items, Workers, Classes int
	Labels                  int     // total answers (about Labels/Items per item)
	AccMin, AccMax          float64 // worker accuracy range
	Spammers                float64 // share of workers answering uniformly at random
	Seed                    int64
}

// Synthesize makes the answers and the truth of cfg.
func Synthesize(cfg SynthConfig) (*Dataset, *Gold) {
	rng := rand.New(rand.NewSource(cfg.Seed))
	K, I, W := cfg.Classes, cfg.Items, cfg.Workers
	truth := make([]int32, I)
	for i := range truth {
		truth[i] = int32(rng.Intn(K))
	}
	acc := make([]float64, W)
	for w := range acc {
		if rng.Float64() < cfg.Spammers {
			acc[w] = 1 / float64(K)
		} else {
			acc[w] = cfg.AccMin + rng.Float64()*(cfg.AccMax-cfg.AccMin)
		}
	}
	// Skewed activity: worker w is picked with weight 1/(w+10)^0.8, through
	// a cumulative table and binary search.
	cum := make([]float64, W)
	s := 0.0
	for w := range cum {
		s += math.Pow(float64(w)+10, -0.8)
		cum[w] = s
	}
	per := cfg.Labels / I
	extra := cfg.Labels - per*I
	d := &Dataset{Items: make([]string, I), Workers: make([]string, W), Classes: make([]string, K)}
	for i := range d.Items {
		d.Items[i] = strconv.Itoa(i)
	}
	for w := range d.Workers {
		d.Workers[w] = "w" + strconv.Itoa(w)
	}
	for k := range d.Classes {
		d.Classes[k] = strconv.Itoa(k)
	}
	d.ItemStart = make([]int32, I+1)
	d.Worker = make([]int32, 0, cfg.Labels)
	d.Label = make([]int32, 0, cfg.Labels)
	seen := make([]int32, W)
	for w := range seen {
		seen[w] = -1
	}
	for i := 0; i < I; i++ {
		m := per
		if i < extra {
			m++
		}
		for j := 0; j < m && j < W; j++ {
			var w int
			for tries := 0; ; tries++ { // a worker answers an item once
				w = searchCum(cum, rng.Float64()*s)
				if seen[w] != int32(i) || tries > 50 {
					break
				}
			}
			seen[w] = int32(i)
			l := truth[i]
			if rng.Float64() >= acc[w] {
				l = int32(rng.Intn(K - 1))
				if l >= truth[i] {
					l++
				}
			}
			d.Worker = append(d.Worker, int32(w))
			d.Label = append(d.Label, l)
		}
		d.ItemStart[i+1] = int32(len(d.Worker))
	}
	g := &Gold{Class: make(map[int]int32, I)}
	for i, t := range truth {
		g.Class[i] = t
	}
	return d, g
}

func searchCum(cum []float64, x float64) int {
	lo, hi := 0, len(cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if cum[m] < x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// WriteAnswersCSV writes d as item,worker,label with a header.
func WriteAnswersCSV(w io.Writer, d *Dataset) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString("item,worker,label\n")
	for i := 0; i < d.NumItems(); i++ {
		for n := d.ItemStart[i]; n < d.ItemStart[i+1]; n++ {
			bw.WriteString(d.Items[i])
			bw.WriteByte(',')
			bw.WriteString(d.Workers[d.Worker[n]])
			bw.WriteByte(',')
			if d.Numeric {
				bw.WriteString(strconv.FormatFloat(d.Value[n], 'g', -1, 64))
			} else {
				bw.WriteString(d.Classes[d.Label[n]])
			}
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// WriteGoldCSV writes the categorical gold as item,label with a header.
func WriteGoldCSV(w io.Writer, d *Dataset, g *Gold) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString("item,label\n")
	for _, it := range sortedKeys(g.Class) {
		bw.WriteString(d.Items[it])
		bw.WriteByte(',')
		bw.WriteString(d.Classes[g.Class[it]])
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
