package store

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// Local is the default backend: chunks are appended to large pack files
// (sequential writes, one fdatasync per object, the way the disk is
// fastest) and an index in LevelDB maps each chunk hash to its place in
// a pack. Manifests live in the same index, so one synced index write
// commits an object.
//
// A commit syncs the pack and writes the index at the same time (the two
// syncs overlap instead of adding up). The index can therefore be durable
// a moment before the pack is: if the machine dies in that moment, the
// index names bytes that may not be on the disk. Commits are one at a
// time, so only the last one can be in that state, and the index marks
// the store open until Close: opening a store that was not closed checks
// every chunk of the last committed object and takes the object out again
// if any is not intact (TestUncleanShutdownDropsTheTornObject). A failed
// pack sync takes the object out at once. Either way an object is complete
// or absent, never half there.
//
// Layout: <dir>/packs/000001.pack …, <dir>/index (LevelDB).
type Local struct {
	dir string
	db  *leveldb.DB

	mu       sync.Mutex
	commitMu sync.Mutex  // one commit at a time (see Local)
	w        *packWriter // the pack being appended to
	readers  map[uint32]*os.File
	packMax  int64
}

const (
	prefixChunk    = 'c' // c<hash> → pack id (4) | offset (8) | size (4)
	prefixInline   = 'd' // d<hash> → the chunk's bytes (objects with little new data)
	prefixManifest = 'm' // m<root> → manifest JSON
	prefixPackEnd  = 'e' // e<pack id> → where the pack's data ends (its file is allocated further ahead)
	keyLastCommit  = "l" // the root of the last object committed
	keyOpen        = "o" // present while the store is open: at open, the last commit is checked
	// inlineMax: an object adding at most this many new bytes keeps them in
	// the index itself, so its put is one synced write instead of two. Past
	// a few chunks the pack is faster despite its second sync: LevelDB
	// writes the bytes twice (journal, then table) and compacts them again,
	// and falls behind under steady puts. BenchmarkPut, direct writes, with
	// the 1 MiB limit this replaces: 256 KiB objects 125–131 vs 165–170 MB/s
	// for 20 puts, 127–129 vs 245–253 MB/s for 200; 1 MiB objects 84–87 vs
	// 383–404 MB/s for 200.
	inlineMax      = 64 << 10
	defaultPackMax = 4 << 30
)

// OpenLocal opens (creating if needed) a local backend in dir.
func OpenLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(filepath.Join(dir, "packs"), 0o700); err != nil {
		return nil, err
	}
	// The Bloom filter answers "is this chunk stored?" for new chunks without reading table blocks,
	// which are full of small objects' inlined bytes: that lookup was 20% of the CPU of 300 1 MiB
	// puts, 2.5% with the filter (a third less CPU in all; the wall time is the syncs'). (A 32 MiB memtable instead of 4 made 1 MiB puts 1.45x faster too, but
	// LevelDB allocates it up front, and the heap of a streamed 2 GiB put is meant to stay small.)
	db, err := leveldb.OpenFile(filepath.Join(dir, "index"), &opt.Options{NoSync: false, Filter: filter.NewBloomFilter(10)})
	if err != nil {
		return nil, fmt.Errorf("opening the store index in %s: %w — another process is using this store; if it is a running `sahara up`, "+
			"use its HTTP API instead (--server http://127.0.0.1:8090 --key-file KEY) or choose another --dir", dir, err)
	}
	l := &Local{dir: dir, db: db, readers: map[uint32]*os.File{}, packMax: defaultPackMax}
	if err := l.checkLastCommit(); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.Put([]byte(keyOpen), nil, &opt.WriteOptions{Sync: true}); err != nil {
		db.Close()
		return nil, err
	}
	ents, err := os.ReadDir(filepath.Join(dir, "packs"))
	if err != nil {
		db.Close()
		return nil, err
	}
	last := uint32(1)
	for _, e := range ents {
		if id, ok := packID(e.Name()); ok && id > last {
			last = id
		}
	}
	if err := l.openPack(last); err != nil {
		db.Close()
		return nil, err
	}
	return l, nil
}

