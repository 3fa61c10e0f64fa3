package e2e

import (
	"math/big"
	"os/exec"
	"strings"
	"testing"
	"time"

	"sahara/internal/testnode"
	"sahara/sdk/evmclient"
)

// Ctrl-C (SIGINT) stops `sahara up` cleanly, and the next run resumes the
// same chain: the height continues and state written before is there. The
// chain is created with --block-gas; resuming with the same value is fine,
// another one is refused with the way out.
func TestUpStopsCleanlyAndResumes(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	home := freshDir(t, "resume")
	n, err := testnode.StartUp(ctx, binPath, home, "--block-gas", "150000000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	c, _ := n.Client(ctx)
	to := evmclient.NewWallet().Address
	r, err := c.SendAndWait(ctx, n.Wallet(0), &to, big.NewInt(777), nil, 21000)
	if err != nil {
		t.Fatal(err)
	}
	if h, err := c.HeaderByNumber(ctx, nil); err != nil || h.GasLimit != 150_000_000 {
		t.Fatalf("block gas limit %v (%v), want the --block-gas 150000000", h, err)
	}
	before, _ := c.BlockNumber(ctx)
	if err := n.Stop(); err != nil {
		t.Fatalf("Ctrl-C: %v", err)
	}
	if !n.Exited() {
		t.Fatal("the node is still running after SIGINT")
	}
	out, err := exec.Command(binPath, "up", "--home", home, "--block-gas", "200000000").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "governance proposal") {
		t.Fatalf("resuming with another --block-gas: err %v, output:\n%s", err, out)
	}
	if err := n.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	c2, _ := n.Client(ctx)
	after, _ := c2.BlockNumber(ctx)
	if after <= before {
		t.Fatalf("height %d after restart, was %d", after, before)
	}
	if bal, _ := c2.BalanceAt(ctx, to, nil); bal.Int64() != 777 {
		t.Fatalf("balance after restart %s, want 777", bal)
	}
	if r2, err := c2.TransactionReceipt(ctx, r.TxHash); err != nil || r2.BlockNumber.Cmp(r.BlockNumber) != 0 {
		t.Fatalf("receipt after restart: %v %v", r2, err)
	}
}
