// Package store is the content-addressed blob store: objects are cut into
// content-defined chunks, each stored once under its sha256, and an
// object is named by the Merkle root over its chunks — the commitment the
// asset registry keeps on chain. Every read is verified against it.
package store

import (
	"fmt"
	"io"
	"math/bits"
)

// Chunking bounds chunk sizes. Boundaries depend only on content, so an
// edit moves at most the chunks around it and the rest dedupe.
type Chunking struct{ Min, Avg, Max int }

// DefaultChunking: 64 KiB average, 16 KiB to 256 KiB.
var DefaultChunking = Chunking{Min: 16 << 10, Avg: 64 << 10, Max: 256 << 10}

func (c Chunking) validate() error {
	if c.Min < 64 || c.Avg <= c.Min || c.Max <= c.Avg || c.Avg&(c.Avg-1) != 0 {
		return fmt.Errorf("chunking %+v: need 64 <= min < avg < max with avg a power of two", c)
	}
	return nil
}

// gear is a fixed table of 256 pseudo-random words (splitmix64 from a
// constant seed): boundaries must be the same on every machine forever,
// or stored objects would stop deduplicating against new ones.
var gear = func() (t [256]uint64) {
	x := uint64(0x5A4A52415F434443) // fixed seed
	for i := range t {
		x += 0x9E3779B97F4A7C15
		z := x
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
		z = (z ^ (z >> 27)) * 0x94D049BB133111EB
		t[i] = z ^ (z >> 31)
	}
	return
}()

// Chunker cuts a stream into content-defined chunks (FastCDC-style gear
// hash with normalized chunking: a stricter mask before the average size,
// a looser one after) using a buffer of twice the maximum chunk size, so
// memory stays constant whatever the stream's length.
type Chunker struct {
	r            io.Reader
	c            Chunking
	buf          []byte
	start, end   int
	eof          bool
	refills      int
	maskS, maskL uint64
}

// NewChunker reads from r.
func NewChunker(r io.Reader, c Chunking) (*Chunker, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	k := &Chunker{r: r, c: c, buf: make([]byte, 2*c.Max)}
	k.setMasks()
	return k, nil
}

// setMasks derives the two cut masks from the average size.
func (k *Chunker) setMasks() {
	b := bits.Len(uint(k.c.Avg)) - 1
	k.maskS, k.maskL = (1<<(b+2)-1)<<(64-b-2), (1<<(b-2)-1)<<(64-b+2)
}

// Next returns the next chunk, valid until the following call, or io.EOF.
func (k *Chunker) Next() ([]byte, error) {
	if k.end-k.start < k.c.Max && !k.eof {
		// A long stream gets a larger buffer, so leftovers move to the
		// front once per 15 Max instead of every Max; small objects keep
		// the small one (allocating megabytes would dominate their cost).
		if k.refills++; k.refills == 4 && len(k.buf) < 16*k.c.Max {
			k.buf = append(k.buf[:k.end], make([]byte, 16*k.c.Max-k.end)...)
		}
		copy(k.buf, k.buf[k.start:k.end])
		k.end -= k.start
		k.start = 0
		n, end, err := fill(k.r, k.buf[k.end:])
		k.end += n
		k.eof = end
		if err != nil {
			return nil, err
		}
	}
	if k.end == k.start {
		return nil, io.EOF
	}
	cut := k.boundary(k.buf[k.start:k.end])
	chunk := k.buf[k.start : k.start+cut]
	k.start += cut
	return chunk, nil
}

func (k *Chunker) boundary(b []byte) int {
	if len(b) <= k.c.Min {
		return len(b)
	}
	limit := min(len(b), k.c.Max)
	normal := min(k.c.Avg, limit)
	i, h, cut := gearScan(b[:normal], k.c.Min, 0, k.maskS)
	if cut {
		return i
	}
	i, _, cut = gearScan(b[:limit], i, h, k.maskL)
	if cut {
		return i
	}
	return limit
}

// gearScan rolls the gear hash h over b[i:] and returns the position just past the first byte
// whose hash has no bit of mask set (cut true), or len(b) and the hash there.
//
// It is the plain loop `h = h<<1 + gear[b[i]]; if h&mask == 0 { return i+1 }`, four bytes at a
// time: h after four bytes is h<<4 plus a sum of the four table words that does not depend on h,
// so the loop-carried chain is one shift and one add per four bytes instead of per byte, and the
// three hashes in between are side branches the CPU computes in parallel. Shifts and adds wrap
// mod 2^64 in both forms, so every hash, and every boundary, is the same as the plain loop's
// (TestGearScanMatchesThePlainLoop).
//
// On amd64, gearGroups first runs the same arithmetic in assembly up to the group of eight bytes
// that holds the cut (4.0 vs 3.4 GB/s, BenchmarkGearScan): without the compiled loop's bounds
// checks, spill and table reloads.
func gearScan(b []byte, i int, h, mask uint64) (int, uint64, bool) {
	if len(b)-i >= 8 {
		i, h = gearGroups(&b[0], i, len(b), h, mask, &gear)
	}
	for ; i+4 <= len(b); i += 4 {
		q := b[i : i+4 : i+4]
		g0, g1, g2, g3 := gear[q[0]], gear[q[1]], gear[q[2]], gear[q[3]]
		s1 := g0<<1 + g1
		s2 := s1<<1 + g2
		h0 := h<<1 + g0
		h1 := h<<2 + s1
		h2 := h<<3 + s2
		h3 := h<<4 + (s2<<1 + g3)
		if (h0&mask == 0) || (h1&mask == 0) || (h2&mask == 0) || (h3&mask == 0) {
			switch {
			case h0&mask == 0:
				return i + 1, h0, true
			case h1&mask == 0:
				return i + 2, h1, true
			case h2&mask == 0:
				return i + 3, h2, true
			}
			return i + 4, h3, true
		}
		h = h3
	}
	for ; i < len(b); i++ {
		h = h<<1 + gear[b[i]]
		if h&mask == 0 {
			return i + 1, h, true
		}
	}
	return len(b), h, false
}
