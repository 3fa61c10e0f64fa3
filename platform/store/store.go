package store

import (
	"bytes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Chunk is one piece of an object: Hash and Size are of the plaintext
// (what the Merkle root commits to). For a private object Stored is the
// sha256 of the encrypted bytes actually kept by the backend.
type Chunk struct {
	Hash   Hash  `json:"hash"`
	Size   int64 `json:"size"`
	Stored *Hash `json:"stored,omitempty"`
}

// Manifest describes a stored object: Root and Size are what the asset
// registry commits to on chain.
type Manifest struct {
	Root       Hash      `json:"root"`
	Size       int64     `json:"size"`
	Name       string    `json:"name,omitempty"`
	Kind       string    `json:"kind,omitempty"` // "" for a file, "dir" for a directory listing
	Created    time.Time `json:"created"`
	Encryption *Envelope `json:"encryption,omitempty"`
	Chunks     []Chunk   `json:"chunks"`
}

// Private says whether the object's bytes are encrypted at rest.
func (m *Manifest) Private() bool { return m.Encryption != nil }

// PutStats says how much of an object was new.
type PutStats struct {
	Chunks, NewChunks int
	NewBytes          int64
}

// PutOptions tune one put.
type PutOptions struct {
	Name    string
	Kind    string
	Private bool  // encrypt every chunk under a new data key wrapped by the node key
	Expect  *Hash // commit only if the bytes hash to this root
	MaxSize int64 // refuse a stream longer than this (0: no limit)
	// Progress, when set, is called with the bytes read so far.
	Progress func(read int64)
}

// Store keeps content-addressed objects in a backend (local packs by
// default, or S3-compatible storage).
type Store struct {
	b        Backend
	key      *NodeKey
	chunking Chunking
	commitMu sync.Mutex
}

// New makes a store over a backend; key wraps private objects' data keys
// (nil: private objects cannot be stored or read).
func New(b Backend, key *NodeKey) *Store {
	return &Store{b: b, key: key, chunking: DefaultChunking}
}

// Open opens (creating if needed) a store on the local disk in dir, with
// its node key in dir/node.key.
func Open(dir string) (*Store, error) {
	b, err := OpenLocal(dir)
	if err != nil {
		return nil, err
	}
	k, err := LoadNodeKey(filepath.Join(dir, "node.key"))
	if err != nil {
		b.Close()
		return nil, err
	}
	return New(b, k), nil
}

// Backend returns the store's backend.
func (s *Store) Backend() Backend { return s.b }

// Close releases the backend.
func (s *Store) Close() error { return s.b.Close() }

// Put stores the bytes of r under a name; see PutWith.
func (s *Store) Put(r io.Reader, name string) (*Manifest, PutStats, error) {
	return s.PutWith(r, PutOptions{Name: name})
}

// TooLargeError: a stream longer than PutOptions.MaxSize.
type TooLargeError struct{ Max int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the object is larger than the limit of %d bytes (nothing was stored)", e.Max)
}

// AccessConflictError: the bytes are stored already, with the other access.
type AccessConflictError struct {
	Root    Hash
	Private bool // how the stored copy is kept
}

func (e *AccessConflictError) Error() string {
	if e.Private {
		return fmt.Sprintf("object %s is stored privately (readable only by license holders); a public copy of the same bytes is refused", e.Root)
	}
	return fmt.Sprintf("object %s is stored publicly already; a private copy would lock its readers out, so it is refused", e.Root)
}

// RootMismatchError: the bytes do not hash to the root the caller expected.
type RootMismatchError struct{ Want, Got Hash }

func (e *RootMismatchError) Error() string {
	return fmt.Sprintf("the bytes hash to root %s, not the expected %s (nothing was stored)", e.Got, e.Want)
}

// PutWith stores the bytes of r and returns the object's manifest. Nothing
// is visible until everything is durable: the backend makes every chunk
// durable before it writes the manifest, the object's commit point, so a
// failed or interrupted put leaves no object.
func (s *Store) PutWith(r io.Reader, o PutOptions) (*Manifest, PutStats, error) {
	var st PutStats
	m := &Manifest{Name: o.Name, Kind: o.Kind, Created: time.Now().UTC()}
	var gcm cipher.AEAD
	if o.Private {
		if s.key == nil {
			return nil, st, errors.New("this store has no node key, so it cannot keep private objects")
		}
		dk, env, err := s.key.newDataKey()
		if err != nil {
			return nil, st, err
		}
		if gcm, err = newGCM(dk); err != nil {
			return nil, st, err
		}
		m.Encryption = env
	}
	if o.MaxSize > 0 {
		r = &limitReader{r: r, left: o.MaxSize + 1, max: o.MaxSize}
	}
	if o.Progress != nil {
		r = &progressReader{r: r, f: o.Progress}
	}
	if err := s.chunking.validate(); err != nil {
		return nil, st, err
	}
	batch, err := s.b.NewBatch()
	if err != nil {
		return nil, st, err
	}
	committed := false
	defer func() {
		if !committed {
			batch.Abort()
		}
	}()
	// A small object is read whole and cut and hashed on this goroutine;
	// a larger one goes through the chunk stream, which cuts and hashes on
	// every core. Either way this goroutine takes the chunks in order and
	// hands the new ones to the backend.
	head, small, r, readErr := readSmall(r)
	defer smallPuts.Put(head)
	if readErr != nil {
		return nil, st, putReadError(readErr, int64(len(*head)))
	}
	// Private chunks are sealed once hashed, two at a time.
	seal := func(a, b *streamChunk) {
		chs := [2]*streamChunk{a, b}
		for _, ch := range chs {
			if ch != nil {
				buf := sealedBufs.Get().(*[]byte)
				ch.sealed, ch.err = sealChunk(gcm, ch.hash, ch.data, *buf)
			}
		}
		// A private chunk is stored under its sealed bytes' sha256.
		if b != nil && a.err == nil && b.err == nil {
			a.key, b.key = sum256x2(a.sealed, b.sealed)
			return
		}
		for _, ch := range chs {
			if ch != nil && ch.err == nil {
				ch.key = sha256.Sum256(ch.sealed)
			}
		}
	}
	var leaves []Hash
	var stored []Hash // private objects: the encrypted chunks' hashes, in order
	seen := map[Hash]bool{}
	take := func(ch *streamChunk) error {
		if ch.sealed != nil { // back to the pool once the backend has it (a dropped guess's is left to the collector)
			defer func() { b := ch.sealed[:0]; sealedBufs.Put(&b) }()
		}
		if ch.err != nil {
			return ch.err
		}
		h := ch.hash
		m.Chunks = append(m.Chunks, Chunk{Hash: h, Size: int64(len(ch.data))})
		leaves = append(leaves, LeafHash(h, uint64(len(ch.data))))
		st.Chunks++
		m.Size += int64(len(ch.data))
		data, key := ch.data, ch.hash
		if gcm != nil {
			key = ch.key
			data = ch.sealed
			stored = append(stored, key)
		}
		if seen[key] {
			return nil
		}
		seen[key] = true
		if gcm == nil {
			if have, err := s.b.HasChunk(key); err != nil || have {
				return err
			}
		}
		st.NewChunks++
		st.NewBytes += int64(len(data))
		return batch.PutChunk(key, data)
	}
	var after func(a, b *streamChunk) // public chunks need nothing after hashing
	if gcm != nil {
		after = seal
	}
	var writeErr error
	if small {
		writeErr = eachInline(*head, s.chunking, after, take)
	} else {
		writeErr, readErr = startChunkStream(r, s.chunking, after).each(take)
	}
	if readErr != nil {
		return nil, st, putReadError(readErr, m.Size)
	}
	if writeErr != nil {
		return nil, st, fmt.Errorf("storing the object in the %s: %w (nothing was stored)", s.b.Describe(), writeErr)
	}
	if gcm != nil {
		for i := range m.Chunks {
			m.Chunks[i].Stored = &stored[i]
		}
	}
	m.Root = MerkleRoot(leaves)
	if o.Expect != nil && *o.Expect != m.Root {
		return nil, st, &RootMismatchError{Want: *o.Expect, Got: m.Root}
	}
	// An object is immutable once committed: the same bytes again return
	// the stored object, and a copy with the other access is refused (a
	// public copy would publish a private asset's bytes; a private one
	// would lock readers out of a public object).
	s.commitMu.Lock() // check and commit as one step within this process
	defer s.commitMu.Unlock()
	if old, err := s.Manifest(m.Root); err == nil {
		if old.Private() != m.Private() {
			return nil, st, &AccessConflictError{Root: m.Root, Private: old.Private()}
		}
		st.NewChunks, st.NewBytes = 0, 0
		return old, st, nil
	}
	bz, err := json.Marshal(m)
	if err != nil {
		return nil, st, err
	}
	if err := batch.Commit(m.Root, bz); err != nil {
		return nil, st, fmt.Errorf("committing object %s in the %s: %w (nothing was stored)", m.Root, s.b.Describe(), err)
	}
	committed = true
	return m, st, nil
}

// inlinePutMax: objects of up to this many bytes are cut and hashed on the
// putting goroutine. The chunk stream's workers start 65-300 µs after a
// handoff to the idle core (BenchmarkWakeIdleCore) and its first segment is
// cut whole before any of it is hashed, so a small object's first write
// would go out later than its whole cutting and hashing takes here.
const inlinePutMax = 2 << 20

// smallPuts are the buffers a put reads its first inlinePutMax+1 bytes into.
var smallPuts = sync.Pool{New: func() any { b := make([]byte, inlinePutMax+1); return &b }}

// readSmall reads up to inlinePutMax+1 bytes of r into head, a smallPuts
// buffer the caller gives back once the put is over. small says r held no
// more (head is then all of it); otherwise rest reads head's bytes, then
// the rest of r. On an error, head holds what came before it.
func readSmall(r io.Reader) (head *[]byte, small bool, rest io.Reader, err error) {
	head = smallPuts.Get().(*[]byte)
	n, end, err := fill(r, (*head)[:inlinePutMax+1])
	*head = (*head)[:n]
	switch {
	case err != nil:
		return head, false, nil, err
	case end:
		return head, true, nil, nil
	}
	return head, false, io.MultiReader(bytes.NewReader(*head), r), nil
}

// fill reads into buf until it is full (end false) or r reports io.EOF
// (end true). Unlike io.ReadFull it passes on r's own io.ErrUnexpectedEOF
// (what an HTTP body cut short returns) as the error it is, rather than
// taking it for the end of the object.
func fill(r io.Reader, buf []byte) (n int, end bool, err error) {
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if errors.Is(err, io.EOF) {
			return n, true, nil
		}
		if err != nil {
			return n, false, err
		}
	}
	return n, false, nil
}

