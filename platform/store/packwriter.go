package store

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// packWriter appends to one pack file through a ring of aligned buffers.
// The put that appends keeps filling buffers while earlier ones are on
// their way to the disk, and what has come is sent to the disk as soon as
// there is a stretch worth a write (eagerWrite), so by the time a put
// commits its bytes are mostly written.
//
// Where the filesystem allows it the pack is written with O_DIRECT: bytes go
// from the buffer to the disk without a copy into the page cache (on this
// project's VMs the page-cache path costs more CPU than cutting and hashing
// together), and the commit's fdatasync then only flushes the device cache
// and the file's metadata. Direct writes start and end on 4 KiB
// boundaries, so a flush pads the last partial block with zeros and the next
// append starts after it: at most 4 KiB per committed object that reached a
// pack (objects with ≤ 64 KiB of new bytes live in the index and never do).
//
// Writes are submitted without waiting (Linux AIO, see blockWriter) and
// reaped when the next one is submitted: a write that blocked would hold one
// of the Go scheduler's Ps for as long as the disk takes, and on two cores
// that leaves part of the cutting and hashing undone (BenchmarkHashingBesideWrites:
// two hashers keep 3.3–3.8 GB/s beside 1.5 GB/s of asynchronous writes,
// 2.7–3.0 beside blocking ones, 4.4 with no writes). The file
// is allocated ahead of the writes (fallocate) because ext4 completes an
// asynchronous direct write that extends the file before returning from the
// submission. Its data ends at end(), which the index records at every
// commit; a closed pack is truncated to it.
//
// Elsewhere the same buffers are written through the page cache by a
// goroutine, with writeback started after each write.
type packWriter struct {
	id     uint32
	path   string
	f      *os.File
	direct bool
	io     blockWriter

	// The rest is used under Local.mu.
	ring     [packRing]packBuf
	cur      int   // ring[cur] is being filled
	off      int64 // file offset of ring[cur].b[0]; aligned when direct
	sent     int   // ring[cur].b[:sent] is submitted already
	inflight int   // submitted writes not yet reaped
	alloc    int64 // the file is allocated up to here
	noAlloc  bool  // the filesystem cannot allocate ahead
	err      error // the first failure; every later append and flush reports it

	closeMu  sync.RWMutex // close waits for syncs in progress
	closed   bool
	closeErr error // what closing's own flush and sync reported
}

type packBuf struct {
	b       []byte // aligned, cap packBufSize; nil when not in use
	pending int    // submitted writes from it not yet done
}

const (
	packAlign   = 4096
	packBufSize = 2 << 20
	packRing    = 4
	// eagerWrite, eagerWriteLarge: the least that is sent to the disk
	// before a buffer is full, in a put's first 2 MiB and in a large put
	// past them. Direct writes of 256 KiB left a 100 MiB put waiting
	// 9.8-12.4 ms on the disk (BenchmarkPut's disk-wait-ms; this VM's disk
	// takes 1.5-2.0 GB/s in 256 KiB direct writes and 2.5-2.7 in 1-2 MiB
	// ones, dd oflag=direct); 1 MiB writes cut that to 0.5-3.9 ms, and
	// 100 MiB puts ran faster in 4 of 4 alternations.
	eagerWrite      = 256 << 10
	eagerWriteLarge = 1024 << 10
	// idleWrite: the least that is sent to a disk with nothing to do (a
	// small object's first bytes start on their way early).
	idleWrite = 64 << 10
	// maxInflight bounds the writes the disk has at once.
	maxInflight = 8
	// allocStep: how far ahead of the writes the file is allocated.
	allocStep = 64 << 20
)

func alignUp(n int64) int64 { return (n + packAlign - 1) &^ (packAlign - 1) }

// packBufs lend the write buffers: a store holds them only while it writes,
// so an idle one (or one that only stores small objects) holds none.
var packBufs = &bufPool{size: packBufSize, keep: packRing}

// alignedBuffer returns n bytes starting on a packAlign boundary, as direct
// I/O requires of the memory too.
func alignedBuffer(n int) []byte {
	b := make([]byte, n+packAlign)
	skip := int(-uintptr(unsafe.Pointer(unsafe.SliceData(b))) & (packAlign - 1))
	return b[skip : skip : skip+n]
}

