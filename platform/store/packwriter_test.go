package store

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// Puts through both write paths, concurrent and rolling over small packs,
// each reopened by the other path: every object reads back, and reopening
// appends after what is there (padded to 4 KiB for direct writes).
func TestPacksDirectAndBufferedRollAndReopen(t *testing.T) {
	defer func(was bool) { directIO = was }(directIO)
	dir := t.TempDir()
	want := map[Hash][]byte{}
	var mu sync.Mutex
	for round, direct := range []bool{true, false, true} {
		directIO = direct
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		s.b.(*Local).packMax = 5 << 20
		t.Logf("round %d: direct writes asked %v, used %v", round, direct, s.b.(*Local).w.direct)
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				data := randomBytes(1<<20+(i+1)*700_000, int64(100*round+i))
				m, _, err := s.Put(bytes.NewReader(data), "x")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				want[m.Root] = data
				mu.Unlock()
			}()
		}
		wg.Wait()
		for root, data := range want {
			var out bytes.Buffer
			if err := s.Get(root, &out); err != nil || !bytes.Equal(out.Bytes(), data) {
				t.Fatalf("round %d (direct %v): object %s: %v", round, direct, root, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	packs, _ := filepath.Glob(filepath.Join(dir, "packs", "*.pack"))
	if len(packs) < 4 {
		t.Fatalf("%d packs for 12 puts of 1.7–3.8 MiB into 5 MiB packs: they did not roll over", len(packs))
	}
	if _, err := os.Stat(filepath.Join(dir, "packs", ".direct-probe")); !os.IsNotExist(err) {
		t.Fatalf("the direct-write probe file was left behind: %v", err)
	}
}

// A failed pack write fails the puts with bytes in that pack, commits none
// of them, and later puts work again in a new pack.
func TestPackWriteFailureFailsThePutAndRecovers(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := s.b.(*Local)
	l.mu.Lock()
	l.w.f.Close() // every write to this pack now fails, as on a dead disk
	l.mu.Unlock()
	data := randomBytes(6<<20, 31)
	_, _, err = s.Put(bytes.NewReader(data), "lost")
	if err == nil || !strings.Contains(err.Error(), "nothing was stored") || !strings.Contains(err.Error(), "000001.pack") {
		t.Fatalf("a put into a pack that cannot be written: %v", err)
	}
	if roots, _ := l.ListManifests(); len(roots) != 0 {
		t.Fatalf("%d objects committed after a failed write", len(roots))
	}
	m, _, err := s.Put(bytes.NewReader(data), "again")
	if err != nil {
		t.Fatalf("the next put: %v", err)
	}
	if err := s.Verify(m.Root); err != nil {
		t.Fatal(err)
	}
	if p, _, _ := l.locate(m.Chunks[0].Hash); filepath.Base(p) != "000002.pack" {
		t.Fatalf("the retried put went to %s, want a new pack", p)
	}
}

func TestAlignedBuffer(t *testing.T) {
	for range 20 {
		b := alignedBuffer(packBufSize)
		if len(b) != 0 || cap(b) != packBufSize || uintptrOf(b[:1])%packAlign != 0 {
			t.Fatalf("len %d cap %d", len(b), cap(b))
		}
	}
}

func uintptrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
