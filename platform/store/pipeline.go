package store

import (
	"errors"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
)

// A chunk stream cuts and hashes a byte stream on every core while the
// consumer takes the chunks strictly in order. Cutting is parallel too:
// the stream is read in segments, and each segment is cut by its own
// worker as if a chunk began at its first byte. A content-defined cut
// depends only on where the chunk starts and on the next Chunking.Max
// bytes, so once the true chunk sequence, continued across a segment
// boundary by the sequencer, lands on one of the segment's own cuts, every
// later cut of that segment is the true one. That usually happens within a
// chunk or two of the boundary; the chunks before it are cut and hashed
// again by the sequencer, and the worker's guesses for them are dropped.
// The chunks are exactly those of the plain sequential Chunker
// (TestChunkStreamMatchesTheChunker).
//
//	reader ──segments──▶ cutters (one per core) ──guessed chunks──▶ hashers (one per core)
//	   └──────segments in order──▶ sequencer ──chunks in order──▶ consumer (waits for each hash)
type chunkStream struct {
	c       Chunking
	process func(*streamChunk) // hash (and seal) one chunk; runs on the hashers
	out     chan *streamChunk  // the chunks in order
	stop    chan struct{}      // closed when the consumer gives up early
	stopped sync.Once
	wg      sync.WaitGroup // every goroutine of the stream
	err     error          // the reader's error, set before out is closed
	segs    chan []byte    // free segment buffers; their number bounds the memory
	nsegs   int
}

// streamChunk is one chunk on its way to the consumer. data points into a
// segment buffer or, for a chunk across a segment boundary, into a buffer
// of its own; either is valid until the consumer calls done.
type streamChunk struct {
	data  []byte
	hash  Hash // set by process; wait for ready
	ready chan struct{}
	// Private objects: set by process.
	sealed []byte
	key    Hash
	err    error

	seg       *segment // whose buffer data is in, or nil
	own       *[]byte  // data's own buffer, returned to chunkBufs
	sealedBuf *[]byte  // sealed's buffer, returned to sealedBufs
	state atomic.Int32
}

const (
	chunkPending = iota
	chunkHashed
	chunkDropped
)

type segment struct {
	start int64 // offset of buf[0] in the stream
	buf   []byte
	last  bool          // the stream ends with this segment
	done  chan struct{} // closed when the cutter has set cuts and guesses
	cuts  []int         // chunk starts the cutter found, from 0; the last is where its exact cutting stopped
	guess []*streamChunk
	refs  atomic.Int32 // the sequencer's and each chunk's: at zero the buffer is free
	cs    *chunkStream
}

func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		s.cs.segs <- s.buf[:0]
	}
}

// Segment sizes: the first is small, so a 1 MiB object is still cut on
// two cores; later ones grow to segMax, so boundaries (each cut and hashed
// twice for a chunk or two) stay rare. Each is at least 2*Max, so a
// segment always holds the Max bytes a cut looks ahead.
const (
	segFirst = 512 << 10
	segMax   = 2 << 20
)

var segBufs = sync.Pool{New: func() any { b := make([]byte, 0, segMax); return &b }}

func startChunkStream(r io.Reader, c Chunking, process func(*streamChunk)) *chunkStream {
	workers := runtime.GOMAXPROCS(0)
	cs := &chunkStream{c: c, process: process, out: make(chan *streamChunk, 64), stop: make(chan struct{}), nsegs: workers + 2}
	cs.segs = make(chan []byte, cs.nsegs)
	for range cs.nsegs {
		cs.segs <- (*segBufs.Get().(*[]byte))[:0]
	}
	toCut := make(chan *segment, cs.nsegs)
	inOrder := make(chan *segment, cs.nsegs)
	hashQ := make(chan *streamChunk, 256)
	var cutters, hashers sync.WaitGroup
	for range workers {
		cutters.Add(1)
		go func() {
			defer cutters.Done()
			for s := range toCut {
				cs.cut(s, hashQ)
			}
		}()
		hashers.Add(1)
		go func() {
			defer hashers.Done()
			for ch := range hashQ {
				cs.process(ch)
				if !ch.state.CompareAndSwap(chunkPending, chunkHashed) { // dropped meanwhile
					ch.release()
				}
				close(ch.ready)
			}
		}()
	}
	cs.wg.Add(3)
	go func() { // reader
		defer cs.wg.Done()
		defer close(inOrder)
		defer close(toCut)
		cs.err = cs.read(r, toCut, inOrder)
	}()
	go func() { // sequencer
		defer cs.wg.Done()
		defer close(cs.out)
		defer func() { cutters.Wait(); close(hashQ) }()
		cs.sequence(inOrder, hashQ)
	}()
	go func() {
		defer cs.wg.Done()
		hashers.Wait()
	}()
	return cs
}

func (cs *chunkStream) read(r io.Reader, toCut, inOrder chan<- *segment) error {
	size := segFirst
	var start int64
	for {
		var buf []byte
		select {
		case buf = <-cs.segs:
		case <-cs.stop:
			return nil
		}
		n, err := io.ReadFull(r, buf[:size])
		last := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !last {
			cs.segs <- buf
			return err
		}
		s := &segment{start: start, buf: buf[:n], last: last, done: make(chan struct{}), cs: cs}
		s.refs.Store(1)
		start += int64(n)
		toCut <- s
		inOrder <- s
		if last {
			return nil
		}
		size = min(2*size, segMax)
	}
}

