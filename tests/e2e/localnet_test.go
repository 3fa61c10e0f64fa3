package e2e

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sahara/chain/network"
	"sahara/internal/testnode"
	"sahara/sdk/evmclient"
)

// Four validators, each its own process: with one stopped the other three
// (more than 2/3 of the power) keep producing blocks, and the stopped one
// restarts and catches up.
func TestLocalnetSurvivesAStoppedValidator(t *testing.T) {
	ctx := ctxFor(t, 6*time.Minute)
	dir := freshDir(t, "localnet")
	// Every node port moves with base (see sahara localnet --help): from API 1317 to CometBFT 26660 of
	// node0 and 300 more for node3. With base in 8600..14100 they all stay in 1024..32767, below the
	// kernel's ephemeral range (32768..60999), where any outgoing connection of another test may hold
	// one (a base of 20000-29900 put CometBFT's ports at ~47,000, and once node0 found its RPC port taken).
	base := 8600 + 100*rand.Intn(56)
	ln := exec.Command(binPath, "localnet", "--validators", "4", "--home", dir, "--base-port", strconv.Itoa(base))
	logf, err := os.Create(dir + ".log")
	if err != nil {
		t.Fatal(err)
	}
	ln.Stdout, ln.Stderr = logf, logf
	if err := ln.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = ln.Process.Signal(syscall.SIGTERM)
		_ = ln.Wait()
		logf.Close()
	})
	ports := func(i int) network.Ports {
		return network.DefaultPorts.Offset(base - network.DefaultPorts.JSONRPC + 100*i)
	}
	rpc := func(i int) string { return fmt.Sprintf("http://127.0.0.1:%d", ports(i).JSONRPC) }
	height := func(i int) uint64 {
		c, err := evmclient.Dial(ctx, rpc(i))
		if err != nil {
			return 0
		}
		defer c.Close()
		h, _ := c.BlockNumber(ctx)
		return h
	}
	for i := 0; i < 4; i++ {
		if err := testnode.WaitHeight(ctx, rpc(i), 3, nil); err != nil {
			out, _ := os.ReadFile(logf.Name())
			t.Fatalf("node%d: %v (logs in %s)\nsahara localnet said:\n%s", i, err, dir, out)
		}
	}

	// Stop validator 3 hard.
	pidBytes, err := os.ReadFile(filepath.Join(dir, "node3", "node.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(pidBytes)))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	stoppedAt := height(0)
	t.Logf("killed node3 (pid %d) at height %d", pid, stoppedAt)

	// The other three keep going, and a transaction still lands.
	if err := testnode.WaitHeight(ctx, rpc(0), stoppedAt+5, nil); err != nil {
		t.Fatalf("the network stalled with 3 of 4 validators: %v", err)
	}
	c0, err := evmclient.Dial(ctx, rpc(1))
	if err != nil {
		t.Fatal(err)
	}
	accs, err := testnode.ReadDevAccounts(filepath.Join(dir, "dev-accounts.json"))
	if err != nil {
		t.Fatal(err)
	}
	w, _ := evmclient.WalletFromHex(accs[0].PrivateKey)
	to := evmclient.NewWallet().Address
	if _, err := c0.SendAndWait(ctx, w, &to, evmclient.Ether(1), nil, 21000); err != nil {
		t.Fatalf("transfer with one validator down: %v", err)
	}

	// Restart validator 3: it catches up with the others.
	restart := exec.Command(binPath, "node", "start", "--home", filepath.Join(dir, "node3"))
	rlog, _ := os.Create(filepath.Join(dir, "node3", "restart.log"))
	restart.Stdout, restart.Stderr = rlog, rlog
	if err := restart.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = restart.Process.Signal(syscall.SIGTERM); _ = restart.Wait(); rlog.Close() })
	target := height(0)
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := testnode.WaitHeight(waitCtx, rpc(3), target, nil); err != nil {
		t.Fatalf("node3 did not catch up to height %d: %v", target, err)
	}
	// And it has the transfer made while it was down.
	c3, err := evmclient.Dial(ctx, rpc(3))
	if err != nil {
		t.Fatal(err)
	}
	if bal, _ := c3.BalanceAt(ctx, to, nil); bal.Cmp(evmclient.Ether(1)) != 0 {
		t.Fatalf("node3 sees balance %s for the transfer made while it was down", bal)
	}
	t.Logf("node3 caught up to height %d", height(3))
}
