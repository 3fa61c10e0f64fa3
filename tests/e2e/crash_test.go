package e2e

import (
	"bytes"
	"context"
	"math/big"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"sahara/chain/network"
	"sahara/internal/testnode"
	"sahara/sdk/evmclient"
)

// Under a load of transfers, kill -9 the node and restart it: the height
// continues, every transaction that got a receipt is still there in the
// same block, and every balance and nonce is exactly what the included
// transactions imply, to the wei.
func TestCrashSafetyKill9UnderLoad(t *testing.T) {
	ctx := ctxFor(t, 5*time.Minute)
	n, err := testnode.StartUp(ctx, binPath, freshDir(t, "crash"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	c, err := n.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fees, _ := c.SuggestFees(ctx)

	const senders = 5
	type sent struct {
		tx     *types.Transaction
		sender int
	}
	var (
		mu       sync.Mutex
		all      []sent
		receipts = map[common.Hash]*types.Receipt{}
	)
	recipients := make([]common.Address, senders)
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		recipients[s] = evmclient.NewWallet().Address
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			w := n.Wallet(s)
			for nonce := uint64(0); loadCtx.Err() == nil; nonce++ {
				tx, err := c.Sign(w, evmclient.TxOpts{Nonce: nonce, To: &recipients[s], Value: big.NewInt(1000 + int64(nonce)), Gas: 21000, Fees: fees})
				if err != nil {
					t.Error(err)
					return
				}
				if err := c.SendTransaction(loadCtx, tx); err != nil {
					return // the node is gone
				}
				mu.Lock()
				all = append(all, sent{tx, s})
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}(s)
	}
	// Collect receipts while the load runs, a block at a time: looking up a
	// receipt that does not exist yet costs ~1.5 s in this stack (the RPC
	// retries with backoff), so polling per transaction would starve.
	wg.Add(1)
	go func() {
		defer wg.Done()
		var next uint64 = 1
		for loadCtx.Err() == nil {
			h, err := c.BlockNumber(loadCtx)
			for ; err == nil && next <= h; next++ {
				rs, err := c.BlockReceipts(loadCtx, rpc.BlockNumberOrHashWithNumber(rpc.BlockNumber(next)))
				if err != nil {
					break
				}
				mu.Lock()
				for _, r := range rs {
					receipts[r.TxHash] = r
				}
				mu.Unlock()
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	time.Sleep(6 * time.Second)
	n.Kill() // kill -9 in the middle of the load
	stopLoad()
	wg.Wait()
	mu.Lock()
	seen := len(receipts)
	var maxHeight uint64
	for _, r := range receipts {
		maxHeight = max(maxHeight, r.BlockNumber.Uint64())
	}
	mu.Unlock()
	if seen < 20 {
		t.Fatalf("only %d receipts before the kill: the load did not run", seen)
	}
	t.Logf("killed with %d txs sent, %d receipted, highest receipted block %d", len(all), seen, maxHeight)

	if err := n.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	c2, err := n.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Right after a restart the txpool has not seen a block yet; the
	// pending nonce must still answer (it once crashed the handler here).
	if _, err := c2.PendingNonceAt(ctx, n.Wallet(0).Address); err != nil {
		t.Fatalf("pending nonce right after restart: %v", err)
	}
	h, _ := c2.BlockNumber(ctx)
	if err := testnode.WaitHeight(ctx, n.RPC, max(h, maxHeight)+3, nil); err != nil {
		t.Fatal(err)
	}

	// Every receipted transaction is still there, in the same block.
	for hash, r := range receipts {
		r2, err := c2.TransactionReceipt(ctx, hash)
		if err != nil {
			t.Fatalf("tx %s had a receipt in block %d before the crash, now: %v", hash, r.BlockNumber, err)
		}
		if r2.BlockNumber.Cmp(r.BlockNumber) != 0 || r2.BlockHash != r.BlockHash || r2.Status != r.Status {
			t.Fatalf("tx %s moved: block %d/%s status %d, was %d/%s status %d", hash, r2.BlockNumber, r2.BlockHash, r2.Status, r.BlockNumber, r.BlockHash, r.Status)
		}
	}
	// Balances and nonces follow exactly from what was included.
	spent := make([]*big.Int, senders)
	got := make([]*big.Int, senders)
	included := make([]uint64, senders)
	for s := range spent {
		spent[s], got[s] = new(big.Int), new(big.Int)
	}
	onChain := map[common.Hash]*types.Receipt{}
	top, _ := c2.BlockNumber(ctx)
	for b := uint64(1); b <= top; b++ {
		rs, err := c2.BlockReceipts(ctx, rpc.BlockNumberOrHashWithNumber(rpc.BlockNumber(b)))
		if err != nil {
			t.Fatalf("receipts of block %d: %v", b, err)
		}
		for _, r := range rs {
			onChain[r.TxHash] = r
		}
	}
	for _, s := range all {
		r, ok := onChain[s.tx.Hash()]
		if !ok {
			continue // lost with the mempool at the kill: never included
		}
		if r.Status != 1 {
			t.Fatalf("a plain transfer failed: %+v", r)
		}
		included[s.sender]++
		got[s.sender].Add(got[s.sender], s.tx.Value())
		fee := new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)
		spent[s.sender].Add(spent[s.sender], new(big.Int).Add(s.tx.Value(), fee))
	}
	for s := 0; s < senders; s++ {
		w := n.Wallet(s)
		nonce, _ := c2.NonceAt(ctx, w.Address, nil)
		if nonce != included[s] {
			t.Errorf("sender %d: nonce %d, but %d of its txs are on chain", s, nonce, included[s])
		}
		bal, _ := c2.BalanceAt(ctx, w.Address, nil)
		want := new(big.Int).Sub(network.DefaultDevBalance.BigInt(), spent[s])
		if bal.Cmp(want) != 0 {
			t.Errorf("sender %d: balance %s, want %s (genesis − value − fees of included txs)", s, bal, want)
		}
		rb, _ := c2.BalanceAt(ctx, recipients[s], nil)
		if rb.Cmp(got[s]) != 0 {
			t.Errorf("recipient %d: balance %s, want %s", s, rb, got[s])
		}
	}
	// The chain accepts new work after the restart.
	if _, err := c2.SendAndWait(ctx, n.Wallet(6), &recipients[0], big.NewInt(1), nil, 21000); err != nil {
		t.Fatalf("transfer after restart: %v", err)
	}
	// When the restart fell between a block's save and its execution, the
	// stock EVM indexer stopped and the repair indexed the blocks (chain/rpc).
	if logs, err := os.ReadFile(n.LogPath); err == nil {
		if bytes.Contains(logs, []byte("the EVM indexer left out a block")) {
			t.Log("the EVM indexer stopped after the restart; the repair indexed in its place")
		}
	}
}
