package store

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// asyncWriter submits direct writes through Linux AIO (io_submit) and
// reaps them with io_getevents, both without blocking while a write is on
// its way: the put's goroutine keeps cutting and hashing, and a Go P is
// never parked in a write (see packWriter).
type asyncWriter struct {
	ctx    uint64
	fd     int
	cbs    [maxInflight]iocb
	tags   [maxInflight]uint64
	free   []int
	events [maxInflight]ioEvent
	out    []writeDone
}

// iocb is the kernel's struct iocb (include/uapi/linux/aio_abi.h) on a
// little-endian 64-bit machine.
type iocb struct {
	data      uint64
	key       uint32
	rwFlags   int32
	opcode    uint16
	reqprio   int16
	fildes    uint32
	buf       uint64
	nbytes    uint64
	offset    int64
	reserved2 uint64
	flags     uint32
	resfd     uint32
}

type ioEvent struct {
	data, obj uint64
	res, res2 int64
}

const iocbCmdPwrite = 1

func init() {
	var cb iocb
	var ev ioEvent
	if unsafe.Sizeof(cb) != 64 || unsafe.Sizeof(ev) != 32 {
		panic("store: iocb or io_event does not match the kernel's layout")
	}
}

// newAsyncWriter returns nil where AIO is not available (other
// architectures' layouts, a kernel without it, aio-max-nr used up).
func newAsyncWriter(f *os.File) blockWriter {
	if !littleEndian64 {
		return nil
	}
	a := &asyncWriter{fd: int(f.Fd())}
	if _, _, e := unix.Syscall(unix.SYS_IO_SETUP, maxInflight, uintptr(unsafe.Pointer(&a.ctx)), 0); e != 0 {
		return nil
	}
	for i := range maxInflight {
		a.free = append(a.free, i)
	}
	return a
}

var littleEndian64 = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1 && unsafe.Sizeof(uintptr(0)) == 8
}()

func (a *asyncWriter) submit(b []byte, off int64, tag uint64) error {
	if len(a.free) == 0 {
		return fmt.Errorf("more than %d writes in flight", maxInflight)
	}
	slot := a.free[len(a.free)-1]
	a.cbs[slot] = iocb{data: uint64(slot), opcode: iocbCmdPwrite, fildes: uint32(a.fd),
		buf: uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b)))), nbytes: uint64(len(b)), offset: off}
	a.tags[slot] = tag
	p := &a.cbs[slot]
	for {
		n, _, e := unix.Syscall(unix.SYS_IO_SUBMIT, uintptr(a.ctx), 1, uintptr(unsafe.Pointer(&p)))
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		if n != 1 {
			return fmt.Errorf("io_submit took %d of 1 writes", n)
		}
		break
	}
	a.free = a.free[:len(a.free)-1]
	return nil
}

func (a *asyncWriter) reap(wait bool) ([]writeDone, error) {
	a.out = a.out[:0]
	if len(a.free) == maxInflight {
		return a.out, nil // nothing in flight
	}
	minNr := 0
	var ts *unix.Timespec
	if wait {
		minNr = 1
	} else {
		ts = &unix.Timespec{}
	}
	for {
		n, _, e := unix.Syscall6(unix.SYS_IO_GETEVENTS, uintptr(a.ctx), uintptr(minNr), maxInflight,
			uintptr(unsafe.Pointer(&a.events[0])), uintptr(unsafe.Pointer(ts)), 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return a.out, e
		}
		for _, ev := range a.events[:n] {
			slot := int(ev.data)
			d := writeDone{tag: a.tags[slot]}
			switch {
			case ev.res < 0:
				d.err = syscall.Errno(-ev.res)
			case uint64(ev.res) != a.cbs[slot].nbytes:
				d.err = fmt.Errorf("short write: %d of %d bytes", ev.res, a.cbs[slot].nbytes)
			}
			a.out = append(a.out, d)
			a.free = append(a.free, slot)
		}
		return a.out, nil
	}
}

func (a *asyncWriter) close() {
	for len(a.free) < maxInflight {
		if _, err := a.reap(true); err != nil {
			break
		}
	}
	unix.Syscall(unix.SYS_IO_DESTROY, uintptr(a.ctx), 0, 0)
}

// isAsync says whether b submits through AIO.
func isAsync(b blockWriter) bool { _, ok := b.(*asyncWriter); return ok }
