package protocoltest

import (
	"testing"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	rt "sahara/chain/x/registry/types"
	yt "sahara/chain/x/royalty/types"
)

// The README example: a dataset, a model trained on it at 10%, an agent on the model at 20%.
func TestPaySplitsUpTheGraphAndOneClaimTakesAll(t *testing.T) {
	e := New(t)
	dsOwner, modelOwner, agentOwner, user := Addr(1), Addr(2), Addr(3), Addr(4)
	ds := e.mustRegister(dataset(dsOwner, "ds"))
	model, err := e.licensedChild(modelOwner, rt.ASSET_KIND_MODEL, "model", map[uint64]uint32{ds: 1000})
	must(t, err)
	agent, err := e.licensedChild(agentOwner, rt.ASSET_KIND_AGENT, "agent", map[uint64]uint32{model: 2000})
	must(t, err)
	e.Fund(user, sdk.NewCoins(sdk.NewCoin(denom, math.NewInt(10_000)), sdk.NewCoin("upartner", math.NewInt(500))))

	must(t, e.pay(user, agent, sdk.NewCoins(sdk.NewCoin(denom, math.NewInt(1_000)), sdk.NewCoin("upartner", math.NewInt(100)))))
	must(t, e.pay(user, model, coins(100)))
	// agent 1000: model 20% = 200, ds 10% = 100 (flattened), agent holders 700.
	// model 100: ds 10, model holders 90.
	want := map[string]sdk.Coins{
		"ds":    sdk.NewCoins(sdk.NewCoin(denom, math.NewInt(110)), sdk.NewCoin("upartner", math.NewInt(10))),
		"model": sdk.NewCoins(sdk.NewCoin(denom, math.NewInt(290)), sdk.NewCoin("upartner", math.NewInt(20))),
		"agent": sdk.NewCoins(sdk.NewCoin(denom, math.NewInt(700)), sdk.NewCoin("upartner", math.NewInt(70))),
	}
	for name, who := range map[string]sdk.AccAddress{"ds": dsOwner, "model": modelOwner, "agent": agentOwner} {
		if got := e.claimable(who); !got.Equal(want[name]) {
			t.Fatalf("%s claimable %s, want %s", name, got, want[name])
		}
		got, next, err := e.claim(who, 0)
		must(t, err)
		if !got.Equal(want[name]) || next != 0 {
			t.Fatalf("%s claimed %s next %d", name, got, next)
		}
		if bal := e.App.BankKeeper.GetAllBalances(e.Ctx, who); !bal.Equal(want[name]) {
			t.Fatalf("%s balance %s", name, bal)
		}
		again, _, err := e.claim(who, 0)
		must(t, err)
		if !again.IsZero() {
			t.Fatalf("%s claimed twice: %s", name, again)
		}
	}
	v, err := e.royQ().Vault(e.Ctx, &yt.QueryVaultRequest{AssetId: agent})
	must(t, err)
	for _, b := range v.Balances {
		if !b.Vault.Received.Equal(b.Vault.Forwarded.Add(b.Vault.Distributed)) || !b.Dust.IsZero() || !b.Claimable.IsZero() {
			t.Fatalf("agent vault %+v", b)
		}
	}
}

func TestPayRejectionsMoveNothing(t *testing.T) {
	e := New(t)
	o, payer := Addr(1), Addr(2)
	id := e.mustRegister(dataset(o, "d"))
	e.Fund(payer, coins(10))
	wantErr(t, e.pay(payer, id, sdk.Coins{}), "must be one or more positive coins")
	wantErr(t, e.pay(payer, id, sdk.Coins{sdk.Coin{Denom: denom, Amount: math.NewInt(-5)}}), "must be one or more positive coins")
	wantErr(t, e.pay(payer, 99, coins(5)), "asset 99 does not exist")
	wantErr(t, e.pay(payer, id, coins(11)), "insufficient funds")
	_, err := e.roy().Pay(e.Ctx, &yt.MsgPay{Payer: "bad", AssetId: id, Amount: coins(1)})
	wantErr(t, err, "payer \"bad\" is not a valid address")
	if !e.Balance(payer, denom).Equal(math.NewInt(10)) || !e.claimable(o).IsZero() {
		t.Fatal("a rejected payment moved money")
	}
	_, err = e.roy().UpdateParams(e.Ctx, &yt.MsgUpdateParams{Authority: Bech32(o), Params: yt.DefaultParams()})
	wantErr(t, err, "changed by governance")
	_, err = e.roy().UpdateParams(e.Ctx, &yt.MsgUpdateParams{Authority: Bech32(gov), Params: yt.Params{}})
	wantErr(t, err, "max_claim_assets must be at least 1")
}

