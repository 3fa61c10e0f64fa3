package store

import (
	"bytes"
	"context"
	"fmt"
	mathrand "math/rand"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
)

// s3Keys lists the bucket's keys under a prefix.
func s3Keys(t *testing.T, b *S3, prefix string) []string {
	t.Helper()
	keys, err := b.listKeys(b.cfg.Prefix + prefix)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func openTestS3(t testing.TB, cfg S3Config) *S3 {
	t.Helper()
	b, err := OpenS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A put sends its new chunks in a few packs and one index, not an S3
// object per chunk, and a second version uploads only its new chunks.
func TestS3PacksChunks(t *testing.T) {
	b := openTestS3(t, startS3(t))
	s := New(b, nil)
	data := randomBytes(20<<20, 21)
	m, st, err := s.Put(bytes.NewReader(data), "v1")
	if err != nil {
		t.Fatal(err)
	}
	packs, indexes := s3Keys(t, b, "packs/"), s3Keys(t, b, "index/")
	if want := 20<<20/s3PackMax + 1; len(packs) > want || len(indexes) != 1 || len(s3Keys(t, b, "chunks/")) != 0 {
		t.Fatalf("%d chunks went up as %d packs (want at most %d) and %d indexes (want 1)", st.NewChunks, len(packs), want, len(indexes))
	}
	var out bytes.Buffer
	if err := s.Get(m.Root, &out); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("get: %v, equal %v", err, bytes.Equal(out.Bytes(), data))
	}
	v2 := append(append([]byte{}, data[:10<<20]...), randomBytes(64<<10, 22)...)
	v2 = append(v2, data[10<<20:]...)
	if _, st, err = s.Put(bytes.NewReader(v2), "v2"); err != nil {
		t.Fatal(err)
	}
	if st.NewChunks > 3 || len(s3Keys(t, b, "packs/")) != len(packs)+1 {
		t.Fatalf("an insert of 64 KiB stored %d new chunks in %d new packs", st.NewChunks, len(s3Keys(t, b, "packs/"))-len(packs))
	}
}

// A put that fails after some packs went up removes them and indexes nothing.
func TestS3FailedPutRemovesItsPacks(t *testing.T) {
	b := openTestS3(t, startS3(t))
	b.packMax = 256 << 10
	s := New(b, nil)
	_, _, err := s.Put(&failingReader{r: bytes.NewReader(randomBytes(4<<20, 23)), after: 3 << 20}, "")
	if err == nil || !strings.Contains(err.Error(), "nothing was stored") {
		t.Fatalf("error %v", err)
	}
	if p, i := s3Keys(t, b, "packs/"), s3Keys(t, b, "index/"); len(p) != 0 || len(i) != 0 {
		t.Fatalf("a failed put left %d packs and %d indexes", len(p), len(i))
	}
}

// Nodes sharing a bucket: one opened before another's put reads the new
// object (its indexes are read again on a miss) and then dedupes against it.
func TestS3SecondNodeSeesNewObjects(t *testing.T) {
	cfg := startS3(t)
	a, b := New(openTestS3(t, cfg), nil), New(openTestS3(t, cfg), nil)
	data := randomBytes(3<<20, 24)
	m, _, err := a.Put(bytes.NewReader(data), "")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := b.Get(m.Root, &out); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("the other node's get: %v", err)
	}
	if _, st, err := b.Put(bytes.NewReader(data), ""); err != nil || st.NewChunks != 0 {
		t.Fatalf("the other node stored %d chunks again (%v)", st.NewChunks, err)
	}
}

