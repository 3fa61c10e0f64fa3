package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config names an S3-compatible bucket.
type S3Config struct {
	Endpoint  string // URL, e.g. http://127.0.0.1:7070 or https://s3.amazonaws.com
	Bucket    string
	Prefix    string // key prefix inside the bucket (optional)
	AccessKey string
	SecretKey string
	Region    string
}

// ParseS3URL reads s3://ACCESS:SECRET@host:port/bucket/prefix?region=R&tls=1
// (tls=1 for https) into a config.
func ParseS3URL(raw string) (S3Config, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return S3Config{}, fmt.Errorf("S3 location %q: want s3://ACCESS:SECRET@host:port/bucket[/prefix][?tls=1&region=R]", raw)
	}
	path := strings.Trim(u.Path, "/")
	bucket, prefix, _ := strings.Cut(path, "/")
	if bucket == "" {
		return S3Config{}, fmt.Errorf("S3 location %q names no bucket: want s3://ACCESS:SECRET@host:port/bucket", raw)
	}
	scheme := "http"
	if u.Query().Get("tls") == "1" {
		scheme = "https"
	}
	secret, _ := u.User.Password()
	return S3Config{
		Endpoint: scheme + "://" + u.Host, Bucket: bucket, Prefix: prefix,
		AccessKey: u.User.Username(), SecretKey: secret, Region: u.Query().Get("region"),
	}, nil
}

// S3 keeps chunks as objects <prefix>chunks/<hash> and manifests as
// <prefix>objects/<root>.json. S3 writes are atomic and durable per
// S3 keeps an object's new chunks in pack objects of a few MiB instead of
// one S3 object per chunk: a request costs a round trip (and, on hosted S3,
// money) whatever its size, so 1,600 chunk PUTs and as many existence
// checks for 100 MiB capped a put at ~60 MB/s against the test server,
// where its packs now go out at the server's speed. Layout under the
// prefix:
//
//	packs/<id>          chunks' stored bytes, back to back
//	index/<id>          which chunks one put added, and where (one per put)
//	objects/<root>.json manifests, the commit point
//	chunks/<hash>       chunks of the earlier one-object-per-chunk layout (still read)
//
// A put uploads its packs, then its index, then its manifest, so
// everything an index or manifest names is durable first (each S3 PUT is
// atomic). The backend keeps every index in memory (read at open, and
// again when a read misses: other nodes sharing the bucket add packs), so
// "is this chunk stored?" costs no request; a chunk another node stored
// since is uploaded again, which only costs space.
type S3 struct {
	c   *minio.Client
	cfg S3Config
	// parallel: range reads in flight on gets, and index reads at open.
	parallel int
	// packMax: a pack is uploaded once it holds this many bytes; uploaders:
	// a put's packs in flight at once. Their product (plus the pack being
	// filled) bounds a put's memory.
	packMax   int
	uploaders int

	mu     sync.RWMutex
	where  map[Hash]s3Loc
	packs  []string       // pack object keys; s3Loc.pack indexes it
	packNo map[string]int // and back
	// chunkEnds[i]: where each chunk of pack i ends, sorted (the last is
	// where the pack's indexed bytes end).
	chunkEnds [][]int64
	loaded    map[string]bool // index objects read

	bufs chan []byte // a free pack buffer, reused across puts (one: a big put allocates the rest, and they are collected after it)

	spanMu   sync.Mutex
	spans    []*s3Span        // pack spans fetched or in flight, oldest first
	spanNext map[uint32]int64 // per pack: where the furthest span started ends
	spanBufs chan []byte      // free span buffers
}

// s3Loc is where a chunk's stored bytes are in a pack.
type s3Loc struct {
	pack uint32
	size uint32
	off  int64
}

const (
	// 4 MiB packs, four in flight: ~470 MB/s to the test server, as fast
	// as 8 or 16 MiB packs.
	s3PackMax   = 4 << 20
	s3Uploaders = 4
	// An index object is s3IndexMagic, a uvarint pack count and that many
	// 16-byte pack ids, then a uvarint entry count and that many entries:
	// uvarint pack number (in this index), offset and size, then the
	// chunk's 32-byte hash.
	s3IndexMagic = "SHRIDX1\n"
)

// s3CompactAt: opening a bucket with more index objects than this merges
// them into one, so later opens read few objects. (A variable for tests.)
var s3CompactAt = 64