// Thirds cannot split 100 exactly: the remainder stays with the asset as dust, accounted.
func TestDustAndShareTransfers(t *testing.T) {
	e := New(t)
	a, b, c, payer := Addr(1), Addr(2), Addr(3), Addr(9)
	msg := dataset(a, "d")
	msg.Shareholders = []rt.Shareholder{{Address: Bech32(a), Shares: 33_333_333}, {Address: Bech32(b), Shares: 33_333_333}, {Address: Bech32(c), Shares: 33_333_334}}
	id := e.mustRegister(msg)
	e.Fund(payer, coins(1_000))
	must(t, e.pay(payer, id, coins(100)))
	v, err := e.royQ().Vault(e.Ctx, &yt.QueryVaultRequest{AssetId: id})
	must(t, err)
	bal := v.Balances[0]
	if !bal.Claimable.Equal(math.NewInt(99)) || !bal.Dust.Equal(math.NewInt(1)) {
		t.Fatalf("claimable %s dust %s", bal.Claimable, bal.Dust)
	}
	// a sells all her shares to b: what she earned stays hers, b earns from now on.
	_, err = e.reg().TransferShares(e.Ctx, &rt.MsgTransferShares{From: Bech32(a), AssetId: id, To: Bech32(b), Shares: 33_333_333})
	must(t, err)
	must(t, e.pay(payer, id, coins(300)))
	got := map[string]int64{}
	for n, who := range map[string]sdk.AccAddress{"a": a, "b": b, "c": c} {
		cl, _, err := e.claim(who, 0)
		must(t, err)
		got[n] = cl.AmountOf(denom).Int64()
	}
	// a: 33 (first payment); b: 33 + 199.99.. → 233; c: 33.33.. + 100.0.. → 133.
	if got["a"] != 33 || got["b"] != 233 || got["c"] != 133 {
		t.Fatalf("claims %v", got)
	}
	v, err = e.royQ().Vault(e.Ctx, &yt.QueryVaultRequest{AssetId: id})
	must(t, err)
	bal = v.Balances[0]
	if sum := bal.Vault.Claimed.Add(bal.Claimable).Add(bal.Dust); !sum.Equal(math.NewInt(400)) || bal.Dust.IsNegative() {
		t.Fatalf("claimed %s + claimable %s + dust %s != 400", bal.Vault.Claimed, bal.Claimable, bal.Dust)
	}
	if mod := e.App.BankKeeper.GetBalance(e.Ctx, e.App.AccountKeeper.GetModuleAddress(yt.ModuleName), denom).Amount; !mod.Equal(bal.Claimable.Add(bal.Dust)) {
		t.Fatalf("module holds %s, owes %s + dust %s", mod, bal.Claimable, bal.Dust)
	}
}

// A claim is bounded per message and continues where it stopped.
func TestClaimContinuation(t *testing.T) {
	e := New(t)
	o, payer := Addr(1), Addr(2)
	e.Fund(payer, coins(1_000))
	var ids []uint64
	for i := 0; i < 5; i++ {
		id := e.mustRegister(dataset(o, "d"+string(rune('0'+i))))
		must(t, e.pay(payer, id, coins(int64(10*(i+1)))))
		ids = append(ids, id)
	}
	_, err := e.roy().UpdateParams(e.Ctx, &yt.MsgUpdateParams{Authority: Bech32(gov), Params: yt.Params{MaxClaimAssets: 2, GasPerAncestor: 1}})
	must(t, err)
	var total int64
	var after uint64
	rounds := 0
	for {
		got, next, err := e.claim(o, after)
		must(t, err)
		total += got.AmountOf(denom).Int64()
		rounds++
		if next == 0 {
			break
		}
		after = next
	}
	if total != 150 || rounds != 3 {
		t.Fatalf("claimed %d in %d rounds, want 150 in 3", total, rounds)
	}
}

// oneAncestorModel registers a dataset and a model trained on it (10%) and funds a payer.
func oneAncestorModel(t *testing.T, e *Env, fund int64) (owner, payer sdk.AccAddress, ds, m uint64) {
	owner, payer = Addr(1), Addr(2)
	ds = e.mustRegister(dataset(owner, "ds"))
	m, err := e.licensedChild(owner, rt.ASSET_KIND_MODEL, "m", map[uint64]uint32{ds: 1000})
	must(t, err)
	e.Fund(payer, coins(fund))
	return owner, payer, ds, m
}

// payGas is what one payment into asset costs in the current block.
func payGas(t *testing.T, e *Env, payer sdk.AccAddress, asset uint64, amount int64) uint64 {
	ctx := e.Ctx.WithGasMeter(storeGasMeter())
	_, err := e.roy().Pay(ctx, &yt.MsgPay{Payer: Bech32(payer), AssetId: asset, Amount: coins(amount)})
	must(t, err)
	return ctx.GasMeter().GasConsumed()
}