// newPackWriter opens pack id at path for appending after end bytes.
func newPackWriter(id uint32, path string, end int64) (*packWriter, error) {
	f, direct, err := openPackForWriting(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	w := &packWriter{id: id, path: path, f: f, direct: direct, off: end, alloc: fi.Size()}
	if direct {
		w.off = alignUp(end)
		if asyncIO {
			w.io = newAsyncWriter(f)
		}
	}
	if w.io == nil {
		w.io = newThreadWriter(f, !direct)
	}
	return w, nil
}

// end is where the next append goes.
func (w *packWriter) end() int64 {
	return w.off + int64(len(w.ring[w.cur].b))
}

func (w *packWriter) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// append copies data into the buffers and returns its offset in the pack.
//
// A small put (large false: a put's first 2 MiB) keeps the disk busy: its
// bytes go out 64 KiB at a time whenever the disk has finished what it
// was sent (idle), so little is left to write when the put commits. With
// its chunks also cut and hashed a few at a time (eachInline), 1 MiB puts
// waited 0.12-0.16 ms on the disk instead of 0.26-0.33, and ran faster in
// 10 of 12 alternations (BenchmarkPut, test binaries in turn; 3% on
// average), for up to 8% more CPU (more, smaller writes).
//
// A large put's bytes go out in larger writes (eagerWriteLarge), and
// the copy bypasses the caches (copyToDisk): the buffers are read only
// by the disk, and the put's cutting and hashing keep the caches. 100 MiB
// puts, BenchmarkPut, test binaries in turn: 2,130-2,395 vs 2,057-2,357
// MB/s and 0.74-0.82 vs 0.76-0.87 ns of CPU a byte with the uncached
// copy, faster in 4 of 4 alternations.
func (w *packWriter) append(data []byte, large bool) (int64, error) {
	if w.err != nil {
		return 0, w.err
	}
	at := w.end()
	put := func(dst, src []byte) int { return copy(dst, src) }
	if large {
		put = copyToDisk
	}
	for len(data) > 0 {
		buf := &w.ring[w.cur]
		if buf.b == nil {
			buf.b = packBufs.get()
		}
		n := put(buf.b[len(buf.b):cap(buf.b)], data)
		buf.b = buf.b[:len(buf.b)+n]
		data = data[n:]
		if len(buf.b) == cap(buf.b) {
			w.submit(len(buf.b))
			w.next()
		} else if ready := len(buf.b) &^ (packAlign - 1); w.worthWriting(ready-w.sent, large) {
			// The disk reads buf[sent:ready] while later appends fill
			// the rest of the buffer: the two never touch the same bytes.
			w.submit(ready)
		}
		if w.err != nil {
			return 0, w.err
		}
	}
	return at, w.err
}

// worthWriting says whether pending bytes of the current buffer should go
// to the disk now, before it fills (see append): a small put's once the
// disk has finished what it was sent (a non-blocking reap tells), a large
// one's once it has none in flight by the last count.
func (w *packWriter) worthWriting(pending int, large bool) bool {
	if w.inflight >= maxInflight {
		return false
	}
	if large {
		return pending >= eagerWriteLarge || pending >= idleWrite && w.inflight == 0
	}
	if pending >= eagerWrite {
		return true
	}
	if pending < idleWrite {
		return false
	}
	if w.inflight > 0 {
		w.reap(false)
	}
	return w.inflight == 0
}

// submit sends ring[cur].b[sent:upto] to the disk.
func (w *packWriter) submit(upto int) {
	if upto <= w.sent || w.err != nil {
		return
	}
	if w.inflight > 0 {
		w.reap(false) // take what has finished, so buffers and slots come back
	}
	for w.inflight >= maxInflight && w.err == nil {
		w.reap(true)
	}
	at := w.off + int64(w.sent)
	if end := w.off + int64(upto); end > w.alloc && !w.noAlloc {
		// Allocate ahead, so the write does not extend the file.
		size := max(end, w.alloc) + allocStep
		if err := allocate(w.f, w.alloc, size-w.alloc); err != nil {
			w.noAlloc = true
		} else {
			w.alloc = size
		}
	}
	if err := w.io.submit(w.ring[w.cur].b[w.sent:upto], at, uint64(w.cur)); err != nil {
		w.fail(fmt.Errorf("writing to %s: %w", w.path, err))
		return
	}
	w.ring[w.cur].pending++
	w.inflight++
	w.sent = upto
}

// next moves to the next buffer of the ring once its writes are done.
func (w *packWriter) next() {
	w.off += int64(len(w.ring[w.cur].b))
	w.cur = (w.cur + 1) % packRing
	w.sent = 0
	for w.ring[w.cur].pending > 0 && w.err == nil {
		w.reap(true)
	}
	if w.ring[w.cur].b != nil {
		w.ring[w.cur].b = w.ring[w.cur].b[:0]
	}
}

// diskWait sums the time appends and flushes have waited for the disk
// (BenchmarkPut reports it a put).
var diskWait atomic.Int64

// reap takes the finished writes (waiting for one when wait is set).
func (w *packWriter) reap(wait bool) {
	var t0 time.Time
	if wait {
		t0 = time.Now()
	}
	done, err := w.io.reap(wait)
	if wait {
		diskWait.Add(int64(time.Since(t0)))
	}
	if err != nil {
		w.fail(fmt.Errorf("writing to %s: %w", w.path, err))
	}
	for _, d := range done {
		w.ring[d.tag].pending--
		w.inflight--
		if d.err != nil {
			w.fail(fmt.Errorf("writing to %s: %w", w.path, d.err))
		}
	}
	if err != nil || (wait && len(done) == 0) {
		// The writes cannot be waited for: stop waiting for them.
		for i := range w.ring {
			w.ring[i].pending = 0
		}
		w.inflight = 0
		if err == nil {
			w.fail(fmt.Errorf("writing to %s: no write finished", w.path))
		}
	}
}

// flush writes out everything appended so far and waits for it; after it
// the buffers go back to the pool and the next append starts on an
// aligned offset. The caller holds Local.mu.
func (w *packWriter) flush() error {
	buf := &w.ring[w.cur]
	if n := len(buf.b); n > 0 {
		if w.direct && n%packAlign != 0 {
			padded := int(alignUp(int64(n)))
			clear(buf.b[n:padded])
			buf.b = buf.b[:padded]
		}
		w.submit(len(buf.b))
	}
	for w.inflight > 0 && w.err == nil {
		w.reap(true)
	}
	if w.err != nil {
		return w.err
	}
	w.off += int64(len(buf.b))
	w.sent = 0
	for i := range w.ring {
		if w.ring[i].b != nil {
			packBufs.put(w.ring[i].b)
			w.ring[i].b = nil
		}
	}
	return nil
}

// sync makes everything flushed so far durable. A pack closed meanwhile
// was synced by close, which reported how that went.
func (w *packWriter) sync() error {
	w.closeMu.RLock()
	defer w.closeMu.RUnlock()
	if w.closed {
		return w.closeErr
	}
	if err := packSync(w.f); err != nil {
		return fmt.Errorf("syncing %s: %w", w.path, err)
	}
	return nil
}

// packSync is fdatasync; tests make it fail.
var packSync = fdatasync

// close flushes, syncs, trims the allocation to the data and closes the
// pack, even when one of those fails. The caller holds Local.mu.
func (w *packWriter) close() error {
	err := w.flush()
	if err == nil && w.alloc > w.off {
		if terr := w.f.Truncate(w.off); terr != nil {
			err = terr
		}
	}
	if err == nil {
		err = w.sync()
	}
	w.closeMu.Lock()
	defer w.closeMu.Unlock()
	w.io.close()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.closed, w.closeErr = true, err
	w.fail(fmt.Errorf("%s is closed", w.path))
	return err
}

// asyncIO can be turned off to test the portable writer on direct writes.
var asyncIO = true

// A blockWriter writes buffers at offsets without making its caller wait.
type blockWriter interface {
	// submit starts writing b at off; b must not change until its tag is
	// reaped.
	submit(b []byte, off int64, tag uint64) error
	// reap returns the writes finished since the last call; with wait it
	// blocks until at least one has.
	reap(wait bool) ([]writeDone, error)
	close()
}

type writeDone struct {
	tag uint64
	err error
}

// threadWriter writes on a goroutine of its own: the portable blockWriter,
// and the one for page-cache writes.
type threadWriter struct {
	jobs chan threadJob
	done chan writeDone
	out  []writeDone
}

type threadJob struct {
	b   []byte
	off int64
	tag uint64
}

func newThreadWriter(f *os.File, writeback bool) *threadWriter {
	t := &threadWriter{jobs: make(chan threadJob, maxInflight), done: make(chan writeDone, maxInflight)}
	go func() {
		defer close(t.done)
		for j := range t.jobs {
			_, err := f.WriteAt(j.b, j.off)
			if err == nil && writeback {
				startWriteback(f, j.off+int64(len(j.b)))
			}
			t.done <- writeDone{j.tag, err}
		}
	}()
	return t
}

func (t *threadWriter) submit(b []byte, off int64, tag uint64) error {
	t.jobs <- threadJob{b, off, tag}
	return nil
}

func (t *threadWriter) reap(wait bool) ([]writeDone, error) {
	t.out = t.out[:0]
	if wait {
		d, ok := <-t.done
		if !ok {
			return nil, nil
		}
		t.out = append(t.out, d)
	}
	for {
		select {
		case d, ok := <-t.done:
			if !ok {
				return t.out, nil
			}
			t.out = append(t.out, d)
		default:
			return t.out, nil
		}
	}
}

func (t *threadWriter) close() {
	close(t.jobs)
	for range t.done {
	}
}
