//go:build !linux

package store

import (
	"errors"
	"os"
)

func fdatasync(f *os.File) error { return f.Sync() }

func startWriteback(*os.File, int64) {}

var directIO = false

func openPackForWriting(path string) (*os.File, bool, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	return f, false, err
}

func allocate(*os.File, int64, int64) error { return errors.ErrUnsupported }

func newAsyncWriter(*os.File) blockWriter { return nil }

func mmapBuffer(n int) ([]byte, bool) { return alignedBuffer(n), false }

func unmapBuffer([]byte) {}

func isAsync(blockWriter) bool { return false }
