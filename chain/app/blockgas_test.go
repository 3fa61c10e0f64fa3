package app

import (
	"crypto/ecdsa"
	"math/big"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/ethereum/go-ethereum/common"
	ethtypes "github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	evmmempool "github.com/cosmos/evm/mempool"
	evmtypes "github.com/cosmos/evm/x/vm/types"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
)

// burnCode is contract-creation code that loops until its gas is gone (JUMPDEST PUSH1 0 JUMP),
// so a transaction carrying it uses exactly its gas limit.
var burnCode = []byte{0x5b, 0x60, 0x00, 0x56}

// blockTx signs an EVM transaction at a fee cap of 1,000 gwei: a transfer of 1 when data is nil,
// else a contract creation.
func (c *recheckChain) blockTx(t *testing.T, key *ecdsa.PrivateKey, nonce, gas uint64, data []byte) []byte {
	return c.blockTxAt(t, key, nonce, gas, data, big.NewInt(1e12))
}

func (c *recheckChain) blockTxAt(t *testing.T, key *ecdsa.PrivateKey, nonce, gas uint64, data []byte, feeCap *big.Int) []byte {
	t.Helper()
	inner := &ethtypes.DynamicFeeTx{ChainID: c.chainID, Nonce: nonce, Gas: gas, GasFeeCap: feeCap, GasTipCap: big.NewInt(1), Value: big.NewInt(1)}
	if data == nil {
		to := common.BigToAddress(big.NewInt(0x2000))
		inner.To = &to
	} else {
		inner.Data, inner.Value = data, big.NewInt(0)
	}
	tx, err := ethtypes.SignNewTx(key, ethtypes.LatestSignerForChainID(c.chainID), inner)
	if err != nil {
		t.Fatal(err)
	}
	bz, err := evmmempool.NewTxEncoder(c.app.txConfig).EVMTx(tx)
	if err != nil {
		t.Fatal(err)
	}
	return bz
}

