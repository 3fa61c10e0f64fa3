package app

import (
	"bytes"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	ethtypes "github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	evmante "github.com/cosmos/evm/ante/evm"
	evmmempool "github.com/cosmos/evm/mempool"
	feemarketkeeper "github.com/cosmos/evm/x/feemarket/keeper"
	feemarkettypes "github.com/cosmos/evm/x/feemarket/types"
	evmkeeper "github.com/cosmos/evm/x/vm/keeper"
	evmtypes "github.com/cosmos/evm/x/vm/types"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	errortypes "github.com/cosmos/cosmos-sdk/types/errors"
	authkeeper "github.com/cosmos/cosmos-sdk/x/auth/keeper"
)

// lightRechecker is the EVM txpool's Rechecker (legacypool.Rechecker). The pool rechecks every
// pending transaction after every block, and at admission; the library's rechecker runs the whole
// ante handler each time, which was a quarter of the node's CPU under load (bench/chain/README.md).
//
// A transaction's stateless checks (signature, chain id, type, size, intrinsic gas) cannot change
// between blocks. So a transaction runs the full ante handler once; after it has passed, its
// rechecks verify only what a new block can change — base fee, minimum gas price, the sender's
// balance against the cost, the nonce — against a per-block overlay of each sender's nonce and
// balance, applying the same fee deduction and nonce increment the ante handler would. Anything
// else (a sender with code or no account, changed EVM, fee-market or consensus parameters, a
// transaction not yet seen) takes the full path. Before a full check of a sender whose overlay has
// moved, the overlay is written into the check's context, so both paths see one state.
//
// Like the library's rechecker it is not safe for concurrent use; the pool serialises calls.
type lightRechecker struct {
	ante      sdk.AnteHandler
	converter evmmempool.TxConverter
	evm       *evmkeeper.Keeper
	accounts  authkeeper.AccountKeeper
	feemarket feemarketkeeper.Keeper

	ctx    sdk.Context // branch of the latest state; full checks write into it
	height int64

	// Per block, from Update.
	baseFee   *big.Int
	rules     params.Rules
	minGas    sdkmath.LegacyDec // fee-market minimum gas price
	isCheckTx bool
	signer    ethtypes.Signer // the pool's, so the sender it recovered is reused
	senders   map[common.Address]*senderState

	// verified holds transactions that passed the full ante handler under paramsKey, with the
	// height they last passed a recheck at, so entries for transactions gone from the pool expire.
	verified  map[common.Hash]int64
	paramsKey []byte

	staged staged // what the next write() commits

	lightChecks, fullChecks int // counts, for tests
}

// senderState is a sender's nonce and balance after the rechecks committed in this block.
// spent is the fee total deducted by light checks and not yet written into ctx.
type senderState struct {
	nonce   uint64
	balance *uint256.Int
	spent   *uint256.Int
	synced  uint64 // the nonce ctx holds
	light   bool   // a plain account: light checks allowed
}

type staged struct {
	kind   int // stageNone, stageLight, stageFull
	sender common.Address
	state  senderState
	cms    storetypes.CacheMultiStore
}

const (
	stageNone = iota
	stageLight
	stageFull
)

// verifiedTTL is how many blocks a verified entry survives without a passing recheck.
const verifiedTTL = 3

func newLightRechecker(ante sdk.AnteHandler, converter evmmempool.TxConverter, evm *evmkeeper.Keeper,
	accounts authkeeper.AccountKeeper, feemarket feemarketkeeper.Keeper,
) *lightRechecker {
	return &lightRechecker{
		ante: ante, converter: converter, evm: evm, accounts: accounts, feemarket: feemarket,
		senders:  map[common.Address]*senderState{},
		verified: map[common.Hash]int64{},
	}
}

// GetContext returns the recheck context and the function that keeps what the next RecheckEVM
// did. Light checks never touch the store, so no branch is made here: a full check branches
// itself.
func (r *lightRechecker) GetContext() (sdk.Context, func()) {
	r.staged = staged{}
	if r.ctx.MultiStore() == nil {
		return sdk.Context{}, func() {}
	}
	return r.ctx, r.commit
}

func (r *lightRechecker) commit() {
	s := r.staged
	r.staged = staged{}
	switch s.kind {
	case stageLight:
		st := s.state
		r.senders[s.sender] = &st
	case stageFull:
		s.cms.Write()
		// ctx now holds this sender's overlay and the transaction's effects: re-read it next time.
		delete(r.senders, s.sender)
	}
}

