package protocoltest

import (
	"strings"
	"testing"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	lt "sahara/chain/x/licensing/types"
)

func TestTermsDedupeAndValidation(t *testing.T) {
	e := New(t)
	c := Bech32(Addr(1))
	t1 := lt.Terms{CommercialUse: true, MintFee: sdk.NewCoin(denom, math.NewInt(5))}
	r1, err := e.lic().CreateTerms(e.Ctx, &lt.MsgCreateTerms{Creator: c, Terms: t1})
	must(t, err)
	r2, err := e.lic().CreateTerms(e.Ctx, &lt.MsgCreateTerms{Creator: Bech32(Addr(2)), Terms: t1})
	must(t, err)
	if !r1.Created || r2.Created || r1.TermsId != r2.TermsId {
		t.Fatalf("dedupe: %+v %+v", r1, r2)
	}
	// A zero fee with or without a denom is the same term.
	free1, err := e.lic().CreateTerms(e.Ctx, &lt.MsgCreateTerms{Creator: c, Terms: lt.Terms{MintFee: sdk.NewCoin(denom, math.ZeroInt())}})
	must(t, err)
	free2, err := e.lic().CreateTerms(e.Ctx, &lt.MsgCreateTerms{Creator: c, Terms: lt.Terms{}})
	must(t, err)
	if free1.TermsId != free2.TermsId {
		t.Fatalf("zero fees hash differently: %d vs %d", free1.TermsId, free2.TermsId)
	}
	bad := []struct {
		t    lt.Terms
		want string
	}{
		{lt.Terms{DerivativesAllowed: true, DerivativeRevShareBps: 10_001}, "above 10000"},
		{lt.Terms{DerivativeRevShareBps: 10}, "derivatives_allowed is false"},
		{lt.Terms{MintFee: sdk.Coin{Denom: denom, Amount: math.NewInt(-1)}}, "negative"},
		{lt.Terms{MintFee: sdk.Coin{Denom: "!x", Amount: math.NewInt(1)}}, "mint_fee denom"},
		{lt.Terms{PerCallPrice: sdk.Coin{Denom: "", Amount: math.NewInt(1)}}, "per_call_price denom"},
		{lt.Terms{DurationSeconds: 1 << 50}, "too large"},
	}
	for _, b := range bad {
		_, err := e.lic().CreateTerms(e.Ctx, &lt.MsgCreateTerms{Creator: c, Terms: b.t})
		wantErr(t, err, b.want)
	}
	_, err = e.lic().CreateTerms(e.Ctx, &lt.MsgCreateTerms{Creator: "", Terms: t1})
	wantErr(t, err, "creator is empty")
}

