package store

import (
	"bytes"
	"math/rand"
	"testing"
)

// copyToDisk must copy exactly like copy, whatever the sizes and the
// alignment of either side.
func TestCopyToDiskCopiesLikeCopy(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	src := randomBytes(1<<20, 7)
	for range 2000 {
		n := rng.Intn(300 << 10)
		if rng.Intn(4) == 0 {
			n = rng.Intn(8 << 10)
		}
		so := rng.Intn(len(src) - n + 1)
		do := rng.Intn(128)
		dst := make([]byte, do+n+rng.Intn(100)+64)
		want := bytes.Clone(dst)
		extra := rng.Intn(64) // dst shorter than src: copies len(dst) bytes
		cut := len(dst) - extra
		if got, exp := copyToDisk(dst[do:cut], src[so:so+n]), copy(want[do:cut], src[so:so+n]); got != exp {
			t.Fatalf("copied %d bytes, copy copies %d (n %d, dst offset %d)", got, exp, n, do)
		}
		if !bytes.Equal(dst, want) {
			t.Fatalf("n %d, src offset %d, dst offset %d: bytes differ from copy's", n, so, do)
		}
	}
}
