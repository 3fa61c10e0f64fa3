package spamcorpus

import (
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	ms, err := Load(Dir("../.."), 400, "spam-1", "hard-ham-1")
	if err != nil {
		t.Fatal(err)
	}
	spam := 0
	for _, m := range ms {
		if m.Spam {
			spam++
		}
		if !strings.HasPrefix(m.Text, "Subject: ") || len(m.Text) > 404 {
			t.Fatalf("%s: %q", m.ID, m.Text)
		}
	}
	if spam != 500 || len(ms) != 750 {
		t.Fatalf("%d messages, %d spam; want 750 and 500", len(ms), spam)
	}
}
