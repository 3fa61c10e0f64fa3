package store

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"runtime"
	"sahara/internal/machine"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
)

func randomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func TestPutGetRoundTripAndRange(t *testing.T) { eachBackend(t, testPutGetRoundTripAndRange) }

func testPutGetRoundTripAndRange(t *testing.T, s *Store) {
	data := randomBytes(5<<20+123, 1)
	m, st, err := s.Put(bytes.NewReader(data), "blob.bin")
	if err != nil {
		t.Fatal(err)
	}
	if m.Size != int64(len(data)) || st.NewBytes != m.Size || st.Chunks < 40 {
		t.Fatalf("size %d, new %d, chunks %d", m.Size, st.NewBytes, st.Chunks)
	}
	for _, c := range m.Chunks {
		if c.Size > int64(DefaultChunking.Max) {
			t.Fatalf("chunk of %d bytes over the maximum", c.Size)
		}
	}
	var out bytes.Buffer
	if err := s.Get(m.Root, &out); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("get: %v (equal %v)", err, bytes.Equal(out.Bytes(), data))
	}
	// The same bytes always give the same root, and nothing new is stored.
	m2, st2, _ := s.Put(bytes.NewReader(data), "again")
	if m2.Root != m.Root || st2.NewBytes != 0 {
		t.Fatalf("second put: root %s vs %s, new bytes %d", m2.Root, m.Root, st2.NewBytes)
	}
	for _, r := range [][2]int64{{0, 10}, {65530, 100_000}, {int64(len(data)) - 7, 7}, {3 << 20, 0}} {
		out.Reset()
		if err := s.GetRange(m.Root, r[0], r[1], &out); err != nil || !bytes.Equal(out.Bytes(), data[r[0]:r[0]+r[1]]) {
			t.Fatalf("range %v: %v", r, err)
		}
	}
	// Random ranges, short (read on the caller's goroutine) and long (by the workers), and ranges
	// that start or end exactly on chunk boundaries.
	r := rand.New(rand.NewSource(11))
	var bounds []int64
	var at int64
	for _, c := range m.Chunks {
		at += c.Size
		bounds = append(bounds, at)
	}
	for n := range 60 {
		off := r.Int63n(int64(len(data)))
		if n%3 == 0 {
			off = bounds[r.Intn(len(bounds)-1)]
		}
		length := r.Int63n(min(int64(len(data))-off, 3<<20) + 1)
		if n%4 == 0 {
			if e := bounds[r.Intn(len(bounds))]; e > off {
				length = e - off
			}
		}
		out.Reset()
		if err := s.GetRange(m.Root, off, length, &out); err != nil || !bytes.Equal(out.Bytes(), data[off:off+length]) {
			t.Fatalf("range %d+%d: %v (got %d bytes)", off, length, err, out.Len())
		}
	}
	if err := s.GetRange(m.Root, int64(len(data))-1, 2, &out); err == nil || !strings.Contains(err.Error(), "outside the object") {
		t.Fatalf("range past the end: %v", err)
	}
	objs, _ := s.List()
	if len(objs) != 1 || objs[0].Root != m.Root {
		t.Fatalf("list: %v", objs)
	}
}

func TestEmptyObject(t *testing.T) { eachBackend(t, testEmptyObject) }

func testEmptyObject(t *testing.T, s *Store) {
	m, _, err := s.Put(bytes.NewReader(nil), "")
	if err != nil || m.Size != 0 || m.Root != MerkleRoot(nil) {
		t.Fatalf("empty: %+v %v", m, err)
	}
	var out bytes.Buffer
	if err := s.Get(m.Root, &out); err != nil || out.Len() != 0 {
		t.Fatalf("get empty: %v", err)
	}
}

// A flipped byte on disk is detected on read and the bad chunk is never
// served: the reader gets exactly the bytes before it, then the error.
func TestCorruptedChunkIsDetectedNotServed(t *testing.T) { eachBackend(t, testCorruptedChunk) }