// OpenS3 connects to the bucket, creating it if it does not exist, and
// reads its chunk indexes.
func OpenS3(cfg S3Config) (*S3, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("S3 endpoint %q is not a URL like http://host:port", cfg.Endpoint)
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: u.Scheme == "https",
		Region: cfg.Region,
	})
	if err != nil {
		return nil, err
	}
	if cfg.Prefix != "" && !strings.HasSuffix(cfg.Prefix, "/") {
		cfg.Prefix += "/"
	}
	s := &S3{c: c, cfg: cfg, parallel: 8, packMax: s3PackMax, uploaders: s3Uploaders,
		where: map[Hash]s3Loc{}, packNo: map[string]int{}, loaded: map[string]bool{}, spanNext: map[uint32]int64{}, spanBufs: make(chan []byte, s3SpansKept), bufs: make(chan []byte, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("reaching S3 at %s: %w", cfg.Endpoint, err)
	}
	if !ok {
		if err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			return nil, fmt.Errorf("creating bucket %s at %s: %w", cfg.Bucket, cfg.Endpoint, err)
		}
	}
	n, err := s.refresh()
	if err != nil {
		return nil, fmt.Errorf("reading the chunk indexes in bucket %s at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	if n > s3CompactAt {
		if err := s.compact(); err != nil {
			return nil, fmt.Errorf("merging the %d chunk indexes in bucket %s at %s: %w", n, cfg.Bucket, cfg.Endpoint, err)
		}
	}
	return s, nil
}

func (s *S3) Describe() string {
	return fmt.Sprintf("S3 bucket %s at %s", s.cfg.Bucket, s.cfg.Endpoint)
}

func (s *S3) chunkKey(h Hash) string    { return s.cfg.Prefix + "chunks/" + h.String() } // the earlier layout
func (s *S3) manifestKey(h Hash) string { return s.cfg.Prefix + "objects/" + h.String() + ".json" }
func (s *S3) indexPrefix() string       { return s.cfg.Prefix + "index/" }
func (s *S3) packPrefix() string        { return s.cfg.Prefix + "packs/" }

func isNoSuchKey(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "NoSuchKey" || code == "NotFound"
}

// HasChunk answers from the indexes in memory: an index is uploaded only
// after the packs it names, so every chunk in it is durable.
func (s *S3) HasChunk(h Hash) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.where[h]
	return ok, nil
}

func (s *S3) locate(h Hash) (string, s3Loc, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	loc, ok := s.where[h]
	if !ok {
		return "", loc, false
	}
	return s.packs[loc.pack], loc, true
}

// ReadChunk reads the chunk from its pack. A chunk that no index in memory
// names may be in a pack another node has added since, so the indexes are
// read again once before it is looked for as an object of the earlier
// layout and otherwise taken for missing.
func (s *S3) ReadChunk(h Hash, size int64, buf []byte) ([]byte, error) {
	_, loc, ok := s.locate(h)
	if !ok {
		if _, err := s.refresh(); err != nil {
			return nil, err
		}
		if _, loc, ok = s.locate(h); !ok {
			if int64(cap(buf)) < size {
				buf = make([]byte, 0, size)
			}
			return s.get(s.chunkKey(h), buf)
		}
	}
	sp := s.span(loc)
	defer s.release(sp)
	<-sp.done
	if sp.err != nil {
		s.dropSpan(sp)
		return nil, sp.err
	}
	// The index's size is served, not the caller's: a mismatch, or a pack
	// cut short, is the caller's to report as corruption.
	lo := loc.off - sp.off
	hi := min(lo+int64(loc.size), int64(len(sp.data)))
	out := append(buf[:0], sp.data[min(lo, hi):hi]...)
	s.took(sp, int64(loc.size))
	return out, nil
}

// Reads fetch spans of a pack, not single chunks: a range request costs
// ~0.35 ms on the test server whatever its length (64 KiB ranges 174 MB/s,
// 1 MiB ranges 1.6 GB/s, eight in flight), and a hosted S3 bills each. A
// read that continues where the pack's last span ended also fetches the
// next few spans, so a whole object streams with several requests in
// flight while a lone range read costs one span.
const (
	s3SpanMax   = 1 << 20
	s3SpanAhead = 3
	s3SpansKept = 6 // spans held at once (fetched or in flight): bounds the memory of reads
)

