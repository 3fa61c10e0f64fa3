package protocoltest

import (
	"math/rand"
	"testing"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	rt "sahara/chain/x/registry/types"
	yt "sahara/chain/x/royalty/types"
)

// Thousands of random provenance graphs with random shareholders, payments in two denoms, share
// transfers and partial claims. For every denom, to the unit:
//
//	paid = claimed + claimable + dust, and the module account holds exactly claimable + dust;
//
// after everyone claims, a second claim pays nothing.
//
// The graphs run in batches of 200 per fresh chain state (a long-lived uncommitted test store
// slows down superlinearly; the property is per state anyway).
func TestRoyaltyConservationProperty(t *testing.T) {
	batches := 10
	if testing.Short() {
		batches = 2
	}
	for b := 0; b < batches; b++ {
		t.Run("", func(t *testing.T) { conservation(t, int64(b), 200) })
	}
}

func conservation(t *testing.T, seed int64, graphs int) {
	e := New(t)
	rng := rand.New(rand.NewSource(seed))
	denoms := []string{"asah", "upartner"}
	payer := Addr(60000)
	e.Fund(payer, sdk.NewCoins(sdk.NewCoin("asah", math.NewInt(1e15)), sdk.NewCoin("upartner", math.NewInt(1e15))))
	paid := sdk.NewCoins()
	var holders []sdk.AccAddress
	var assets []uint64
	claimedBy := map[string]sdk.Coins{}

	for g := 0; g < graphs; g++ {
		e.Commit()
		pool := make([]sdk.AccAddress, 4)
		for i := range pool {
			pool[i] = Addr(g*4 + i + 1)
		}
		holders = append(holders, pool...)
		n := 2 + rng.Intn(6)
		var ids []uint64
		for i := 0; i < n; i++ {
			owner := pool[rng.Intn(len(pool))]
			parents := map[uint64]uint32{}
			for _, p := range ids {
				if rng.Intn(3) == 0 {
					parents[p] = uint32(rng.Intn(1200)) // up to 12% each
				}
			}
			id, err := e.licensedChild(owner, rt.AssetKind(1+rng.Intn(4)), "a", parents)
			if err != nil {
				continue // e.g. the stack went over the 50% cap: rejected, nothing written
			}
			// Random shareholders among the pool.
			k := 1 + rng.Intn(3)
			left := rt.TotalShares
			for j := 0; j < k-1 && left > 1; j++ {
				s := 1 + uint64(rng.Int63n(int64(left-1)))
				_, err := e.reg().TransferShares(e.Ctx, &rt.MsgTransferShares{From: Bech32(owner), AssetId: id, To: Bech32(pool[rng.Intn(len(pool))]), Shares: s})
				if err == nil {
					left -= s
				}
			}
			ids = append(ids, id)
		}
		assets = append(assets, ids...)
		// Payments, interleaved with share transfers and claims.
		for p := 0; p < 2+rng.Intn(6); p++ {
			id := ids[rng.Intn(len(ids))]
			amt := sdk.NewCoins(sdk.NewCoin(denoms[rng.Intn(2)], math.NewInt(1+rng.Int63n(1_000_000))))
			must(t, e.pay(payer, id, amt))
			paid = paid.Add(amt...)
			switch rng.Intn(4) {
			case 0:
				from, to := pool[rng.Intn(4)], pool[rng.Intn(4)]
				if s, _ := e.App.RegistryKeeper.SharesOf(e.Ctx, id, from); s > 0 && !from.Equals(to) {
					_, err := e.reg().TransferShares(e.Ctx, &rt.MsgTransferShares{From: Bech32(from), AssetId: id, To: Bech32(to), Shares: 1 + uint64(rng.Int63n(int64(s)))})
					must(t, err)
				}
			case 1:
				who := pool[rng.Intn(4)]
				got, _, err := e.claim(who, 0)
				must(t, err)
				claimedBy[who.String()] = claimedBy[who.String()].Add(got...)
			}
		}
	}

	check := func(stage string) {
		t.Helper()
		claimable, claimed := sdk.NewCoins(), sdk.NewCoins()
		for _, h := range holders {
			claimable = claimable.Add(e.claimable(h)...)
			claimed = claimed.Add(e.App.BankKeeper.GetAllBalances(e.Ctx, h)...)
			if !e.App.BankKeeper.GetAllBalances(e.Ctx, h).Equal(claimedBy[h.String()]) {
				t.Fatalf("%s: %s holds %s but claimed %s", stage, h, e.App.BankKeeper.GetAllBalances(e.Ctx, h), claimedBy[h.String()])
			}
		}
		dust, vaultClaimable := sdk.NewCoins(), sdk.NewCoins()
		for _, id := range assets {
			v, err := e.royQ().Vault(e.Ctx, &yt.QueryVaultRequest{AssetId: id})
			must(t, err)
			for _, b := range v.Balances {
				if b.Dust.IsNegative() {
					t.Fatalf("%s: asset %d %s dust %s", stage, id, b.Vault.Denom, b.Dust)
				}
				if !b.Vault.Received.Equal(b.Vault.Forwarded.Add(b.Vault.Distributed)) {
					t.Fatalf("%s: vault %d/%s does not balance", stage, id, b.Vault.Denom)
				}
				dust = dust.Add(sdk.NewCoin(b.Vault.Denom, b.Dust))
				vaultClaimable = vaultClaimable.Add(sdk.NewCoin(b.Vault.Denom, b.Claimable))
			}
		}
		if !vaultClaimable.Equal(claimable) {
			t.Fatalf("%s: per-vault claimable %s != per-holder claimable %s", stage, vaultClaimable, claimable)
		}
		module := e.App.BankKeeper.GetAllBalances(e.Ctx, e.App.AccountKeeper.GetModuleAddress(yt.ModuleName))
		for _, d := range denoms {
			sum := claimed.AmountOf(d).Add(claimable.AmountOf(d)).Add(dust.AmountOf(d))
			if !sum.Equal(paid.AmountOf(d)) {
				t.Fatalf("%s: %s paid %s != claimed %s + claimable %s + dust %s", stage, d, paid.AmountOf(d), claimed.AmountOf(d), claimable.AmountOf(d), dust.AmountOf(d))
			}
			if !module.AmountOf(d).Equal(claimable.AmountOf(d).Add(dust.AmountOf(d))) {
				t.Fatalf("%s: module holds %s %s, owes %s + dust %s", stage, module.AmountOf(d), d, claimable.AmountOf(d), dust.AmountOf(d))
			}
		}
		t.Logf("%s: %d assets, paid %s, claimed %s, claimable %s, dust %s", stage, len(assets), paid, claimed, claimable, dust)
	}
	check("before final claims")
	for _, h := range holders {
		got, _, err := e.claim(h, 0)
		must(t, err)
		claimedBy[h.String()] = claimedBy[h.String()].Add(got...)
		again, _, err := e.claim(h, 0)
		must(t, err)
		if !again.IsZero() {
			t.Fatalf("%s claimed twice: %s", h, again)
		}
	}
	check("after everyone claimed")
}
