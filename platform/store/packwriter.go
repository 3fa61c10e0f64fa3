package store

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"
)

// packWriter appends to one pack file through two aligned buffers: the put
// fills one while a goroutine writes the other, so the disk works while the
// put cuts and hashes instead of after it. A buffer is not held back until
// it is full when the disk has nothing to do: what has come goes out, so a
// 1 MiB object is mostly on the disk by the time its put commits, while a
// long stream, which keeps the disk busy, still writes whole buffers.
//
// Where the filesystem allows it the pack is written with O_DIRECT: bytes go
// from the buffer to the disk without a copy into the page cache (a fifth of
// a large put's CPU), and nothing is left dirty for the commit's fdatasync,
// which then only flushes the device cache and the file's size. Direct writes
// start and end on 4 KiB boundaries, so a flush pads the last partial block
// with zeros and the next append starts after it: at most 4 KiB per committed
// object that reached a pack (objects with ≤ 64 KiB of new bytes live in the
// index and never do). Elsewhere the same buffers are written through the
// page cache, with writeback started after each one.
type packWriter struct {
	id     uint32
	path   string
	f      *os.File
	direct bool

	// Filled by the caller under Local.mu.
	buf  []byte // len = bytes filled, cap = packBufSize; nil until an append needs it
	sent int    // buf[:sent] is handed to the writer goroutine already; aligned
	off  int64  // file offset of buf[0]; aligned when direct
	bufs int    // buffers taken from packBufs: in buf, being written or in spare

	spare   chan []byte   // buffers the writer goroutine is done with
	jobs    chan writeJob // buffers to write, in order
	pending atomic.Int32  // jobs sent and not yet done

	errMu sync.Mutex
	err   error // the first write error; every later append and flush reports it

	closeMu  sync.RWMutex // close waits for syncs in progress
	closed   bool
	closeErr error // what closing's own flush and sync reported
}

type writeJob struct {
	data    []byte // a stretch of a buffer, to write at off
	off     int64
	recycle []byte     // when set: the buffer data was the last stretch of, to hand back
	done    chan error // when set: this and every earlier write are done
}

const (
	packAlign   = 4096
	packBufSize = 4 << 20
	// eagerWrite: the least a buffer sends to an idle disk before it is
	// full (smaller writes cost more syscalls than they save).
	eagerWrite = 256 << 10
)

func alignUp(n int64) int64 { return (n + packAlign - 1) &^ (packAlign - 1) }

// packBufs lend the write buffers: a store holds them only while it writes,
// so an idle one (or one that only stores small objects) holds none.
var packBufs = sync.Pool{New: func() any { b := alignedBuffer(packBufSize); return &b }}

// alignedBuffer returns n bytes starting on a packAlign boundary, as direct
// I/O requires of the memory too.
func alignedBuffer(n int) []byte {
	b := make([]byte, n+packAlign)
	skip := int(-uintptr(unsafe.Pointer(unsafe.SliceData(b))) & (packAlign - 1))
	return b[skip : skip : skip+n]
}

// newPackWriter opens pack id at path for appending after size bytes.
func newPackWriter(id uint32, path string, size int64) (*packWriter, error) {
	f, direct, err := openPackForWriting(path)
	if err != nil {
		return nil, err
	}
	w := &packWriter{id: id, path: path, f: f, direct: direct, off: size,
		spare: make(chan []byte, 2), jobs: make(chan writeJob, 2)}
	if direct {
		w.off = alignUp(size)
	}
	go w.run()
	return w, nil
}

func (w *packWriter) run() {
	for j := range w.jobs {
		if len(j.data) > 0 && w.failed() == nil {
			if _, err := w.f.WriteAt(j.data, j.off); err != nil {
				w.fail(fmt.Errorf("writing to %s: %w", w.path, err))
			} else if !w.direct {
				startWriteback(w.f, j.off+int64(len(j.data)))
			}
		}
		if j.recycle != nil {
			w.spare <- j.recycle[:0]
		}
		w.pending.Add(-1)
		if j.done != nil {
			j.done <- w.failed()
		}
	}
}

func (w *packWriter) fail(err error) {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

func (w *packWriter) failed() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

// end is where the next append goes.
func (w *packWriter) end() int64 { return w.off + int64(len(w.buf)) }

// append copies data into the buffers and returns its offset in the pack.
// The caller holds Local.mu.
func (w *packWriter) append(data []byte) (int64, error) {
	if err := w.failed(); err != nil {
		return 0, err
	}
	at := w.end()
	for len(data) > 0 {
		if w.buf == nil {
			w.take()
		}
		n := copy(w.buf[len(w.buf):cap(w.buf)], data)
		w.buf = w.buf[:len(w.buf)+n]
		data = data[n:]
		if len(w.buf) == cap(w.buf) {
			w.submit(nil)
		} else if ready := len(w.buf) &^ (packAlign - 1); ready-w.sent >= eagerWrite && w.pending.Load() == 0 {
			// The writer reads buf[sent:ready] while later appends fill
			// the rest: the two never touch the same bytes.
			w.send(writeJob{data: w.buf[w.sent:ready], off: w.off + int64(w.sent)})
			w.sent = ready
		}
	}
	return at, nil
}

// take gets a buffer to fill: a new one while fewer than two are out, else
// the one the writer goroutine finishes first.
func (w *packWriter) take() {
	if w.bufs < 2 {
		w.buf = (*packBufs.Get().(*[]byte))[:0]
		w.bufs++
		return
	}
	w.buf = <-w.spare
}

// release returns the buffers no write is using to the pool. The caller
// holds Local.mu.
func (w *packWriter) release() {
	for {
		select {
		case b := <-w.spare:
			packBufs.Put(&b)
			w.bufs--
		default:
			return
		}
	}
}

// submit hands the rest of the buffer, however full, to the writer
// goroutine; the next append takes another. The caller holds Local.mu.
func (w *packWriter) submit(done chan error) {
	n := int64(len(w.buf))
	if w.direct && n%packAlign != 0 {
		padded := alignUp(n)
		clear(w.buf[n:padded])
		w.buf = w.buf[:padded]
		n = padded
	}
	w.send(writeJob{data: w.buf[w.sent:], off: w.off + int64(w.sent), recycle: w.buf, done: done})
	w.off += n
	w.buf, w.sent = nil, 0
}

func (w *packWriter) send(j writeJob) {
	w.pending.Add(1)
	w.jobs <- j
}

// startFlush writes out everything appended so far; receiving from the
// returned channel waits for it. The caller holds Local.mu.
func (w *packWriter) startFlush() chan error {
	done := make(chan error, 1)
	if err := w.failed(); err != nil {
		done <- err
		return done
	}
	w.submit(done)
	return done
}

// sync makes everything flushed so far durable. A pack closed meanwhile
// was synced by close, which reported how that went.
func (w *packWriter) sync() error {
	w.closeMu.RLock()
	defer w.closeMu.RUnlock()
	if w.closed {
		return w.closeErr
	}
	if err := fdatasync(w.f); err != nil {
		return fmt.Errorf("syncing %s: %w", w.path, err)
	}
	return nil
}

// close flushes, syncs and closes the pack, and stops its goroutine even
// when that fails. The caller holds Local.mu.
func (w *packWriter) close() error {
	err := <-w.startFlush()
	if err == nil {
		err = w.sync()
	}
	w.closeMu.Lock()
	defer w.closeMu.Unlock()
	close(w.jobs)
	w.release()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.closed, w.closeErr = true, err
	w.fail(fmt.Errorf("%s is closed", w.path))
	return err
}