// RecheckEVM validates tx against ctx (from GetContext) and stages its effects for write().
func (r *lightRechecker) RecheckEVM(ctx sdk.Context, tx *ethtypes.Transaction) (sdk.Context, error) {
	if ctx.MultiStore() == nil {
		return r.fullCheck(ctx, tx, common.Address{}, false)
	}
	from, err := ethtypes.Sender(r.signer, tx)
	if err != nil {
		return r.fullCheck(ctx, tx, common.Address{}, false)
	}
	if _, ok := r.verified[tx.Hash()]; ok {
		st := r.sender(ctx, from)
		if st.light {
			r.lightChecks++
			return ctx, r.lightCheck(tx, from, st)
		}
	}
	return r.fullCheck(ctx, tx, from, true)
}

// sender returns from's overlay, reading it from ctx on first use in this block.
func (r *lightRechecker) sender(ctx sdk.Context, from common.Address) *senderState {
	if st, ok := r.senders[from]; ok {
		return st
	}
	st := &senderState{spent: new(uint256.Int)}
	acct := r.evm.GetAccount(ctx, from)
	if acct != nil && !acct.HasCodeHash() {
		st.light = true
		st.nonce, st.synced = acct.Nonce, acct.Nonce
		st.balance = new(uint256.Int).Set(acct.Balance)
	}
	r.senders[from] = st
	return st
}

// lightCheck repeats, in the ante handler's order and with its errors, the checks whose outcome
// a new block can change, and stages the nonce increment and fee deduction.
func (r *lightRechecker) lightCheck(tx *ethtypes.Transaction, from common.Address, st *senderState) error {
	gasLimit := sdkmath.LegacyNewDecFromBigInt(new(big.Int).SetUint64(tx.Gas()))
	feeAmt := new(big.Int).Mul(tx.GasFeeCap(), new(big.Int).SetUint64(tx.Gas()))
	if tx.Type() >= ethtypes.DynamicFeeTxType && r.baseFee != nil {
		feeAmt = effectiveFee(tx, r.baseFee)
	}
	if err := evmante.CheckGlobalFee(sdkmath.LegacyNewDecFromBigInt(feeAmt), r.minGas, gasLimit); err != nil {
		return err
	}
	if err := evmkeeper.CheckSenderBalance(sdkmath.NewIntFromBigInt(st.balance.ToBig()), tx); err != nil {
		return errorsmod.Wrap(err, "failed to check sender balance")
	}
	if r.rules.IsLondon && tx.GasFeeCap().Cmp(r.baseFee) < 0 {
		return errorsmod.Wrapf(errortypes.ErrInsufficientFee,
			"max fee per gas less than block base fee (%s < %s)", tx.GasFeeCap(), r.baseFee)
	}
	if tx.Value().Sign() > 0 && st.balance.CmpBig(tx.Value()) < 0 {
		return errorsmod.Wrapf(errortypes.ErrInsufficientFunds,
			"failed to transfer %s from address %s using the EVM block context transfer function", tx.Value(), from)
	}
	fees, err := evmkeeper.VerifyFee(tx, evmtypes.GetEVMCoinDenom(), r.baseFee,
		r.rules.IsHomestead, r.rules.IsIstanbul, r.rules.IsShanghai, r.isCheckTx)
	if err != nil {
		return err
	}
	fee, overflow := uint256.FromBig(fees.AmountOf(evmtypes.GetEVMCoinDenom()).BigInt())
	if overflow || st.balance.Cmp(fee) < 0 {
		return errorsmod.Wrapf(errortypes.ErrInsufficientFunds, "failed to deduct transaction costs from user balance: %s < %s", st.balance, fees)
	}
	switch {
	case tx.Nonce() > st.nonce:
		return errorsmod.Wrapf(evmmempool.ErrNonceGap, "tx nonce: %d, account accountNonce: %d", tx.Nonce(), st.nonce)
	case tx.Nonce() < st.nonce:
		return errorsmod.Wrapf(evmmempool.ErrNonceLow, "invalid nonce; got %d, expected %d", tx.Nonce(), st.nonce)
	}
	next := *st
	next.nonce++
	next.balance = new(uint256.Int).Sub(st.balance, fee)
	next.spent = new(uint256.Int).Add(st.spent, fee)
	r.staged = staged{kind: stageLight, sender: from, state: next}
	r.verified[tx.Hash()] = r.height
	return nil
}

// effectiveFee is gas × min(fee cap, base fee + tip), as MsgEthereumTx.GetEffectiveFee.
func effectiveFee(tx *ethtypes.Transaction, baseFee *big.Int) *big.Int {
	price := new(big.Int).Add(tx.GasTipCap(), baseFee)
	if price.Cmp(tx.GasFeeCap()) > 0 {
		price = tx.GasFeeCap()
	}
	return new(big.Int).Mul(price, new(big.Int).SetUint64(tx.Gas()))
}

