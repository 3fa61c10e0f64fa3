package e2e

import (
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"sahara/internal/testnode"
	"sahara/sdk/evmclient"
)

// Ctrl-C (SIGINT) stops `sahara up` cleanly, and the next run resumes the
// same chain: the height continues and state written before is there.
func TestUpStopsCleanlyAndResumes(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	n, err := testnode.StartUp(ctx, binPath, filepath.Join(tmpRoot, "resume"))
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
	before, _ := c.BlockNumber(ctx)
	if err := n.Stop(); err != nil {
		t.Fatalf("Ctrl-C: %v", err)
	}
	if !n.Exited() {
		t.Fatal("the node is still running after SIGINT")
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
