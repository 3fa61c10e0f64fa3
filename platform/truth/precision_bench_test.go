package truth

import (
	"testing"
	"time"
)

// BenchmarkFloat32Tables times Dawid–Skene's pass at K = 5 and 10 on the
// bench's 10M-answer crowd with its tables in float64 and in float32,
// alternating the two within each iteration so both see the same machine:
//
//	go test ./platform/truth -run XXX -bench Float32Tables -benchtime 6x -timeout 60m
//
// It reports seconds per 5 passes of each and their ratio (f32/f64).
func BenchmarkFloat32Tables(b *testing.B) {
	for _, K := range []int{5, 10} {
		d, _ := Synthesize(SynthConfig{Items: 1_000_000, Workers: 10_000, Classes: K, Labels: 10_000_000,
			AccMin: 0.55, AccMax: 0.95, Spammers: 0.1, Seed: 42})
		for _, threads := range []int{1, 2} {
			b.Run(map[int]string{5: "K5", 10: "K10"}[K]+map[int]string{1: "/1thread", 2: "/2threads"}[threads], func(b *testing.B) {
				old := f32Entries
				defer func() { f32Entries = old }()
				var t64, t32 time.Duration
				for n := 0; n < b.N; n++ {
					for j := 0; j < 2; j++ {
						f32 := (n+j)%2 == 1 // alternate which goes first
						f32Entries = 1 << 30
						if f32 {
							f32Entries = 0
						}
						t0 := time.Now()
						Aggregate(d, "ds", Options{Threads: threads, MaxIter: 5, Tol: 1e-300})
						if f32 {
							t32 += time.Since(t0)
						} else {
							t64 += time.Since(t0)
						}
					}
				}
				b.ReportMetric(t64.Seconds()/float64(b.N), "s-f64/op")
				b.ReportMetric(t32.Seconds()/float64(b.N), "s-f32/op")
				b.ReportMetric(t32.Seconds()/t64.Seconds(), "f32/f64")
			})
		}
	}
}
