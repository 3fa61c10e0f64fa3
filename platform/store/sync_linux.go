package store

import (
	"os"

	"golang.org/x/sys/unix"
)

func fdatasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }

// startWriteback asks the kernel to start writing a file's dirty pages
// without waiting, so the final fdatasync has little left to do.
func startWriteback(f *os.File, upto int64) {
	_ = unix.SyncFileRange(int(f.Fd()), 0, upto, unix.SYNC_FILE_RANGE_WRITE)
}
