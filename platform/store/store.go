package store

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/sys/unix"
)

// Chunk is one stored piece of an object.
type Chunk struct {
	Hash Hash  `json:"hash"`
	Size int64 `json:"size"`
}

// Manifest describes a stored object: Root and Size are what the asset
// registry commits to on chain.
type Manifest struct {
	Root    Hash      `json:"root"`
	Size    int64     `json:"size"`
	Name    string    `json:"name,omitempty"`
	Created time.Time `json:"created"`
	Chunks  []Chunk   `json:"chunks"`
}

// PutStats says how much of an object was new.
type PutStats struct {
	Chunks, NewChunks int
	NewBytes          int64
}

// Store keeps chunks and manifests under one folder on the local disk:
// chunks/ab/<sha256> and objects/<root>.json.
type Store struct {
	dir      string
	chunking Chunking
}

// Open creates (if needed) and opens a store in dir.
func Open(dir string) (*Store, error) {
	for _, d := range []string{"chunks", "objects", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	return &Store{dir: dir, chunking: DefaultChunking}, nil
}

func (s *Store) chunkPath(h Hash) string {
	x := h.String()
	return filepath.Join(s.dir, "chunks", x[:2], x)
}

func (s *Store) manifestPath(root Hash) string {
	return filepath.Join(s.dir, "objects", root.String()+".json")
}

// Put stores the bytes of r and returns the object's manifest. Nothing is
// visible until everything is durable: chunks are written to temporary
// files and renamed into place (a chunk file is whole or absent), the
// file system is synced once (syncfs) after the last chunk, and only then
// is the manifest written and renamed — so a failed or interrupted put
// leaves no object, only unreferenced chunks.
func (s *Store) Put(r io.Reader, name string) (*Manifest, PutStats, error) {
	var st PutStats
	k, err := NewChunker(r, s.chunking)
	if err != nil {
		return nil, st, err
	}
	m := &Manifest{Name: name, Created: time.Now().UTC()}
	var leaves []Hash
	// Two stages on two cores: this goroutine reads, cuts and hashes; a
	// writer stores the chunks and, every 64 MiB, starts flushing dirty
	// pages in the background so little is left for the final sync.
	type item struct {
		h    Hash
		data []byte
	}
	items := make(chan item, 8)
	free := make(chan []byte, 10)
	for i := 0; i < cap(free); i++ {
		free <- make([]byte, 0, s.chunking.Max)
	}
	var writeErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		var sinceFlush int64
		flushing := make(chan struct{}, 1)
		for it := range items {
			if writeErr == nil {
				isNew, err := s.writeChunk(it.h, it.data)
				if err != nil {
					writeErr = err
				} else if isNew {
					st.NewChunks++
					st.NewBytes += int64(len(it.data))
					sinceFlush += int64(len(it.data))
				}
				if sinceFlush >= 64<<20 {
					sinceFlush = 0
					select {
					case flushing <- struct{}{}:
						go func() { _ = s.syncAll(); <-flushing }()
					default: // a flush is still running
					}
				}
			}
			free <- it.data[:0]
		}
		flushing <- struct{}{} // wait for a background flush to end
	}()
	var readErr error
	for {
		c, err := k.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = fmt.Errorf("reading the object after %d bytes: %w (nothing was stored)", m.Size, err)
			break
		}
		h := Hash(sha256.Sum256(c))
		buf := append(<-free, c...)
		items <- item{h, buf}
		st.Chunks++
		m.Chunks = append(m.Chunks, Chunk{Hash: h, Size: int64(len(c))})
		leaves = append(leaves, LeafHash(h, uint64(len(c))))
		m.Size += int64(len(c))
	}
	close(items)
	<-done
	if readErr != nil {
		return nil, st, readErr
	}
	if writeErr != nil {
		return nil, st, writeErr
	}
	m.Root = MerkleRoot(leaves)
	if err := s.syncAll(); err != nil {
		return nil, st, err
	}
	bz, err := json.Marshal(m)
	if err != nil {
		return nil, st, err
	}
	if err := s.writeFileAtomic(s.manifestPath(m.Root), bz, true); err != nil {
		return nil, st, err
	}
	return m, st, nil
}