type s3Span struct {
	pack     uint32
	off, end int64
	done     chan struct{} // closed once data or err is set
	data     []byte
	err      error
	taken    int64 // bytes served: once all of them are, the span is dropped
	refs     int   // readers holding it, plus one while it is in spans; at 0 its buffer is reused
}

// span returns the span holding loc, starting its fetch if no span holds
// it. A read inside a span, or right after the pack's last span, is taken
// for a sequential one and keeps s3SpanAhead spans in flight beyond it.
func (s *S3) span(loc s3Loc) *s3Span {
	s.spanMu.Lock()
	defer s.spanMu.Unlock()
	var hit *s3Span
	sequential := loc.off == s.spanNext[loc.pack] && loc.off > 0
	for _, sp := range s.spans {
		if sp.pack == loc.pack && loc.off >= sp.off && loc.off+int64(loc.size) <= sp.end {
			hit, sequential = sp, true
			break
		}
	}
	if hit == nil {
		hit = s.startSpan(loc.pack, loc.off, int64(loc.size))
	}
	if sequential {
		ahead := 0
		for _, sp := range s.spans {
			if sp.pack == loc.pack && sp.off >= hit.end {
				ahead++
			}
		}
		s.mu.RLock()
		ends := s.chunkEnds[loc.pack]
		packEnd := ends[len(ends)-1]
		s.mu.RUnlock()
		for at := max(hit.end, s.spanNext[loc.pack]); ahead < s3SpanAhead && at < packEnd; ahead++ {
			at = s.startSpan(loc.pack, at, 0).end
		}
	}
	hit.refs++ // before evicting: the eviction may drop hit from spans
	for len(s.spans) > s3SpansKept && s.evictOne() {
	}
	return hit
}

// release ends a reader's hold on a span.
func (s *S3) release(sp *s3Span) {
	s.spanMu.Lock()
	defer s.spanMu.Unlock()
	s.unref(sp)
}

// unref drops one hold; spanMu is held. Span buffers are reused, as a
// whole object's get would otherwise allocate its size in them.
func (s *S3) unref(sp *s3Span) {
	if sp.refs--; sp.refs == 0 && sp.data != nil {
		select {
		case s.spanBufs <- sp.data[:0]:
		default:
		}
		sp.data = nil
	}
}

// startSpan fetches, in the background, the whole chunks of a pack from
// off up to s3SpanMax bytes (at least min bytes); spanMu is held. Spans end
// where chunks do, so a sequential read never needs a chunk two spans hold.
func (s *S3) startSpan(pack uint32, off, least int64) *s3Span {
	s.mu.RLock()
	key, ends := s.packs[pack], s.chunkEnds[pack]
	s.mu.RUnlock()
	end := off + least
	if i := sort.Search(len(ends), func(i int) bool { return ends[i] > off+s3SpanMax }); i > 0 && ends[i-1] > end {
		end = ends[i-1]
	}
	if end == off { // least was 0 and the chunk at off is longer than a span
		if i := sort.Search(len(ends), func(i int) bool { return ends[i] > off }); i < len(ends) {
			end = ends[i]
		}
	}
	sp := &s3Span{pack: pack, off: off, end: end, done: make(chan struct{}), refs: 1}
	s.spans = append(s.spans, sp)
	s.spanNext[pack] = max(s.spanNext[pack], end)
	var buf []byte
	select {
	case buf = <-s.spanBufs:
	default:
	}
	go func() {
		data, err := s.getRange(key, off, end-off, buf)
		s.spanMu.Lock()
		sp.data, sp.err = data, err
		s.spanMu.Unlock()
		close(sp.done)
	}()
	return sp
}

// evictOne drops the oldest fetched span; spanMu is held.
func (s *S3) evictOne() bool {
	for i, sp := range s.spans {
		select {
		case <-sp.done:
			s.spans = append(s.spans[:i], s.spans[i+1:]...)
			s.unref(sp)
			return true
		default:
		}
	}
	return false
}

func (s *S3) took(sp *s3Span, n int64) {
	s.spanMu.Lock()
	sp.taken += n
	all := sp.taken >= sp.end-sp.off
	s.spanMu.Unlock()
	if all {
		s.dropSpan(sp)
	}
}

