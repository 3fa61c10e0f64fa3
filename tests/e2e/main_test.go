// Package e2e tests the chain end to end: the real sahara binary runs as a
// child process and the tests talk to it over Ethereum JSON-RPC, as wallets,
// Foundry or ethers would.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"sahara/internal/testnode"
	"sahara/platform/store/s3test"
)

var (
	binPath string
	tmpRoot string

	sharedOnce sync.Once
	sharedNode *testnode.Node
	sharedErr  error
)

func TestMain(m *testing.M) {
	var err error
	tmpRoot, err = os.MkdirTemp("", "sahara-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = os.Getenv("SAHARA_BIN")
	if binPath == "" {
		root, _ := filepath.Abs("../..")
		if binPath, err = testnode.Build(root, tmpRoot); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	s3test.Stop()
	if sharedNode != nil {
		_ = sharedNode.Stop()
	}
	if code == 0 {
		os.RemoveAll(tmpRoot)
	} else {
		fmt.Fprintln(os.Stderr, "node homes and logs kept in", tmpRoot)
	}
	os.Exit(code)
}

// shared returns one dev chain for the tests that only read and write
// ordinary state; tests that kill nodes start their own.
func shared(t *testing.T) *testnode.Node {
	t.Helper()
	sharedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		sharedNode, sharedErr = testnode.StartUp(ctx, binPath, filepath.Join(tmpRoot, "shared"))
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedNode
}

// freshDir is a new folder under tmpRoot for one run of a test that makes
// its own chain, so `go test -count=N` starts each run from genesis.
func freshDir(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp(tmpRoot, name+"-")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
