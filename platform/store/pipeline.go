package store

import (
	"crypto/sha256"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
)

// A chunk stream cuts and hashes a byte stream on every core while its
// consumer takes the chunks strictly in order. The stream is read in
// segments, and each segment goes to a worker that cuts it as if a chunk
// began at its first byte and then hashes those chunks. A content-defined
// cut depends only on where the chunk starts and on the next Chunking.Max
// bytes, so each segment carries a copy of the next one's first Max bytes
// (its look-ahead) and its worker cuts every chunk that starts in it; and
// once the true chunk sequence, continued across a segment boundary, lands
// on one of the worker's cuts, every later cut of that segment is the true
// one. That usually happens at the first or second chunk. The worker cuts
// those first chunks too (the lead), from where the previous segment's
// cuts end, which is where the true sequence is whenever the previous
// segment's cuts were taken; the consumer (in next) checks that, cuts them
// itself in the rare case they were not, and drops the guesses before the
// meeting point. The chunks are exactly those of the plain sequential
// Chunker (TestChunkStreamMatchesTheChunker).
//
//	reader ──segments──▶ workers (one per core: cut, lead, then hash)
//	   └──segments in order──▶ next (the consumer: checks the lead, hands out chunks in order)
//
// A worker both cuts and hashes its segment rather than handing chunks to
// separate hashers: a handoff to an idle core takes 65 µs to over 300 µs on
// this project's VMs (BenchmarkWakeIdleCore), and cutting and hashing a
// 1 MiB object is only ~0.5 ms of work (BenchmarkChunkStream).
type chunkStream struct {
	c       Chunking
	after   func(a, b *streamChunk) // run on chunks once they are hashed, two at a time (b may be nil): sealing private objects; may be nil
	inOrder chan *segment
	stop    chan struct{} // closed when the consumer gives up early
	wg      sync.WaitGroup
	err     error       // the reader's error, set before inOrder is closed
	segs    chan []byte // free segment buffers; their number bounds the memory
	nsegs   int

	// The consumer's side (next).
	k      Chunker
	q      []*streamChunk // chunks to hand out, in order
	qi     int
	cur    *segment // the segment q's chunks came from
	pos    int64    // where the next true chunk starts
	closed bool
}

// streamChunk is one chunk on its way to the consumer. data points into a
// segment's buffer (a chunk across a boundary into the look-ahead of the
// segment it starts in) and is valid until release.
type streamChunk struct {
	data  []byte
	hash  Hash // set by the worker; wait for ready
	ready chan struct{}
	// Private objects: set by the stream's after func.
	sealed []byte
	key    Hash
	err    error

	seg   *segment // whose buffer data is in
	at    int      // where data starts in seg.view
	state atomic.Int32
}

// A worker's guess is pending until the worker takes it; the consumer may
// drop it before (the worker then skips it) or while it is being hashed
// (the worker then releases it).
const (
	chunkPending = iota
	chunkWorking
	chunkHashed
	chunkDropped
)

type segment struct {
	start int64         // offset of buf[0] in the stream
	mem   []byte        // the whole buffer
	buf   []byte        // the segment's own bytes
	view  []byte        // buf followed by the look-ahead (up to Max bytes of the next segment; none for the last)
	last  bool          // the stream ends with this segment
	prev  *segment      // the segment before (nil for the first)
	cut   chan struct{} // closed when the worker has set cuts and guess
	done  chan struct{} // closed when it has also set the lead
	cuts  []int         // chunk starts the worker found, from 0; the last is where its exact cutting stopped
	guess []*streamChunk
	// The lead: the true chunks from where the previous segment's cuts
	// end (leadFrom) to the first of this segment's cuts they meet
	// (guess[meet]). They are the true ones if the previous segment's
	// cuts were; the consumer checks that.
	leadFrom int
	lead     []*streamChunk
	meet     int
	refs     atomic.Int32 // the consumer's and each chunk's: at zero the buffer is free
	cs       *chunkStream
}

func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		s.cs.segs <- s.mem[:0]
	}
}

// Segment sizes: the first is small, so a 1 MiB object is still cut and
// hashed on two cores and its first chunks reach the disk early (256 KiB
// rather than 512: 1 MiB puts 6-8% faster, BenchmarkPut side by side, 15 of
// 16 alternations); later ones grow to segMax, so boundaries (a chunk or
// two cut and hashed twice) stay rare. Each but the last is at least Max
// long, so a look-ahead is Max bytes unless the stream ends in it.
const (
	segFirst = 256 << 10
	segMax   = 2 << 20
)

var segBufs = &bufPool{size: segMax + DefaultChunking.Max, keep: 4}