// fullCheck runs the ante handler on a branch of ctx that first receives the sender's overlay.
func (r *lightRechecker) fullCheck(ctx sdk.Context, tx *ethtypes.Transaction, from common.Address, known bool) (sdk.Context, error) {
	r.fullChecks++
	cosmosTx, err := r.converter.EVMTxToCosmosTx(tx)
	if err != nil {
		return sdk.Context{}, fmt.Errorf("converting evm tx %s to cosmos tx: %w", tx.Hash(), err)
	}
	if ctx.MultiStore() == nil {
		return r.ante(ctx, cosmosTx, false)
	}
	cms := ctx.MultiStore().CacheMultiStore()
	branch := ctx.WithMultiStore(cms).WithEventManager(sdk.NewEventManager())
	if known {
		if st, ok := r.senders[from]; ok && st.light && (st.nonce != st.synced || !st.spent.IsZero()) {
			if err := r.sync(branch, from, st); err != nil {
				return sdk.Context{}, err
			}
		}
	}
	out, err := r.ante(branch, cosmosTx, false)
	if err != nil {
		return out, err
	}
	r.staged = staged{kind: stageFull, sender: from, cms: cms}
	r.verified[tx.Hash()] = r.height
	return out, nil
}

// sync writes a sender's overlay (nonce, fees deducted) into ctx, as the ante handler would have.
func (r *lightRechecker) sync(ctx sdk.Context, from common.Address, st *senderState) error {
	acc := r.accounts.GetAccount(ctx, from.Bytes())
	if acc == nil {
		return fmt.Errorf("recheck: account %s vanished", from)
	}
	if err := acc.SetSequence(st.nonce); err != nil {
		return err
	}
	r.accounts.SetAccount(ctx, acc)
	if st.spent.IsZero() {
		return nil
	}
	fees := sdk.Coins{{Denom: evmtypes.GetEVMCoinDenom(), Amount: sdkmath.NewIntFromBigInt(st.spent.ToBig())}}
	return r.evm.DeductTxCostsFromUserBalance(ctx, fees, from)
}

// Update moves the recheck context to the state after a new block and resets the overlay.
func (r *lightRechecker) Update(ctx sdk.Context, header *ethtypes.Header) {
	cached, _ := ctx.CacheContext()
	cached = cached.WithBlockGasMeter(storetypes.NewGasMeter(header.GasLimit))
	cached = cached.WithGasMeter(storetypes.NewInfiniteGasMeter())
	if cached.ConsensusParams().Block == nil {
		// As the library's rechecker: a fresh context may lack consensus params; use the header's limit.
		maxGas := int64(header.GasLimit) //nolint:gosec // block gas limits are far below 2^63
		cached = cached.WithConsensusParams(cmtproto.ConsensusParams{Block: &cmtproto.BlockParams{MaxGas: maxGas}})
	}
	r.ctx = cached
	r.height = cached.BlockHeight()
	r.senders = map[common.Address]*senderState{}
	r.staged = staged{}

	fm := r.feemarket.GetParams(cached)
	cfg := evmtypes.GetEthChainConfig()
	r.baseFee = evmtypes.GetBaseFee(cached.BlockHeight(), cfg, &fm)
	r.rules = cfg.Rules(big.NewInt(cached.BlockHeight()), true, uint64(cached.BlockTime().Unix())) //nolint:gosec // block times are positive
	r.minGas = fm.MinGasPrice
	r.signer = ethtypes.LatestSigner(cfg)
	r.isCheckTx = cached.IsCheckTx()

	// A transaction verified under other parameters must pass the full handler again.
	key := r.paramsFingerprint(cached, fm)
	if !bytes.Equal(key, r.paramsKey) {
		r.paramsKey = key
		clear(r.verified)
	}
	for h, seen := range r.verified {
		if r.height-seen > verifiedTTL {
			delete(r.verified, h)
		}
	}
}

// paramsFingerprint covers everything besides the sender's state and the base fee that a
// verified transaction's checks depend on.
func (r *lightRechecker) paramsFingerprint(ctx sdk.Context, fm feemarkettypes.Params) []byte {
	fm.BaseFee = sdkmath.LegacyDec{}
	evmParams := r.evm.GetParams(ctx)
	var b bytes.Buffer
	b.Write(mustMarshal(&evmParams))
	b.Write(mustMarshal(&fm))
	if cp := ctx.ConsensusParams().Block; cp != nil {
		fmt.Fprintf(&b, "|%d|%d", cp.MaxGas, cp.MaxBytes)
	}
	fmt.Fprintf(&b, "|%s", ctx.MinGasPrices())
	return b.Bytes()
}

type marshaler interface{ Marshal() ([]byte, error) }

func mustMarshal(m marshaler) []byte {
	bz, err := m.Marshal()
	if err != nil {
		panic(err)
	}
	return bz
}
