// Package marketload makes a marketplace's history on a running chain, through the protocol
// precompiles as wallets would: datasets with license terms, licenses of other people's
// datasets, models derived from them, payments to random assets and claims. Tests use it for
// the indexer's crash test; bench/web for catch-up speed and lag.
package marketload

import (
	"context"
	"fmt"
	"math/big"
	"math/rand"
	"sync"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"sahara/sdk/evmclient"
	"sahara/sdk/protocol"
)

// Config sizes the history: per wallet, Datasets datasets, Licenses licenses (each followed by
// a model derived from the licensed dataset) and Pays payments; then every wallet claims.
type Config struct {
	Datasets, Licenses, Pays int
	Seed                     int64
}

// Stats counts what was sent.
type Stats struct {
	Txs, Datasets, Licenses, Models, Pays, Claims int
	LastBlock                                     uint64
}

type call struct {
	protocol.Call
	err error
}

func mk(c protocol.Call, err error) call { return call{c, err} }

// burst sends every wallet's calls with consecutive nonces (wallets in parallel) and returns the
// receipts in the same order, failing on any revert.
func burst(ctx context.Context, c *evmclient.Client, ws []*evmclient.Wallet, calls [][]call) ([][]*types.Receipt, error) {
	fees, err := c.SuggestFees(ctx)
	if err != nil {
		return nil, err
	}
	fees.FeeCap.Mul(fees.FeeCap, big.NewInt(4)) // room for the base fee to rise under the burst
	out := make([][]*types.Receipt, len(ws))
	errs := make([]error, len(ws))
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = func() error {
				nonce, err := c.PendingNonceAt(ctx, w.Address)
				if err != nil {
					return err
				}
				var hashes []common.Hash
				for _, cl := range calls[i] {
					if cl.err != nil {
						return cl.err
					}
					tx, err := c.Sign(w, evmclient.TxOpts{Nonce: nonce, To: &cl.To, Gas: cl.Gas, Data: cl.Data, Fees: fees})
					if err != nil {
						return err
					}
					if err := c.SendTransaction(ctx, tx); err != nil {
						return fmt.Errorf("sending nonce %d of %s: %w", nonce, w.Address, err)
					}
					hashes = append(hashes, tx.Hash())
					nonce++
				}
				for _, h := range hashes {
					r, err := c.WaitReceipt(ctx, h)
					if err != nil {
						return err
					}
					if r.Status != types.ReceiptStatusSuccessful {
						return fmt.Errorf("transaction %s of %s reverted", h, w.Address)
					}
					out[i] = append(out[i], r)
				}
				return nil
			}()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Run makes the history and returns what it sent.
func Run(ctx context.Context, c *evmclient.Client, ws []*evmclient.Wallet, cfg Config) (Stats, error) {
	var st Stats
	rng := rand.New(rand.NewSource(cfg.Seed))
	n := len(ws)
	count := func(calls [][]call) {
		for _, cs := range calls {
			st.Txs += len(cs)
		}
	}
	last := func(rs [][]*types.Receipt) {
		for _, r := range rs {
			if len(r) > 0 && r[len(r)-1].BlockNumber.Uint64() > st.LastBlock {
				st.LastBlock = r[len(r)-1].BlockNumber.Uint64()
			}
		}
	}
	// 1. Datasets, each wallet's own.
	calls := make([][]call, n)
	for i := range ws {
		for j := 0; j < cfg.Datasets; j++ {
			var root [32]byte
			rng.Read(root[:])
			calls[i] = append(calls[i], mk(protocol.RegisterAsset("DATASET", fmt.Sprintf("dataset %d-%d", i, j),
				fmt.Sprintf("data:text/plain,labelled%%20set%%20number%%20%d%%20of%%20wallet%%20%d", j, i), root, uint64(1000+rng.Intn(1<<20)), nil)))
		}
	}
	rs, err := burst(ctx, c, ws, calls)
	if err != nil {
		return st, fmt.Errorf("datasets: %w", err)
	}
	count(calls)
	last(rs)
	owned := make([][]uint64, n)
	for i := range rs {
		for _, r := range rs[i] {
			id, _ := protocol.AssetID(r)
			owned[i] = append(owned[i], id)
		}
		st.Datasets += len(owned[i])
	}
	// 2. Terms (10% of derivatives, a small mint fee), offered on every dataset.
	terms := protocol.Terms{DerivativesAllowed: true, DerivativeRevShareBps: 1000, MintFeeDenom: "asah", MintFee: big.NewInt(1000), CommercialUse: true}
	var termsID uint64
	{
		call, err := protocol.CreateTerms(terms)
		if err != nil {
			return st, err
		}
		r, err := c.SendAndWait(ctx, ws[0], &call.To, nil, call.Data, call.Gas)
		if err != nil {
			return st, fmt.Errorf("terms: %w", err)
		}
		st.Txs++
		out, err := c.CallContract(ctx, callMsg(ws[0].Address, call), r.BlockNumber)
		if err != nil {
			return st, err
		}
		vals, err := protocol.Unpack(call, out)
		if err != nil {
			return st, err
		}
		termsID = vals[0].(uint64)
	}
	calls = make([][]call, n)
	for i := range ws {
		for _, id := range owned[i] {
			calls[i] = append(calls[i], mk(protocol.AttachTerms(id, termsID)))
		}
	}
	if rs, err = burst(ctx, c, ws, calls); err != nil {
		return st, fmt.Errorf("attach: %w", err)
	}
	count(calls)
	last(rs)
	// 3. Licenses of other wallets' datasets.
	calls = make([][]call, n)
	targets := make([][]uint64, n)
	for i, w := range ws {
		for j := 0; j < cfg.Licenses && n > 1; j++ {
			o := (i + 1 + rng.Intn(n-1)) % n
			if len(owned[o]) == 0 {
				continue
			}
			ds := owned[o][rng.Intn(len(owned[o]))]
			targets[i] = append(targets[i], ds)
			calls[i] = append(calls[i], mk(protocol.MintLicense(ds, termsID, w.Address, "asah", big.NewInt(1000), 1000)))
		}
	}
	if rs, err = burst(ctx, c, ws, calls); err != nil {
		return st, fmt.Errorf("licenses: %w", err)
	}
	count(calls)
	last(rs)
	// 4. A model trained on each licensed dataset.
	calls = make([][]call, n)
	for i := range rs {
		for j, r := range rs[i] {
			lic, _ := protocol.LicenseID(r)
			st.Licenses++
			var root [32]byte
			rng.Read(root[:])
			calls[i] = append(calls[i], mk(protocol.RegisterAsset("MODEL", fmt.Sprintf("model %d-%d", i, j), "data:text/plain,a%20model", root, 4096,
				[]protocol.Parent{{ParentId: targets[i][j], EdgeType: 1, LicenseId: lic}})))
		}
	}
	if rs, err = burst(ctx, c, ws, calls); err != nil {
		return st, fmt.Errorf("models: %w", err)
	}
	count(calls)
	last(rs)
	var all []uint64
	for i := range rs {
		for _, r := range rs[i] {
			id, _ := protocol.AssetID(r)
			all = append(all, id)
			st.Models++
		}
		all = append(all, owned[i]...)
	}
	// 5. Payments to random assets, then every wallet claims.
	calls = make([][]call, n)
	for i := range ws {
		for j := 0; j < cfg.Pays && len(all) > 0; j++ {
			calls[i] = append(calls[i], mk(protocol.Pay(all[rng.Intn(len(all))], "asah", big.NewInt(1_000_000+rng.Int63n(1e12)))))
		}
		calls[i] = append(calls[i], mk(protocol.Claim(0)))
	}
	if rs, err = burst(ctx, c, ws, calls); err != nil {
		return st, fmt.Errorf("payments: %w", err)
	}
	count(calls)
	last(rs)
	st.Pays, st.Claims = n*cfg.Pays, n
	return st, nil
}

func callMsg(from common.Address, c protocol.Call) ethereum.CallMsg {
	return ethereum.CallMsg{From: from, To: &c.To, Data: c.Data, Gas: c.Gas}
}
