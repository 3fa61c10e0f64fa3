package truth

import (
	"fmt"
	"math"
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
				t64, t32 := timeAlternating(b, func(f32 bool) {
					f32Entries, ebccF32Entries = 1<<30, 1<<30
					if f32 {
						f32Entries, ebccF32Entries = 0, 0
					}
				}, func() {
					Aggregate(d, c.method, Options{Threads: threads, MaxIter: c.passes, Tol: 1e-300})
				})
				b.ReportMetric(t64.Seconds()/float64(b.N), "s-f64/op")
				b.ReportMetric(t32.Seconds()/float64(b.N), "s-f32/op")
				b.ReportMetric(t32.Seconds()/t64.Seconds(), "f32/f64")
			})
		}
	}
}

// BenchmarkAutoSchedule times auto with its cross-validation runs pooled
// across folds against a fold at a time, alternating within each iteration,
// on a 1M-answer crowd (2% controls) and on real sets (20% controls):
//
//	go test ./platform/truth -run XXX -bench AutoSchedule -benchtime 3x -timeout 60m
func BenchmarkAutoSchedule(b *testing.B) {
	type set struct {
		name string
		d    *Dataset
		ctl  *Gold
	}
	var sets []set
	d, g := Synthesize(SynthConfig{Items: 100_000, Workers: 10_000, Classes: 2, Labels: 1_000_000,
		AccMin: 0.55, AccMax: 0.95, Spammers: 0.1, Seed: 42})
	ctl, _ := SplitControl(g, 0.02, 1)
	sets = append(sets, set{"synthetic-1M", d, ctl})
	for _, name := range []string{"TREC", "SP", "ZenCrowd_all", "Web"} {
		dir := crowdDir + "/" + name
		d, _, err := LoadAnswersFile(dir+"/answers.csv", false)
		if err != nil {
			b.Skip("real sets not found beside the clone:", err)
		}
		g, _, err := LoadGoldFile(dir+"/gold.csv", d)
		if err != nil {
			b.Fatal(err)
		}
		ctl, _ := SplitControl(g, 0.2, 1)
		sets = append(sets, set{name, d, ctl})
	}
	for _, s := range sets {
		b.Run(s.name, func(b *testing.B) {
			defer func() { autoFoldBarrier = false }()
			pooled, barrier := timeAlternating(b, func(on bool) { autoFoldBarrier = on }, func() {
				if _, err := Aggregate(s.d, "auto", Options{Control: s.ctl, Threads: 2, Seed: 1}); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(barrier.Seconds()/float64(b.N), "s-barrier/op")
			b.ReportMetric(pooled.Seconds()/float64(b.N), "s-pooled/op")
			b.ReportMetric(pooled.Seconds()/barrier.Seconds(), "pooled/barrier")
		})
	}
}

// timeAlternating runs run b.N times with set(false) and b.N times with
// set(true), alternating which goes first in each iteration so both see the
// same machine, and returns the total time of each.
func timeAlternating(b *testing.B, set func(on bool), run func()) (off, on time.Duration) {
	for n := 0; n < b.N; n++ {
		for j := 0; j < 2; j++ {
			setting := (n+j)%2 == 1
			set(setting)
			t0 := time.Now()
			run()
			if setting {
				on += time.Since(t0)
			} else {
				off += time.Since(t0)
			}
		}
	}
	return off, on
}

// BenchmarkManySchedule compares aggregateMany's two schedules on the
// ensemble: its members one thread each, two at a time, against one after
// another on both threads (what it does from manyThreadedFrom answers up).
//
//	go test ./platform/truth -run XXX -bench ManySchedule -benchtime 2x -timeout 60m
func BenchmarkManySchedule(b *testing.B) {
	for _, n := range []int{1_000_000, 2_000_000, 4_000_000} {
		d, _ := Synthesize(SynthConfig{Items: n / 10, Workers: 10_000, Classes: 2, Labels: n,
			AccMin: 0.55, AccMax: 0.95, Spammers: 0.1, Seed: 42})
		b.Run(fmt.Sprintf("answers=%d", n), func(b *testing.B) {
			defer func(v int) { manyThreadedFrom = v }(manyThreadedFrom)
			single, threaded := timeAlternating(b, func(on bool) {
				manyThreadedFrom = math.MaxInt
				if on {
					manyThreadedFrom = 0
				}
			}, func() {
				if _, err := Aggregate(d, "ensemble", Options{Threads: 2}); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(single.Seconds()/float64(b.N), "s-single/op")
			b.ReportMetric(threaded.Seconds()/float64(b.N), "s-threaded/op")
			b.ReportMetric(threaded.Seconds()/single.Seconds(), "threaded/single")
		})
	}
}