// Vault changes are block-scoped: visible at once, written once at the end of the block,
// and the first change of a vault in a block is charged the write the flush will make.
func TestVaultDeltasColdWarmAndFlush(t *testing.T) {
	e := New(t)
	o, payer, _, m := oneAncestorModel(t, e, 10_000)
	e.Commit()
	cold, warm := payGas(t, e, payer, m, 1000), payGas(t, e, payer, m, 1000)
	if warm >= cold {
		t.Fatalf("second payment in a block cost %d gas, first %d: want warm < cold", warm, cold)
	}
	if got := e.claimable(o); !got.Equal(coins(2000)) {
		t.Fatalf("claimable within the block %s", got)
	}
	if n, _ := e.App.RoyaltyKeeper.Vaults.Has(e.Ctx, collections.Join(m, denom)); n {
		t.Fatal("the vault was written before the end of the block")
	}
	must(t, e.App.RoyaltyKeeper.Flush(e.Ctx))
	must(t, e.App.RoyaltyKeeper.Flush(e.Ctx)) // a second flush adds nothing
	v, err := e.App.RoyaltyKeeper.Vaults.Get(e.Ctx, collections.Join(m, denom))
	must(t, err)
	if !v.Received.Equal(math.NewInt(2000)) || !v.Forwarded.Equal(math.NewInt(200)) {
		t.Fatalf("flushed vault %+v", v)
	}
	if got := e.claimable(o); !got.Equal(coins(2000)) {
		t.Fatalf("claimable after the flush %s", got)
	}
	t.Logf("pay gas: cold %d, warm %d", cold, warm)
}

// A stored vault is compact (asset and denom in the key, three amounts as bytes), vaults
// written as protobuf before still read, and the first payment into a vault in a block pays
// exactly the read the store meters and the end-of-block write on the vault's own bytes.
func TestVaultsAreCompactAndPricedOnTheirBytes(t *testing.T) {
	e := New(t)
	_, payer, ds, m := oneAncestorModel(t, e, 10_000_000)
	must(t, e.pay(payer, m, coins(1_000_000)))
	e.Commit()
	k := e.App.RoyaltyKeeper
	store := e.Ctx.KVStore(e.App.GetKey(yt.StoreKey))
	rawKey := func(asset uint64) []byte {
		key, err := collections.EncodeKeyWithPrefix(k.Vaults.GetPrefix(), k.Vaults.KeyCodec(), collections.Join(asset, denom))
		must(t, err)
		return key
	}
	size := func(asset uint64) int {
		key := rawKey(asset)
		return len(key) + len(store.Get(key))
	}
	if v := store.Get(rawKey(m)); len(v) > 12 || v[0] != 0 {
		t.Fatalf("stored vault of %d bytes (%x), want the compact form", len(v), v)
	}
	g := e.Ctx.KVGasConfig()
	var want uint64
	for _, a := range []uint64{m, ds} {
		b := uint64(size(a))
		want += g.ReadCostFlat + g.ReadCostPerByte*b + g.WriteCostFlat + g.WriteCostPerByte*(b+3)
	}
	cold, warm := payGas(t, e, payer, m, 1_000_000), payGas(t, e, payer, m, 1_000_000)
	if cold-warm != want {
		t.Fatalf("the first payment of the block cost %d more than the second, want %d (a read and a write of two vaults of %d and %d bytes)", cold-warm, want, size(m), size(ds))
	}
	e.Commit()
	// A vault stored as protobuf (as before the compact form) reads, and is rewritten compact.
	legacy := yt.Vault{AssetId: ds, Denom: denom, Received: math.NewInt(500), Forwarded: math.ZeroInt(), Distributed: math.NewInt(500), Claimed: math.ZeroInt()}
	bz, err := legacy.Marshal()
	must(t, err)
	store.Set(rawKey(ds), bz)
	v, err := k.Vaults.Get(e.Ctx, collections.Join(ds, denom))
	if err != nil || !v.Received.Equal(math.NewInt(500)) || !v.Distributed.Equal(math.NewInt(500)) {
		t.Fatalf("legacy vault: %+v, %v", v, err)
	}
	must(t, e.pay(payer, m, coins(1_000)))
	e.Commit()
	if v, err := k.Vaults.Get(e.Ctx, collections.Join(ds, denom)); err != nil || !v.Received.Equal(math.NewInt(600)) {
		t.Fatalf("legacy vault after a payment: %+v, %v", v, err)
	}
	if raw := store.Get(rawKey(ds)); raw[0] != 0 {
		t.Fatalf("the vault was not rewritten compact: %x", raw)
	}
	t.Logf("pay gas into a model with one ancestor: cold %d, warm %d; stored vaults %d and %d bytes", cold, warm, size(m), size(ds))
}