// runBlock proposes, finalizes and commits the next block with txs, as CometBFT drives it:
// validators must accept the proposal.
func (c *recheckChain) runBlock(t *testing.T, txs [][]byte) *abci.ResponseFinalizeBlock {
	t.Helper()
	h := c.app.LastBlockHeight() + 1
	pp, err := c.app.ProcessProposal(&abci.RequestProcessProposal{Height: h, Time: time.Unix(1_800_000_000+h, 0), Txs: txs})
	if err != nil || pp.Status != abci.ResponseProcessProposal_ACCEPT {
		t.Fatalf("proposal of block %d: %v %v", h, pp, err)
	}
	res, err := c.app.FinalizeBlock(&abci.RequestFinalizeBlock{Height: h, Time: time.Unix(1_800_000_000+h, 0), Txs: txs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.app.Commit(); err != nil {
		t.Fatal(err)
	}
	c.height = h
	return res
}

func (c *recheckChain) nonceOf(key *ecdsa.PrivateKey) uint64 {
	return c.app.EVMKeeper.GetAccount(c.base(), crypto.PubkeyToAddress(key.PublicKey)).Nonce
}

func blockGasUsed(res *abci.ResponseFinalizeBlock) (used uint64) {
	for _, r := range res.TxResults {
		used += uint64(r.GasUsed)
	}
	return used
}

func isBlockGasFull(r *abci.ExecTxResult) bool {
	return r.Codespace == ErrBlockGasFull.Codespace() && r.Code == ErrBlockGasFull.ABCICode()
}

// A block runs a transaction only while its limit fits the gas the ones before it used: an
// over-full block runs no more than its gas, the transaction left out is not charged and keeps
// its nonce, and it runs in the next block.
func TestBlockGasIsBoundedByGasUsed(t *testing.T) {
	c := testChain(t)
	a, b, d := c.spare[0], c.spare[1], c.spare[2]
	const limit = recheckBlockGas * 3 / 10 // three burn the block down to a tenth
	na, nb, nd := c.nonceOf(a), c.nonceOf(b), c.nonceOf(d)
	balance := func(k *ecdsa.PrivateKey) string {
		return c.app.BankKeeper.GetBalance(c.base(), crypto.PubkeyToAddress(k.PublicKey).Bytes(), Denom).String()
	}
	dBefore := balance(d)
	txs := [][]byte{
		c.blockTx(t, a, na, 40_000, nil),       // a transfer: uses 21,000
		c.blockTx(t, a, na+1, limit, burnCode), // uses 30M
		c.blockTx(t, b, nb, limit, burnCode),   // 60M
		c.blockTx(t, a, na+2, limit, burnCode), // 90M: 10M left
		c.blockTx(t, d, nd, limit, burnCode),   // 30M > 10M left: left out
		c.blockTx(t, b, nb+1, 40_000, nil),     // fits what is left
	}
	// Their limits add up to 120M against the block's 100M; validators accept the proposal
	// (runBlock checks) because the block bounds what the transactions use.
	res := c.runBlock(t, txs)
	for i, r := range res.TxResults {
		if full := isBlockGasFull(r); full != (i == 4) {
			t.Fatalf("tx %d: code %d/%s %q, left out %v", i, r.Code, r.Codespace, r.Log, full)
		}
	}
	if r := res.TxResults[4]; r.GasUsed != 0 || r.GasWanted != 0 {
		t.Fatalf("the left-out transaction reports gas %d used, %d wanted", r.GasUsed, r.GasWanted)
	}
	// JSON-RPC and the EVM indexer must not show it as a transaction of this block: it never ran.
	if evmtypes.TxSucessOrExpectedFailure(res.TxResults[4]) {
		t.Fatalf("JSON-RPC would list the left-out transaction in the block: %q", res.TxResults[4].Log)
	}
	if used := blockGasUsed(res); used > recheckBlockGas || used < 3*limit {
		t.Fatalf("block used %d gas, want 90M..100M", used)
	}
	if p := c.app.blockUse.permille.Load(); p != 999 {
		t.Fatalf("the block's transactions used %d/1000 of their limits by the proposer's count, want 999", p)
	}
	if got := c.nonceOf(d); got != nd {
		t.Fatalf("the left-out sender's nonce went %d -> %d", nd, got)
	}
	if got := balance(d); got != dBefore {
		t.Fatalf("the left-out sender paid: %s -> %s", dBefore, got)
	}
	if c.nonceOf(a) != na+3 || c.nonceOf(b) != nb+2 {
		t.Fatalf("nonces after the block: a %d (want %d), b %d (want %d)", c.nonceOf(a), na+3, c.nonceOf(b), nb+2)
	}
	// Next block: it runs.
	res = c.runBlock(t, [][]byte{txs[4]})
	if r := res.TxResults[0]; r.Code != 0 || r.GasUsed != limit {
		t.Fatalf("in the next block: code %d %q, gas used %d", r.Code, r.Log, r.GasUsed)
	}
	if c.nonceOf(d) != nd+1 {
		t.Fatal("the left-out transaction did not run in the next block")
	}
}

// The proposer packs by gas used: it selects by limits while they fit, without running anything;
// then, unless the last block used nearly all its limits, runs what it selected and each later
// candidate on a branch, and admits a candidate while its limit fits what the ones before it used. It leaves out one that does not fit or that fails
// its checks after the ones before it or whose fee cap is below the block's base fee, and what it
// predicts is what the block then uses.
func TestProposerPacksByGasUsed(t *testing.T) {
	c := testChain(t)
	a, b := c.spare[0], c.spare[1]
	na, nb := c.nonceOf(a), c.nonceOf(b)
	const limit = recheckBlockGas * 3 / 10
	transfer := func(nonce, gas uint64) []byte { return c.blockTx(t, a, nonce, gas, nil) }
	var candidates [][]byte
	// Nine transfers with generous limits: 270M of limits, 189k of use. Packed by limits three fit.
	for i := range uint64(3) {
		candidates = append(candidates, transfer(na+i, limit))
	}
	candidates = append(candidates, transfer(na+50, 1_000_000))                          // fits by limits, but its nonce is ahead
	candidates = append(candidates, c.blockTxAt(t, a, na+3, 21_000, nil, big.NewInt(1))) // below the base fee
	for i := range uint64(6) {
		candidates = append(candidates, transfer(na+3+i, limit))
	}
	candidates = append(candidates,
		c.blockTx(t, b, nb, limit, burnCode),   // 30M
		c.blockTx(t, b, nb+1, limit, burnCode), // 60M
		c.blockTx(t, b, nb+2, limit, burnCode), // ~90M: under 10M left
		c.blockTx(t, b, nb+3, limit, burnCode), // does not fit
		transfer(na+9, 40_000),                 // fits
	)
	want := [][]byte{}
	for i, bz := range candidates {
		if i != 3 && i != 4 && i != 14 {
			want = append(want, bz)
		}
	}
	h := c.app.LastBlockHeight() + 1
	ctx := c.app.NewUncachedContext(false, cmtproto.Header{Height: h, Time: time.Unix(1_800_000_000+h, 0), ChainID: DefaultChainID}).
		WithConsensusParams(c.app.GetConsensusParams(c.base()))
	propose := func(lastUse uint32, check func(i int, s *gasUsedSelector)) ([][]byte, uint64) {
		c.app.blockUse.permille.Store(lastUse)
		s := &gasUsedSelector{app: c.app}
		for i, bz := range candidates {
			tx, err := c.app.TxDecode(bz)
			if err != nil {
				t.Fatal(err)
			}
			if s.SelectTxForProposal(ctx, 1<<22, recheckBlockGas, tx, bz) {
				t.Fatalf("the selector stopped at candidate %d with gas left", i)
			}
			check(i, s)
		}
		defer s.Clear()
		return s.SelectedTxs(ctx), s.gas
	}
	// After a block whose transactions used all their limits, running gains nothing: by limits
	// alone, nothing run (so the transaction with a nonce ahead is not found out either).
	byLimits, _ := propose(1000, func(i int, s *gasUsedSelector) {
		if s.running {
			t.Fatalf("ran transactions after a block that used all its limits (candidate %d)", i)
		}
	})
	if len(byLimits) != 5 || string(byLimits[3]) != string(candidates[3]) || string(byLimits[4]) != string(candidates[15]) {
		t.Fatalf("by limits: selected %d transactions, want candidates 0-3 and 15", len(byLimits))
	}
	// After a block that used a fifth of its limits: by use.
	selected, predicted := propose(200, func(i int, s *gasUsedSelector) {
		if i == 4 && len(s.selected) != 4 {
			t.Fatal("a transaction below the base fee was selected")
		}
		if s.running != (i >= 5) {
			t.Fatalf("after candidate %d: ran the selected transactions %v", i, s.running)
		}
	})
	if len(selected) != len(want) {
		t.Fatalf("selected %d transactions, want %d", len(selected), len(want))
	}
	for i := range want {
		if string(selected[i]) != string(want[i]) {
			t.Fatalf("selected[%d] is not the expected transaction", i)
		}
	}
	if c.nonceOf(a) != na || c.nonceOf(b) != nb {
		t.Fatal("building the proposal changed the committed state")
	}
	res := c.runBlock(t, selected)
	for i, r := range res.TxResults {
		if isBlockGasFull(r) || r.Code != 0 {
			t.Fatalf("tx %d of the proposer's own block: code %d %s", i, r.Code, r.Log)
		}
	}
	if used := blockGasUsed(res); used != predicted {
		t.Fatalf("the block used %d gas, the proposer predicted %d", used, predicted)
	}
	if c.nonceOf(a) != na+10 || c.nonceOf(b) != nb+3 {
		t.Fatalf("nonces after the block: a +%d, b +%d", c.nonceOf(a)-na, c.nonceOf(b)-nb)
	}
}