func testCorruptedChunk(t *testing.T, s *Store) {
	var ce *CorruptError
	// Chunks are read and verified two at a time: a bad first and a bad second one of a pair.
	// A small object is verified on the caller's goroutine, a larger one by the workers.
	for _, c := range []struct{ size, bad int }{{1 << 20, 2}, {1 << 20, 3}, {4 << 20, 2}, {4 << 20, 3}} {
		bad := c.bad
		data := randomBytes(c.size, int64(2+bad))
		m, _, err := s.Put(bytes.NewReader(data), "")
		if err != nil {
			t.Fatal(err)
		}
		damageChunk(t, s, m.Chunks[bad].Hash)
		var before int64
		for _, c := range m.Chunks[:bad] {
			before += c.Size
		}
		var out bytes.Buffer
		err = s.Get(m.Root, &out)
		if !errors.As(err, &ce) || ce.Chunk != bad || ce.Offset != before {
			t.Fatalf("error %v, want corruption of chunk %d at %d", err, bad, before)
		}
		if int64(out.Len()) != before || !bytes.Equal(out.Bytes(), data[:before]) {
			t.Fatalf("served %d bytes, want exactly the %d before the bad chunk", out.Len(), before)
		}
		if err := s.Verify(m.Root); err == nil {
			t.Fatal("verify passed on a corrupted object")
		}
		removeChunk(t, s, m.Chunks[bad].Hash)
		if err := s.Verify(m.Root); !errors.As(err, &ce) || ce.Chunk != bad || !strings.Contains(err.Error(), "missing") {
			t.Fatalf("missing chunk %d: %v", bad, err)
		}
	}
	// A small object (kept in the index by the local backend) too.
	small, _, err := s.Put(bytes.NewReader(randomBytes(40_000, 3)), "")
	if err != nil {
		t.Fatal(err)
	}
	damageChunk(t, s, small.Chunks[0].Hash)
	if err := s.Verify(small.Root); !errors.As(err, &ce) || ce.Chunk != 0 {
		t.Fatalf("damaged small object: %v", err)
	}
}

// A new version of a table with 1% of its rows changed stores only a few
// percent new bytes.
func TestNewVersionDeduplicates(t *testing.T) { eachBackend(t, testNewVersionDeduplicates) }

func testNewVersionDeduplicates(t *testing.T, s *Store) {
	rng := rand.New(rand.NewSource(3))
	var rows []string
	for i := 0; i < 200_000; i++ {
		rows = append(rows, fmt.Sprintf("%d,%s,%d,%.4f\n", i, randWord(rng), rng.Intn(1000), rng.Float64()))
	}
	v1 := strings.Join(rows, "")
	m1, _, err := s.Put(strings.NewReader(v1), "v1.csv")
	if err != nil {
		t.Fatal(err)
	}
	// Version 2: 1% of the rows (a contiguous block, as an update of one
	// batch of records would be) get new values.
	start := 120_000
	for i := start; i < start+len(rows)/100; i++ {
		rows[i] = fmt.Sprintf("%d,%s,%d,%.4f\n", i, randWord(rng), rng.Intn(1000), rng.Float64())
	}
	v2 := strings.Join(rows, "")
	m2, st, err := s.Put(strings.NewReader(v2), "v2.csv")
	if err != nil {
		t.Fatal(err)
	}
	share := float64(st.NewBytes) / float64(m2.Size)
	t.Logf("v1 %d bytes, v2 %d bytes, new bytes %d (%.2f%%), chunks %d new of %d", m1.Size, m2.Size, st.NewBytes, 100*share, st.NewChunks, st.Chunks)
	if share > 0.05 {
		t.Fatalf("a 1%% change stored %.1f%% new bytes, want under 5%%", 100*share)
	}
}

func randWord(r *rand.Rand) string {
	b := make([]byte, 5+r.Intn(10))
	for i := range b {
		b[i] = byte('a' + r.Intn(26))
	}
	return string(b)
}

type failingReader struct {
	r     io.Reader
	after int64
	n     int64
	err   error // what it fails with (nil: a connection reset)
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n >= f.after {
		if f.err != nil {
			return 0, f.err
		}
		return 0, errors.New("connection reset by peer")
	}
	if int64(len(p)) > f.after-f.n {
		p = p[:f.after-f.n]
	}
	n, err := f.r.Read(p)
	f.n += int64(n)
	return n, err
}

