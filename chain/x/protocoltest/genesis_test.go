package protocoltest

import (
	"testing"

	"github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"

	rt "sahara/chain/x/registry/types"
)

// Export → import into a fresh chain → export gives the same state, and the imported chain keeps
// working (indexes rebuilt: owners, holders, positions).
func TestGenesisRoundTrip(t *testing.T) {
	e := New(t)
	a, b, payer := Addr(1), Addr(2), Addr(3)
	ds := e.mustRegister(dataset(a, "ds"))
	m, err := e.licensedChild(b, rt.ASSET_KIND_MODEL, "m", map[uint64]uint32{ds: 1500})
	must(t, err)
	e.Fund(payer, coins(1_000))
	must(t, e.pay(payer, m, coins(333)))

	e.Commit() // end the block: vault deltas flushed
	regG, err := e.App.RegistryKeeper.ExportGenesis(e.Ctx)
	must(t, err)
	licG, err := e.App.LicensingKeeper.ExportGenesis(e.Ctx)
	must(t, err)
	royG, err := e.App.RoyaltyKeeper.ExportGenesis(e.Ctx)
	must(t, err)
	for _, g := range []interface{ Validate() error }{regG, licG, royG} {
		must(t, g.Validate())
	}

	f := New(t)
	must(t, f.App.RegistryKeeper.InitGenesis(f.Ctx, regG))
	must(t, f.App.LicensingKeeper.InitGenesis(f.Ctx, licG))
	must(t, f.App.RoyaltyKeeper.InitGenesis(f.Ctx, royG))
	// The royalty module's coins come with the bank genesis on a real chain.
	must(t, f.App.BankKeeper.MintCoins(f.Ctx, "mint", coins(333)))
	must(t, f.App.BankKeeper.SendCoinsFromModuleToModule(f.Ctx, "mint", "royalty", coins(333)))

	regG2, _ := f.App.RegistryKeeper.ExportGenesis(f.Ctx)
	licG2, _ := f.App.LicensingKeeper.ExportGenesis(f.Ctx)
	royG2, _ := f.App.RoyaltyKeeper.ExportGenesis(f.Ctx)
	for i, pair := range [][2]proto.Message{{regG, regG2}, {licG, licG2}, {royG, royG2}} {
		x, err1 := proto.Marshal(pair[0])
		y, err2 := proto.Marshal(pair[1])
		must(t, err1)
		must(t, err2)
		if string(x) != string(y) {
			t.Fatalf("genesis %d differs after round trip:\n%v\n%v", i, pair[0], pair[1])
		}
	}
	// 333 * 15% = 49.95 → 49 to the dataset; the model's holder gets the other 284.
	want := map[string]int64{"a": 49, "b": 284}
	got := map[string]int64{}
	for n, who := range map[string]sdk.AccAddress{"a": a, "b": b} {
		c, _, err := f.claim(who, 0)
		must(t, err)
		got[n] = c.AmountOf(denom).Int64()
	}
	if got["a"] != want["a"] || got["b"] != want["b"] {
		t.Fatalf("claims after import %v, want %v", got, want)
	}
	id, err := f.register(dataset(a, "after import"))
	must(t, err)
	if id != m+1 {
		t.Fatalf("next id after import %d, want %d", id, m+1)
	}
}