// Buckets written with one S3 object per chunk (before packs) still read.
func TestS3ReadsTheEarlierLayout(t *testing.T) {
	cfg := startS3(t)
	b := openTestS3(t, cfg)
	data := randomBytes(2<<20, 25)
	m, _, err := New(b, nil).Put(bytes.NewReader(data), "")
	if err != nil {
		t.Fatal(err)
	}
	// Rewrite the bucket in the earlier layout: chunks/<hash>, no packs or indexes.
	for _, c := range m.Chunks {
		bz, err := b.ReadChunk(c.Hash, c.Size, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.put(b.chunkKey(c.Hash), bz); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range append(s3Keys(t, b, "packs/"), s3Keys(t, b, "index/")...) {
		if err := b.c.RemoveObject(context.Background(), cfg.Bucket, k, minio.RemoveObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := New(openTestS3(t, cfg), nil).Get(m.Root, &out); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("get from the earlier layout: %v", err)
	}
}

// Many puts leave many index objects; the next open merges them into one,
// and every object still reads.
func TestS3IndexesAreMerged(t *testing.T) {
	defer func(was int) { s3CompactAt = was }(s3CompactAt)
	s3CompactAt = 4
	cfg := startS3(t)
	s := New(openTestS3(t, cfg), nil)
	var roots []Hash
	var datas [][]byte
	for i := range 7 {
		d := randomBytes(100<<10, int64(30+i))
		m, _, err := s.Put(bytes.NewReader(d), "")
		if err != nil {
			t.Fatal(err)
		}
		roots, datas = append(roots, m.Root), append(datas, d)
	}
	b := openTestS3(t, cfg)
	if n := len(s3Keys(t, b, "index/")); n != 1 {
		t.Fatalf("%d index objects after the merge, want 1", n)
	}
	fresh := New(openTestS3(t, cfg), nil)
	for i, r := range roots {
		var out bytes.Buffer
		if err := fresh.Get(r, &out); err != nil || !bytes.Equal(out.Bytes(), datas[i]) {
			t.Fatalf("object %d after the merge: %v", i, err)
		}
	}
}

// A damaged or cut index is an error, never a panic or a wrong location.
func TestS3IndexDecodeRejectsDamage(t *testing.T) {
	ix := s3Index{packs: []string{newS3ID(), newS3ID()}}
	for i := range 5 {
		var h Hash
		h[0] = byte(i)
		ix.entries = append(ix.entries, s3Entry{hash: h, pack: uint32(i % 2), off: int64(i) << 20, size: 70_000})
	}
	bz := ix.encode()
	got, err := decodeS3Index(bz)
	if err != nil || len(got.entries) != 5 || got.entries[3] != ix.entries[3] || got.packs[1] != ix.packs[1] {
		t.Fatalf("round trip: %v %+v", err, got)
	}
	for n := range len(bz) {
		if _, err := decodeS3Index(bz[:n]); err == nil {
			t.Fatalf("an index cut to %d of %d bytes decoded", n, len(bz))
		}
	}
	if _, err := decodeS3Index(append(bz, 0)); err == nil {
		t.Fatal("trailing bytes decoded")
	}
}

// Reads share the pack spans they fetch: whole gets and range reads at
// random offsets, at once, all return the right bytes.
func TestS3ConcurrentReadsShareSpans(t *testing.T) {
	b := openTestS3(t, startS3(t))
	s := New(b, nil)
	data := randomBytes(12<<20, 40)
	m, _, err := s.Put(bytes.NewReader(data), "")
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			r := mathrand.New(mathrand.NewSource(int64(g)))
			var out bytes.Buffer
			if err := s.Get(m.Root, &out); err != nil || !bytes.Equal(out.Bytes(), data) {
				errs <- fmt.Errorf("get %d: %v, equal %v", g, err, bytes.Equal(out.Bytes(), data))
				return
			}
			for range 20 {
				off := r.Int63n(int64(len(data)))
				n := r.Int63n(min(int64(len(data))-off, 3<<20)) + 1
				out.Reset()
				if err := s.GetRange(m.Root, off, n, &out); err != nil || !bytes.Equal(out.Bytes(), data[off:off+n]) {
					errs <- fmt.Errorf("range %d+%d: %v", off, n, err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	b.spanMu.Lock()
	defer b.spanMu.Unlock()
	if len(b.spans) > s3SpansKept+s3SpanAhead+1 {
		t.Fatalf("%d spans held, want at most %d", len(b.spans), s3SpansKept+s3SpanAhead+1)
	}
}

// go test ./platform/store -run X -bench S3Requests: what a request costs the
// tests' S3 server, the numbers behind the pack and span sizes: existence
// checks one after another, 100 MiB as PUTs of 64 KiB or 4 MiB, and range
// GETs of 64 KiB to 4 MiB out of 4 MiB objects (eight in flight).
func BenchmarkS3Requests(b *testing.B) {
	s3 := openTestS3(b, startS3(b))
	data := randomBytes(4<<20, 50)
	ctx := context.Background()
	b.Run("head-missing", func(b *testing.B) {
		for i := range b.N {
			s3.c.StatObject(ctx, s3.cfg.Bucket, fmt.Sprintf("missing/%d", i), minio.StatObjectOptions{})
		}
	})
	inParallel := func(b *testing.B, n, par int, f func(i int)) {
		work := make(chan int)
		done := make(chan struct{})
		for range par {
			go func() {
				for i := range work {
					f(i)
				}
				done <- struct{}{}
			}()
		}
		for i := range n {
			work <- i
		}
		close(work)
		for range par {
			<-done
		}
	}
	for _, size := range []int{64 << 10, 4 << 20} {
		b.Run(fmt.Sprintf("put-%dKiB-x4", size>>10), func(b *testing.B) {
			b.SetBytes(100 << 20)
			for r := range b.N {
				inParallel(b, (100<<20)/size, 4, func(i int) {
					if err := s3.put(fmt.Sprintf("put/%d/%d/%d", size, r, i), data[:size]); err != nil {
						b.Error(err)
					}
				})
			}
		})
	}
	for i := range 4 {
		if err := s3.put(fmt.Sprintf("packs/bench%d", i), data); err != nil {
			b.Fatal(err)
		}
	}
	for _, size := range []int64{64 << 10, 256 << 10, 1 << 20, 4 << 20} {
		b.Run(fmt.Sprintf("range-%dKiB-x8", size>>10), func(b *testing.B) {
			per := int64(len(data)) / size
			b.SetBytes(16 << 20)
			for range b.N {
				inParallel(b, int((16<<20)/size), 8, func(i int) {
					if _, err := s3.getRange(fmt.Sprintf("packs/bench%d", int64(i)/per%4), int64(i)%per*size, size, nil); err != nil {
						b.Error(err)
					}
				})
			}
		})
	}
}
