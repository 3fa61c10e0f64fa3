package rpc

import (
	"context"
	"fmt"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"cosmossdk.io/log/v2"

	evmrpc "github.com/cosmos/evm/rpc"
	"github.com/cosmos/evm/rpc/backend"
	"github.com/cosmos/evm/rpc/stream"
	servertypes "github.com/cosmos/evm/server/types"
	evmtypes "github.com/cosmos/evm/x/vm/types"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/server"
)

// IndexRepairNamespace is the app.toml json-rpc.api entry that runs the
// EVM index repair (IndexRepairer) beside the node. It serves no methods.
const IndexRepairNamespace = "evm-index-repair"

// IndexRepairEvery is how often the repair looks for skipped blocks.
const IndexRepairEvery = time.Second

// BlockSource is the part of CometBFT's RPC client the repair reads blocks with
// (the node's local client, or rpc/client/http).
type BlockSource interface {
	Status(ctx context.Context) (*coretypes.ResultStatus, error)
	ABCIInfo(ctx context.Context) (*coretypes.ResultABCIInfo, error)
	Block(ctx context.Context, height *int64) (*coretypes.ResultBlock, error)
	BlockResults(ctx context.Context, height *int64) (*coretypes.ResultBlockResults, error)
}

// IndexRepairer indexes the blocks that cosmos/evm's EVM indexer service
// left out. That service (v0.7, server/indexer_service.go) stops for good
// after one failed fetch of a block's results: its error flag is never
// cleared. The fetch fails when the service starts in the moment between
// CometBFT saving a block and saving its results — after a crash, the node
// replays the last block just then — and from that block on JSON-RPC has no
// receipts until the next restart. The repairer walks the same blocks,
// retries what fails, and indexes each block with EVM transactions that the
// index does not have yet. Indexing a block twice writes the same keys, so
// it is safe beside a service that is merely slow.
type IndexRepairer struct {
	Chain  BlockSource
	Index  servertypes.EVMTxIndexer
	Logger log.Logger
	// Next is the first height not yet checked. Zero starts where the
	// service does: after the last indexed block, or at the newest block
	// when the index is empty.
	Next int64
	// GiveUpAfter is how many steps in a row a block's results may fail to
	// load before the repair passes over that block (its receipts stay
	// missing, and the log says so) to index the ones after it. Results that
	// are gone (pruned, or discard_abci_responses in config.toml) never come
	// back; zero means never give up.
	GiveUpAfter int
	// standIn is set once a block had to be indexed here: the service has
	// stopped (it does not recover within a process), so the newest block
	// is indexed here too, as soon as the app has committed it.
	standIn bool
	// failures counts the steps in a row that stopped at block Next.
	failures int
}

// IndexRepairGiveUp is GiveUpAfter in the node: a minute of failures.
const IndexRepairGiveUp = 60

// Step checks every block from Next up to the one below the newest the
// app has committed (the service indexes that one as soon as it is), or up
// to the newest committed once the service has stopped, and returns how
// many blocks it indexed. On an error it stops at the block that failed,
// and the next Step retries that block.
func (r *IndexRepairer) Step(ctx context.Context) (int, error) {
	st, err := r.Chain.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading the node status: %w", err)
	}
	info, err := r.Chain.ABCIInfo(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading the app's height: %w", err)
	}
	// CometBFT's newest block may still be executing; the app's last
	// committed block has its results saved.
	latest, earliest := info.Response.LastBlockHeight, st.SyncInfo.EarliestBlockHeight
	if r.Next == 0 {
		last, err := r.Index.LastIndexedBlock()
		if err != nil {
			return 0, fmt.Errorf("reading the EVM index: %w", err)
		}
		r.Next = latest
		if last >= 0 {
			r.Next = last + 1
		}
	}
	r.Next = max(r.Next, earliest)
	repaired := 0
	for ; r.Next <= latest; r.Next++ {
		newest := r.Next == latest
		if newest && !r.standIn {
			break
		}
		// Both the service and the repairer index blocks in height order, so
		// every block up to the last indexed one is done.
		last, err := r.Index.LastIndexedBlock()
		if err != nil {
			return repaired, fmt.Errorf("reading the EVM index: %w", err)
		}
		if last >= r.Next {
			r.Next = last
			continue
		}
		h := r.Next
		res, err := r.Chain.BlockResults(ctx, &h)
		if err != nil {
			if r.failures++; r.GiveUpAfter > 0 && r.failures >= r.GiveUpAfter {
				r.Logger.Error("passing over a block whose results cannot be read: JSON-RPC has no receipts for "+
					"its Ethereum transactions, if it had any", "height", h, "attempts", r.failures, "err", err)
				r.failures = 0
				r.standIn = true // the service stops at the same block
				continue
			}
			return repaired, fmt.Errorf("reading the results of block %d: %w", h, err)
		}
		r.failures = 0
		if !hasEVMTx(res.TxsResults) {
			continue
		}
		blk, err := r.Chain.Block(ctx, &h)
		if err != nil {
			return repaired, fmt.Errorf("reading block %d: %w", h, err)
		}
		if err := r.Index.IndexBlock(blk.Block, res.TxsResults); err != nil {
			return repaired, fmt.Errorf("indexing block %d: %w", h, err)
		}
		if !r.standIn {
			r.Logger.Info("the EVM indexer left out a block; indexing here from now on", "height", h)
		} else {
			r.Logger.Debug("indexed a block", "height", h)
		}
		repaired++
		r.standIn = true
	}
	return repaired, nil
}

// Run calls Step every interval until ctx ends. Errors are logged, not
// fatal: a block whose results are not saved yet is simply tried again.
func (r *IndexRepairer) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := r.Step(ctx)
		if err != nil && !failing {
			r.Logger.Info("EVM index repair will retry", "err", err)
		}
		failing = err != nil
	}
}

// hasEVMTx says whether the EVM indexer would write anything for a block
// with these results: an Ethereum transaction that ran (or ran out of the
// block's gas, which it records as failed).
func hasEVMTx(results []*abci.ExecTxResult) bool {
	for _, res := range results {
		if !evmtypes.TxSucessOrExpectedFailure(res) {
			continue
		}
		for _, ev := range res.Events {
			if ev.Type == evmtypes.EventTypeEthereumTx {
				return true
			}
		}
	}
	return false
}

var startRepair sync.Once

// registerIndexRepair adds the namespace whose creator starts the repair:
// the creator is the one place where the node hands out its EVM index.
func registerIndexRepair() error {
	return evmrpc.RegisterAPINamespace(IndexRepairNamespace, func(sc *server.Context, cctx client.Context, _ *stream.RPCStream, b backend.BackendI) []gethrpc.API {
		full, ok := b.(*backend.Backend)
		chain, isReader := cctx.Client.(BlockSource)
		if !ok || full.Indexer == nil || !isReader {
			sc.Logger.Info("EVM index repair off: json-rpc.enable-indexer is false or the node has no local client")
			return nil
		}
		startRepair.Do(func() {
			r := &IndexRepairer{Chain: chain, Index: full.Indexer, GiveUpAfter: IndexRepairGiveUp,
				Logger: sc.Logger.With("module", IndexRepairNamespace)}
			r.Logger.Info("EVM index repair running", "every", IndexRepairEvery.String())
			go r.Run(context.Background(), IndexRepairEvery)
		})
		return nil
	})
}
