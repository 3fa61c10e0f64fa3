// Package protocoltest runs the registry, licensing, royalty and datatask keepers inside the real app (real
// bank, auth and stores on an in-memory database), so keeper rules are tested with real money
// movements. Every keeper test of these modules lives here so the app tree is linked once.
package protocoltest

import (
	"crypto/sha256"
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	dbm "github.com/cosmos/cosmos-db"

	"cosmossdk.io/log/v2"
	"cosmossdk.io/math"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"

	"sahara/chain/app"
	datatasktypes "sahara/chain/x/datatask/types"
	licensingtypes "sahara/chain/x/licensing/types"
	registrytypes "sahara/chain/x/registry/types"
	royaltytypes "sahara/chain/x/royalty/types"
)

// Env is one app instance with a context writing straight to its stores.
type Env struct {
	T   testing.TB
	App *app.App
	Ctx sdk.Context
}

// New starts an app on an in-memory database with the three modules' default genesis.
func New(t testing.TB) *Env {
	t.Helper()
	a := app.New(log.NewNopLogger(), dbm.NewMemDB(), false, simtestutil.EmptyAppOptions{})
	if err := a.LoadLatestVersion(); err != nil {
		t.Fatal(err)
	}
	ctx := a.NewUncachedContext(false, cmtproto.Header{Height: 1, Time: time.Unix(1_800_000_000, 0), ChainID: "test"})
	e := &Env{T: t, App: a, Ctx: ctx}
	must(t, a.RegistryKeeper.InitGenesis(ctx, registrytypes.DefaultGenesis()))
	must(t, a.LicensingKeeper.InitGenesis(ctx, licensingtypes.DefaultGenesis()))
	must(t, a.RoyaltyKeeper.InitGenesis(ctx, royaltytypes.DefaultGenesis()))
	must(t, a.DataTaskKeeper.InitGenesis(ctx, datatasktypes.DefaultGenesis()))
	return e
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Addr is a deterministic test address.
func Addr(n int) sdk.AccAddress {
	h := sha256.Sum256([]byte{byte(n >> 8), byte(n)})
	return sdk.AccAddress(h[:20])
}

// Fund mints coins to an address.
func (e *Env) Fund(to sdk.AccAddress, coins sdk.Coins) {
	e.T.Helper()
	must(e.T, e.App.BankKeeper.MintCoins(e.Ctx, minttypes.ModuleName, coins))
	must(e.T, e.App.BankKeeper.SendCoinsFromModuleToAccount(e.Ctx, minttypes.ModuleName, to, coins))
}

func (e *Env) Balance(a sdk.AccAddress, denom string) math.Int {
	return e.App.BankKeeper.GetBalance(e.Ctx, a, denom).Amount
}

// Root is a content root derived from a label.
func Root(label string) []byte {
	h := sha256.Sum256([]byte(label))
	return h[:]
}

// Bech32 renders an address the way messages carry it.
func Bech32(a sdk.AccAddress) string {
	s, err := sdk.Bech32ifyAddressBytes(app.Bech32Prefix, a)
	if err != nil {
		panic(err)
	}
	return s
}

// Cached runs fn in a cache context and commits only on success, as a transaction would.
func (e *Env) Cached(fn func(ctx sdk.Context) error) error {
	cc, write := e.Ctx.CacheContext()
	if err := fn(cc); err != nil {
		return err
	}
	write()
	return nil
}

func storeGasMeter() storetypes.GasMeter { return storetypes.NewInfiniteGasMeter() }

// Commit writes a store version. Uncommitted IAVL changes make every iterator sort them again,
// so long tests commit now and then.
// The royalty end blocker runs first, as it would at the end of a block.
func (e *Env) Commit() {
	must(e.T, e.App.RoyaltyKeeper.Flush(e.Ctx))
	e.App.CommitMultiStore().Commit()
}