// startChunkStream cuts and hashes r; after (nil: nothing) runs on the
// chunks once they are hashed, on the same core, two at a time where they
// were hashed together (b nil otherwise).
func startChunkStream(r io.Reader, c Chunking, after func(a, b *streamChunk)) *chunkStream {
	workers := runtime.GOMAXPROCS(0)
	cs := &chunkStream{c: c, after: after, stop: make(chan struct{}), nsegs: workers + 2}
	cs.k.c = c
	cs.k.setMasks()
	cs.segs = make(chan []byte, cs.nsegs)
	for range cs.nsegs {
		if need := cs.segSize(segMax) + c.Max; need <= segBufs.size {
			cs.segs <- segBufs.get()
		} else {
			cs.segs <- make([]byte, 0, need)
		}
	}
	toWork := make(chan *segment, cs.nsegs)
	cs.inOrder = make(chan *segment, cs.nsegs)
	for range workers {
		cs.wg.Add(1)
		go func() {
			defer cs.wg.Done()
			k := Chunker{c: cs.c}
			k.setMasks()
			for s := range toWork {
				cs.cut(s, &k)
				cs.hash(s)
			}
		}()
	}
	cs.wg.Add(1)
	go func() { // reader
		defer cs.wg.Done()
		defer close(cs.inOrder)
		defer close(toWork)
		cs.err = cs.read(r, toWork)
	}()
	return cs
}

// segSize keeps segments at least Max long.
func (cs *chunkStream) segSize(n int) int { return max(n, cs.c.Max) }

// read fills segments in order; each is handed on once the next one's
// head is copied behind it as its look-ahead.
func (cs *chunkStream) read(r io.Reader, toWork chan<- *segment) error {
	size := cs.segSize(segFirst)
	var start int64
	var prev *segment
	send := func(s *segment) {
		s.refs.Store(1)
		toWork <- s
		cs.inOrder <- s
	}
	defer func() {
		if prev != nil { // never handed on: its buffer goes back
			cs.segs <- prev.mem[:0]
		}
	}()
	for {
		var buf []byte
		select {
		case buf = <-cs.segs:
		case <-cs.stop:
			return nil
		}
		n, last, err := fill(r, buf[:size])
		if err != nil {
			cs.segs <- buf[:0]
			return err
		}
		s := &segment{start: start, mem: buf, buf: buf[:n:n], last: last, prev: prev, cut: make(chan struct{}), done: make(chan struct{}), cs: cs}
		start += int64(n)
		if prev != nil {
			prev.view = append(prev.mem[:len(prev.buf)], s.buf[:min(n, cs.c.Max)]...)
			send(prev)
			prev = nil
		}
		if last {
			s.view = s.buf
			send(s)
			return nil
		}
		prev = s
		size = cs.segSize(min(2*size, segMax))
	}
}

// cut cuts segment s as if a chunk began at its first byte (every cut
// is exact: the view holds Max bytes past it, or reaches the end of the
// stream, see read), then works out its lead.
func (cs *chunkStream) cut(s *segment, k *Chunker) {
	s.cuts = append(s.cuts, 0)
	for p := 0; p < len(s.buf); {
		n := k.boundary(s.view[p:])
		s.guess = append(s.guess, s.chunk(p, n))
		p += n
		s.cuts = append(s.cuts, p)
	}
	close(s.cut)
	s.leadFrom = -1
	if s.prev != nil {
		<-s.prev.cut // a worker took it before this one, and cutting waits on nothing else
		s.leadFrom = s.prev.cuts[len(s.prev.cuts)-1] - len(s.prev.buf)
		s.lead, s.meet = s.follow(k, s.leadFrom)
	}
	s.prev = nil
	close(s.done)
}

// hash hashes the chunks of s the consumer has not dropped:
// the lead and the guesses from where it meets them first, the rest last
// (the consumer usually drops them first).
func (cs *chunkStream) hash(s *segment) {
	cs.hashAll(s.lead)
	cs.hashAll(s.guess[s.meet:])
	cs.hashAll(s.guess[:s.meet])
}

// follow cuts the true chunks from rel until they meet one of the
// segment's cuts: it returns them and the index of the guess that begins
// where they end (len(guess) when none starts in the segment).
func (s *segment) follow(k *Chunker, rel int) ([]*streamChunk, int) {
	var out []*streamChunk
	g := 0
	for {
		for g < len(s.cuts) && s.cuts[g] < rel {
			g++
		}
		if g < len(s.cuts) && s.cuts[g] == rel || rel >= len(s.buf) {
			return out, min(g, len(s.guess))
		}
		ch := s.chunk(rel, k.boundary(s.view[rel:]))
		out = append(out, ch)
		rel += len(ch.data)
	}
}

// hashAll hashes the chunks it takes (the consumer may have dropped some)
// and hands each on as soon as it is hashed.
func (cs *chunkStream) hashAll(chs []*streamChunk) {
	taken := make([]*streamChunk, 0, len(chs))
	for _, ch := range chs {
		if !ch.state.CompareAndSwap(chunkPending, chunkWorking) { // dropped
			ch.release()
			continue
		}
		taken = append(taken, ch)
	}
	handOn := func(ch *streamChunk) {
		if !ch.state.CompareAndSwap(chunkWorking, chunkHashed) { // dropped meanwhile
			ch.release()
		}
		close(ch.ready)
	}
	select {
	case <-cs.stop: // the consumer gave up: nothing to hash for
		for _, ch := range taken {
			handOn(ch)
		}
		return
	default:
	}
	n := 0
	hashChunks(taken, cs.after, func(ch *streamChunk) {
		handOn(ch)
		// Let the consumer have the core now and then: it hands the chunks
		// to the disk, and would otherwise wait for a whole segment's
		// hashing (the scheduler does not preempt this loop).
		if n++; n%2 == 0 {
			runtime.Gosched()
		}
	})
}