func packID(name string) (uint32, bool) {
	if !strings.HasSuffix(name, ".pack") {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(name, ".pack"), 10, 32)
	return uint32(n), err == nil
}

func (l *Local) packPath(id uint32) string {
	return filepath.Join(l.dir, "packs", fmt.Sprintf("%06d.pack", id))
}

// openPack opens pack id for appending after its data (creating it and
// syncing its folder so the new name survives a crash). Called with mu
// held or before the backend is shared.
func (l *Local) openPack(id uint32) error {
	p := l.packPath(id)
	end, known, err := l.packEnd(id)
	if err != nil {
		return err
	}
	fi, err := os.Stat(p)
	isNew := errors.Is(err, os.ErrNotExist)
	if err != nil && !isNew {
		return err
	}
	if !known && !isNew {
		end = fi.Size() // written before ends were recorded: the file is the data
	}
	w, err := newPackWriter(id, p, end)
	if err != nil {
		return err
	}
	if !known {
		// Record the end before any commit names this pack, so that a crash
		// before the first one does not count its allocation as data.
		if err := l.db.Put(packEndKey(id), packEndValue(end), &opt.WriteOptions{Sync: true}); err != nil {
			w.close()
			return err
		}
	}
	if isNew {
		if err := syncDir(filepath.Dir(p)); err != nil {
			w.close()
			return err
		}
	}
	l.w = w
	return nil
}

func packEndKey(id uint32) []byte { return binary.BigEndian.AppendUint32([]byte{prefixPackEnd}, id) }

func packEndValue(end int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(end)) }

