package store

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/syndtr/goleveldb/leveldb"
)

// Puts through every write path (direct writes submitted asynchronously,
// direct writes from a goroutine, page-cache writes), concurrent and
// rolling over small packs, each reopened by another path: every object
// reads back, reopening appends after the recorded end of the data, and a
// closed pack holds no allocation past it.
func TestPacksDirectAndBufferedRollAndReopen(t *testing.T) {
	defer func(d, a bool) { directIO, asyncIO = d, a }(directIO, asyncIO)
	dir := t.TempDir()
	want := map[Hash][]byte{}
	var mu sync.Mutex
	for round, mode := range []struct{ direct, async bool }{{true, true}, {false, false}, {true, false}, {true, true}} {
		directIO, asyncIO = mode.direct, mode.async
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		s.b.(*Local).packMax = 5 << 20
		async := isAsync(s.b.(*Local).w.io)
		t.Logf("round %d: direct writes asked %v, used %v; asynchronous %v", round, mode.direct, s.b.(*Local).w.direct, async)
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
				t.Fatalf("round %d (%+v): object %s: %v", round, mode, root, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	packs, _ := filepath.Glob(filepath.Join(dir, "packs", "*.pack"))
	if len(packs) < 4 {
		t.Fatalf("%d packs for 16 puts of 1.7–3.8 MiB into 5 MiB packs: they did not roll over", len(packs))
	}
	for _, p := range packs {
		if fi, _ := os.Stat(p); fi.Size() > 5<<20+4<<20 {
			t.Fatalf("%s is %d bytes after closing: its allocation ahead was not trimmed", p, fi.Size())
		}
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

// A pack sync that fails after the index was written takes the object out
// of the index again: the put fails and the object is not there.
func TestPackSyncFailureTakesTheObjectOut(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	defer func(was func(*os.File) error) { packSync = was }(packSync)
	packSync = func(*os.File) error { return errors.New("device flush failed") }
	data := randomBytes(3<<20, 41)
	if _, _, err := s.Put(bytes.NewReader(data), "x"); err == nil || !strings.Contains(err.Error(), "device flush failed") {
		t.Fatalf("put with a failing sync: %v", err)
	}
	if objs, _ := s.List(); len(objs) != 0 {
		t.Fatalf("%d objects listed after a failed sync", len(objs))
	}
	packSync = fdatasync
	m, _, err := s.Put(bytes.NewReader(data), "again")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(m.Root); err != nil {
		t.Fatal(err)
	}
}

// A store that was not closed checks its last committed object when it is
// opened: if a chunk of it is not intact (the machine died between the
// index write and the pack sync), the object is taken out again, the other
// objects stay, and the same bytes can be put again.
func TestUncleanShutdownDropsTheTornObject(t *testing.T) {
	for _, torn := range []bool{false, true} {
		dir := t.TempDir()
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		first := randomBytes(2<<20, 50)
		last := randomBytes(3<<20, 51)
		m1, _, err := s.Put(bytes.NewReader(first), "first")
		if err != nil {
			t.Fatal(err)
		}
		m2, _, err := s.Put(bytes.NewReader(last), "last")
		if err != nil {
			t.Fatal(err)
		}
		l := s.b.(*Local)
		p, loc, err := l.locate(m2.Chunks[len(m2.Chunks)/2].Hash)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		// Back to the state of a machine that died: the store is marked
		// open, and (torn) a chunk of the last object never reached the disk.
		db, err := leveldb.OpenFile(filepath.Join(dir, "index"), nil)
		if err != nil {
			t.Fatal(err)
		}
		db.Put([]byte(keyOpen), nil, nil)
		db.Close()
		if torn {
			f, _ := os.OpenFile(p, os.O_WRONLY, 0)
			f.WriteAt(make([]byte, 4096), loc.off)
			f.Close()
		}
		s, err = Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Verify(m1.Root); err != nil {
			t.Fatalf("torn %v: the earlier object: %v", torn, err)
		}
		_, err = s.Manifest(m2.Root)
		var nf *NotFoundError
		if torn != errors.As(err, &nf) {
			t.Fatalf("torn %v: the last object after reopening: %v", torn, err)
		}
		if !torn {
			if err := s.Verify(m2.Root); err != nil {
				t.Fatal(err)
			}
		}
		m, st, err := s.Put(bytes.NewReader(last), "again")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Verify(m.Root); err != nil {
			t.Fatalf("torn %v: put again: %v", torn, err)
		}
		if torn && st.NewChunks == 0 {
			t.Fatalf("the torn chunk was not stored again")
		}
		s.Close()
	}
}

// The index records where each pack's data ends, so the allocation ahead
// of it (or a torn tail) is written over, and a store written before ends
// were recorded appends after the whole file.
func TestPackEndIsRecorded(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	a := randomBytes(1<<20+333, 60)
	ma, _, err := s.Put(bytes.NewReader(a), "a")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	pack := filepath.Join(dir, "packs", "000001.pack")
	fi, _ := os.Stat(pack)
	// Garbage after the data, as a crash would leave in the allocation.
	f, _ := os.OpenFile(pack, os.O_WRONLY, 0)
	f.WriteAt(randomBytes(1<<20, 61), fi.Size())
	f.Close()
	s, _ = Open(dir)
	b := randomBytes(2<<20, 62)
	mb, _, err := s.Put(bytes.NewReader(b), "b")
	if err != nil {
		t.Fatal(err)
	}
	if _, loc, _ := s.b.(*Local).locate(mb.Chunks[0].Hash); loc.off != fi.Size() {
		t.Fatalf("the next object went to %d, want right after the data at %d", loc.off, fi.Size())
	}
	s.Close()
	// As written before ends were recorded: the whole file counts.
	db, _ := leveldb.OpenFile(filepath.Join(dir, "index"), nil)
	db.Delete(packEndKey(1), nil)
	db.Close()
	fi, _ = os.Stat(pack)
	s, _ = Open(dir)
	defer s.Close()
	c := randomBytes(1<<20, 63)
	mc, _, err := s.Put(bytes.NewReader(c), "c")
	if err != nil {
		t.Fatal(err)
	}
	if _, loc, _ := s.b.(*Local).locate(mc.Chunks[0].Hash); loc.off < fi.Size() {
		t.Fatalf("an object went to %d, inside the %d bytes already there", loc.off, fi.Size())
	}
	for _, m := range []*Manifest{ma, mb, mc} {
		if err := s.Verify(m.Root); err != nil {
			t.Fatal(err)
		}
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

// go test ./platform/store -run X -bench HashingBesideWrites -benchtime 2000x: how much hashing
// the cores still do while a pack takes 1.6 GB/s of direct writes (256 KiB every 160 µs, as a put
// feeds it), submitted asynchronously (AIO) or by a goroutine that blocks in pwrite. The blocked
// goroutine keeps its P for as long as the write takes.
func BenchmarkHashingBesideWrites(b *testing.B) {
	defer func(d, a bool) { directIO, asyncIO = d, a }(directIO, asyncIO)
	block := randomBytes(256<<10, 7)
	for _, mode := range []string{"no-writes", "async", "blocking"} {
		b.Run(mode, func(b *testing.B) {
			directIO, asyncIO = true, mode == "async"
			w, err := newPackWriter(1, filepath.Join(b.TempDir(), "p"), 0)
			if err != nil {
				b.Fatal(err)
			}
			defer w.close()
			if !w.direct {
				b.Skip("no direct writes on this filesystem")
			}
			stop := make(chan struct{})
			var written atomic.Int64
			var wg sync.WaitGroup
			if mode != "no-writes" {
				wg.Add(1)
				go func() {
					defer wg.Done()
					tick := time.NewTicker(160 * time.Microsecond)
					defer tick.Stop()
					for {
						select {
						case <-stop:
							return
						case <-tick.C:
						}
						if _, err := w.append(block, false); err != nil {
							b.Error(err)
							return
						}
						written.Add(int64(len(block)))
						if w.end() > 1<<30 { // stay within 1 GiB of disk
							w.flush()
							w.off = 0
						}
					}
				}()
			}
			var hashed atomic.Int64
			t0 := time.Now()
			for range runtime.GOMAXPROCS(0) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					buf := randomBytes(64<<10, 8)
					for {
						select {
						case <-stop:
							return
						default:
						}
						sha256.Sum256(buf)
						hashed.Add(int64(len(buf)))
						runtime.Gosched() // as the put's workers do after each chunk
					}
				}()
			}
			time.Sleep(time.Duration(b.N) * time.Millisecond)
			close(stop)
			wg.Wait()
			el := time.Since(t0).Seconds()
			b.ReportMetric(float64(hashed.Load())/el/1e6, "hashMB/s")
			b.ReportMetric(float64(written.Load())/el/1e6, "writeMB/s")
		})
	}
}

// The buffer pool keeps a few buffers for reuse and unmaps the rest; a
// buffer it did not map is never unmapped.
func TestBufPool(t *testing.T) {
	p := &bufPool{size: 1 << 20, keep: 2}
	var bs [][]byte
	for range 5 {
		b := p.get()
		if cap(b) != 1<<20 || len(b) != 0 || uintptrOf(b[:1])%packAlign != 0 {
			t.Fatalf("buffer len %d cap %d", len(b), cap(b))
		}
		b = append(b, 1, 2, 3) // usable
		bs = append(bs, b)
	}
	for _, b := range bs {
		p.put(b)
	}
	if len(p.free) != 2 || len(p.mapped) > 2 {
		t.Fatalf("%d kept, %d still mapped", len(p.free), len(p.mapped))
	}
	p.put(alignedBuffer(1 << 20)) // from the heap: dropped, not unmapped
	if b := p.get(); cap(b) != 1<<20 {
		t.Fatal("reuse")
	}
}