// putReadError says where reading the object failed (a size limit is
// reported as itself).
func putReadError(err error, after int64) error {
	var tl *TooLargeError
	if errors.As(err, &tl) {
		return err
	}
	return fmt.Errorf("reading the object after %d bytes: %w (nothing was stored)", after, err)
}

// inlineGroup: eachInline cuts, hashes and hands on this many chunks at a
// time, so the first bytes reach the disk while the rest are still cut.
const inlineGroup = 4

// eachInline cuts data into the chunks the chunk stream would make
// (Chunker.boundary, as the sequential Chunker), hashes them as the stream
// does (hashChunks, running after) and runs f on each in order.
func eachInline(data []byte, c Chunking, after func(a, b *streamChunk), f func(*streamChunk) error) error {
	k := Chunker{c: c}
	k.setMasks()
	chs := make([]*streamChunk, 0, inlineGroup)
	for off := 0; off < len(data); {
		chs = chs[:0]
		for off < len(data) && len(chs) < inlineGroup {
			ch := &streamChunk{data: data[off : off+k.boundary(data[off:])]}
			off += len(ch.data)
			chs = append(chs, ch)
		}
		hashChunks(chs, after, func(*streamChunk) {})
		for _, ch := range chs {
			if err := f(ch); err != nil {
				return err
			}
		}
	}
	return nil
}