func (s *S3) dropSpan(sp *s3Span) {
	s.spanMu.Lock()
	defer s.spanMu.Unlock()
	for i, x := range s.spans {
		if x == sp {
			s.spans = append(s.spans[:i], s.spans[i+1:]...)
			s.unref(sp)
			return
		}
	}
}

func (s *S3) get(key string, buf []byte) ([]byte, error) {
	return s.read(key, minio.GetObjectOptions{}, buf)
}

// getRange reads size bytes at off into buf (reused when large enough).
func (s *S3) getRange(key string, off, size int64, buf []byte) ([]byte, error) {
	if size == 0 {
		return buf[:0], nil
	}
	if int64(cap(buf)) < size {
		buf = make([]byte, 0, size)
	}
	var opts minio.GetObjectOptions
	if err := opts.SetRange(off, off+size-1); err != nil {
		return nil, err
	}
	o, err := s.c.GetObject(context.Background(), s.cfg.Bucket, key, opts)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	// Read into the sized buffer: growing one through io.Copy would copy
	// every span into a new buffer twice its size.
	n, err := io.ReadFull(o, buf[:size])
	switch {
	case err == nil:
		return buf[:n], nil
	case isNoSuchKey(err):
		return nil, ErrNotExist
	case errors.Is(err, io.ErrUnexpectedEOF), minio.ToErrorResponse(err).Code == "InvalidRange":
		return buf[:n], nil // a pack cut short: the caller's length check reports it
	}
	return nil, err
}

func (s *S3) read(key string, opts minio.GetObjectOptions, buf []byte) ([]byte, error) {
	o, err := s.c.GetObject(context.Background(), s.cfg.Bucket, key, opts)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	out := bytes.NewBuffer(buf[:0])
	if _, err := io.Copy(out, o); err != nil {
		if isNoSuchKey(err) {
			return nil, ErrNotExist
		}
		return nil, err
	}
	return out.Bytes(), nil
}

func (s *S3) ReadManifest(root Hash) ([]byte, error) { return s.get(s.manifestKey(root), nil) }

func (s *S3) ListManifests() ([]Hash, error) {
	prefix := s.cfg.Prefix + "objects/"
	keys, err := s.listKeys(prefix)
	if err != nil {
		return nil, err
	}
	var out []Hash
	for _, k := range keys {
		if h, err := ParseHash(strings.TrimSuffix(strings.TrimPrefix(k, prefix), ".json")); err == nil {
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

func (s *S3) Close() error { return nil }

func (s *S3) put(key string, data []byte) error {
	_, err := s.c.PutObject(context.Background(), s.cfg.Bucket, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/octet-stream", DisableMultipart: true})
	return err
}

func (s *S3) listKeys(prefix string) ([]string, error) {
	var keys []string
	for o := range s.c.ListObjects(context.Background(), s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, o.Err
		}
		keys = append(keys, o.Key)
	}
	return keys, nil
}

// refresh reads the index objects not read yet and returns how many
// index objects the bucket holds. An index merged away between the listing
// and its read is found again in the merged one by listing once more.
func (s *S3) refresh() (int, error) {
	for try := 0; ; try++ {
		keys, err := s.listKeys(s.indexPrefix())
		if err != nil {
			return 0, err
		}
		s.mu.RLock()
		var todo []string
		for _, k := range keys {
			if !s.loaded[k] {
				todo = append(todo, k)
			}
		}
		s.mu.RUnlock()
		gone, err := s.readIndexes(todo)
		if err != nil {
			return 0, err
		}
		if !gone || try == 2 {
			return len(keys), nil
		}
	}
}

// readIndexes reads index objects in parallel and adds them to memory;
// gone reports one deleted since it was listed.
func (s *S3) readIndexes(keys []string) (gone bool, err error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan string)
	for range min(s.parallel, len(keys)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				bz, rerr := s.get(k, nil)
				var ix s3Index
				if rerr == nil {
					ix, rerr = decodeS3Index(bz)
					if rerr != nil {
						rerr = fmt.Errorf("chunk index %s: %w", k, rerr)
					}
				}
				mu.Lock()
				switch {
				case errors.Is(rerr, ErrNotExist):
					gone = true
				case rerr != nil:
					err = errors.Join(err, rerr)
				default:
					s.add(k, ix)
				}
				mu.Unlock()
			}
		}()
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	return gone, err
}

// add records an index's chunks, read from the bucket or just uploaded.
func (s *S3) add(key string, ix s3Index) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loaded[key] {
		return
	}
	s.loaded[key] = true
	nos := make([]uint32, len(ix.packs))
	for i, p := range ix.packs {
		pk := s.packPrefix() + p
		no, ok := s.packNo[pk]
		if !ok {
			no = len(s.packs)
			s.packs = append(s.packs, pk)
			s.chunkEnds = append(s.chunkEnds, nil)
			s.packNo[pk] = no
		}
		nos[i] = uint32(no)
	}
	for _, e := range ix.entries {
		no := nos[e.pack]
		s.where[e.hash] = s3Loc{pack: no, off: e.off, size: e.size}
		s.chunkEnds[no] = append(s.chunkEnds[no], e.off+int64(e.size))
	}
	for _, no := range nos {
		if ends := s.chunkEnds[no]; !slices.IsSorted(ends) {
			slices.Sort(ends)
		}
	}
}

