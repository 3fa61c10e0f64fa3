// Package s3test runs the real S3-compatible server the tests use: Versity
// S3 Gateway over a POSIX folder, built from the Go module proxy at a
// pinned version (make tools puts it in build/tools). One server per test
// process, stopped by Stop.
package s3test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Module is the pinned server (the Makefile's VERSITYGW).
const Module = "github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// Server is a running gateway.
type Server struct {
	Endpoint          string // http://127.0.0.1:port
	AccessKey, Secret string
}

var (
	mu     sync.Mutex
	proc   *exec.Cmd
	root   string // the server's data, removed by Stop
	server Server
)

// repoRoot is the module root, from this file's folder.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Binary returns the server binary, building it once when it is missing
// ($SAHARA_VERSITYGW overrides the path).
func Binary(t testing.TB) string {
	if p := os.Getenv("SAHARA_VERSITYGW"); p != "" {
		return p
	}
	dir := filepath.Join(repoRoot(), "build", "tools")
	bin := filepath.Join(dir, "versitygw")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	t.Logf("building %s into %s (once)", Module, dir)
	cmd := exec.Command("go", "install", Module)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the S3 test server: %v\n%s", err, out)
	}
	return bin
}

// Start returns the process's server, starting it on first use.
func Start(t testing.TB) Server {
	mu.Lock()
	defer mu.Unlock()
	if proc != nil {
		return server
	}
	bin := Binary(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir, err := os.MkdirTemp("", "sahara-s3-*")
	if err != nil {
		t.Fatal(err)
	}
	const access, secret = "sahara-test", "sahara-test-secret"
	cmd := exec.Command(bin, "--access", access, "--secret", secret, "--port", addr, "--quiet", "posix", dir)
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
			cmd.Process.Kill()
			t.Fatal("the S3 server did not start listening")
		}
		time.Sleep(100 * time.Millisecond)
	}
	proc, root = cmd, dir
	server = Server{Endpoint: "http://" + addr, AccessKey: access, Secret: secret}
	return server
}

// Stop ends the server, if one was started, and removes its data (a full
// store test run leaves ~2 GB there). Call it from TestMain.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if proc != nil {
		proc.Process.Kill()
		proc.Wait()
		os.RemoveAll(root)
		proc = nil
	}
}
