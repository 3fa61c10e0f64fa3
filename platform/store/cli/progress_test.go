package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	p := newProgress(&bytes.Buffer{}, "put", 4<<30)
	p.done = 1 << 30
	got := p.line(2 * time.Second)
	for _, want := range []string{"put  25% ██████░░░░░░░░░░░░░░░░░░", "1.0 GiB / 4.0 GiB", "537 MB/s"} {
		if !strings.Contains(got, want) {
			t.Fatalf("%q lacks %q", got, want)
		}
	}
	p = newProgress(&bytes.Buffer{}, "get", 0)
	p.done = 1536
	if got := p.line(time.Second); !strings.Contains(got, "get 1.5 KiB") {
		t.Fatalf("unknown total: %q", got)
	}
}
