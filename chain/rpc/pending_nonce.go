// Package rpc adds to the chain's Ethereum JSON-RPC what the stock server
// lacks.
package rpc

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	ethtypes "github.com/ethereum/go-ethereum/core/types"
	gethrpc "github.com/ethereum/go-ethereum/rpc"

	"github.com/cosmos/evm/mempool/txpool"
	evmrpc "github.com/cosmos/evm/rpc"
	"github.com/cosmos/evm/rpc/backend"
	"github.com/cosmos/evm/rpc/stream"
	rpctypes "github.com/cosmos/evm/rpc/types"
	evmtypes "github.com/cosmos/evm/x/vm/types"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/server"
)

// PendingNonceNamespace is the app.toml json-rpc.api entry that turns the
// fix on. It must come after "eth": the JSON-RPC registry merges services of
// one namespace and a later method replaces an earlier one of the same name.
const PendingNonceNamespace = "eth-pending-nonce"

// Register adds the namespace creators (the pending nonce and the EVM index
// repair); call once per process, before the node starts.
func Register() error {
	err := evmrpc.RegisterAPINamespace(PendingNonceNamespace, func(_ *server.Context, _ client.Context, _ *stream.RPCStream, b backend.BackendI) []gethrpc.API {
		return []gethrpc.API{{Namespace: evmrpc.EthNamespace, Version: "1.0", Service: &pendingNonceAPI{b: b}, Public: true}}
	})
	if err != nil {
		return err
	}
	return registerIndexRepair()
}

// pendingNonceAPI answers eth_getTransactionCount. With the app-side
// mempool, the stock "pending" count asks CometBFT for unconfirmed txs,
// which are never there (the app holds them), so "pending" equals "latest"
// and a wallet that sends two transactions in one block reuses a nonce.
// Here "pending" also counts the sender's executable transactions in the
// app's txpool, as geth does.
type pendingNonceAPI struct{ b backend.BackendI }

func (a *pendingNonceAPI) GetTransactionCount(ctx context.Context, address common.Address, blockNrOrHash rpctypes.BlockNumberOrHash) (*hexutil.Uint64, error) {
	num, err := a.b.BlockNumberFromComet(ctx, blockNrOrHash)
	if err != nil {
		return nil, err
	}
	full, ok := a.b.(*backend.Backend)
	if num != rpctypes.EthPendingBlockNumber || !ok || full.Mempool == nil || full.Mempool.GetTxPool() == nil {
		return a.b.GetTransactionCount(ctx, address, num)
	}
	// The committed nonce, from the EVM module. The stock count answers 0 on any error of its
	// account lookup, and a wallet given 0 after its first transaction signs a replay ("nonce
	// too low"); an error here goes to the caller instead, who can retry.
	acct, err := full.QueryClient.Account(ctx, &evmtypes.QueryAccountRequest{Address: address.Hex()})
	if err != nil {
		return nil, fmt.Errorf("reading the nonce of %s: %w", address, err)
	}
	committed := hexutil.Uint64(acct.Nonce)
	pool := full.Mempool.GetTxPool()
	poolNext, pending, queued, ready := poolState(pool, address)
	if !ready {
		return &committed, nil
	}
	next := max(acct.Nonce, poolNext)
	// A transaction just accepted waits in the pool's queue until the pool
	// promotes it (asynchronously); count queued ones that continue the
	// sequence too, so a send followed at once by a nonce query sees it.
	have := make(map[uint64]bool, len(pending)+len(queued))
	for _, tx := range pending {
		have[tx.Nonce()] = true
	}
	for _, tx := range queued {
		have[tx.Nonce()] = true
	}
	for have[next] {
		next++
	}
	res := hexutil.Uint64(next)
	return &res, nil
}

// poolState reads the sender's next pool nonce and its transactions. Until
// the pool has processed its first block after a start its nonce tracker
// does not exist yet and reading it panics; then the committed nonce is the
// answer (ready is false).
func poolState(pool *txpool.TxPool, addr common.Address) (next uint64, pending, queued []*ethtypes.Transaction, ready bool) {
	defer func() {
		if recover() != nil {
			ready = false
		}
	}()
	next = pool.PoolNonce(addr)
	pending, queued = pool.ContentFrom(addr)
	return next, pending, queued, true
}
