// Package evmclient is a small Go client for the chain's Ethereum JSON-RPC:
// keys, signed EIP-1559 transactions, contract deployment and calls, and
// waiting for receipts. It is go-ethereum's ethclient with the chain's
// conventions filled in.
package evmclient

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
)

// Client is an ethclient bound to one chain.
type Client struct {
	*ethclient.Client
	ChainID *big.Int
	Signer  types.Signer
}

// Dial connects and reads the chain id.
func Dial(ctx context.Context, url string) (*Client, error) {
	c, err := ethclient.DialContext(ctx, url)
	if err != nil {
		return nil, err
	}
	id, err := c.ChainID(ctx)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("eth_chainId at %s: %w", url, err)
	}
	return &Client{Client: c, ChainID: id, Signer: types.LatestSignerForChainID(id)}, nil
}

// Wallet is a private key and its address.
type Wallet struct {
	Key     *ecdsa.PrivateKey
	Address common.Address
}

// WalletFromHex parses a 0x-prefixed (or bare) hex private key.
func WalletFromHex(hexKey string) (*Wallet, error) {
	k, err := crypto.HexToECDSA(strings.TrimPrefix(hexKey, "0x"))
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	return &Wallet{Key: k, Address: crypto.PubkeyToAddress(k.PublicKey)}, nil
}

// NewWallet makes a random wallet.
func NewWallet() *Wallet {
	k, err := crypto.GenerateKey()
	if err != nil {
		panic(err)
	}
	return &Wallet{Key: k, Address: crypto.PubkeyToAddress(k.PublicKey)}
}

// Fees are the EIP-1559 fee fields of a transaction.
type Fees struct{ TipCap, FeeCap *big.Int }

// SuggestFees prices a transaction well above the current base fee, so a
// rising base fee under load does not strand it: fee cap = 2·base + tip.
func (c *Client) SuggestFees(ctx context.Context) (Fees, error) {
	head, err := c.HeaderByNumber(ctx, nil)
	if err != nil {
		return Fees{}, err
	}
	tip, err := c.SuggestGasTipCap(ctx)
	if err != nil {
		return Fees{}, err
	}
	if tip.Sign() == 0 {
		tip = big.NewInt(1)
	}
	base := head.BaseFee
	if base == nil {
		base = big.NewInt(0)
	}
	feeCap := new(big.Int).Add(new(big.Int).Mul(base, big.NewInt(2)), tip)
	return Fees{TipCap: tip, FeeCap: feeCap}, nil
}

// TxOpts are the fields of a transaction to sign.
type TxOpts struct {
	Nonce uint64
	To    *common.Address // nil: contract creation
	Value *big.Int
	Gas   uint64
	Data  []byte
	Fees  Fees
}

// Sign builds and signs an EIP-1559 transaction.
func (c *Client) Sign(w *Wallet, o TxOpts) (*types.Transaction, error) {
	v := o.Value
	if v == nil {
		v = new(big.Int)
	}
	tx := types.NewTx(&types.DynamicFeeTx{ChainID: c.ChainID, Nonce: o.Nonce, GasTipCap: o.Fees.TipCap,
		GasFeeCap: o.Fees.FeeCap, Gas: o.Gas, To: o.To, Value: v, Data: o.Data})
	return types.SignTx(tx, c.Signer, w.Key)
}

// Send signs and sends a transaction with the next pending nonce and
// suggested fees; gas 0 means estimate it (with 20% headroom).
func (c *Client) Send(ctx context.Context, w *Wallet, to *common.Address, value *big.Int, data []byte, gas uint64) (*types.Transaction, error) {
	nonce, err := c.PendingNonceAt(ctx, w.Address)
	if err != nil {
		return nil, err
	}
	fees, err := c.SuggestFees(ctx)
	if err != nil {
		return nil, err
	}
	if gas == 0 {
		est, err := c.EstimateGas(ctx, ethereum.CallMsg{From: w.Address, To: to, Value: value, Data: data})
		if err != nil {
			return nil, fmt.Errorf("estimate gas: %w", err)
		}
		gas = est + est/5
	}
	tx, err := c.Sign(w, TxOpts{Nonce: nonce, To: to, Value: value, Gas: gas, Data: data, Fees: fees})
	if err != nil {
		return nil, err
	}
	return tx, c.SendTransaction(ctx, tx)
}

// WaitReceipt polls for a transaction's receipt until ctx ends.
func (c *Client) WaitReceipt(ctx context.Context, hash common.Hash) (*types.Receipt, error) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		r, err := c.TransactionReceipt(ctx, hash)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, ethereum.NotFound) && !strings.Contains(err.Error(), "not found") {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no receipt for %s: %w", hash, ctx.Err())
		case <-t.C:
		}
	}
}

// SendAndWait sends and waits for a successful receipt.
func (c *Client) SendAndWait(ctx context.Context, w *Wallet, to *common.Address, value *big.Int, data []byte, gas uint64) (*types.Receipt, error) {
	tx, err := c.Send(ctx, w, to, value, data, gas)
	if err != nil {
		return nil, err
	}
	r, err := c.WaitReceipt(ctx, tx.Hash())
	if err != nil {
		return nil, err
	}
	if r.Status != types.ReceiptStatusSuccessful {
		return r, fmt.Errorf("transaction %s reverted (gas used %d)", tx.Hash(), r.GasUsed)
	}
	return r, nil
}

// Deploy sends creation code and waits for the contract address.
func (c *Client) Deploy(ctx context.Context, w *Wallet, code []byte) (common.Address, *types.Receipt, error) {
	r, err := c.SendAndWait(ctx, w, nil, nil, code, 0)
	if err != nil {
		return common.Address{}, r, err
	}
	return r.ContractAddress, r, nil
}

// Ether is n whole tokens in the smallest unit (18 decimals).
func Ether(n int64) *big.Int {
	return new(big.Int).Mul(big.NewInt(n), new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil))
}
