package app

// Blocks are bounded by the gas their transactions use, as on Ethereum, not by the sum of
// their gas limits.
//
// Why: a limit has to cover a transaction's worst case, and on this chain the worst case can be
// far from the usual one. A payment into an asset with 100 ancestors is priced cold (every
// ancestor's vault read and written back at the end of the block) when it is the first in its
// block to touch them, and warm (in memory) after that; its limit must cover cold (~520k gas)
// while it uses ~130k on average. Packed by limits, a 100M block held 128 such payments and used
// a sixth of its gas.
//
// The rule, checked while the block runs (gasUsedRunner): a transaction runs only if its gas
// limit fits what the transactions before it in the block left of the block's gas, counted by
// the gas they used. So the gas used by a block never exceeds its limit, whatever a proposer
// puts in it. A transaction that does not fit is not run at all: it pays no fee, its nonce is
// not used, and it stays in the mempool for a later block.
//
// The proposer (gasUsedSelector) selects by limits while they fit, running nothing; past that it
// runs the transactions on a branch of the state as it builds the block, so it knows what the
// ones before used and admits the next by the same rule. Built that way, an honest proposer's
// block has no transaction the rule leaves out. Running them costs the proposer a second
// execution of the block, so it does so only when the last block's transactions used well under
// their limits (blockUse); a block of ERC-20 transfers whose limits are their estimates gains
// nothing from it and was 25% slower with it (bench/protocols/README.md).

import (
	"context"
	"fmt"
	"math/big"
	"sync/atomic"

	abci "github.com/cometbft/cometbft/abci/types"
	cmttypes "github.com/cometbft/cometbft/types"

	evmtypes "github.com/cosmos/evm/x/vm/types"

	errorsmod "cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/baseapp"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
)

// ErrBlockGasFull is the result of a transaction left out because the block had too little gas
// left for its limit. Its log must not contain the EVM's "block gas meter" text: the JSON-RPC
// shows transactions with that text as executed, and these never ran.
var ErrBlockGasFull = errorsmod.Register("sahara", 1, "block gas used up before this transaction")

// minTxGas is the least gas any transaction asks for (an EVM transfer's intrinsic gas); below
// that much gas left, the proposer stops looking.
const minTxGas = 21_000

func gasLimit(tx sdk.Tx) uint64 {
	if g, ok := tx.(baseapp.GasTx); ok {
		return g.GetGas()
	}
	return 0
}

// gasUsedRunner runs a block's transactions in order under the rule above.
type gasUsedRunner struct {
	decode sdk.TxDecoder
	maxGas func() uint64 // the block's gas limit (0: none), as its BeginBlock saw it
	// observe is told, after each block, the gas its transactions used and the sum of their
	// limits (for the proposer's choice, blockUse; not part of consensus).
	observe func(used, limits uint64)
}

var _ sdk.TxRunner = (*gasUsedRunner)(nil)

