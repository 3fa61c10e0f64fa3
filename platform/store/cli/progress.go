package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progress draws a one-line bar on a terminal (stderr), at most ten
// times a second: "  42% ████████░░░░░░░░░░░░  1.1 GiB / 2.6 GiB  310 MB/s".
type progress struct {
	w     io.Writer
	total int64 // 0: unknown
	label string
	start time.Time
	mu    sync.Mutex
	last  time.Time
	done  int64
}

func newProgress(w io.Writer, label string, total int64) *progress {
	return &progress{w: w, label: label, total: total, start: time.Now()}
}

// isTerminal: draw only for a person watching.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (p *progress) set(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = n
	if time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	fmt.Fprint(p.w, "\r"+p.line(time.Since(p.start)))
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, "\r"+p.line(time.Since(p.start))+"\n")
}

func (p *progress) line(elapsed time.Duration) string {
	rate := ""
	if s := elapsed.Seconds(); s > 0 {
		rate = fmt.Sprintf("  %.0f MB/s", float64(p.done)/s/1e6)
	}
	if p.total <= 0 {
		return fmt.Sprintf("%s %s%s   ", p.label, human(p.done), rate)
	}
	frac := min(float64(p.done)/float64(p.total), 1)
	const width = 24
	bar := make([]rune, width)
	for i := range bar {
		bar[i] = '░'
		if float64(i) < frac*width {
			bar[i] = '█'
		}
	}
	return fmt.Sprintf("%s %3.0f%% %s  %s / %s%s   ", p.label, frac*100, string(bar), human(p.done), human(p.total), rate)
}

func human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// countingWriter reports bytes written.
type countingWriter struct {
	w io.Writer
	n int64
	f func(int64)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.f(c.n)
	return n, err
}