// cut finds the segment's chunks as if one began at its first byte, as
// long as each cut is exact: Max bytes ahead, or the end of the stream.
func (cs *chunkStream) cut(s *segment, hashQ chan<- *streamChunk) {
	defer close(s.done)
	k := Chunker{c: cs.c}
	k.setMasks()
	p := 0
	s.cuts = append(s.cuts, 0)
	for {
		rem := len(s.buf) - p
		if rem == 0 || (rem < cs.c.Max && !s.last) {
			return
		}
		select {
		case <-cs.stop:
			return
		default:
		}
		n := k.boundary(s.buf[p:])
		ch := s.chunk(p, n)
		s.guess = append(s.guess, ch)
		hashQ <- ch
		p += n
		s.cuts = append(s.cuts, p)
	}
}

func (s *segment) chunk(p, n int) *streamChunk {
	s.refs.Add(1)
	return &streamChunk{data: s.buf[p : p+n : p+n], seg: s, ready: make(chan struct{})}
}

// release hands the chunk's bytes back (the consumer calls done).
func (ch *streamChunk) release() {
	if ch.seg != nil {
		ch.seg.release()
	}
	if ch.own != nil {
		chunkBufs.Put(ch.own)
	}
	if ch.sealedBuf != nil {
		sealedBufs.Put(ch.sealedBuf)
	}
}

// drop gives up a guessed chunk: whoever finishes with it last releases it.
func (ch *streamChunk) drop() {
	if !ch.state.CompareAndSwap(chunkPending, chunkDropped) {
		ch.release() // hashed already
	}
}

// sequence continues the true chunk sequence across segments and emits it.
func (cs *chunkStream) sequence(inOrder <-chan *segment, hashQ chan<- *streamChunk) {
	k := Chunker{c: cs.c}
	k.setMasks()
	q := sequencer{cs: cs, k: &k, hashQ: hashQ, carry: make([]byte, 0, cs.c.Max), join: make([]byte, 0, 2*cs.c.Max)}
	ok := true
	for s := range inOrder {
		<-s.done
		if ok {
			ok = q.resync(s)
		} else { // the consumer stopped: only give the buffers back
			for _, ch := range s.guess {
				ch.drop()
			}
		}
		s.release()
	}
}

type sequencer struct {
	cs    *chunkStream
	k     *Chunker
	hashQ chan<- *streamChunk
	pos   int64  // where the next true chunk starts
	carry []byte // the stream from pos to the end of the previous segment (shorter than Max)
	join  []byte // carry followed by the head of the next segment
}

// emit hands a chunk to the consumer; false when the consumer stopped.
func (q *sequencer) emit(ch *streamChunk) bool {
	select {
	case q.cs.out <- ch:
		return true
	case <-q.cs.stop:
		ch.drop()
		return false
	}
}

// resync emits the true chunks that start in the carry or in segment s,
// taking the cutter's guesses from where the true sequence meets them, and
// carries the rest. It reports false when the consumer stopped.
func (q *sequencer) resync(s *segment) bool {
	max := q.cs.c.Max
	// Chunks that start in the carried bytes, cut from the carry joined with
	// the head of s (non-last segments are at least Max long, so the cut
	// sees its whole look-ahead), each copied into a buffer of its own.
	if q.pos < s.start {
		q.join = append(append(q.join[:0], q.carry...), s.buf[:min(len(s.buf), max)]...)
		off := 0
		for q.pos < s.start {
			n := q.k.boundary(q.join[off:])
			own := chunkBufs.Get().(*[]byte)
			*own = append((*own)[:0], q.join[off:off+n]...)
			ch := &streamChunk{data: *own, own: own, ready: make(chan struct{})}
			q.hashQ <- ch
			if !q.emit(ch) {
				dropAll(s.guess)
				return false
			}
			off += n
			q.pos += int64(n)
		}
	}
	// Then within s until the true sequence meets a guessed cut.
	g := 0
	for {
		rel := int(q.pos - s.start)
		for g < len(s.cuts) && s.cuts[g] < rel {
			g++
		}
		if g < len(s.cuts) && s.cuts[g] == rel { // met: the guesses from here on are true chunks
			dropAll(s.guess[:g])
			for i, ch := range s.guess[g:] {
				if !q.emit(ch) {
					dropAll(s.guess[g+i+1:])
					return false
				}
			}
			q.pos = s.start + int64(s.cuts[len(s.cuts)-1])
			break
		}
		rem := len(s.buf) - rel
		if rem == 0 || (rem < max && !s.last) {
			dropAll(s.guess)
			break
		}
		n := q.k.boundary(s.buf[rel:])
		ch := s.chunk(rel, n)
		q.hashQ <- ch
		if !q.emit(ch) {
			dropAll(s.guess)
			return false
		}
		q.pos += int64(n)
	}
	q.carry = append(q.carry[:0], s.buf[q.pos-s.start:]...)
	return true
}

func dropAll(chs []*streamChunk) {
	for _, ch := range chs {
		ch.drop()
	}
}

// abort stops the stream early and releases every chunk not yet taken;
// wait still has to be called.
func (cs *chunkStream) abort() {
	cs.stopped.Do(func() { close(cs.stop) })
	for ch := range cs.out {
		<-ch.ready
		ch.release()
	}
}

// wait waits for every goroutine and returns the reader's error; the
// segment buffers go back to the pool.
func (cs *chunkStream) wait() error {
	cs.wg.Wait()
	for range cs.nsegs {
		b := <-cs.segs
		segBufs.Put(&b)
	}
	return cs.err
}