// sealedBufs are reused across puts: allocating them would dominate the
// cost of small private objects.
var sealedBufs = sync.Pool{New: func() any { b := make([]byte, 0, DefaultChunking.Max+gcmOverhead); return &b }}

type limitReader struct {
	r         io.Reader
	left, max int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, &TooLargeError{Max: l.max}
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left <= 0 {
		return n, &TooLargeError{Max: l.max}
	}
	return n, err
}

type progressReader struct {
	r io.Reader
	n int64
	f func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	p.f(p.n)
	return n, err
}

// Manifest reads an object's manifest and checks that its chunk list
// hashes to the root.
func (s *Store) Manifest(root Hash) (*Manifest, error) {
	bz, err := s.b.ReadManifest(root)
	if errors.Is(err, ErrNotExist) {
		return nil, &NotFoundError{Root: root}
	}
	if err != nil {
		return nil, err
	}
	return parseManifest(root, bz)
}

// parseManifest decodes a stored manifest and checks it against its root.
func parseManifest(root Hash, bz []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(bz, &m); err != nil {
		return nil, fmt.Errorf("manifest of %s is damaged: %w", root, err)
	}
	leaves := make([]Hash, len(m.Chunks))
	for i, c := range m.Chunks {
		leaves[i] = LeafHash(c.Hash, uint64(c.Size))
		if m.Private() != (c.Stored != nil) {
			return nil, &CorruptError{Root: root, Chunk: -1, Detail: "the manifest mixes encrypted and plain chunks"}
		}
	}
	if MerkleRoot(leaves) != root || m.Root != root {
		return nil, &CorruptError{Root: root, Chunk: -1, Detail: "the manifest's chunk list does not hash to the root"}
	}
	return &m, nil
}

