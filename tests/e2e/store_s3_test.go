package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sahara/platform/store/s3test"
)

// `sahara store put|ls|get|verify --s3` against a real S3-compatible
// server: a file and a new version of it (deduplicated against the first
// in the bucket), read back byte for byte by a second invocation.
func TestStoreCLIOnS3(t *testing.T) {
	srv := s3test.Start(t)
	url := fmt.Sprintf("s3://%s:%s@%s/cli-test/objects", srv.AccessKey, srv.Secret, strings.TrimPrefix(srv.Endpoint, "http://"))
	dir := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		args = append(args, "--s3", url, "--dir", filepath.Join(dir, "store"))
		out, err := exec.Command(binPath, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("sahara %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	put := func(path string) (root string, newBytes int64) {
		t.Helper()
		var r struct {
			Root     string `json:"root"`
			NewBytes int64  `json:"new_bytes"`
		}
		if err := json.Unmarshal([]byte(run("store", "put", path)), &r); err != nil || len(r.Root) != 64 {
			t.Fatalf("put %s: %v %+v", path, err, r)
		}
		return r.Root, r.NewBytes
	}
	data := make([]byte, 9<<20)
	rand.New(rand.NewSource(7)).Read(data)
	v1 := filepath.Join(dir, "v1.bin")
	if err := os.WriteFile(v1, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r1, _ := put(v1)
	edited := append(append(append([]byte{}, data[:4<<20]...), "an edit"...), data[4<<20:]...)
	v2 := filepath.Join(dir, "v2.bin")
	if err := os.WriteFile(v2, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	r2, newBytes := put(v2)
	if newBytes > 1<<20 {
		t.Fatalf("a 7-byte insert stored %d new bytes", newBytes)
	}
	if ls := run("store", "ls"); !strings.Contains(ls, r1) || !strings.Contains(ls, r2) {
		t.Fatalf("ls lists neither or one of %s %s:\n%s", r1, r2, ls)
	}
	for _, c := range []struct {
		root string
		want []byte
	}{{r1, data}, {r2, edited}} {
		out := filepath.Join(dir, c.root)
		run("store", "get", c.root, "--out", out)
		got, err := os.ReadFile(out)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Fatalf("get %s: %v, equal %v", c.root, err, bytes.Equal(got, c.want))
		}
		run("store", "verify", c.root)
	}
}
