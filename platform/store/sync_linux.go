package store

import (
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/unix"
)

func fdatasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }

// startWriteback asks the kernel to start writing a file's dirty pages
// without waiting, so the final fdatasync has little left to do.
func startWriteback(f *os.File, upto int64) {
	_ = unix.SyncFileRange(int(f.Fd()), 0, upto, unix.SYNC_FILE_RANGE_WRITE)
}

// allocate reserves n bytes of the file from off (and grows its size to
// cover them), so writes there do not have to allocate.
func allocate(f *os.File, off, n int64) error { return unix.Fallocate(int(f.Fd()), 0, off, n) }

// directIO can be turned off to compare (BenchmarkPut) or to test the
// page-cache path on a filesystem that takes direct writes.
var directIO = true

// openPackForWriting opens a pack for appending, with O_DIRECT when the
// filesystem takes direct writes: some refuse the flag when opening, some
// only when writing, so a probe file in the same folder tells.
func openPackForWriting(path string) (*os.File, bool, error) {
	if directIO && directWritesWork(filepath.Dir(path)) {
		if f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|unix.O_DIRECT, 0o600); err == nil {
			return f, true, nil
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	return f, false, err
}

func directWritesWork(dir string) bool {
	p := filepath.Join(dir, ".direct-probe")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_DIRECT, 0o600)
	if err != nil {
		return false
	}
	defer os.Remove(p)
	defer f.Close()
	_, err = f.WriteAt(alignedBuffer(packAlign)[:packAlign], 0)
	return err == nil
}

// mmapBuffer returns n bytes (capacity; length 0) of anonymous memory
// outside the Go heap, page-aligned, or (mapped false) aligned heap memory
// when the mapping fails. The buffer starts on a huge-page boundary and
// asks for huge pages (transparent, where the kernel has them on madvise):
// hashing and cutting from it and direct writes out of it then cost fewer
// TLB misses and page pins.
func mmapBuffer(n int) ([]byte, bool) {
	span := uintptr(n + hugePage)
	p, err := unix.MmapPtr(-1, 0, nil, span, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return alignedBuffer(n), false
	}
	head := -uintptr(p) & (hugePage - 1) // to the first huge-page boundary
	if head > 0 {
		_ = unix.MunmapPtr(p, head)
	}
	if tail := span - head - uintptr(n); tail > 0 {
		_ = unix.MunmapPtr(unsafe.Add(p, head+uintptr(n)), tail)
	}
	b := unsafe.Slice((*byte)(unsafe.Add(p, head)), n)
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
	return b[:0], true
}

const hugePage = 2 << 20

// unmapBuffer gives back a buffer that mmapBuffer mapped.
func unmapBuffer(b []byte) {
	_ = unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(b[:1])), uintptr(cap(b)))
}
