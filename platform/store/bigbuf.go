package store

import "sync"

// bufPool lends large buffers of one size: the pack writers' and the chunk
// streams'. They are mapped outside the Go heap where the platform allows
// (mmapBuffer), page-aligned, so they count neither toward the garbage
// collector's pacing (a put's heap would otherwise be allowed to grow to
// twice its I/O buffers before a collection) nor against direct I/O's
// alignment. At most keep buffers wait for reuse; the rest are unmapped.
type bufPool struct {
	size int
	keep int
	mu   sync.Mutex
	free [][]byte
}

func (p *bufPool) get() []byte {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return b[:0]
	}
	p.mu.Unlock()
	return mmapBuffer(p.size)
}

func (p *bufPool) put(b []byte) {
	b = b[:0:p.size]
	p.mu.Lock()
	if len(p.free) < p.keep {
		p.free = append(p.free, b)
		b = nil
	}
	p.mu.Unlock()
	if b != nil {
		unmapBuffer(b)
	}
}