// NotFoundError: no object with that root.
type NotFoundError struct{ Root Hash }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no object with root %s in this store", e.Root)
}

// CorruptError: stored bytes do not match their hash. Nothing of the bad
// chunk was returned to the reader.
type CorruptError struct {
	Root   Hash
	Chunk  int   // index of the bad chunk (-1: the manifest)
	Offset int64 // where the bad chunk starts in the object
	Detail string
}

func (e *CorruptError) Error() string {
	if e.Chunk < 0 {
		return fmt.Sprintf("object %s is corrupted: %s", e.Root, e.Detail)
	}
	return fmt.Sprintf("object %s is corrupted: chunk %d at byte %d: %s (the bad bytes were not served)", e.Root, e.Chunk, e.Offset, e.Detail)
}

// Get writes the object to w, verifying every chunk before any of its
// bytes are written (private objects are decrypted).
func (s *Store) Get(root Hash, w io.Writer) error {
	m, err := s.Manifest(root)
	if err != nil {
		return err
	}
	return s.CopyRange(m, 0, m.Size, w)
}

// GetRange writes length bytes from offset (verified chunk by chunk).
func (s *Store) GetRange(root Hash, offset, length int64, w io.Writer) error {
	m, err := s.Manifest(root)
	if err != nil {
		return err
	}
	return s.CopyRange(m, offset, length, w)
}