func TestMintTransferRevokeCheck(t *testing.T) {
	e := New(t)
	owner, user, other := Addr(1), Addr(2), Addr(3)
	asset := e.mustRegister(dataset(owner, "d"))
	fee := sdk.NewCoin(denom, math.NewInt(1_000))
	paid := e.offer(owner, asset, lt.Terms{CommercialUse: true, MintFee: fee, SupplyCap: 2, DurationSeconds: 3600})
	free := e.offer(owner, asset, lt.Terms{DerivativesAllowed: true, DerivativeRevShareBps: 700, Revocable: true})
	unattached, err := e.lic().CreateTerms(e.Ctx, &lt.MsgCreateTerms{Creator: Bech32(owner), Terms: lt.Terms{Transferable: true, CommercialUse: true, DerivativesAllowed: true}})
	must(t, err)

	// Attach rules.
	_, err = e.lic().AttachTerms(e.Ctx, &lt.MsgAttachTerms{Owner: Bech32(user), AssetId: asset, TermsId: unattached.TermsId})
	wantErr(t, err, "only the owner of asset")
	_, err = e.lic().AttachTerms(e.Ctx, &lt.MsgAttachTerms{Owner: Bech32(owner), AssetId: asset, TermsId: 999})
	wantErr(t, err, "terms 999 do not exist")
	_, err = e.lic().AttachTerms(e.Ctx, &lt.MsgAttachTerms{Owner: Bech32(owner), AssetId: asset, TermsId: paid})
	wantErr(t, err, "already attached")

	e.Fund(user, coins(5_000))
	_, err = e.mint(user, asset, unattached.TermsId, fee, 0)
	wantErr(t, err, "does not offer terms")
	_, err = e.mint(user, 42, paid, fee, 0)
	wantErr(t, err, "asset 42 does not exist")
	_, err = e.mint(user, asset, paid, sdk.NewCoin(denom, math.NewInt(999)), 0)
	wantErr(t, err, "max_mint_fee")
	_, err = e.mint(user, asset, paid, sdk.NewCoin("other", math.NewInt(5000)), 0)
	wantErr(t, err, "max_mint_fee")
	_, err = e.mint(user, asset, free, sdk.Coin{}, 699)
	wantErr(t, err, "max_rev_share_bps is 699")
	_, err = e.mint(other, asset, paid, fee, 0) // other has no money
	wantErr(t, err, "insufficient funds")
	if got := e.Balance(user, denom); !got.Equal(math.NewInt(5_000)) {
		t.Fatalf("rejected mints moved money: %s", got)
	}

	l1, err := e.mint(user, asset, paid, fee, 0)
	must(t, err)
	if got := e.Balance(user, denom); !got.Equal(math.NewInt(4_000)) {
		t.Fatalf("balance after mint %s", got)
	}
	if c := e.claimable(owner); !c.Equal(coins(1_000)) {
		t.Fatalf("owner claimable after mint fee: %s", c)
	}
	_, err = e.mint(user, asset, paid, fee, 0)
	must(t, err)
	_, err = e.mint(user, asset, paid, fee, 0)
	wantErr(t, err, "all 2 licenses")

	l, err := e.licQ().License(e.Ctx, &lt.QueryLicenseRequest{Id: l1})
	must(t, err)
	if l.License.ExpiresAt != e.Ctx.BlockTime().Unix()+3600 || l.License.Holder != Bech32(user) || !l.License.Terms.MintFee.Equal(fee) {
		t.Fatalf("license %+v", l.License)
	}

	check := func(ctx sdk.Context, who sdk.AccAddress, p lt.Purpose) *lt.QueryCheckUseResponse {
		r, err := e.licQ().CheckUse(ctx, &lt.QueryCheckUseRequest{Address: Bech32(who), AssetId: asset, Purpose: p})
		must(t, err)
		return r
	}
	if r := check(e.Ctx, user, lt.PURPOSE_COMMERCIAL); !r.Allowed || r.LicenseId == 0 {
		t.Fatalf("commercial: %+v", r)
	}
	if r := check(e.Ctx, user, lt.PURPOSE_DERIVATIVE); r.Allowed || r.Reason != "license 2 does not allow derivatives" {
		t.Fatalf("derivative: %+v", r)
	}
	if r := check(e.Ctx, owner, lt.PURPOSE_DERIVATIVE); !r.Allowed || r.Reason != "owner of the asset" {
		t.Fatalf("owner: %+v", r)
	}
	if r := check(e.Ctx, other, lt.PURPOSE_API_CALL); r.Allowed || r.Reason == "" {
		t.Fatalf("stranger: %+v", r)
	}
	// ACCESS (reading the bytes) needs any active license, even one without
	// commercial or derivative rights.
	if r := check(e.Ctx, user, lt.PURPOSE_ACCESS); !r.Allowed || r.LicenseId == 0 {
		t.Fatalf("access: %+v", r)
	}
	if r := check(e.Ctx, other, lt.PURPOSE_ACCESS); r.Allowed || !strings.Contains(r.Reason, "no license of asset") {
		t.Fatalf("stranger access: %+v", r)
	}
	later := e.Ctx.WithBlockTime(e.Ctx.BlockTime().Add(3601e9))
	if r := check(later, user, lt.PURPOSE_ACCESS); r.Allowed || !strings.Contains(r.Reason, "expired at") {
		t.Fatalf("access after expiry: %+v", r)
	}
	if r := check(later, user, lt.PURPOSE_COMMERCIAL); r.Allowed || !strings.Contains(r.Reason, "expired at") {
		t.Fatalf("after expiry: %+v", r)
	}
	_, err = e.licQ().CheckUse(e.Ctx, &lt.QueryCheckUseRequest{Address: Bech32(user), AssetId: asset})
	wantErr(t, err, "purpose must be")

	// Transfer: not transferable here.
	_, err = e.lic().TransferLicense(e.Ctx, &lt.MsgTransferLicense{Holder: Bech32(user), LicenseId: l1, To: Bech32(other)})
	wantErr(t, err, "not transferable")
	// Revoke: the paid terms are irrevocable for the owner, but governance can.
	_, err = e.lic().RevokeLicense(e.Ctx, &lt.MsgRevokeLicense{Sender: Bech32(owner), LicenseId: l1})
	wantErr(t, err, "irrevocable")
	_, err = e.lic().RevokeLicense(e.Ctx, &lt.MsgRevokeLicense{Sender: Bech32(user), LicenseId: l1})
	wantErr(t, err, "only the owner")
	_, err = e.lic().RevokeLicense(e.Ctx, &lt.MsgRevokeLicense{Sender: Bech32(gov), LicenseId: l1})
	must(t, err)
	_, err = e.lic().RevokeLicense(e.Ctx, &lt.MsgRevokeLicense{Sender: Bech32(gov), LicenseId: l1})
	wantErr(t, err, "already revoked")

	// A transferable license moves with its holder index.
	tr := e.offer(owner, asset, lt.Terms{Transferable: true, CommercialUse: true, DerivativesAllowed: true})
	l3, err := e.mint(user, asset, tr, sdk.Coin{}, 0)
	must(t, err)
	_, err = e.lic().TransferLicense(e.Ctx, &lt.MsgTransferLicense{Holder: Bech32(other), LicenseId: l3, To: Bech32(other)})
	wantErr(t, err, "is held by")
	_, err = e.lic().TransferLicense(e.Ctx, &lt.MsgTransferLicense{Holder: Bech32(user), LicenseId: l3, To: Bech32(other)})
	must(t, err)
	if r := check(e.Ctx, other, lt.PURPOSE_DERIVATIVE); !r.Allowed || r.LicenseId != l3 {
		t.Fatalf("after transfer: %+v", r)
	}
	held, err := e.licQ().LicensesByHolder(e.Ctx, &lt.QueryLicensesByHolderRequest{Holder: Bech32(user)})
	must(t, err)
	if held.Pagination.Total != 2 { // l1 (revoked) and the second paid one; l3 moved away
		t.Fatalf("user holds %d licenses", held.Pagination.Total)
	}
	// Revocable terms: the owner may revoke.
	l4, err := e.mint(user, asset, free, sdk.Coin{}, 10_000)
	must(t, err)
	_, err = e.lic().RevokeLicense(e.Ctx, &lt.MsgRevokeLicense{Sender: Bech32(owner), LicenseId: l4})
	must(t, err)
}
