package e2e

import (
	"context"
	"fmt"
	"math/big"
	"testing"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/ethereum/go-ethereum/core/types"

	"cosmossdk.io/log/v2"
	dbm "github.com/cosmos/cosmos-db"
	evmencoding "github.com/cosmos/evm/encoding"
	"github.com/cosmos/evm/indexer"
	evmtypes "github.com/cosmos/evm/x/vm/types"

	"github.com/cosmos/cosmos-sdk/client"

	"sahara/chain/app"
	saharapc "sahara/chain/rpc"
	"sahara/internal/testnode"
	"sahara/sdk/evmclient"
)

// resultsMissing is the node's CometBFT RPC, except that the first times
// requests for one block's results fail (all of them if times < 0) the way
// they do when a block is saved but not yet executed: the failure that
// stops the stock EVM indexer.
type resultsMissing struct {
	*rpchttp.HTTP
	height int64
	times  int
}

func (c *resultsMissing) BlockResults(ctx context.Context, h *int64) (*coretypes.ResultBlockResults, error) {
	if *h == c.height && c.times != 0 {
		c.times--
		return nil, fmt.Errorf("could not find results for height #%d", *h)
	}
	return c.HTTP.BlockResults(ctx, h)
}

// The repairer, fed from the node's blocks into an empty index, writes the
// same entry for every Ethereum transaction that the node's own index
// answered receipts from; a failed fetch is retried, not the end of it; and
// a second pass over indexed blocks does nothing.
func TestIndexRepairIndexesWhatTheServiceLeftOut(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	n := shared(t)
	c, err := n.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := n.Wallet(7)
	to := evmclient.NewWallet().Address
	fees, err := c.SuggestFees(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nonce, err := c.PendingNonceAt(ctx, w.Address)
	if err != nil {
		t.Fatal(err)
	}
	// Sent together, so that blocks hold more than one (cumulative gas is checked).
	var txs []*types.Transaction
	for i := range uint64(6) {
		tx, err := c.Sign(w, evmclient.TxOpts{Nonce: nonce + i, To: &to, Value: big.NewInt(int64(1 + i)), Gas: 21000, Fees: fees})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.SendTransaction(ctx, tx); err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
	}
	var receipts []*types.Receipt
	for _, tx := range txs {
		r, err := c.WaitReceipt(ctx, tx.Hash())
		if err != nil {
			t.Fatal(err)
		}
		receipts = append(receipts, r)
	}
	first, last := receipts[0].BlockNumber.Int64(), receipts[len(receipts)-1].BlockNumber.Int64()
	// The repairer stops below the newest block.
	if err := testnode.WaitHeight(ctx, n.RPC, uint64(last+2), nil); err != nil {
		t.Fatal(err)
	}

	comet, err := rpchttp.New(n.CometRPC, "/websocket")
	if err != nil {
		t.Fatal(err)
	}
	enc := evmencoding.MakeConfig(app.EVMChainID)
	evmtypes.RegisterInterfaces(enc.InterfaceRegistry)
	newIndex := func() *indexer.KVIndexer {
		return indexer.NewKVIndexer(dbm.NewMemDB(), log.NewNopLogger(), client.Context{}.WithTxConfig(enc.TxConfig).WithCodec(enc.Codec))
	}
	kv := newIndex()
	r := &saharapc.IndexRepairer{Chain: &resultsMissing{HTTP: comet, height: first, times: 1}, Index: kv, Logger: log.NewNopLogger(), Next: first}

	if _, err := r.Step(ctx); err == nil || r.Next != first {
		t.Fatalf("first step: err %v, next %d; want the results of block %d to fail and be retried from there", err, r.Next, first)
	}
	if got, _ := kv.LastIndexedBlock(); got >= first {
		t.Fatalf("block %d indexed although its results could not be read", got)
	}
	repaired := 0
	for i := 0; i < 3 && r.Next <= last; i++ {
		k, err := r.Step(ctx)
		if err != nil {
			t.Fatal(err)
		}
		repaired += k
		t.Logf("step: %d repaired, next %d", k, r.Next)
	}
	blocks := map[int64]bool{}
	for i, rc := range receipts {
		blocks[rc.BlockNumber.Int64()] = true
		got, err := kv.GetByTxHash(txs[i].Hash())
		if err != nil {
			t.Fatalf("tx %d (block %d) not in the repaired index: %v", i, rc.BlockNumber, err)
		}
		if got.Height != rc.BlockNumber.Int64() || uint(got.EthTxIndex) != rc.TransactionIndex ||
			got.GasUsed != rc.GasUsed || got.CumulativeGasUsed != rc.CumulativeGasUsed || got.Failed {
			t.Fatalf("tx %d: index has height %d index %d gas %d cumulative %d failed %v; the receipt says %d %d %d %d",
				i, got.Height, got.EthTxIndex, got.GasUsed, got.CumulativeGasUsed, got.Failed,
				rc.BlockNumber, rc.TransactionIndex, rc.GasUsed, rc.CumulativeGasUsed)
		}
	}
	if repaired != len(blocks) {
		t.Fatalf("indexed %d blocks, want the %d that hold the transfers", repaired, len(blocks))
	}
	if got, _ := kv.LastIndexedBlock(); got != last {
		t.Fatalf("last indexed block %d, want %d (blocks without Ethereum transactions write nothing)", got, last)
	}
	// A second pass finds everything indexed.
	r.Next = first
	if k, err := r.Step(ctx); err != nil || k != 0 {
		t.Fatalf("second pass indexed %d blocks (err %v), want 0", k, err)
	}

	// Results that never load: after GiveUpAfter failed steps the repair
	// passes over the block instead of stopping there for good.
	kv2 := newIndex()
	gone := &saharapc.IndexRepairer{Chain: &resultsMissing{HTTP: comet, height: first, times: -1}, Index: kv2,
		Logger: log.NewNopLogger(), Next: first, GiveUpAfter: 3}
	for i := 1; i <= 2; i++ {
		if _, err := gone.Step(ctx); err == nil || gone.Next != first {
			t.Fatalf("failed step %d: err %v, next %d; want an error and block %d retried", i, err, gone.Next, first)
		}
	}
	if _, err := gone.Step(ctx); err != nil || gone.Next <= last {
		t.Fatalf("third step: err %v, next %d; want block %d passed over and the checks past %d", err, gone.Next, first, last)
	}
	if got, err := kv2.GetByTxHash(txs[0].Hash()); err == nil {
		t.Fatalf("a transaction of the passed-over block is indexed: %+v", got)
	}
	for i, rc := range receipts {
		if rc.BlockNumber.Int64() == first {
			continue
		}
		if _, err := kv2.GetByTxHash(txs[i].Hash()); err != nil {
			t.Fatalf("tx %d (block %d, after the passed-over one) not indexed: %v", i, rc.BlockNumber, err)
		}
	}
}