// compact replaces every index object read so far with one holding all
// their chunks: written first, so a chunk is in some index at every moment.
func (s *S3) compact() error {
	s.mu.RLock()
	var ix s3Index
	var old []string
	for k := range s.loaded {
		old = append(old, k)
	}
	for _, p := range s.packs {
		ix.packs = append(ix.packs, strings.TrimPrefix(p, s.packPrefix()))
	}
	for h, loc := range s.where {
		ix.entries = append(ix.entries, s3Entry{hash: h, pack: loc.pack, off: loc.off, size: loc.size})
	}
	s.mu.RUnlock()
	key := s.indexPrefix() + newS3ID()
	if err := s.put(key, ix.encode()); err != nil {
		return err
	}
	s.mu.Lock()
	s.loaded[key] = true
	s.mu.Unlock()
	for _, k := range old {
		if err := s.c.RemoveObject(context.Background(), s.cfg.Bucket, k, minio.RemoveObjectOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// newS3ID names a pack or index: 16 random bytes in hex, so nodes sharing a
// bucket never pick the same name.
func newS3ID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// s3Index lists chunks and the packs they are in.
type s3Index struct {
	packs   []string // pack ids (hex)
	entries []s3Entry
}

type s3Entry struct {
	hash Hash
	pack uint32 // into packs
	size uint32
	off  int64
}

func (ix s3Index) encode() []byte {
	b := append([]byte(s3IndexMagic), nil...)
	b = binary.AppendUvarint(b, uint64(len(ix.packs)))
	for _, p := range ix.packs {
		id, _ := hex.DecodeString(p)
		b = append(b, id...)
	}
	b = binary.AppendUvarint(b, uint64(len(ix.entries)))
	for _, e := range ix.entries {
		b = binary.AppendUvarint(b, uint64(e.pack))
		b = binary.AppendUvarint(b, uint64(e.off))
		b = binary.AppendUvarint(b, uint64(e.size))
		b = append(b, e.hash[:]...)
	}
	return b
}

func decodeS3Index(b []byte) (s3Index, error) {
	var ix s3Index
	if !bytes.HasPrefix(b, []byte(s3IndexMagic)) {
		return ix, errors.New("not a chunk index (bad magic)")
	}
	b = b[len(s3IndexMagic):]
	bad := errors.New("cut short or damaged")
	uv := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	np, ok := uv()
	if !ok || np > uint64(len(b))/16 {
		return ix, bad
	}
	for range np {
		ix.packs = append(ix.packs, hex.EncodeToString(b[:16]))
		b = b[16:]
	}
	ne, ok := uv()
	if !ok || ne > uint64(len(b))/35 {
		return ix, bad
	}
	ix.entries = make([]s3Entry, 0, ne)
	for range ne {
		p, ok1 := uv()
		off, ok2 := uv()
		size, ok3 := uv()
		if !ok1 || !ok2 || !ok3 || p >= np || size > 1<<31 || off > 1<<62 || len(b) < 32 {
			return ix, bad
		}
		var e s3Entry
		copy(e.hash[:], b[:32])
		b = b[32:]
		e.pack, e.off, e.size = uint32(p), int64(off), uint32(size)
		ix.entries = append(ix.entries, e)
	}
	if len(b) != 0 {
		return ix, bad
	}
	return ix, nil
}

// s3Batch fills packs with one put's new chunks and uploads each full one
// while the put goes on.
type s3Batch struct {
	s    *S3
	jobs chan s3Pack
	wg   sync.WaitGroup
	cur  s3Pack
	ix   s3Index

	mu       sync.Mutex
	err      error
	uploaded []string // pack keys, for Abort to remove
	indexed  bool     // an index naming them may be in the bucket: Abort keeps the packs
}

type s3Pack struct {
	id   string
	data []byte
}

func (s *S3) NewBatch() (Batch, error) {
	jobs := make(chan s3Pack)
	b := &s3Batch{s: s, jobs: jobs}
	for range s.uploaders {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			for p := range jobs { // not b.jobs: wait() sets it to nil
				if b.failed() {
					continue
				}
				key := s.packPrefix() + p.id
				err := s.put(key, p.data)
				select {
				case s.bufs <- p.data[:0]:
				default:
				}
				if err != nil {
					b.fail(fmt.Errorf("uploading pack %s: %w", key, err))
					continue
				}
				b.mu.Lock()
				b.uploaded = append(b.uploaded, key)
				b.mu.Unlock()
			}
		}()
	}
	return b, nil
}

func (b *s3Batch) failed() bool { return b.failedWith() != nil }

func (b *s3Batch) failedWith() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

func (b *s3Batch) fail(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil {
		b.err = err
	}
}

// PutChunk copies the chunk into the pack being filled (the caller reuses
// data) and hands the pack to an uploader once it is full.
func (b *s3Batch) PutChunk(h Hash, data []byte) error {
	if err := b.failedWith(); err != nil {
		return err
	}
	if b.cur.id == "" {
		var buf []byte
		select {
		case buf = <-b.s.bufs:
		default:
		}
		if cap(buf) < b.s.packMax+DefaultChunking.Max+gcmOverhead {
			buf = make([]byte, 0, b.s.packMax+DefaultChunking.Max+gcmOverhead)
		}
		b.cur = s3Pack{id: newS3ID(), data: buf}
		b.ix.packs = append(b.ix.packs, b.cur.id)
	}
	b.ix.entries = append(b.ix.entries, s3Entry{hash: h, pack: uint32(len(b.ix.packs) - 1), off: int64(len(b.cur.data)), size: uint32(len(data))})
	b.cur.data = append(b.cur.data, data...)
	if len(b.cur.data) >= b.s.packMax {
		b.send()
	}
	return nil
}

func (b *s3Batch) send() {
	if b.cur.id != "" {
		b.jobs <- b.cur
		b.cur = s3Pack{}
	}
}

// wait uploads the last pack and waits for every upload.
func (b *s3Batch) wait() error {
	if b.jobs != nil {
		b.send()
		close(b.jobs)
		b.jobs = nil
		b.wg.Wait()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// Commit uploads the packs, then their index, then the manifest.
func (b *s3Batch) Commit(root Hash, manifest []byte) error {
	if err := b.wait(); err != nil {
		return err // Abort removes the packs that went up
	}
	if len(b.ix.entries) > 0 {
		key := b.s.indexPrefix() + newS3ID()
		// A failed PUT may still have stored the index, and then its chunks
		// must stay: from here on Abort keeps the packs.
		b.mu.Lock()
		b.indexed = true
		b.mu.Unlock()
		if err := b.s.put(key, b.ix.encode()); err != nil {
			return fmt.Errorf("uploading chunk index %s: %w", key, err)
		}
		b.s.add(key, b.ix)
	}
	return b.s.put(b.s.manifestKey(root), manifest)
}

// Abort waits for the uploads in flight and removes the packs no index
// names (best effort: an unindexed pack is only wasted space).
func (b *s3Batch) Abort() {
	b.cur = s3Pack{}
	_ = b.wait()
	b.mu.Lock()
	packs := b.uploaded
	b.uploaded = nil
	if b.indexed {
		packs = nil
	}
	b.mu.Unlock()
	for _, k := range packs {
		_ = b.s.c.RemoveObject(context.Background(), b.s.cfg.Bucket, k, minio.RemoveObjectOptions{})
	}
}

// ReadAhead: chunks fetched in parallel on reads, to overlap round trips.
func (s *S3) ReadAhead() int { return s.parallel }
