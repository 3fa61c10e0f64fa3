package truth

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkFloat32Tables times passes on the bench's 10M-answer crowd with
// the per-answer tables in float64 and in float32 — Dawid–Skene at K = 5
// and 10, ebcc at K = 2 — alternating the two within each iteration so both
// see the same machine:
//
//	go test ./platform/truth -run XXX -bench Float32Tables -benchtime 4x -timeout 60m
//
// It reports seconds per run of each and their ratio (f32/f64).
func BenchmarkFloat32Tables(b *testing.B) {
	for _, c := range []struct {
		method    string
		K, passes int
	}{{"ds", 5, 5}, {"ds", 10, 5}, {"ebcc", 2, 3}} {
		d, _ := Synthesize(SynthConfig{Items: 1_000_000, Workers: 10_000, Classes: c.K, Labels: 10_000_000,
			AccMin: 0.55, AccMax: 0.95, Spammers: 0.1, Seed: 42})
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/K%d/%dthreads", c.method, c.K, threads), func(b *testing.B) {
				old, oldE := f32Entries, ebccF32Entries
				defer func() { f32Entries, ebccF32Entries = old, oldE }()
				var t64, t32 time.Duration
				for n := 0; n < b.N; n++ {
					for j := 0; j < 2; j++ {
						f32 := (n+j)%2 == 1 // alternate which goes first
						f32Entries, ebccF32Entries = 1<<30, 1<<30
						if f32 {
							f32Entries, ebccF32Entries = 0, 0
						}
						t0 := time.Now()
						Aggregate(d, c.method, Options{Threads: threads, MaxIter: c.passes, Tol: 1e-300})
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