// writeChunk stores a chunk unless it is there already.
func (s *Store) writeChunk(h Hash, data []byte) (bool, error) {
	p := s.chunkPath(h)
	if fi, err := os.Stat(p); err == nil && fi.Size() == int64(len(data)) {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return false, err
	}
	return true, s.writeFileAtomic(p, data, false)
}

// writeFileAtomic writes via a temporary file and a rename; with sync the
// file and its folder are fsynced (the manifest, the commit point).
func (s *Store) writeFileAtomic(path string, data []byte, sync bool) error {
	f, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "put-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if sync {
		d, err := os.Open(filepath.Dir(path))
		if err != nil {
			return err
		}
		defer d.Close()
		return d.Sync()
	}
	return nil
}

// syncAll flushes everything written to the store's file system in one
// call instead of one fsync per chunk.
func (s *Store) syncAll() error {
	f, err := os.Open(s.dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}

// Manifest reads an object's manifest.
func (s *Store) Manifest(root Hash) (*Manifest, error) {
	bz, err := os.ReadFile(s.manifestPath(root))
	if errors.Is(err, os.ErrNotExist) {
		return nil, &NotFoundError{Root: root}
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(bz, &m); err != nil {
		return nil, fmt.Errorf("manifest of %s is damaged: %w", root, err)
	}
	// The manifest itself must hash to its name.
	leaves := make([]Hash, len(m.Chunks))
	for i, c := range m.Chunks {
		leaves[i] = LeafHash(c.Hash, uint64(c.Size))
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
// bytes are written.
func (s *Store) Get(root Hash, w io.Writer) error {
	m, err := s.Manifest(root)
	if err != nil {
		return err
	}
	return s.copyRange(m, 0, m.Size, w)
}

// GetRange writes length bytes from offset (verified chunk by chunk).
func (s *Store) GetRange(root Hash, offset, length int64, w io.Writer) error {
	m, err := s.Manifest(root)
	if err != nil {
		return err
	}
	if offset < 0 || length < 0 || offset+length > m.Size {
		return fmt.Errorf("range %d+%d is outside the object (size %d)", offset, length, m.Size)
	}
	return s.copyRange(m, offset, length, w)
}

func (s *Store) copyRange(m *Manifest, offset, length int64, w io.Writer) error {
	var pos int64
	buf := make([]byte, 0, s.chunking.Max)
	end := offset + length
	for i, c := range m.Chunks {
		cs, ce := pos, pos+c.Size
		pos = ce
		if ce <= offset || cs >= end {
			continue
		}
		data, err := s.readChunk(m.Root, i, cs, c, buf)
		if err != nil {
			return err
		}
		from, to := max(offset, cs)-cs, min(end, ce)-cs
		if _, err := w.Write(data[from:to]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) readChunk(root Hash, i int, off int64, c Chunk, buf []byte) ([]byte, error) {
	f, err := os.Open(s.chunkPath(c.Hash))
	if errors.Is(err, os.ErrNotExist) {
		return nil, &CorruptError{Root: root, Chunk: i, Offset: off, Detail: "chunk " + c.Hash.String() + " is missing"}
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data := buf[:0]
	if int64(cap(data)) < c.Size+1 {
		data = make([]byte, 0, c.Size+1)
	}
	n, err := io.ReadFull(f, data[:c.Size+1])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	data = data[:n]
	if int64(n) != c.Size {
		return nil, &CorruptError{Root: root, Chunk: i, Offset: off, Detail: fmt.Sprintf("chunk has %d bytes on disk, want %d", n, c.Size)}
	}
	if Hash(sha256.Sum256(data)) != c.Hash {
		return nil, &CorruptError{Root: root, Chunk: i, Offset: off, Detail: "chunk bytes do not match their sha256"}
	}
	return data, nil
}

// Verify re-reads every chunk of an object and checks the root.
func (s *Store) Verify(root Hash) error { return s.Get(root, io.Discard) }

// List returns the manifests of every stored object, newest first.
func (s *Store) List() ([]*Manifest, error) {
	ents, err := os.ReadDir(filepath.Join(s.dir, "objects"))
	if err != nil {
		return nil, err
	}
	var out []*Manifest
	for _, e := range ents {
		name := e.Name()
		if filepath.Ext(name) != ".json" {
			continue
		}
		h, err := ParseHash(name[:len(name)-5])
		if err != nil {
			continue
		}
		m, err := s.Manifest(h)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}