// CopyRange writes length bytes of m from offset, verified chunk by chunk.
func (s *Store) CopyRange(m *Manifest, offset, length int64, w io.Writer) error {
	if offset < 0 || length < 0 || offset+length > m.Size {
		return fmt.Errorf("range %d+%d is outside the object (size %d)", offset, length, m.Size)
	}
	var gcm cipher.AEAD
	if m.Private() {
		if s.key == nil {
			return errors.New("this store has no node key, so it cannot read private objects")
		}
		dk, err := s.key.unwrap(m.Encryption)
		if err != nil {
			return &CorruptError{Root: m.Root, Chunk: -1, Detail: err.Error()}
		}
		if gcm, err = newGCM(dk); err != nil {
			return err
		}
	}
	// Chunks are fetched and verified by several workers ahead of the
	// writer (S3 round trips overlap; local reads hash on both cores) and
	// written strictly in order; memory is a fixed set of chunk buffers.
	// A job is two chunks where it can be: their sha256s are computed at
	// once (sum256x2). A small local range is read on this goroutine.
	workers := 2
	if ra, ok := s.b.(interface{ ReadAhead() int }); ok {
		workers = ra.ReadAhead()
	} else if length <= inlineGetMax {
		return s.copyInline(m, gcm, offset, length, w)
	}
	type job struct {
		i   int          // the job's first chunk
		n   int          // its chunks: 1 or 2
		cs  int64        // where chunk i starts in the object
		out chan fetched // buffered: a worker never waits on the writer
	}
	workers = max(1, min(workers, len(m.Chunks)))
	window := 2 * workers
	free := make(chan [2][2][]byte, min(window+workers, max(len(m.Chunks), 1)+1))
	for i := 0; i < cap(free); i++ {
		var b [2][2][]byte
		for k := range b {
			b[k][0] = make([]byte, 0, s.chunking.Max+gcmOverhead)
			if gcm != nil {
				b[k][1] = make([]byte, 0, s.chunking.Max)
			}
		}
		free <- b
	}
	jobs := make(chan job)
	order := make(chan job, window)
	done := make(chan struct{})
	defer close(done)
	for k := 0; k < workers; k++ {
		go func() {
			for j := range jobs {
				var bufs [2][2][]byte
				select {
				case bufs = <-free:
				case <-done: // the reader returned early
					continue
				}
				j.out <- s.readChunks(m, gcm, j.i, j.n, j.cs, bufs)
			}
		}()
	}
	end := offset + length
	go func() {
		defer close(order)
		defer close(jobs)
		rangeJobs(m, offset, end, func(i, n int, cs int64) bool {
			j := job{i: i, n: n, cs: cs, out: make(chan fetched, 1)}
			select {
			case jobs <- j:
			case <-done:
				return false
			}
			select {
			case order <- j:
				return true
			case <-done:
				return false
			}
		})
	}()
	for j := range order {
		f := <-j.out
		if err := writeFetched(w, m, f, j.i, j.n, j.cs, offset, end); err != nil {
			return err
		}
		free <- f.bufs
	}
	return nil
}

// rangeJobs calls f on the chunks of m that overlap [offset, end), two at a
// time while the range goes on (chunk i, starting at cs in the object, and
// the next), until f returns false.
func rangeJobs(m *Manifest, offset, end int64, f func(i, n int, cs int64) bool) {
	var pos int64
	held, heldAt := -1, int64(0) // a first chunk waiting for its second
	for i, c := range m.Chunks {
		cs, ce := pos, pos+c.Size
		pos = ce
		if cs >= end && held < 0 {
			return
		}
		if ce <= offset {
			continue
		}
		switch {
		case held >= 0:
			if !f(held, 2, heldAt) {
				return
			}
			held = -1
		case i+1 < len(m.Chunks) && ce < end:
			held, heldAt = i, cs
		default:
			if !f(i, 1, cs) {
				return
			}
		}
	}
}

// writeFetched writes what lies in [offset, end) of a job's chunks (n of
// them from chunk i, which starts at cs), up to the first that failed.
func writeFetched(w io.Writer, m *Manifest, f fetched, i, n int, cs, offset, end int64) error {
	for k := range n {
		if f.err[k] != nil {
			return f.err[k]
		}
		c := m.Chunks[i+k]
		from, to := max(offset, cs)-cs, min(end, cs+c.Size)-cs
		if _, err := w.Write(f.data[k][from:to]); err != nil {
			return err
		}
		cs += c.Size
	}
	return nil
}

// inlineGetMax: local reads of up to this many bytes are verified on the
// caller's goroutine. Handing jobs to workers costs more than it saves on a
// small object: a worker on the idle core starts 65-300 µs later
// (BenchmarkWakeIdleCore), and the workers' buffers (several MiB, zeroed)
// cost more to allocate than a MiB takes to hash.
const inlineGetMax = 2 << 20

// inlineBufs are copyInline's chunk buffers, reused across reads.
var inlineBufs = sync.Pool{New: func() any { return new([2][2][]byte) }}

