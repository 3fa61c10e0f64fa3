package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// go test ./platform/store -run X -bench AsyncSubmit: how long io_submit of
// a 4 MiB direct write takes when the write extends the file (ext4 then
// finishes the write inside the submission) and when the file is allocated
// ahead, as packs are — the time the submitting goroutine is held.
func BenchmarkAsyncSubmit(b *testing.B) {
	for _, allocated := range []bool{false, true} {
		name := map[bool]string{false: "extending", true: "allocated"}[allocated]
		b.Run(name, func(b *testing.B) {
			p := filepath.Join(b.TempDir(), "p")
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|unix.O_DIRECT, 0o600)
			if err != nil {
				b.Skip("no direct writes here")
			}
			defer f.Close()
			if allocated {
				if err := allocate(f, 0, int64(b.N+1)*4<<20); err != nil {
					b.Skip("no fallocate here")
				}
			}
			a, ok := newAsyncWriter(f).(*asyncWriter)
			if !ok {
				b.Skip("no AIO here")
			}
			defer a.close()
			buf := alignedBuffer(4 << 20)[:4<<20]
			var submit time.Duration
			b.SetBytes(int64(len(buf)))
			for i := range b.N {
				t0 := time.Now()
				if err := a.submit(buf, int64(i)*int64(len(buf)), 0); err != nil {
					b.Fatal(err)
				}
				submit += time.Since(t0)
				if done, err := a.reap(true); err != nil || len(done) != 1 || done[0].err != nil {
					b.Fatalf("reap: %v %v", done, err)
				}
			}
			b.ReportMetric(float64(submit.Microseconds())/float64(b.N), "us-in-submit/op")
		})
	}
}
