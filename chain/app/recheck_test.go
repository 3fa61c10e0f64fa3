package app

import (
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"math/big"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/ethereum/go-ethereum/common"
	ethtypes "github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	evmmempool "github.com/cosmos/evm/mempool"
	evmtypes "github.com/cosmos/evm/x/vm/types"

	"cosmossdk.io/log/v2"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/crypto/keys/ed25519"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"
)

// rechecker is legacypool.Rechecker, spelled out so the test needs no pool import.
type rechecker interface {
	GetContext() (sdk.Context, func())
	RecheckEVM(sdk.Context, *ethtypes.Transaction) (sdk.Context, error)
	Update(sdk.Context, *ethtypes.Header)
}

// recheckChain is a real app after InitChain and one committed block, with funded EVM senders.
type recheckChain struct {
	app     *App
	keys    []*ecdsa.PrivateKey
	addrs   []common.Address
	chainID *big.Int
	height  int64
	// spare are rich senders the recheck test leaves alone, for tests that run real blocks.
	spare []*ecdsa.PrivateKey
}

const recheckBlockGas = 100_000_000

func newRecheckChain(t *testing.T, balances []sdkmath.Int) *recheckChain {
	t.Helper()
	a := New(log.NewNopLogger(), dbm.NewMemDB(), false, simtestutil.EmptyAppOptions{}, baseapp.SetChainID(DefaultChainID))
	if err := a.LoadLatestVersion(); err != nil {
		t.Fatal(err)
	}
	c := &recheckChain{app: a}
	var accounts []GenesisAccount
	for i, bal := range balances {
		k, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		c.keys = append(c.keys, k)
		c.addrs = append(c.addrs, crypto.PubkeyToAddress(k.PublicKey))
		accounts = append(accounts, GenesisAccount{Address: c.addrs[i].Bytes(), Amount: bal})
	}
	for range 3 {
		k, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		c.spare = append(c.spare, k)
		accounts = append(accounts, GenesisAccount{Address: crypto.PubkeyToAddress(k.PublicKey).Bytes(), Amount: sdkmath.NewIntWithDecimal(1, 24)})
	}
	operator := sdk.AccAddress(common.HexToAddress("0x00000000000000000000000000000000000000f0").Bytes())
	accounts = append(accounts, GenesisAccount{Address: operator, Amount: sdkmath.NewIntWithDecimal(10, 24)})
	g, err := a.BuildGenesis(GenesisConfig{Accounts: accounts, Validators: []GenesisValidator{
		{Moniker: "v", Operator: operator, ConsKey: ed25519.GenPrivKey().PubKey(), Bond: sdkmath.NewIntWithDecimal(1000, 18)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	state, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	cp := *simtestutil.DefaultConsensusParams
	block := *cp.Block
	block.MaxGas = recheckBlockGas
	cp.Block = &block
	now := time.Unix(1_800_000_000, 0)
	if _, err := a.InitChain(&abci.RequestInitChain{ChainId: DefaultChainID, Time: now, AppStateBytes: state, ConsensusParams: &cp, InitialHeight: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.FinalizeBlock(&abci.RequestFinalizeBlock{Height: 1, Time: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	c.chainID = evmtypes.GetEthChainConfig().ChainID
	c.height = 1
	return c
}

// base is a context on the committed stores, standing for the state after the next block.
func (c *recheckChain) base() sdk.Context {
	return c.app.NewUncachedContext(true, cmtproto.Header{Height: c.height + 1, Time: time.Unix(1_800_000_000+c.height, 0), ChainID: DefaultChainID})
}

func (c *recheckChain) header() *ethtypes.Header {
	return &ethtypes.Header{Number: big.NewInt(c.height + 1), GasLimit: recheckBlockGas}
}

func (c *recheckChain) tx(t *testing.T, sender int, nonce uint64, feeCap, tip, value int64) *ethtypes.Transaction {
	t.Helper()
	to := common.BigToAddress(big.NewInt(int64(0x1000 + sender)))
	tx, err := ethtypes.SignNewTx(c.keys[sender], ethtypes.LatestSignerForChainID(c.chainID), &ethtypes.DynamicFeeTx{
		ChainID: c.chainID, Nonce: nonce, GasTipCap: big.NewInt(tip), GasFeeCap: big.NewInt(feeCap), Gas: 21_000, To: &to, Value: big.NewInt(value),
	})
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// outcome classes, as the pool tells them apart.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case strings.Contains(err.Error(), evmmempool.ErrNonceGap.Error()):
		return "nonce-gap"
	case errors.Is(err, evmmempool.ErrNonceLow):
		return "nonce-low"
	default:
		return "rejected"
	}
}

// view is what a rechecker's state says about a sender: the nonce and balance the next
// recheck will see.
func stockView(c *recheckChain, r rechecker, addr common.Address) (uint64, string) {
	ctx, _ := r.GetContext()
	acct := c.app.EVMKeeper.GetAccount(ctx, addr)
	return acct.Nonce, acct.Balance.String()
}

func lightView(c *recheckChain, r *lightRechecker, addr common.Address) (uint64, string) {
	if st, ok := r.senders[addr]; ok && st.light {
		return st.nonce, st.balance.String()
	}
	acct := c.app.EVMKeeper.GetAccount(r.ctx, addr)
	return acct.Nonce, acct.Balance.String()
}

// The light rechecker must decide every recheck exactly as the full ante handler does, and leave
// the same nonces and balances behind, through blocks that include transactions, raise and lower
// the base fee, fund and drain senders, and through rechecks that are and are not written back.
// recheckPerTx is what one recheck test transfer costs at a 20 gwei fee cap.
var recheckPerTx = sdkmath.NewInt(21_000 * 20 * 1_000_000_000)

// sharedChain is the one app of this test binary: the EVM module sets process-wide configuration
// in InitChain and refuses to do it twice, so every test that needs a chain shares this one.
// Tests that only read (proposals) do not disturb the recheck test's accounting.
var sharedChain struct {
	once sync.Once
	c    *recheckChain
}

func testChain(t *testing.T) *recheckChain {
	t.Helper()
	sharedChain.once.Do(func() {
		sharedChain.c = newRecheckChain(t, []sdkmath.Int{
			sdkmath.NewIntWithDecimal(1, 24),     // rich
			recheckPerTx.MulRaw(3),               // three transactions' worth
			recheckPerTx.MulRaw(7).AddRaw(12345), // tight, odd
			sdkmath.NewIntWithDecimal(1, 20),
			recheckPerTx.MulRaw(2),
		})
	})
	if sharedChain.c == nil {
		t.Fatal("the shared test chain failed to start (see the first test's failure)")
	}
	return sharedChain.c
}

func TestLightRecheckMatchesTheAnteHandler(t *testing.T) {
	gwei := int64(1_000_000_000)
	perTx := recheckPerTx
	c := testChain(t)
	a := c.app
	enc := evmmempool.NewTxEncoder(a.TxConfig())
	stock := evmmempool.NewTxRechecker(a.AnteHandler(), enc)
	light := newLightRechecker(a.AnteHandler(), enc, a.EVMKeeper, a.AccountKeeper, a.FeeMarketKeeper)

	rng := rand.New(rand.NewSource(7))
	pending := make([][]*ethtypes.Transaction, len(c.keys))
	nextNonce := make([]uint64, len(c.keys))
	seen := map[string]int{}

	check := func(step string, tx *ethtypes.Transaction, write bool) string {
		t.Helper()
		sctx, swrite := stock.GetContext()
		_, serr := stock.RecheckEVM(sctx, tx)
		lctx, lwrite := light.GetContext()
		_, lerr := light.RecheckEVM(lctx, tx)
		so, lo := outcome(serr), outcome(lerr)
		if so != lo {
			t.Fatalf("%s: tx nonce %d: ante handler says %s (%v), light recheck says %s (%v)", step, tx.Nonce(), so, serr, lo, lerr)
		}
		if serr == nil && write {
			swrite()
			lwrite()
		}
		seen[so]++
		return so
	}
	compare := func(step string) {
		t.Helper()
		for i, addr := range c.addrs {
			sn, sb := stockView(c, stock, addr)
			ln, lb := lightView(c, light, addr)
			if sn != ln || sb != lb {
				t.Fatalf("%s: sender %d: ante handler state nonce %d balance %s, light state nonce %d balance %s", step, i, sn, sb, ln, lb)
			}
		}
	}

	for block := 0; block < 60; block++ {
		base := c.base()
		// The block: include a prefix of some senders' pending transactions, move the base
		// fee, and now and then fund or drain a sender.
		fm := a.FeeMarketKeeper.GetParams(base)
		fm.BaseFee = sdkmath.LegacyNewDec(int64(rng.Intn(12)+1) * gwei)
		if err := a.FeeMarketKeeper.SetParams(base, fm); err != nil {
			t.Fatal(err)
		}
		// Governance closes calls for two blocks: transactions verified before must be refused.
		if block == 50 || block == 52 {
			ep := a.EVMKeeper.GetParams(base)
			ep.AccessControl.Call.AccessType = evmtypes.AccessTypeRestricted
			if block == 52 {
				ep.AccessControl.Call.AccessType = evmtypes.AccessTypePermissionless
			}
			if err := a.EVMKeeper.SetParams(base, ep); err != nil {
				t.Fatal(err)
			}
		}
		for i, addr := range c.addrs {
			if k := rng.Intn(len(pending[i]) + 1); k > 0 && rng.Intn(3) == 0 {
				acc := a.AccountKeeper.GetAccount(base, addr.Bytes())
				if err := acc.SetSequence(acc.GetSequence() + uint64(k)); err != nil {
					t.Fatal(err)
				}
				a.AccountKeeper.SetAccount(base, acc)
				pending[i] = pending[i][k:]
			}
			switch rng.Intn(10) {
			case 0:
				coins := sdk.NewCoins(sdk.NewCoin(Denom, perTx.MulRaw(2)))
				if err := a.BankKeeper.MintCoins(base, minttypes.ModuleName, coins); err != nil {
					t.Fatal(err)
				}
				if err := a.BankKeeper.SendCoinsFromModuleToAccount(base, minttypes.ModuleName, addr.Bytes(), coins); err != nil {
					t.Fatal(err)
				}
			case 1:
				bal := a.BankKeeper.GetBalance(base, addr.Bytes(), Denom)
				half := sdk.NewCoins(sdk.NewCoin(Denom, bal.Amount.QuoRaw(2)))
				if err := a.BankKeeper.SendCoinsFromAccountToModule(base, addr.Bytes(), minttypes.ModuleName, half); err != nil {
					t.Fatal(err)
				}
			}
		}
		stock.Update(base, c.header())
		light.Update(base, c.header())
		compare("after update")

		// Demotion pass over pending transactions, as the pool runs it after a block.
		for i := range pending {
			// The pool keeps the passing prefix pending; what follows a failure goes back to
			// the queue, which this model forgets: the sender re-sends from its nonce.
			kept := pending[i][:0]
			failed := false
			for _, tx := range pending[i] {
				if check("demote", tx, true) == "ok" && !failed {
					kept = append(kept, tx)
				} else {
					failed = true
				}
			}
			pending[i] = kept
			nextNonce[i], _ = stockView(c, stock, c.addrs[i])
			compare("after demote")
		}

		// A reset-time check of queued transactions: checked, never written.
		for i := range c.keys {
			if rng.Intn(3) == 0 {
				check("reset promote", c.tx(t, i, nextNonce[i]+1, int64(rng.Intn(20)+1)*gwei, gwei, 1), false)
			}
		}
		compare("after reset promote")

		// New arrivals, checked and kept on success.
		for n := 0; n < 16; n++ {
			i := rng.Intn(len(c.keys))
			nonce := nextNonce[i]
			if rng.Intn(8) == 0 {
				nonce += 2 // a gap
			}
			if rng.Intn(10) == 0 && nonce > 0 {
				nonce-- // a replay
			}
			value := int64(rng.Intn(1000))
			if rng.Intn(12) == 0 {
				value = perTx.Int64() * 2 // more than some senders have
			}
			tx := c.tx(t, i, nonce, int64(rng.Intn(16)+5)*gwei, int64(rng.Intn(3))*gwei, value)
			if check("promote", tx, true) == "ok" {
				pending[i] = append(pending[i], tx)
				nextNonce[i] = nonce + 1
			}
		}
		compare("after promote")
		c.height++
	}
	for _, o := range []string{"ok", "nonce-gap", "nonce-low", "rejected"} {
		if seen[o] == 0 {
			t.Errorf("no recheck ended %q: the scenario does not exercise it (%v)", o, seen)
		}
	}
	// Transactions that passed once are rechecked on the light path in later blocks.
	if light.lightChecks < 100 {
		t.Errorf("only %d light rechecks (%d full): the light path is barely exercised", light.lightChecks, light.fullChecks)
	}
	t.Logf("outcomes %v; light rechecks %d, full %d", seen, light.lightChecks, light.fullChecks)
}
