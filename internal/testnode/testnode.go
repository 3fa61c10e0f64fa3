// Package testnode runs the real sahara binary as a child process for
// end-to-end tests and benchmarks: `sahara up` on free loopback ports, or
// `sahara localnet`, with helpers to wait for blocks, stop cleanly or kill.
package testnode

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"sahara/chain/network"
	"sahara/sdk/evmclient"
)

// Build compiles cmd/sahara into dir and returns the binary's path. The Go
// build cache makes this cheap after the first time.
func Build(repoRoot, dir string) (string, error) {
	bin := filepath.Join(dir, "sahara")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/sahara")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/sahara: %v\n%s", err, out)
	}
	return bin, nil
}

// FreePorts returns n distinct free TCP ports on 127.0.0.1.
func FreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

// Node is one running `sahara up`.
type Node struct {
	Bin, Home string
	RPC, WS   string // http://..., ws://...
	CometRPC  string // http://...
	GRPC      string // host:port
	Store     string // the blob store API, http://...
	Web       string // the web app, http://... (with --web-addr "" in extra: none)
	Accounts  []network.DevAccount
	args      []string
	cmd       *exec.Cmd
	done      chan struct{}
	mu        sync.Mutex
	LogPath   string
	// Env is added to the node process's environment (GOGC, ...) from the
	// next (re)start on.
	Env []string
}

// StartUp creates (first run) or resumes the chain in home and waits until
// it has produced a block and answers JSON-RPC.
func StartUp(ctx context.Context, bin, home string, extra ...string) (*Node, error) {
	p, err := FreePorts(11)
	if err != nil {
		return nil, err
	}
	a := func(i int) string { return "127.0.0.1:" + strconv.Itoa(p[i]) }
	n := &Node{Bin: bin, Home: home, RPC: "http://" + a(0), WS: "ws://" + a(1), CometRPC: "http://" + a(2),
		Store: "http://" + a(9), Web: "http://" + a(10), GRPC: a(3), LogPath: filepath.Join(home, "up.log")}
	n.args = append([]string{"up", "--home", home, "--evm-rpc", a(0), "--evm-ws", a(1), "--cometbft-rpc", a(2),
		"--grpc-addr", a(3), "--api-addr", a(4), "--p2p-addr", a(5), "--metrics-addr", a(6),
		"--evm-rpc-metrics", a(7), "--geth-metrics", a(8), "--store-addr", a(9), "--web-addr", a(10), "--log_level", "info"}, extra...)
	if err := n.start(ctx); err != nil {
		return nil, err
	}
	if n.Accounts, err = ReadDevAccounts(filepath.Join(home, "dev-accounts.json")); err != nil {
		n.Kill()
		return nil, err
	}
	return n, nil
}

// ReadDevAccounts reads a dev-accounts.json written by `sahara up` or `sahara localnet`.
func ReadDevAccounts(path string) ([]network.DevAccount, error) {
	bz, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var accs []network.DevAccount
	return accs, json.Unmarshal(bz, &accs)
}

// Launch starts the node process with extra arguments added to its own (a later flag wins) and
// returns at once, without waiting for blocks: for tests that watch what happens during start.
func (n *Node) Launch(extra ...string) error {
	args := n.args
	n.args = append(append([]string(nil), n.args...), extra...)
	defer func() { n.args = args }()
	_, err := n.launch()
	return err
}

func (n *Node) launch() (chan struct{}, error) {
	if err := os.MkdirAll(n.Home, 0o700); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(n.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(n.Bin, n.args...)
	cmd.Env = append(os.Environ(), n.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	n.mu.Lock()
	n.cmd, n.done = cmd, done
	n.mu.Unlock()
	return done, nil
}

func (n *Node) start(ctx context.Context) error {
	done, err := n.launch()
	if err != nil {
		return err
	}
	if err := WaitHeight(ctx, n.RPC, 1, done); err != nil {
		n.Kill()
		return fmt.Errorf("%w (log: %s)", err, n.LogPath)
	}
	// The EVM txpool learns the block gas limit from the first block it
	// sees after a start; until then it rejects every transaction with
	// "exceeds block gas limit". Wait for one fresh block.
	c, err := evmclient.Dial(ctx, n.RPC)
	if err != nil {
		n.Kill()
		return err
	}
	h, err := c.BlockNumber(ctx)
	c.Close()
	if err != nil {
		n.Kill()
		return err
	}
	if err := WaitHeight(ctx, n.RPC, h+1, done); err != nil {
		n.Kill()
		return fmt.Errorf("%w (log: %s)", err, n.LogPath)
	}
	return nil
}

// Restart starts the same chain again after Stop or Kill, on the same ports.
func (n *Node) Restart(ctx context.Context) error { return n.start(ctx) }

// Stop sends SIGINT (Ctrl-C) and waits for a clean exit.
func (n *Node) Stop() error {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
		return nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("node did not stop within 30s of SIGINT")
	}
}

// Kill is kill -9: no chance to flush anything.
func (n *Node) Kill() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// Exited reports whether the node process has ended.
func (n *Node) Exited() bool {
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

// Client dials the node's JSON-RPC.
func (n *Node) Client(ctx context.Context) (*evmclient.Client, error) {
	return evmclient.Dial(ctx, n.RPC)
}

// Wallet returns dev account i.
func (n *Node) Wallet(i int) *evmclient.Wallet {
	w, err := evmclient.WalletFromHex(n.Accounts[i].PrivateKey)
	if err != nil {
		panic(err)
	}
	return w
}

// WaitHeight waits until the JSON-RPC at url reports a block number >= h.
// It gives up early when died is closed (the process exited).
func WaitHeight(ctx context.Context, url string, h uint64, died <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for {
		if c, err := evmclient.Dial(ctx, url); err == nil {
			bn, err := c.BlockNumber(ctx)
			c.Close()
			if err == nil && bn >= h {
				return nil
			}
		}
		select {
		case <-died:
			return fmt.Errorf("the node exited before reaching height %d", h)
		case <-ctx.Done():
			return fmt.Errorf("height %d not reached at %s: %w", h, url, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// RestartWith is Restart with extra arguments for this start only (a later flag wins).
func (n *Node) RestartWith(ctx context.Context, extra ...string) error {
	args := n.args
	n.args = append(append([]string(nil), n.args...), extra...)
	defer func() { n.args = args }()
	return n.start(ctx)
}