func (l *Local) packEnd(id uint32) (int64, bool, error) {
	v, err := l.db.Get(packEndKey(id), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil || len(v) != 8 {
		return 0, false, fmt.Errorf("the store index's end of pack %d is damaged (%d bytes): %v", id, len(v), err)
	}
	return int64(binary.BigEndian.Uint64(v)), true, nil
}

// checkLastCommit runs at open: if the store was not closed, the last
// object committed may name bytes the machine never wrote (see Local), so
// every chunk of it is read and checked, and the object is taken out
// again if one is not intact.
func (l *Local) checkLastCommit() error {
	if ok, err := l.db.Has([]byte(keyOpen), nil); err != nil || !ok {
		return err
	}
	v, err := l.db.Get([]byte(keyLastCommit), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var root Hash
	copy(root[:], v)
	bz, err := l.ReadManifest(root)
	if errors.Is(err, ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	m, err := parseManifest(root, bz)
	var torn []Hash
	if err == nil {
		buf := make([]byte, 0, DefaultChunking.Max+gcmOverhead)
		for _, c := range m.Chunks {
			key, size := c.storedAs()
			data, rerr := l.ReadChunk(key, size, buf)
			if rerr != nil || int64(len(data)) != size || Hash(sha256.Sum256(data)) != key {
				torn = append(torn, key)
			}
		}
	}
	if err == nil && len(torn) == 0 {
		return nil
	}
	var wb leveldb.Batch
	wb.Delete(manifestKey(root))
	for _, h := range torn {
		wb.Delete(chunkKey(h))
	}
	return l.db.Write(&wb, &opt.WriteOptions{Sync: true})
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (l *Local) Describe() string { return "local store in " + l.dir }

func chunkKey(h Hash) []byte    { return append([]byte{prefixChunk}, h[:]...) }
func manifestKey(h Hash) []byte { return append([]byte{prefixManifest}, h[:]...) }

func inlineKey(h Hash) []byte { return append([]byte{prefixInline}, h[:]...) }

func (l *Local) HasChunk(h Hash) (bool, error) {
	if ok, err := l.db.Has(chunkKey(h), nil); ok || err != nil {
		return ok, err
	}
	return l.db.Has(inlineKey(h), nil)
}

type packLoc struct {
	pack uint32
	off  int64
	size int64
}

func (p packLoc) encode() []byte {
	var b [16]byte
	binary.BigEndian.PutUint32(b[0:], p.pack)
	binary.BigEndian.PutUint64(b[4:], uint64(p.off))
	binary.BigEndian.PutUint32(b[12:], uint32(p.size))
	return b[:]
}

func decodeLoc(b []byte) (packLoc, error) {
	if len(b) != 16 {
		return packLoc{}, fmt.Errorf("index entry of %d bytes, want 16", len(b))
	}
	return packLoc{binary.BigEndian.Uint32(b[0:]), int64(binary.BigEndian.Uint64(b[4:])), int64(binary.BigEndian.Uint32(b[12:]))}, nil
}

// locate returns where a chunk is stored (tests use it to damage one).
func (l *Local) locate(h Hash) (string, packLoc, error) {
	v, err := l.db.Get(chunkKey(h), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return "", packLoc{}, ErrNotExist
	}
	if err != nil {
		return "", packLoc{}, err
	}
	loc, err := decodeLoc(v)
	return l.packPath(loc.pack), loc, err
}

func (l *Local) reader(id uint32) (*os.File, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f, ok := l.readers[id]; ok {
		return f, nil
	}
	f, err := os.Open(l.packPath(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotExist
	}
	if err != nil {
		return nil, err
	}
	l.readers[id] = f
	return f, nil
}

func (l *Local) ReadChunk(h Hash, size int64, buf []byte) ([]byte, error) {
	_, loc, err := l.locate(h)
	if errors.Is(err, ErrNotExist) {
		v, ierr := l.db.Get(inlineKey(h), nil)
		if ierr == nil {
			return append(buf[:0], v...), nil
		}
		if !errors.Is(ierr, leveldb.ErrNotFound) {
			return nil, ierr
		}
	}
	if err != nil {
		return nil, err
	}
	if loc.size != size {
		return nil, fmt.Errorf("the index has chunk %s at %d bytes, the manifest says %d", h, loc.size, size)
	}
	f, err := l.reader(loc.pack)
	if err != nil {
		return nil, err
	}
	if int64(cap(buf)) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	n, err := f.ReadAt(buf, loc.off)
	if errors.Is(err, io.EOF) {
		err = nil // a short read is reported by the caller's size check
	}
	return buf[:n], err
}

func (l *Local) ReadManifest(root Hash) ([]byte, error) {
	v, err := l.db.Get(manifestKey(root), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, ErrNotExist
	}
	return v, err
}

func (l *Local) ListManifests() ([]Hash, error) {
	it := l.db.NewIterator(util.BytesPrefix([]byte{prefixManifest}), nil)
	defer it.Release()
	var out []Hash
	for it.Next() {
		var h Hash
		copy(h[:], it.Key()[1:])
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, it.Error()
}

func (l *Local) Close() error {
	l.commitMu.Lock()
	defer l.commitMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	end, id := l.w.end(), l.w.id
	werr := l.w.close()
	for _, f := range l.readers {
		f.Close()
	}
	l.readers = map[uint32]*os.File{}
	if werr == nil { // closed cleanly: the next open need not check the last commit
		var wb leveldb.Batch
		wb.Put(packEndKey(id), packEndValue(end))
		wb.Delete([]byte(keyOpen))
		werr = l.db.Write(&wb, &opt.WriteOptions{Sync: true})
	}
	if err := l.db.Close(); err != nil {
		return err
	}
	return werr
}

// append adds data at the end of the current pack, rolling to a new pack
// when it is full, and returns where it went and the pack's writer
// (large: see packWriter.append).
func (l *Local) append(data []byte, large bool) (packLoc, *packWriter, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w.err != nil && !l.w.closed {
		// A write failed (a full disk, say). The puts with bytes in this
		// pack fail at their commit; a new pack lets later puts work again
		// once the cause is gone.
		l.w.close()
		if err := l.openPack(l.w.id + 1); err != nil {
			return packLoc{}, nil, err
		}
	}
	if end := l.w.end(); end > 0 && end+int64(len(data)) > l.packMax {
		if err := l.w.close(); err != nil {
			return packLoc{}, nil, err
		}
		if err := l.openPack(l.w.id + 1); err != nil {
			return packLoc{}, nil, err
		}
	}
	off, err := l.w.append(data, large)
	if err != nil {
		return packLoc{}, nil, err
	}
	return packLoc{pack: l.w.id, off: off, size: int64(len(data))}, l.w, nil
}

// flushPack writes out everything appended to w so far (a pack closed
// since was flushed and synced by its close, which says how that went).
func (l *Local) flushPack(w *packWriter) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w != l.w {
		return w.sync()
	}
	return w.flush()
}

type localBatch struct {
	l       *Local
	entries map[Hash]packLoc
	touched map[*packWriter]bool // packs written to
	// While an object's new bytes fit in inlineMax they wait here and go
	// into the index with the manifest; past that, everything goes to the
	// pack.
	inline     map[Hash][]byte
	inlineSize int
	packed     int64 // bytes this batch appended to packs
}

// largeAfter: past this many bytes, a put's chunks are appended as a large
// put's (packWriter.append).
const largeAfter = 2 << 20

func (l *Local) NewBatch() (Batch, error) {
	return &localBatch{l: l, entries: map[Hash]packLoc{}, touched: map[*packWriter]bool{}, inline: map[Hash][]byte{}}, nil
}

func (b *localBatch) PutChunk(h Hash, data []byte) error {
	if _, ok := b.entries[h]; ok {
		return nil
	}
	if _, ok := b.inline[h]; ok {
		return nil
	}
	if b.inline != nil && b.inlineSize+len(data) <= inlineMax {
		b.inline[h] = append([]byte(nil), data...)
		b.inlineSize += len(data)
		return nil
	}
	if b.inline != nil { // too big to inline: move what waited to the pack
		pending := b.inline
		b.inline = nil
		for ph, pd := range pending {
			if err := b.toPack(ph, pd); err != nil {
				return err
			}
		}
	}
	return b.toPack(h, data)
}

func (b *localBatch) toPack(h Hash, data []byte) error {
	loc, w, err := b.l.append(data, b.packed >= largeAfter)
	b.packed += int64(len(data))
	if err != nil {
		return err
	}
	b.entries[h] = loc
	b.touched[w] = true
	return nil
}

func (b *localBatch) Commit(root Hash, manifest []byte) error {
	l := b.l
	l.commitMu.Lock()
	defer l.commitMu.Unlock()
	for w := range b.touched {
		if err := l.flushPack(w); err != nil {
			return err
		}
	}
	var wb leveldb.Batch
	for h, loc := range b.entries {
		wb.Put(chunkKey(h), loc.encode())
	}
	for h, data := range b.inline {
		wb.Put(inlineKey(h), data)
	}
	wb.Put(manifestKey(root), manifest)
	wb.Put([]byte(keyLastCommit), root[:])
	l.mu.Lock()
	wb.Put(packEndKey(l.w.id), packEndValue(l.w.end()))
	l.mu.Unlock()
	// Sync the packs and write the index at the same time.
	synced := make(chan error, 1)
	go func() {
		var err error
		for w := range b.touched {
			if serr := w.sync(); err == nil {
				err = serr
			}
		}
		synced <- err
	}()
	ierr := l.db.Write(&wb, &opt.WriteOptions{Sync: true})
	if serr := <-synced; serr != nil {
		if ierr == nil { // the index names bytes that may not be durable: take the object out again
			var undo leveldb.Batch
			undo.Delete(manifestKey(root))
			for h := range b.entries {
				undo.Delete(chunkKey(h))
			}
			if uerr := l.db.Write(&undo, &opt.WriteOptions{Sync: true}); uerr != nil {
				return fmt.Errorf("%w; and taking the object out of the index again failed too: %v (the next open checks it)", serr, uerr)
			}
		}
		return serr
	}
	return ierr
}

func (b *localBatch) Abort() {}