func (r *gasUsedRunner) Run(ctx context.Context, _ storetypes.MultiStore, txs [][]byte, deliverTx sdk.DeliverTxFunc) ([]*abci.ExecTxResult, error) {
	maxGas := r.maxGas()
	var used, limits uint64
	results := make([]*abci.ExecTxResult, 0, len(txs))
	for i, raw := range txs {
		var res *abci.ExecTxResult
		tx, err := r.decode(raw)
		var limit uint64
		if err == nil {
			limit = gasLimit(tx)
		}
		switch {
		case err != nil:
			res = sdkerrors.ResponseExecTxResultWithEvents(sdkerrors.ErrTxDecode, 0, 0, nil, false)
		case maxGas > 0 && limit > maxGas-used:
			res = sdkerrors.ResponseExecTxResultWithEvents(errorsmod.Wrapf(ErrBlockGasFull,
				"it asks for %d gas and the block has %d of %d left; it stays in the mempool for a later block",
				limit, maxGas-used, maxGas), 0, 0, nil, false)
		default:
			res = deliverTx(raw, tx, nil, i, nil)
			limits += limit
			if res.GasUsed > 0 {
				used += min(uint64(res.GasUsed), maxGas-used) // a limit bounds its use; this guards the sum
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		default:
		}
		results = append(results, res)
	}
	if r.observe != nil {
		r.observe(used, limits)
	}
	return results, nil
}

// blockUse is how much of their limits the last block's transactions used, in thousandths
// (0: no block yet). The proposer runs transactions to pack by use only when that share was low
// enough to gain from it: a block of transfers whose limits are their exact cost gains nothing,
// and running them would only slow the proposal.
type blockUse struct{ permille atomic.Uint32 }

// packByUseBelow is the share of their limits, in thousandths, under which the last block's
// transactions make running the next block's worth it (a fifth more room or better).
const packByUseBelow = 800

func (b *blockUse) observe(used, limits uint64) {
	if limits == 0 {
		return
	}
	b.permille.Store(uint32(max(1, min(1000, used*1000/limits))))
}

func (b *blockUse) worthRunning() bool {
	p := b.permille.Load()
	return p == 0 || p < packByUseBelow
}

// gasUsedSelector builds a proposal. While the limits of the transactions it selects fit the
// block, it selects without running anything: packing by limits and by use agree there. From the
// first transaction whose limit does not fit, it runs the selected ones on a branch of the state
// to learn what they use, and from then on runs each candidate on the branch left by the ones
// before it and selects it if its limit fits the gas those used. A transaction that fails its
// checks on that branch (a nonce or balance the ones before changed) is left out, and so is an
// EVM transaction whose fee cap is below the block's base fee: it could not run, and left in the
// mempool it waits for the base fee to fall, as on Ethereum.
type gasUsedSelector struct {
	app *App

	ctx      sdk.Context
	branch   storetypes.CacheMultiStore // the state the block starts from, then as its transactions leave it
	baseFee  *big.Int                   // the block's base fee (nil: none)
	running  bool                       // the selected transactions have been run on branch
	byLimits bool                       // the last block used nearly all its limits: pack by limits alone
	gas      uint64                     // the selected limits' sum, then (running) the gas used
	bytes    uint64
	selected []candidate
}

type candidate struct {
	tx   sdk.Tx
	bz   []byte
	size uint64
}

var _ baseapp.TxSelector = (*gasUsedSelector)(nil)

func (s *gasUsedSelector) SelectedTxs(context.Context) [][]byte {
	out := make([][]byte, len(s.selected))
	for i, c := range s.selected {
		out[i] = c.bz
	}
	return out
}

func (s *gasUsedSelector) Clear() {
	*s = gasUsedSelector{app: s.app}
}

func (s *gasUsedSelector) SelectTxForProposal(goCtx context.Context, maxTxBytes, maxBlockGas uint64, memTx sdk.Tx, txBz []byte) bool {
	if s.branch == nil {
		s.start(sdk.UnwrapSDKContext(goCtx))
	}
	c := candidate{tx: memTx, bz: txBz, size: uint64(cmttypes.ComputeProtoSizeForTxs([]cmttypes.Tx{txBz}))}
	limit := gasLimit(memTx)
	switch {
	case memTx == nil || s.bytes+c.size > maxTxBytes || s.underpriced(memTx):
	case maxBlockGas == 0:
		s.add(c)
	case !s.running && limit <= maxBlockGas-s.gas:
		s.gas += limit
		s.add(c)
	case s.byLimits:
	default:
		if !s.running {
			s.runSelected()
		}
		if limit > maxBlockGas-s.gas {
			break
		}
		if used, ok := s.run(c, len(s.selected)); ok {
			s.gas += min(used, maxBlockGas-s.gas)
			s.add(c)
		}
	}
	return s.bytes >= maxTxBytes || ((s.running || s.byLimits) && maxBlockGas-s.gas < minTxGas)
}

// start branches the proposal's state and runs on it what FinalizeBlock runs before the
// transactions and they depend on: the fee market's new base fee, and the EVM's block start.
// (The other begin blockers move rewards and mint; no transaction's checks or gas depend on them.)
func (s *gasUsedSelector) start(ctx sdk.Context) {
	s.branch = ctx.MultiStore().CacheMultiStore()
	s.ctx = ctx.WithMultiStore(s.branch).WithEventManager(sdk.NewEventManager())
	if err := s.app.FeeMarketKeeper.BeginBlock(s.ctx); err != nil {
		s.ctx.Logger().Error("proposal: fee market begin block", "err", err)
	}
	if err := s.app.EVMKeeper.BeginBlock(s.ctx); err != nil {
		s.ctx.Logger().Error("proposal: EVM begin block", "err", err)
	}
	s.baseFee = s.app.EVMKeeper.GetBaseFee(s.ctx)
	s.byLimits = !s.app.blockUse.worthRunning()
}

func (s *gasUsedSelector) underpriced(tx sdk.Tx) bool {
	if s.baseFee == nil || s.baseFee.Sign() == 0 {
		return false
	}
	for _, m := range tx.GetMsgs() {
		if e, ok := m.(*evmtypes.MsgEthereumTx); ok && e.Raw.Transaction != nil && e.AsTransaction().GasFeeCap().Cmp(s.baseFee) < 0 {
			return true
		}
	}
	return false
}

func (s *gasUsedSelector) add(c candidate) {
	s.bytes += c.size
	s.selected = append(s.selected, c)
}

// runSelected runs the transactions selected by their limits on the branch, keeps those that
// pass their checks there, and counts the gas they use.
func (s *gasUsedSelector) runSelected() {
	s.running = true
	selected := s.selected
	s.selected, s.gas, s.bytes = nil, 0, 0
	for _, c := range selected {
		if used, ok := s.run(c, len(s.selected)); ok {
			s.gas += used
			s.add(c)
		}
	}
}

// run executes one transaction on the branch as FinalizeBlock will: the ante handler's changes
// are kept even when the messages fail (fees and nonce), the messages' only when they succeed.
// ok is false when the ante handler refuses it: it would not run in the block either.
func (s *gasUsedSelector) run(c candidate, index int) (used uint64, ok bool) {
	tx := c.tx
	ctx := s.ctx.WithTxBytes(c.bz).WithTxIndex(index).WithExecMode(sdk.ExecModeFinalize).WithIsCheckTx(false).
		WithGasMeter(storetypes.NewInfiniteGasMeter()).WithEventManager(sdk.NewEventManager())
	anteStore := s.branch.CacheMultiStore()
	ctx, err := s.ante(ctx.WithMultiStore(anteStore), tx)
	if err != nil {
		return 0, false
	}
	anteStore.Write()
	msgStore := s.branch.CacheMultiStore()
	if s.msgs(ctx.WithMultiStore(msgStore), tx) == nil {
		msgStore.Write()
	}
	return ctx.GasMeter().GasConsumedToLimit(), true
}

func (s *gasUsedSelector) ante(ctx sdk.Context, tx sdk.Tx) (out sdk.Context, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ante handler panicked: %v", r)
		}
	}()
	h := s.app.AnteHandler()
	if h == nil {
		return ctx, nil
	}
	return h(ctx, tx, false)
}

func (s *gasUsedSelector) msgs(ctx sdk.Context, tx sdk.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil { // out of gas, as in BaseApp: the messages' changes are dropped
			err = fmt.Errorf("messages panicked: %v", r)
		}
	}()
	for i, msg := range tx.GetMsgs() {
		h := s.app.MsgServiceRouter().Handler(msg)
		if h == nil {
			return fmt.Errorf("no handler for %T", msg)
		}
		if _, err := h(ctx.WithMsgIndex(i), msg); err != nil {
			return err
		}
	}
	if s.app.postHandler != nil {
		_, err = s.app.postHandler(ctx, tx, false, true)
	}
	return err
}
