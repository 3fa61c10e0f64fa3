package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	c := Command()
	var out, errb bytes.Buffer
	c.SetOut(&out)
	c.SetErr(&errb)
	c.SetArgs(args)
	err := c.Execute()
	return out.String(), errb.String(), err
}

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAggregateJSONAndCSV(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.csv", "item,worker,label\nq1,w1,cat\nq1,w2,cat\nq1,w3,dog\nq2,w1,dog\nq2,w2,dog\nq2,w3,dog\nq3,w1,cat\nq3,w2,dog\nq3,w3,cat\n")
	g := write(t, dir, "g.csv", "item,label\nq1,cat\nq2,dog\nq3,cat\n")
	out, _, err := run(t, "aggregate", "--answers", a, "--gold", g, "--method", "mv", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"method", "items", "workers", "labels", "accuracy", "seconds"} {
		if _, ok := s[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, out)
		}
	}
	if s["accuracy"].(float64) != 1 || s["items"].(float64) != 3 || s["labels"].(float64) != 9 {
		t.Errorf("summary %v", s)
	}
	labels := filepath.Join(dir, "labels.csv")
	if _, _, err := run(t, "aggregate", "--answers", a, "--method", "ds", "--format", "csv", "--out", labels); err != nil {
		t.Fatal(err)
	}
	bz, _ := os.ReadFile(labels)
	lines := strings.Split(strings.TrimSpace(string(bz)), "\n")
	if lines[0] != "item,label,confidence" || len(lines) != 4 || !strings.HasPrefix(lines[2], "q2,dog,") {
		t.Fatalf("labels.csv:\n%s", bz)
	}
	// numeric labels report MAE
	n := write(t, dir, "n.csv", "x,a,1\nx,b,2\nx,c,9\ny,a,4\n")
	ng := write(t, dir, "ng.csv", "x,2\ny,4\n")
	out, _, err = run(t, "aggregate", "--answers", n, "--gold", ng, "--method", "median")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"mae": 0`) {
		t.Fatalf("numeric summary: %s", out)
	}
}

func TestAggregateBadInputNamesTheLine(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.csv", "item,worker,label\nq1,w1,1\nq2,w2\n")
	_, _, err := run(t, "aggregate", "--answers", a, "--method", "mv")
	if err == nil || !strings.Contains(err.Error(), "a.csv line 3: expected 3 fields") {
		t.Fatalf("error %v", err)
	}
	empty := write(t, dir, "e.csv", "")
	if _, _, err := run(t, "aggregate", "--answers", empty); err == nil || !strings.Contains(err.Error(), "no answers") {
		t.Fatalf("empty file: %v", err)
	}
	if _, _, err := run(t, "aggregate", "--answers", a, "--format", "xml"); err == nil || !strings.Contains(err.Error(), "use json or csv") {
		t.Fatalf("bad format: %v", err)
	}
}

func TestBenchTable(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := run(t, "synth", "--out", filepath.Join(dir, "s1"), "--items", "300", "--workers", "20", "--labels", "1500", "--seed", "3"); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, "bench", dir, "--methods", "mv,ds")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "| dataset | items | workers | labels |") || !strings.Contains(out, "| s1 | 300 | 20 | 1500 |") || !strings.Contains(out, "auto") {
		t.Fatalf("table:\n%s", out)
	}
	// One set: no mean row; the paired comparison names the set and the best of mv and ds.
	if strings.Contains(out, "| mean of") || !strings.Contains(out, "| dataset | best method | auto behind it") ||
		!strings.Contains(out, "Largest z against the best method:") {
		t.Fatalf("table:\n%s", out)
	}
	if err := os.Symlink(filepath.Join(dir, "s1"), filepath.Join(dir, "s2")); err != nil {
		t.Fatal(err)
	}
	out, _, err = run(t, "bench", dir, "--methods", "mv,ds")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "| s2 | 300 | 20 | 1500 |") || !strings.Contains(out, "| mean of 2 sets |") {
		t.Fatalf("a linked dataset folder is a dataset too, and two sets get a mean row:\n%s", out)
	}
}

// auto with too few control items says so before it runs, and what it runs
// instead; with enough it cross-validates and says nothing.
func TestAutoWithoutControlsWarns(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := run(t, "synth", "--out", dir, "--items", "200", "--workers", "15", "--labels", "1000", "--seed", "2"); err != nil {
		t.Fatal(err)
	}
	a, g := filepath.Join(dir, "answers.csv"), filepath.Join(dir, "gold.csv")
	out, errOut, err := run(t, "aggregate", "--answers", a, "--gold", g)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, "warning: auto: 0 control items, fewer than the 10") || !strings.Contains(errOut, "the ensemble of eight methods") ||
		!strings.Contains(out, `"chosen": "ensemble"`) {
		t.Fatalf("stderr:\n%s\nstdout:\n%s", errOut, out)
	}
	out, errOut, err = run(t, "aggregate", "--answers", a, "--gold", g, "--control-fraction", "0.5")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(errOut, "control items, fewer than") || !strings.Contains(out, `"cv_accuracy"`) {
		t.Fatalf("with 100 control items auto cross-validates:\nstderr:\n%s\nstdout:\n%s", errOut, out)
	}
}
