package store

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"testing"
	"testing/iotest"
	"time"
)

// streamChunks runs a chunk stream over data and returns each chunk's
// offset, size and hash in the order the consumer got them.
func streamChunks(t *testing.T, r io.Reader, c Chunking) ([][3]int64, []Hash) {
	t.Helper()
	return collectChunks(t, func(f func(*streamChunk) error) error {
		_, err := startChunkStream(r, c, nil).each(f)
		return err
	})
}

// inlineChunks is streamChunks for the small-object path (eachInline).
func inlineChunks(t *testing.T, data []byte, c Chunking) ([][3]int64, []Hash) {
	t.Helper()
	return collectChunks(t, func(f func(*streamChunk) error) error { return eachInline(data, c, nil, f) })
}

// collectChunks lists the (offset, length) and hash of every chunk each hands
// out, checking each hash against its bytes.
func collectChunks(t *testing.T, each func(func(*streamChunk) error) error) ([][3]int64, []Hash) {
	t.Helper()
	var got [][3]int64
	var hashes []Hash
	var off int64
	err := each(func(ch *streamChunk) error {
		if ch.hash != sha256.Sum256(ch.data) {
			t.Errorf("chunk at %d: hash does not match its bytes", off)
		}
		got = append(got, [3]int64{off, int64(len(ch.data))})
		hashes = append(hashes, ch.hash)
		off += int64(len(ch.data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, hashes
}

func chunkerChunks(t *testing.T, data []byte, c Chunking) ([][3]int64, []Hash) {
	k, err := NewChunker(bytes.NewReader(data), c)
	if err != nil {
		t.Fatal(err)
	}
	var want [][3]int64
	var hashes []Hash
	var off int64
	for {
		b, err := k.Next()
		if errors.Is(err, io.EOF) {
			return want, hashes
		}
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, [3]int64{off, int64(len(b))})
		hashes = append(hashes, sha256.Sum256(b))
		off += int64(len(b))
	}
}

// The parallel chunk stream cuts exactly where the sequential chunker
// does, for every size around the segment boundaries, for data with no
// cut points at all (runs of zeros: every chunk Max long), for repeating
// data, for small chunk sizes (many boundaries per segment) and for a
// reader that returns a byte at a time.
func TestChunkStreamMatchesTheChunker(t *testing.T) {
	small := Chunking{Min: 256, Avg: 1024, Max: 4096}
	zeros := make([]byte, 9<<20)
	pattern := bytes.Repeat(randomBytes(100_003, 9), 60)
	mixed := append(append(randomBytes(3<<20, 10), make([]byte, 2<<20)...), randomBytes(4<<20+17, 11)...)
	// Zeros have no cut points, so every chunk in them is Max long: entered
	// off the Max grid, the true sequence never meets a worker's cuts there,
	// and the next segment's lead starts at the wrong place.
	offGrid := append(append(randomBytes(100_003, 17), make([]byte, 6<<20)...), randomBytes(1<<20, 18)...)
	cases := []struct {
		name string
		data []byte
		c    Chunking
	}{
		{"empty", nil, DefaultChunking},
		{"one byte", []byte{7}, DefaultChunking},
		{"zeros", zeros, DefaultChunking},
		{"pattern", pattern, DefaultChunking},
		{"mixed", mixed, DefaultChunking},
		{"zeros off the grid", offGrid, DefaultChunking},
		{"small chunks", randomBytes(7<<20+5, 12), small},
		{"small chunks, zeros", zeros[:3<<20], small},
	}
	for _, size := range []int{1, segFirst - 1, segFirst, segFirst + 1, 3 * segFirst, 3*segFirst + 100_000, 1 << 20, 7<<20 + 3, 15 << 20, 40<<20 + 1} {
		cases = append(cases, struct {
			name string
			data []byte
			c    Chunking
		}{fmt.Sprintf("random %d", size), randomBytes(size, int64(size)), DefaultChunking})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, wantH := chunkerChunks(t, tc.data, tc.c)
			got, gotH := streamChunks(t, bytes.NewReader(tc.data), tc.c)
			if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(gotH) != fmt.Sprint(wantH) {
				t.Fatalf("%d chunks from the stream, %d from the chunker; first difference at %d", len(got), len(want), firstDiff(got, want))
			}
			// Small objects take eachInline instead: the same chunks.
			got, gotH = inlineChunks(t, tc.data, tc.c)
			if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(gotH) != fmt.Sprint(wantH) {
				t.Fatalf("%d chunks inline, %d from the chunker; first difference at %d", len(got), len(want), firstDiff(got, want))
			}
		})
	}
	t.Run("one byte at a time", func(t *testing.T) {
		data := randomBytes(2<<20+99, 14)
		want, _ := chunkerChunks(t, data, DefaultChunking)
		got, _ := streamChunks(t, iotest.OneByteReader(bytes.NewReader(data)), DefaultChunking)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("first difference at %d", firstDiff(got, want))
		}
	})
}

func firstDiff(a, b [][3]int64) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// A consumer that stops early, and a reader that fails, end the stream with
// every goroutine gone and every buffer back.
func TestChunkStreamAbortAndReadError(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 20 {
		cs := startChunkStream(bytes.NewReader(randomBytes(20<<20, 15)), DefaultChunking, nil)
		for range 30 {
			ch, _ := cs.next()
			ch.release()
		}
		if err := cs.close(); err != nil {
			t.Fatal(err)
		}
	}
	boom := errors.New("disk gone")
	cs := startChunkStream(io.MultiReader(bytes.NewReader(randomBytes(9<<20, 16)), iotest.ErrReader(boom)), DefaultChunking, nil)
	if _, err := cs.each(func(*streamChunk) error { return nil }); !errors.Is(err, boom) {
		t.Fatalf("read error: %v", err)
	}
	for i := 0; runtime.NumGoroutine() > before && i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines left behind (%d before)", n-before, before)
	}
}

// go test ./platform/store -run X -bench ChunkStream: cutting and hashing
// alone (no backend), from memory, against the sequential chunker feeding
// one hasher per core as Put did before.
func BenchmarkChunkStream(b *testing.B) {
	for _, size := range []int{1 << 20, 100 << 20} {
		data := randomBytes(size, 1)
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			for range b.N {
				cs := startChunkStream(bytes.NewReader(data), DefaultChunking, nil)
				if _, err := cs.each(func(*streamChunk) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// go test ./platform/store -run X -bench WakeIdleCore: how long a goroutine
// handed work takes to start on the other, idle core after 2 ms of quiet
// (as between small puts) — the cost each handoff of a small put pays.
func BenchmarkWakeIdleCore(b *testing.B) {
	if runtime.GOMAXPROCS(0) < 2 {
		b.Skip("one core")
	}
	start := make(chan time.Time)
	woke := make(chan time.Duration)
	go func() {
		for t := range start {
			woke <- time.Since(t)
		}
	}()
	defer close(start)
	var ds []time.Duration
	for range b.N {
		time.Sleep(2 * time.Millisecond)
		start <- time.Now()
		// Keep this core busy for 300 µs, so the receiver has to run on the
		// other one (a receiver that waits longer shows as ~300 µs).
		for t := time.Now(); time.Since(t) < 300*time.Microsecond; {
		}
		ds = append(ds, <-woke)
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/10].Microseconds()), "us-p10")
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds()), "us-p50")
}
