// Command store benchmarks the blob store against the machine's own
// limits, measured in the same run:
//
//	go run ./bench/store            # 1 MB, 100 MB and 2 GB objects, S3, fingerprint detection
//	go run ./bench/store -big 512   # a smaller big object (MiB)
//
// Baselines: the disk's synced write speed for the same number of bytes
// (dd bs=1M conv=fdatasync, run just before each put) and the single-core
// sha256 speed. Put is durable (synced before the root is returned); get
// is verified, from a warm page cache.
package main

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sahara/internal/machine"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"sahara/platform/store"
)

func main() {
	bigMiB := flag.Int("big", 2048, "size of the big object in MiB")
	dir := flag.String("dir", "", "where to put the store (default: a temporary folder)")
	flag.Parse()
	root := *dir
	if root == "" {
		var err error
		if root, err = os.MkdirTemp("", "store-bench"); err != nil {
			panic(err)
		}
		defer os.RemoveAll(root)
	}
	fmt.Printf("# store bench — %s, %d cores, %s, dir %s\n\n", time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), machine.CPUModel(), root)

	sha := shaSpeed()
	fmt.Printf("baseline: sha256 on one core %.0f MB/s; dd is measured per row, same byte count\n\n", sha)

	fmt.Println("| backend | object | put MB/s (durable) | dd MB/s (same size) | put / dd | get MB/s (verified, warm) | get / sha256 | peak heap MiB | peak RSS MiB |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	open := func(name string) *store.Store {
		s, err := store.Open(filepath.Join(root, name))
		check(err)
		return s
	}
	local := open("store-local")
	sizes := []int64{1 << 20, 100 << 20, int64(*bigMiB) << 20}
	for _, size := range sizes {
		row(root, "local", local, size, false, sha)
	}
	row(root, "local, private", local, 100<<20, true, sha)
	local.Close()
	if s3, stop := startS3(root); s3 != nil {
		row(root, "S3 (Versity S3 Gateway, same disk)", s3, 100<<20, false, sha)
		stop()
	} else {
		fmt.Println("\n(S3 rows skipped: build/tools/versitygw is missing; `make tools` builds it)")
	}

	// Dedup: a CSV table and a version with 1% of its rows changed.
	s := open("store-dedup")
	rng := rand.New(rand.NewSource(3))
	rows := make([]string, 500_000)
	for i := range rows {
		rows[i] = fmt.Sprintf("%d,%x,%d,%.4f\n", i, rng.Uint64(), rng.Intn(1000), rng.Float64())
	}
	_, _, err := s.Put(strings.NewReader(strings.Join(rows, "")), "v1")
	check(err)
	for i := 300_000; i < 305_000; i++ {
		rows[i] = fmt.Sprintf("%d,%x,%d,%.4f\n", i, rng.Uint64(), rng.Intn(1000), rng.Float64())
	}
	m2, st, err := s.Put(strings.NewReader(strings.Join(rows, "")), "v2")
	check(err)
	fmt.Printf("\ndedup: v2 of a %s table with 1%% of rows changed (one contiguous block) stored %s new (%.2f%%, %d of %d chunks)\n",
		human(m2.Size), human(st.NewBytes), 100*float64(st.NewBytes)/float64(m2.Size), st.NewChunks, st.Chunks)

	fingerprintTable()
}

// row measures durable puts and warm verified gets of size bytes, each put
// paired with dd writing the same number of bytes, so each pair sees the
// same disk (this VM's swings by ±40% within minutes); dd goes first in
// even repetitions and second in odd ones, so neither always follows the
// other's writes. Rows are repeated
// (different bytes each time) so one fsync's jitter does not decide them;
// speeds are total bytes over total time.
func row(root, label string, s *store.Store, size int64, private bool, sha float64) {
	reps := 2
	switch {
	case size <= 1<<20:
		reps = 20
	case size <= 100<<20:
		reps = 5
	}
	var dd, put, get time.Duration
	peak := trackHeap()
	machine.ResetPeakRSS()
	for i := 0; i < reps; i++ {
		src := filepath.Join(root, "src-"+strconv.FormatInt(size, 10))
		seed := int64(i)
		if private { // other bytes than the public rows': the store refuses a private copy of public bytes
			seed += 1 << 10 // (math/rand takes seeds mod 2^31-1, so 1<<32 would collide with rep 2)
		}
		writeRandom(src, size, seed)
		if i%2 == 0 {
			dd += ddTime(root, size)
		}
		f, _ := os.Open(src)
		t0 := time.Now()
		m, _, err := s.PutWith(f, store.PutOptions{Name: "src", Private: private})
		check(err)
		put += time.Since(t0)
		f.Close()
		if i%2 == 1 {
			dd += ddTime(root, size)
		}
		os.Remove(src)
		// Warm the cache, then time a verified read.
		check(s.Get(m.Root, io.Discard))
		t1 := time.Now()
		check(s.Get(m.Root, io.Discard))
		get += time.Since(t1)
	}
	p := peak()
	mbps := func(d time.Duration) float64 { return float64(size) * float64(reps) / d.Seconds() / 1e6 }
	fmt.Printf("| %s | %s | %.0f | %.0f | %.2f | %.0f | %.2f | %d | %d |\n", label, human(size), mbps(put), mbps(dd), dd.Seconds()/put.Seconds(), mbps(get), mbps(get)/sha, p>>20, machine.PeakRSS()>>20)
}

// ddTime is how long dd takes to write size bytes and fdatasync them, by
// its own clock.
func ddTime(dir string, size int64) time.Duration {
	count := strconv.FormatInt(max(size>>20, 1), 10)
	out, err := exec.Command("dd", "if=/dev/zero", "of="+filepath.Join(dir, "dd.bin"), "bs=1M", "count="+count, "conv=fdatasync").CombinedOutput()
	os.Remove(filepath.Join(dir, "dd.bin"))
	check(err)
	// "... copied, 3.9 s, 275 MB/s"
	m := regexp.MustCompile(`copied, ([0-9.e-]+) s,`).FindStringSubmatch(string(out))
	if m == nil {
		panic("cannot read dd output: " + string(out))
	}
	v, err := strconv.ParseFloat(m[1], 64)
	check(err)
	return time.Duration(v * float64(time.Second))
}

func shaSpeed() float64 {
	buf := bytes.Repeat([]byte{1, 2, 3, 4}, 1<<18) // 1 MiB
	h := sha256.New()
	t0 := time.Now()
	for i := 0; i < 1024; i++ {
		h.Write(buf)
	}
	h.Sum(nil)
	return float64(1<<30) / time.Since(t0).Seconds() / 1e6
}

func writeRandom(path string, size, seed int64) {
	f, err := os.Create(path)
	check(err)
	_, err = io.Copy(f, io.LimitReader(rand.New(rand.NewSource(size+seed)), size))
	check(err)
	// On disk before the put starts: otherwise the kernel flushes the source during the put,
	// and the put's own sync shares the disk with it (dd never does).
	check(f.Sync())
	check(f.Close())
}

// trackHeap samples the heap in use until the returned func is called.
func trackHeap() func() uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(stop); return peak.Load() }
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%d KiB", n>>10)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
