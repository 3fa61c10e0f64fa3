package store

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndtr/goleveldb/leveldb/util"
)

// The S3-compatible server the tests run against: Versity S3 Gateway, a
// real S3 implementation over a POSIX folder, built from the Go module
// proxy at a pinned version (make tools puts it in build/tools).
const versitygwModule = "github.com/versity/versitygw/cmd/versitygw@v1.8.0"

var s3Bucket atomic.Int64

// repoRoot finds the module root from the test's folder.
func repoRoot(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// versitygwBinary returns the server binary, building it once when it is
// missing ($SAHARA_VERSITYGW overrides the path).
func versitygwBinary(t testing.TB) string {
	if p := os.Getenv("SAHARA_VERSITYGW"); p != "" {
		return p
	}
	dir := filepath.Join(repoRoot(t), "build", "tools")
	bin := filepath.Join(dir, "versitygw")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	t.Logf("building %s into %s (once)", versitygwModule, dir)
	cmd := exec.Command("go", "install", versitygwModule)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the S3 test server: %v\n%s", err, out)
	}
	return bin
}

var s3Server struct {
	cfg  S3Config
	proc *exec.Cmd
	root string // the server's data: removed after the tests (a run leaves ~2 GB there)
}

// startS3 starts one S3 server for the package's tests and returns a
// config with a fresh bucket.
func startS3(t testing.TB) S3Config {
	if s3Server.proc == nil {
		bin := versitygwBinary(t)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		root, err := os.MkdirTemp("", "sahara-s3-*")
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "--access", "sahara-test", "--secret", "sahara-test-secret", "--port", addr, "--quiet", "posix", root)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				break
			}
			if i > 100 {
				t.Fatal("the S3 server did not start listening")
			}
			time.Sleep(100 * time.Millisecond)
		}
		s3Server.proc, s3Server.root = cmd, root
		s3Server.cfg = S3Config{Endpoint: "http://" + addr, AccessKey: "sahara-test", SecretKey: "sahara-test-secret"}
	}
	cfg := s3Server.cfg
	cfg.Bucket = fmt.Sprintf("sahara-test-%d", s3Bucket.Add(1))
	return cfg
}

func TestMain(m *testing.M) {
	code := m.Run()
	if s3Server.proc != nil {
		s3Server.proc.Process.Kill()
		s3Server.proc.Wait()
		os.RemoveAll(s3Server.root)
	}
	os.Exit(code)
}

// eachBackend runs a test against the local backend and a real S3 server.
func eachBackend(t *testing.T, f func(t *testing.T, s *Store)) {
	t.Run("local", func(t *testing.T) {
		s, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		f(t, s)
	})
	t.Run("s3", func(t *testing.T) {
		b, err := OpenS3(startS3(t))
		if err != nil {
			t.Fatal(err)
		}
		k, err := LoadNodeKey(filepath.Join(t.TempDir(), "node.key"))
		if err != nil {
			t.Fatal(err)
		}
		f(t, New(b, k))
	})
}

// damageChunk flips one byte of a stored chunk behind the store's back.
func damageChunk(t *testing.T, s *Store, h Hash) {
	switch b := s.b.(type) {
	case *Local:
		p, loc, err := b.locate(h)
		if errors.Is(err, ErrNotExist) { // an inlined chunk
			v, err := b.db.Get(inlineKey(h), nil)
			if err != nil {
				t.Fatal(err)
			}
			v[len(v)/2] ^= 1
			if err := b.db.Put(inlineKey(h), v, nil); err != nil {
				t.Fatal(err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		one := make([]byte, 1)
		f.ReadAt(one, loc.off+loc.size/2)
		one[0] ^= 1
		if _, err := f.WriteAt(one, loc.off+loc.size/2); err != nil {
			t.Fatal(err)
		}
	case *S3:
		pack, loc, ok := b.locate(h)
		if !ok {
			t.Fatalf("chunk %s is in no index", h)
		}
		data, err := b.get(pack, nil)
		if err != nil {
			t.Fatal(err)
		}
		data[loc.off+int64(loc.size)/2] ^= 1
		if err := b.put(pack, data); err != nil {
			t.Fatal(err)
		}
		b.spanMu.Lock() // packs never change, so reads keep spans: forget them
		b.spans = nil
		b.spanMu.Unlock()
	}
}

func removeChunk(t *testing.T, s *Store, h Hash) {
	switch b := s.b.(type) {
	case *Local:
		if err := b.db.Delete(chunkKey(h), nil); err != nil {
			t.Fatal(err)
		}
		if err := b.db.Delete(inlineKey(h), nil); err != nil {
			t.Fatal(err)
		}
	case *S3:
		// Rewrite every index without the chunk, and forget it.
		keys, err := b.listKeys(b.indexPrefix())
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			bz, err := b.get(k, nil)
			if err != nil {
				t.Fatal(err)
			}
			ix, err := decodeS3Index(bz)
			if err != nil {
				t.Fatal(err)
			}
			kept := ix.entries[:0]
			for _, e := range ix.entries {
				if e.hash != h {
					kept = append(kept, e)
				}
			}
			ix.entries = kept
			if err := b.put(k, ix.encode()); err != nil {
				t.Fatal(err)
			}
		}
		b.mu.Lock()
		delete(b.where, h)
		b.mu.Unlock()
	}
}

// forgeManifest stores bz as the manifest of root.
func forgeManifest(t *testing.T, s *Store, root Hash, bz []byte) {
	switch b := s.b.(type) {
	case *Local:
		if err := b.db.Put(manifestKey(root), bz, nil); err != nil {
			t.Fatal(err)
		}
	case *S3:
		if err := b.put(b.manifestKey(root), bz); err != nil {
			t.Fatal(err)
		}
	}
}

// storedChunks counts the chunks the backend holds (referenced or not).
func storedChunks(t *testing.T, s *Store) int {
	n := 0
	switch b := s.b.(type) {
	case *Local:
		for _, p := range []byte{prefixChunk, prefixInline} {
			it := b.db.NewIterator(util.BytesPrefix([]byte{p}), nil)
			for it.Next() {
				n++
			}
			it.Release()
		}
	case *S3:
		// What a fresh open of the bucket finds.
		fresh, err := OpenS3(b.cfg)
		if err != nil {
			t.Fatal(err)
		}
		n = len(fresh.where)
	}
	return n
}

var _ = bytes.Equal