// hashChunks sets every chunk's hash and calls done on each once it is set
// (and after has run on it). Public chunks (after nil) go through
// sum256Many's two busy lanes (BenchmarkSum256Many: 1.09x pairs on chunks
// of the default sizes); private ones are hashed in pairs (sum256x2) so
// after can seal each pair and hash the sealed pair together.
func hashChunks(chs []*streamChunk, after func(a, b *streamChunk), done func(*streamChunk)) {
	if after == nil {
		msgs := make([][]byte, len(chs))
		for i, ch := range chs {
			msgs[i] = ch.data
		}
		sum256Many(msgs, func(i int, h Hash) {
			chs[i].hash = h
			done(chs[i])
		})
		return
	}
	for i := 0; i < len(chs); i += 2 {
		a, b := chs[i], (*streamChunk)(nil)
		if i+1 < len(chs) {
			b = chs[i+1]
			a.hash, b.hash = sum256x2(a.data, b.data)
		} else {
			a.hash = sha256.Sum256(a.data)
		}
		after(a, b)
		done(a)
		if b != nil {
			done(b)
		}
	}
}

func (s *segment) chunk(p, n int) *streamChunk {
	s.refs.Add(1)
	return &streamChunk{data: s.view[p : p+n : p+n], at: p, seg: s, ready: make(chan struct{})}
}

// release hands the chunk's bytes back (the consumer calls it when done).
func (ch *streamChunk) release() { ch.seg.release() }

// drop gives up a worker's guess: whoever finishes with it last releases it.
func (ch *streamChunk) drop() {
	if ch.state.CompareAndSwap(chunkPending, chunkDropped) || ch.state.CompareAndSwap(chunkWorking, chunkDropped) {
		return
	}
	ch.release() // hashed already
}

func dropAll(chs []*streamChunk) {
	for _, ch := range chs {
		ch.drop()
	}
}

// next returns the next chunk of the stream, hashed, or false at the end
// (then close says whether the stream ended or failed).
func (cs *chunkStream) next() (*streamChunk, bool) {
	for cs.qi == len(cs.q) {
		if cs.cur != nil {
			cs.cur.release()
			cs.cur = nil
		}
		s, ok := <-cs.inOrder
		if !ok {
			return nil, false
		}
		<-s.done
		cs.q, cs.qi = cs.q[:0], 0
		cs.resync(s)
		cs.cur = s
	}
	ch := cs.q[cs.qi]
	cs.qi++
	<-ch.ready
	return ch, true
}

// resync queues the true chunks that start in segment s: the worker's
// lead and guesses when the lead starts where the true sequence is (it
// does whenever the previous segment's guesses were taken), otherwise
// chunks cut and hashed here until the true sequence meets a guess.
func (cs *chunkStream) resync(s *segment) {
	rel := int(cs.pos - s.start) // at most Max past s.start: the previous segment cut its last chunk
	lead, meet := s.lead, s.meet
	if s.leadFrom < 0 || rel != s.leadFrom {
		dropAll(lead)
		lead, meet = s.follow(&cs.k, rel)
		hashChunks(lead, cs.after, func(ch *streamChunk) {
			ch.state.Store(chunkHashed)
			close(ch.ready)
		})
	}
	cs.q = append(cs.q, lead...)
	dropAll(s.guess[:meet])
	cs.q = append(cs.q, s.guess[meet:]...)
	switch {
	case meet < len(s.guess):
		cs.pos = s.start + int64(s.cuts[len(s.cuts)-1])
	case len(lead) > 0:
		last := lead[len(lead)-1]
		cs.pos = s.start + int64(last.at+len(last.data))
	}
}

// each hands every chunk, in order, to f and releases it afterwards,
// stopping at f's first error; then it closes the stream. It returns f's
// error and the reader's.
func (cs *chunkStream) each(f func(*streamChunk) error) (ferr, rerr error) {
	for ferr == nil {
		ch, ok := cs.next()
		if !ok {
			break
		}
		ferr = f(ch)
		ch.release()
	}
	return ferr, cs.close()
}

// close ends the stream (stopping it first if the consumer did not take
// every chunk), waits for its goroutines and returns the reader's error.
// Chunks already handed out must have been released.
func (cs *chunkStream) close() error {
	if cs.closed {
		return cs.err
	}
	cs.closed = true
	close(cs.stop)
	dropAll(cs.q[cs.qi:])
	cs.q, cs.qi = nil, 0
	if cs.cur != nil {
		cs.cur.release()
	}
	for s := range cs.inOrder {
		<-s.done
		dropAll(s.lead)
		dropAll(s.guess)
		s.release()
	}
	cs.wg.Wait()
	for range cs.nsegs {
		if b := <-cs.segs; cap(b) == segBufs.size {
			segBufs.put(b)
		}
	}
	return cs.err
}