// A truncated upload leaves no object behind.
func TestTruncatedUploadLeavesNoObject(t *testing.T) { eachBackend(t, testTruncatedUpload) }

func testTruncatedUpload(t *testing.T, s *Store) {
	data := randomBytes(5<<20, 4)
	// Cut short in a small object, at the small-object size and in a
	// streamed one; failing with an error of its own or with
	// io.ErrUnexpectedEOF, which is what an HTTP body cut short returns
	// (and must not be taken for the end of the object).
	for _, after := range []int64{200_000, inlinePutMax, inlinePutMax + 1, 3 << 20} {
		for _, cause := range []error{nil, io.ErrUnexpectedEOF} {
			_, _, err := s.Put(&failingReader{r: bytes.NewReader(data), after: after, err: cause}, "")
			if err == nil || !strings.Contains(err.Error(), "nothing was stored") {
				t.Fatalf("cut after %d bytes (%v): error %v", after, cause, err)
			}
		}
	}
	if objs, _ := s.List(); len(objs) != 0 {
		t.Fatalf("a failed put left %d objects", len(objs))
	}
	if _, ok := s.b.(*Local); ok {
		if n := storedChunks(t, s); n != 0 {
			t.Fatalf("a failed put indexed %d chunks", n)
		}
	}
}

func TestBadRootsAreClearErrors(t *testing.T) { eachBackend(t, testBadRoots) }

func testBadRoots(t *testing.T, s *Store) {
	for _, in := range []string{"abc", strings.Repeat("z", 64), ""} {
		if _, err := ParseHash(in); err == nil {
			t.Errorf("ParseHash(%q) accepted", in)
		}
	}
	h, _ := ParseHash("0x" + strings.Repeat("ab", 32))
	var nf *NotFoundError
	if err := s.Get(h, io.Discard); !errors.As(err, &nf) {
		t.Fatalf("unknown root: %v", err)
	}
	// A manifest whose chunk list does not hash to its name is refused.
	m, _, _ := s.Put(bytes.NewReader(randomBytes(100_000, 5)), "")
	bz, _ := s.b.ReadManifest(m.Root)
	forgeManifest(t, s, h, bz)
	if err := s.Get(h, io.Discard); err == nil || !strings.Contains(err.Error(), "does not hash to the root") {
		t.Fatalf("forged manifest: %v", err)
	}
}

// Streams of any length go through in constant memory. SAHARA_STORE_BIG
// sets the size in bytes (default 2 GiB; CI runs the default).
func TestLargeObjectConstantMemory(t *testing.T) { eachBackend(t, testLargeObject) }

func testLargeObject(t *testing.T, s *Store) {
	size := int64(2 << 30)
	if v := os.Getenv("SAHARA_STORE_BIG"); v != "" {
		fmt.Sscan(v, &size)
	}
	if testing.Short() {
		size = 256 << 20
	}
	runtime.GC() // the garbage of earlier tests is not this object's memory
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	src := io.LimitReader(rand.New(rand.NewSource(6)), size)
	in := sha256.New()
	rssReset := machine.ResetPeakRSS()
	t0 := time.Now()
	m, _, err := s.Put(io.TeeReader(src, in), "big")
	if err != nil {
		t.Fatal(err)
	}
	put := time.Since(t0)
	out := sha256.New()
	t1 := time.Now()
	if err := s.Get(m.Root, out); err != nil {
		t.Fatal(err)
	}
	get := time.Since(t1)
	close(stop)
	if m.Size != size || !bytes.Equal(in.Sum(nil), out.Sum(nil)) {
		t.Fatalf("size %d/%d, bytes equal %v", m.Size, size, bytes.Equal(in.Sum(nil), out.Sum(nil)))
	}
	rss := machine.PeakRSS()
	t.Logf("%d MiB: put %.0f MB/s, get %.0f MB/s, peak heap in use %d MiB, peak RSS %d MiB", size>>20,
		float64(size)/put.Seconds()/1e6, float64(size)/get.Seconds()/1e6, peak.Load()>>20, rss>>20)
	// The manifest's chunk list grows with the object (40 bytes a chunk);
	// everything else is a fixed set of chunk-sized buffers.
	if limit := uint64(64<<20) + uint64(m.Size/int64(DefaultChunking.Min))*200; peak.Load() > limit {
		t.Fatalf("peak heap %d MiB for a %d MiB object: memory grows with the object", peak.Load()>>20, size>>20)
	}
	// The I/O buffers live outside the Go heap: resident memory, which
	// counts them, is bounded too (the test binary itself is ~100 MiB of it).
	if limit := uint64(256<<20) + uint64(m.Size/int64(DefaultChunking.Min))*200; rssReset && !raceEnabled && rss > limit {
		t.Fatalf("peak RSS %d MiB for a %d MiB object: memory grows with the object", rss>>20, size>>20)
	}
}

