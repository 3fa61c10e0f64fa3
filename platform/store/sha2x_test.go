package store

import (
	"bytes"
	"crypto/sha256"
	"math/rand"
	"testing"
)

// sum256x2 against crypto/sha256: equal and unequal lengths around the block
// and padding boundaries, random offsets (unaligned memory), and both paths
// (two streams, and the plain one used where the CPU lacks the extensions).
func TestSum256x2MatchesSha256(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	buf := randomBytes(600<<10, 2)
	lens := []int{0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 191, 192, 4096, 16 << 10, 65536, 65537, 256 << 10}
	for range 300 {
		lens = append(lens, rng.Intn(300<<10))
	}
	defer func(was bool) { hasSHA2x = was }(hasSHA2x)
	for _, fast := range []bool{true, false} {
		hasSHA2x = fast && hasSHA2xCPU
		for _, la := range lens {
			for _, lb := range []int{la, la + 1, la - 64, rng.Intn(300 << 10), 0, 64} {
				lb = max(lb, 0)
				oa, ob := rng.Intn(len(buf)-la), rng.Intn(len(buf)-lb)
				a, b := buf[oa:oa+la], buf[ob:ob+lb]
				ha, hb := sum256x2(a, b)
				if ha != sha256.Sum256(a) || hb != sha256.Sum256(b) {
					t.Fatalf("two streams %v, lengths %d and %d: digest differs from crypto/sha256", hasSHA2x, la, lb)
				}
			}
		}
	}
	t.Logf("two-stream sha256 on this CPU: %v", hasSHA2xCPU)
}

var hasSHA2xCPU = hasSHA2x

// go test ./platform/store -run X -bench Sum256x2: two 64 KiB chunks (the
// average chunk) hashed one after the other with crypto/sha256, and at once.
func BenchmarkSum256x2(b *testing.B) {
	x := randomBytes(128<<10, 3)
	p, q := x[:64<<10], x[64<<10:]
	b.Run("sha256-one-by-one", func(b *testing.B) {
		b.SetBytes(int64(len(x)))
		for range b.N {
			sha256.Sum256(p)
			sha256.Sum256(q)
		}
	})
	b.Run("sum256x2", func(b *testing.B) {
		if !hasSHA2x {
			b.Skip("no SHA extensions")
		}
		b.SetBytes(int64(len(x)))
		for range b.N {
			sum256x2(p, q)
		}
	})
}

// sum256Many gives every message its sha256, whatever the mix of lengths.
func TestSum256ManyMatchesSha256(t *testing.T) {
	defer func(was bool) { hasSHA2x = was }(hasSHA2x)
	for _, fast := range []bool{true, false} {
		hasSHA2x = fast && hasSHA2xCPU
		testSum256Many(t)
	}
}

func testSum256Many(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for round := range 200 {
		msgs := make([][]byte, r.Intn(9))
		for i := range msgs {
			n := r.Intn(3000)
			if round%5 == 0 {
				n = r.Intn(300_000)
			}
			msgs[i] = randomBytes(n, int64(round*100+i))[r.Intn(2):] // unaligned too
		}
		got := make([]Hash, len(msgs))
		seen := make([]int, len(msgs))
		sum256Many(msgs, func(i int, h Hash) { got[i] = h; seen[i]++ })
		for i, m := range msgs {
			if seen[i] != 1 || got[i] != sha256.Sum256(m) {
				t.Fatalf("round %d, message %d of %d (%d bytes): reported %d times, hash %x", round, i, len(msgs), len(m), seen[i], got[i])
			}
		}
	}
}

func BenchmarkSum256Many(b *testing.B) {
	k, _ := NewChunker(bytes.NewReader(randomBytes(16<<20, 8)), DefaultChunking)
	var msgs [][]byte
	total := 0
	for {
		ch, err := k.Next()
		if err != nil {
			break
		}
		msgs = append(msgs, append([]byte(nil), ch...))
		total += len(ch)
	}
	b.Run("pairs", func(b *testing.B) {
		b.SetBytes(int64(total))
		for range b.N {
			for i := 0; i+1 < len(msgs); i += 2 {
				sum256x2(msgs[i], msgs[i+1])
			}
		}
	})
	b.Run("lanes", func(b *testing.B) {
		b.SetBytes(int64(total))
		for range b.N {
			sum256Many(msgs, func(int, Hash) {})
		}
	})
}