// copyInline is CopyRange for a small range of a local object, two chunks
// at a time on this goroutine.
func (s *Store) copyInline(m *Manifest, gcm cipher.AEAD, offset, length int64, w io.Writer) error {
	bufs := inlineBufs.Get().(*[2][2][]byte)
	defer inlineBufs.Put(bufs)
	for k := range bufs {
		if cap(bufs[k][0]) < s.chunking.Max+gcmOverhead {
			bufs[k][0] = make([]byte, 0, s.chunking.Max+gcmOverhead)
		}
		if gcm != nil && cap(bufs[k][1]) < s.chunking.Max {
			bufs[k][1] = make([]byte, 0, s.chunking.Max)
		}
	}
	var err error
	rangeJobs(m, offset, offset+length, func(i, n int, cs int64) bool {
		err = writeFetched(w, m, s.readChunks(m, gcm, i, n, cs, *bufs), i, n, cs, offset, offset+length)
		return err == nil
	})
	return err
}

// fetched is a job's chunks, read and verified (or why not), and the
// buffers they are in.
type fetched struct {
	data [2][]byte
	err  [2]error
	bufs [2][2][]byte
}

// readChunks reads and verifies n (1 or 2) consecutive chunks from i, which
// starts at off, into bufs (a buffer for the stored bytes and one for the
// plaintext of a private chunk, per chunk). Two chunks' sha256s are computed
// at once (sum256x2). A private chunk's GCM tag authenticates its stored
// bytes and its plaintext is checked against its sha256, so hashing the
// ciphertext would only repeat the check.
func (s *Store) readChunks(m *Manifest, gcm cipher.AEAD, i, n int, off int64, bufs [2][2][]byte) fetched {
	f := fetched{bufs: bufs}
	var offs [2]int64
	corrupt := func(k int, detail string) {
		f.data[k], f.err[k] = nil, &CorruptError{Root: m.Root, Chunk: i + k, Offset: offs[k], Detail: detail}
	}
	for k := range n {
		offs[k] = off
		off += m.Chunks[i+k].Size
		f.data[k], f.err[k] = s.fetchChunk(m, i+k, offs[k], bufs[k][0])
		if f.err[k] == nil && gcm != nil {
			plain, err := openChunk(gcm, m.Chunks[i+k].Hash, f.data[k], bufs[k][1])
			if err != nil {
				corrupt(k, "encrypted chunk does not decrypt: "+err.Error())
				continue
			}
			f.data[k] = plain
		}
	}
	var sums [2]Hash
	if n == 2 && f.err[0] == nil && f.err[1] == nil {
		sums[0], sums[1] = sum256x2(f.data[0], f.data[1])
	} else {
		for k := range n {
			if f.err[k] == nil {
				sums[k] = sha256.Sum256(f.data[k])
			}
		}
	}
	for k := range n {
		if f.err[k] == nil && sums[k] != m.Chunks[i+k].Hash {
			if gcm != nil {
				corrupt(k, "decrypted chunk does not match its sha256")
			} else {
				corrupt(k, "chunk bytes do not match their sha256")
			}
		}
	}
	return f
}

// storedAs is the key and size a chunk has in the backend: a private
// chunk is kept encrypted, under the sha256 of those bytes.
func (c Chunk) storedAs() (Hash, int64) {
	if c.Stored != nil {
		return *c.Stored, c.Size + gcmOverhead
	}
	return c.Hash, c.Size
}

// fetchChunk reads chunk i's stored bytes (at off in the object) and checks
// their length.
func (s *Store) fetchChunk(m *Manifest, i int, off int64, buf []byte) ([]byte, error) {
	key, size := m.Chunks[i].storedAs()
	data, err := s.b.ReadChunk(key, size, buf)
	if errors.Is(err, ErrNotExist) {
		return nil, &CorruptError{Root: m.Root, Chunk: i, Offset: off, Detail: "chunk " + key.String() + " is missing"}
	}
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != size {
		return nil, &CorruptError{Root: m.Root, Chunk: i, Offset: off, Detail: fmt.Sprintf("chunk has %d bytes in the store, want %d", len(data), size)}
	}
	return data, nil
}

// Verify re-reads every chunk of an object and checks the root.
func (s *Store) Verify(root Hash) error { return s.Get(root, io.Discard) }

// List returns the manifests of every stored object, newest first.
func (s *Store) List() ([]*Manifest, error) {
	roots, err := s.b.ListManifests()
	if err != nil {
		return nil, err
	}
	out := make([]*Manifest, 0, len(roots))
	for _, h := range roots {
		m, err := s.Manifest(h)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}
