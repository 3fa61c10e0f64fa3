package dsp

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	dt "sahara/chain/x/datatask/types"
	"sahara/sdk/evmclient"
	"sahara/sdk/protocol"
)

// EVMChain is Chain over the node's Ethereum JSON-RPC (transactions through the datatask
// precompile, signed by the service's QA authority key) and its gRPC (batch queries). It connects
// on first use, so the platform may start before the node's JSON-RPC listens.
type EVMChain struct {
	url    string
	wallet *evmclient.Wallet
	query  dt.QueryClient
	conn   *grpc.ClientConn
	mu     sync.Mutex // one transaction at a time: nonces never collide
	evmMu  sync.Mutex
	evm    *evmclient.Client
}

// DialChain prepares the connection to the node as the QA authority whose key is wallet.
func DialChain(evmRPC, grpcAddr string, wallet *evmclient.Wallet) (*EVMChain, error) {
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("chain gRPC %s: %w", grpcAddr, err)
	}
	return &EVMChain{url: evmRPC, wallet: wallet, query: dt.NewQueryClient(conn), conn: conn}, nil
}

// Client is the JSON-RPC client, connected on first use.
func (c *EVMChain) Client(ctx context.Context) (*evmclient.Client, error) {
	c.evmMu.Lock()
	defer c.evmMu.Unlock()
	if c.evm == nil {
		e, err := evmclient.Dial(ctx, c.url)
		if err != nil {
			return nil, fmt.Errorf("chain JSON-RPC %s: %w", c.url, err)
		}
		c.evm = e
	}
	return c.evm, nil
}

// Close drops the connections.
func (c *EVMChain) Close() {
	if c.evm != nil {
		c.evm.Close()
	}
	c.conn.Close()
}

func (c *EVMChain) Authority() common.Address { return c.wallet.Address }

func (c *EVMChain) BatchApplied(ctx context.Context, pool, batch uint64) (bool, error) {
	_, err := c.query.Batch(ctx, &dt.QueryBatchRequest{PoolId: pool, BatchId: batch})
	if err == nil {
		return true, nil
	}
	if strings.Contains(err.Error(), "was not applied") {
		return false, nil
	}
	return false, fmt.Errorf("asking the chain for batch %d of pool %d: %w", batch, pool, err)
}

// Pool is the pool as the chain has it, with what it still holds.
func (c *EVMChain) Pool(ctx context.Context, id uint64) (*dt.QueryPoolResponse, error) {
	return c.query.Pool(ctx, &dt.QueryPoolRequest{Id: id})
}

// send simulates the call (to refuse with the chain's reason before paying gas), sends it and
// waits for its block.
func (c *EVMChain) send(ctx context.Context, call protocol.Call) (*types.Receipt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	evm, err := c.Client(ctx)
	if err != nil {
		return nil, err
	}
	// The estimate both simulates the call (refusing with the chain's reason before paying gas)
	// and sizes its gas: a payout's cost depends on how many of its contributors are new accounts.
	est, err := evm.EstimateGas(ctx, ethereum.CallMsg{From: c.wallet.Address, To: &call.To, Data: call.Data})
	if err != nil {
		return nil, fmt.Errorf("the chain refuses it: %w", err)
	}
	call.Gas = est + est/5
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return evm.SendAndWait(ctx, c.wallet, &call.To, nil, call.Data, call.Gas)
}

func (c *EVMChain) PostPayouts(ctx context.Context, pool, batch uint64, denoms []string, entries []protocol.Payout) (string, error) {
	call, err := protocol.PostPayouts(pool, batch, denoms, entries)
	if err != nil {
		return "", err
	}
	r, err := c.send(ctx, call)
	if err != nil {
		return "", err
	}
	return r.TxHash.Hex(), nil
}

func (c *EVMChain) MintDataset(ctx context.Context, pool uint64, name, uri string, root [32]byte, size uint64) (uint64, error) {
	call, err := protocol.MintDataset(pool, name, uri, root, size)
	if err != nil {
		return 0, err
	}
	r, err := c.send(ctx, call)
	if err != nil {
		return 0, err
	}
	id, ok := protocol.DatasetID(r)
	if !ok {
		return 0, fmt.Errorf("no DatasetMinted log in %s", r.TxHash.Hex())
	}
	return id, nil
}

// LoadOrCreateAuthority reads the QA authority's key from path, creating one on first use.
func LoadOrCreateAuthority(path string) (*evmclient.Wallet, error) {
	if bz, err := os.ReadFile(path); err == nil {
		return evmclient.WalletFromHex(strings.TrimSpace(string(bz)))
	} else if !os.IsNotExist(err) {
		return nil, err
	}
	w := evmclient.NewWallet()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return w, os.WriteFile(path, []byte(hexutil.Encode(crypto.FromECDSA(w.Key))+"\n"), 0o600)
}