// Inserting or deleting a few bytes (odd counts too) early in an object
// re-synchronises the chunk boundaries right after the edit.
func TestSmallEditsResynchronise(t *testing.T) {
	s, _ := Open(t.TempDir())
	defer s.Close()
	data := randomBytes(8<<20, 13)
	if _, _, err := s.Put(bytes.NewReader(data), "v1"); err != nil {
		t.Fatal(err)
	}
	for _, edit := range []struct{ at, del, ins int }{{1 << 20, 0, 1}, {2 << 20, 3, 0}, {3 << 20, 1, 2}} {
		v := append(append(append([]byte{}, data[:edit.at]...), randomBytes(edit.ins, int64(edit.at))...), data[edit.at+edit.del:]...)
		m, st, err := s.Put(bytes.NewReader(v), "edit")
		if err != nil {
			t.Fatal(err)
		}
		if share := float64(st.NewBytes) / float64(m.Size); share > 0.05 {
			t.Fatalf("edit %+v stored %.1f%% new bytes, want a few chunks", edit, 100*share)
		}
	}
}

// Small objects (inlined in the index) and large ones (in packs) both
// survive closing and reopening the store.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	small, big := randomBytes(30_000, 21), randomBytes(3<<20, 22)
	ms, _, err := s.Put(bytes.NewReader(small), "small")
	if err != nil {
		t.Fatal(err)
	}
	mb, _, err := s.Put(bytes.NewReader(big), "big")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		root Hash
		want []byte
	}{{ms.Root, small}, {mb.Root, big}} {
		var out bytes.Buffer
		if err := s.Get(c.root, &out); err != nil || !bytes.Equal(out.Bytes(), c.want) {
			t.Fatalf("after reopen: %v", err)
		}
	}
	// New puts append after the old data.
	m3, _, err := s.Put(bytes.NewReader(randomBytes(2<<20, 23)), "third")
	if err != nil || s.Verify(m3.Root) != nil || s.Verify(mb.Root) != nil {
		t.Fatalf("put after reopen: %v", err)
	}
}

