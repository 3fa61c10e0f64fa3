package store

import (
	"sync"
	"unsafe"
)

// bufPool lends large buffers of one size: the pack writers' and the chunk
// streams'. They are mapped outside the Go heap where the platform allows
// (mmapBuffer), page-aligned, so they count neither toward the garbage
// collector's pacing (a put's heap would otherwise be allowed to grow to
// twice its I/O buffers before a collection) nor against direct I/O's
// alignment. At most keep buffers wait for reuse; the rest are unmapped.
type bufPool struct {
	size   int
	keep   int
	mu     sync.Mutex
	free   [][]byte
	mapped map[*byte]bool // buffers from mmapBuffer (heap ones are left to the collector)
}

func (p *bufPool) get() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		return b[:0]
	}
	b, mapped := mmapBuffer(p.size)
	if mapped {
		if p.mapped == nil {
			p.mapped = map[*byte]bool{}
		}
		p.mapped[unsafe.SliceData(b[:1])] = true
	}
	return b[:0]
}

func (p *bufPool) put(b []byte) {
	b = b[:0:p.size]
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < p.keep {
		p.free = append(p.free, b)
		return
	}
	if base := unsafe.SliceData(b[:1]); p.mapped[base] {
		delete(p.mapped, base)
		unmapBuffer(b)
	}
}
