package store

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// plainGearScan is the one-byte-at-a-time gear loop that gearScan must reproduce exactly.
func plainGearScan(b []byte, i int, h, mask uint64) (int, uint64, bool) {
	for ; i < len(b); i++ {
		h = h<<1 + gear[b[i]]
		if h&mask == 0 {
			return i + 1, h, true
		}
	}
	return len(b), h, false
}

// Chunk boundaries are a storage format: the same bytes must cut at the same places forever.
// Every start offset modulo 4, every tail length, masks from one bit (a cut every other byte)
// to 20 bits, and a carried-in hash.
func TestGearScanMatchesThePlainLoop(t *testing.T) {
	data := randomBytes(1<<16, 7)
	for maskBits := 1; maskBits <= 20; maskBits++ {
		mask := uint64(1)<<maskBits - 1
		mask = bits.RotateLeft64(mask, 64-maskBits-3) // high bits, as the chunker's masks
		for start := 0; start < 8; start++ {
			for _, end := range []int{start, start + 1, start + 3, start + 4, start + 7, 4096, 4099, len(data)} {
				for _, h0 := range []uint64{0, 0xDEADBEEFCAFEF00D} {
					i, h := start, h0
					for i < end {
						wi, wh, wcut := plainGearScan(data[:end], i, h, mask)
						gi, gh, gcut := gearScan(data[:end], i, h, mask)
						if wi != gi || wh != gh || wcut != gcut {
							t.Fatalf("mask %d bits, scan of [%d:%d) from hash %x: got (%d, %x, %v), want (%d, %x, %v)",
								maskBits, i, end, h, gi, gh, gcut, wi, wh, wcut)
						}
						i, h = wi, wh
						if !wcut {
							break
						}
					}
				}
			}
		}
	}
}

// The boundaries of a whole stream, against a pinned digest of the cut offsets: a change of
// table, masks or loop that moved any boundary would stop new objects deduplicating against
// stored ones.
func TestChunkBoundariesArePinned(t *testing.T) {
	data := randomBytes(8<<20, 42)
	var cuts []int
	off := 0
	c, err := NewChunker(bytes.NewReader(data), DefaultChunking)
	if err != nil {
		t.Fatal(err)
	}
	for {
		ch, err := c.Next()
		if err != nil {
			break
		}
		off += len(ch)
		cuts = append(cuts, off)
	}
	if off != len(data) {
		t.Fatalf("chunks cover %d of %d bytes", off, len(data))
	}
	// The same cuts from the plain loop.
	var want []int
	for pos := 0; pos < len(data); {
		b := data[pos:]
		n := len(b)
		if n > DefaultChunking.Min {
			limit := min(n, DefaultChunking.Max)
			normal := min(DefaultChunking.Avg, limit)
			i, h, cut := plainGearScan(b[:normal], DefaultChunking.Min, 0, c.maskS)
			if !cut {
				i, _, cut = plainGearScan(b[:limit], i, h, c.maskL)
			}
			if !cut {
				i = limit
			}
			n = i
		}
		pos += n
		want = append(want, pos)
	}
	if len(cuts) != len(want) {
		t.Fatalf("%d chunks, the plain loop cuts %d", len(cuts), len(want))
	}
	for i := range cuts {
		if cuts[i] != want[i] {
			t.Fatalf("chunk %d ends at %d, the plain loop at %d", i, cuts[i], want[i])
		}
	}
	if got := fmt.Sprintf("%d chunks %x", len(cuts), sha256.Sum256(fmt.Append(nil, cuts))); got != pinnedCuts {
		t.Fatalf("cut offsets of the pinned stream: %s, pinned %s", got, pinnedCuts)
	}
}

// pinnedCuts: the chunk count and a digest of the cut offsets of randomBytes(8 MiB, 42) with
// DefaultChunking, as stored objects were cut.
const pinnedCuts = "116 chunks bd0638e085f8deeeace23efde6cc2a161d82fc8a60a6b00919b9a3ca9e6af60c"

// go test ./platform/store -run X -bench GearScan: the unrolled scan against the plain loop.
func BenchmarkGearScan(b *testing.B) {
	data := randomBytes(64<<20, 3)
	mask := uint64(1)<<40 - 1 // never matches on random data within 64 MiB in practice
	mask <<= 24
	for _, s := range []struct {
		name string
		scan func([]byte, int, uint64, uint64) (int, uint64, bool)
	}{{"plain", plainGearScan}, {"unrolled", gearScan}} {
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for range b.N {
				s.scan(data, 0, 0, mask)
			}
		})
	}
}

// go test ./platform/store -run X -bench 'Put$': durable puts on the local backend from a synced
// file, as bench/store does, small and large (the source's own flush kept out of the timing).
// BenchmarkPut times durable puts from a synced file, with the packs
// written directly (the default where the filesystem allows it) and through
// the page cache, side by side.
func BenchmarkPut(b *testing.B) {
	for _, size := range []int{256 << 10, 1 << 20, 100 << 20} {
		for _, direct := range []bool{true, false} {
			mode := map[bool]string{true: "direct", false: "buffered"}[direct]
			b.Run(fmt.Sprintf("%dKiB/%s", size>>10, mode), func(b *testing.B) {
				defer func(was bool) { directIO = was }(directIO)
				directIO = direct
				benchPuts(b, size, size)
			})
		}
	}
}

// go test ./platform/store -run X -bench PutSourceLayout: the same 100 MiB
// put from a page-cached source written in one write and in 32 KiB writes
// (as bench/store writes its sources): the kernel's reads of the second
// cost more CPU.
func BenchmarkPutSourceLayout(b *testing.B) {
	size := 100 << 20
	for _, chunk := range []int{size, 32 << 10} {
		b.Run(fmt.Sprintf("writes-of-%dKiB", chunk>>10), func(b *testing.B) { benchPuts(b, size, chunk) })
	}
}

// benchPuts times durable puts of size bytes into a new store, each from a
// synced file written in writes of chunk bytes (the source's writing and
// flush kept out of the timing), and reports the CPU a byte and how long
// a put waited for its pack writes.
func benchPuts(b *testing.B, size, chunk int) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	defer b.StopTimer() // runs first: closing trims and syncs the pack, which is no put's cost
	src := filepath.Join(b.TempDir(), "src")
	b.SetBytes(int64(size))
	var cpu time.Duration
	wait0 := diskWait.Load()
	defer func() {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*size), "cpu-ns/B")
		b.ReportMetric(float64(diskWait.Load()-wait0)/1e6/float64(b.N), "disk-wait-ms/op")
	}()
	for i := range b.N {
		b.StopTimer()
		data := randomBytes(size, int64(i))
		f, err := os.Create(src)
		if err != nil {
			b.Fatal(err)
		}
		for off := 0; off < size; off += chunk {
			if _, err := f.Write(data[off:min(off+chunk, size)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		f, _ = os.Open(src)
		b.StartTimer()
		c0 := processCPU()
		if _, _, err := s.PutWith(f, PutOptions{Name: "x"}); err != nil {
			b.Fatal(err)
		}
		cpu += processCPU() - c0
		f.Close()
	}
}