func TestParseS3URL(t *testing.T) {
	c, err := ParseS3URL("s3://AK:SK@minio.local:9000/bucket/some/prefix?tls=1&region=eu-1")
	if err != nil || c.Endpoint != "https://minio.local:9000" || c.Bucket != "bucket" || c.Prefix != "some/prefix" ||
		c.AccessKey != "AK" || c.SecretKey != "SK" || c.Region != "eu-1" {
		t.Fatalf("%+v %v", c, err)
	}
	for _, bad := range []string{"http://x/b", "s3://host:1/", "s3:///bucket"} {
		if _, err := ParseS3URL(bad); err == nil || !strings.Contains(err.Error(), "s3://") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

type failingBatch struct{ Batch }

func (failingBatch) PutChunk(Hash, []byte) error { return errors.New("disk full") }

type failingBackend struct{ Backend }

func (f failingBackend) NewBatch() (Batch, error) {
	b, err := f.Backend.NewBatch()
	return failingBatch{b}, err
}

// When the backend fails, the put stops reading the stream (an HTTP upload
// is not read to its end first) and stores nothing.
func TestBackendFailureStopsTheRead(t *testing.T) {
	base, _ := Open(t.TempDir())
	defer base.Close()
	s := New(failingBackend{base.b}, base.key)
	src := &failingReader{r: io.LimitReader(rand.New(rand.NewSource(1)), 1<<30), after: 1 << 30}
	_, _, err := s.PutWith(src, PutOptions{})
	if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.Contains(err.Error(), "nothing was stored") {
		t.Fatalf("error %v", err)
	}
	if src.n > 64<<20 {
		t.Fatalf("read %d MiB of a 1 GiB stream after the first failed write", src.n>>20)
	}
}

// go test ./platform/store -run X -bench 'Get$': verified reads of a 1 MiB
// and a 100 MiB object from a warm page cache (bench/store's get column), for
// side-by-side runs.
func BenchmarkGet(b *testing.B) {
	for _, size := range []int{1 << 20, 100 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			s, err := Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			m, _, err := s.Put(bytes.NewReader(randomBytes(size, 9)), "get")
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Get(m.Root, io.Discard); err != nil { // warm the cache
				b.Fatal(err)
			}
			b.SetBytes(m.Size)
			b.ResetTimer()
			for range b.N {
				if err := s.Get(m.Root, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Objects around the size where puts switch from cutting on the putting
// goroutine to the chunk stream get the roots the plain chunker gives.
func TestPutRootsAroundTheInlineSize(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, size := range []int{0, 1, inlinePutMax - 1, inlinePutMax, inlinePutMax + 1, inlinePutMax + 300_000} {
		data := randomBytes(size, int64(size)+1)
		k, _ := NewChunker(bytes.NewReader(data), DefaultChunking)
		var leaves []Hash
		for {
			ch, err := k.Next()
			if err == io.EOF {
				break
			}
			leaves = append(leaves, LeafHash(sha256.Sum256(ch), uint64(len(ch))))
		}
		m, _, err := s.Put(bytes.NewReader(data), "")
		if err != nil {
			t.Fatal(err)
		}
		if want := MerkleRoot(leaves); m.Root != want || m.Size != int64(size) {
			t.Fatalf("%d bytes: root %s size %d, the chunker's root %s", size, m.Root, m.Size, want)
		}
		var out bytes.Buffer
		if err := s.Get(m.Root, &out); err != nil || !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("%d bytes: get %v", size, err)
		}
	}
	// A reader failing inside the first inlinePutMax bytes says where.
	_, _, err = s.Put(&failingReader{r: bytes.NewReader(randomBytes(inlinePutMax, 3)), after: 1 << 20}, "")
	if err == nil || !strings.Contains(err.Error(), "after 1048576 bytes") || !strings.Contains(err.Error(), "nothing was stored") {
		t.Fatalf("error %v", err)
	}
}

// go test ./platform/store -run X -bench IndexCommit: what the index write
// of a 100 MiB put's commit costs on its own (~1,600 chunk locations and a
// ~180 KB manifest in one LevelDB batch), synced as a commit does and not,
// with the slowest write of the run (memtable rotations stall some).
func BenchmarkIndexCommit(b *testing.B) {
	for _, c := range []struct {
		name          string
		chunks, manif int
		sync          bool
	}{
		{"entries+manifest/synced", 1600, 180 << 10, true},
		{"entries+manifest/unsynced", 1600, 180 << 10, false},
		{"manifest/synced", 0, 180 << 10, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			l, err := OpenLocal(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			man := make([]byte, c.manif)
			var slowest time.Duration
			for i := range b.N {
				b.StopTimer()
				var wb leveldb.Batch
				for j := range c.chunks {
					wb.Put(chunkKey(sha256.Sum256(fmt.Append(nil, i, j))), packLoc{size: 1}.encode())
				}
				wb.Put(manifestKey(sha256.Sum256(fmt.Append(nil, i))), man)
				b.StartTimer()
				t0 := time.Now()
				if err := l.db.Write(&wb, &opt.WriteOptions{Sync: c.sync}); err != nil {
					b.Fatal(err)
				}
				slowest = max(slowest, time.Since(t0))
			}
			b.ReportMetric(float64(slowest.Microseconds())/1e3, "slowest-ms")
		})
	}
}
