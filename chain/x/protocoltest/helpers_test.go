package protocoltest

import (
	"strings"
	"testing"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	licensingkeeper "sahara/chain/x/licensing/keeper"
	lt "sahara/chain/x/licensing/types"
	registrykeeper "sahara/chain/x/registry/keeper"
	rt "sahara/chain/x/registry/types"
	royaltykeeper "sahara/chain/x/royalty/keeper"
	yt "sahara/chain/x/royalty/types"
)

const denom = "asah"

var gov = authtypes.NewModuleAddress(govtypes.ModuleName)

func (e *Env) reg() rt.MsgServer    { return registrykeeper.NewMsgServer(e.App.RegistryKeeper) }
func (e *Env) lic() lt.MsgServer    { return licensingkeeper.NewMsgServer(e.App.LicensingKeeper) }
func (e *Env) roy() yt.MsgServer    { return royaltykeeper.NewMsgServer(e.App.RoyaltyKeeper) }
func (e *Env) regQ() rt.QueryServer { return registrykeeper.NewQueryServer(e.App.RegistryKeeper) }
func (e *Env) licQ() lt.QueryServer { return licensingkeeper.NewQueryServer(e.App.LicensingKeeper) }
func (e *Env) royQ() yt.QueryServer { return royaltykeeper.NewQueryServer(e.App.RoyaltyKeeper) }

// register sends MsgRegisterAsset transactionally.
func (e *Env) register(msg *rt.MsgRegisterAsset) (uint64, error) {
	var id uint64
	err := e.Cached(func(ctx sdk.Context) error {
		r, err := e.reg().RegisterAsset(ctx, msg)
		if err == nil {
			id = r.Id
		}
		return err
	})
	return id, err
}

func dataset(owner sdk.AccAddress, name string) *rt.MsgRegisterAsset {
	return &rt.MsgRegisterAsset{Owner: Bech32(owner), Kind: rt.ASSET_KIND_DATASET, Name: name, Uri: "sahara://" + name, ContentRoot: Root(name), Size_: 1000}
}

func (e *Env) mustRegister(msg *rt.MsgRegisterAsset) uint64 {
	e.T.Helper()
	id, err := e.register(msg)
	must(e.T, err)
	return id
}

// offer creates terms with a derivative share and mint fee and attaches them to the asset.
func (e *Env) offer(owner sdk.AccAddress, asset uint64, t lt.Terms) uint64 {
	e.T.Helper()
	r, err := e.lic().CreateTerms(e.Ctx, &lt.MsgCreateTerms{Creator: Bech32(owner), Terms: t})
	must(e.T, err)
	_, err = e.lic().AttachTerms(e.Ctx, &lt.MsgAttachTerms{Owner: Bech32(owner), AssetId: asset, TermsId: r.TermsId})
	must(e.T, err)
	return r.TermsId
}

func (e *Env) mint(minter sdk.AccAddress, asset, terms uint64, maxFee sdk.Coin, maxBps uint32) (uint64, error) {
	var id uint64
	err := e.Cached(func(ctx sdk.Context) error {
		r, err := e.lic().MintLicense(ctx, &lt.MsgMintLicense{Minter: Bech32(minter), AssetId: asset, TermsId: terms, MaxMintFee: maxFee, MaxRevShareBps: maxBps})
		if err == nil {
			id = r.LicenseId
		}
		return err
	})
	return id, err
}

// derivTerms: derivatives allowed at bps, free to mint.
func derivTerms(bps uint32) lt.Terms {
	return lt.Terms{CommercialUse: true, DerivativesAllowed: true, DerivativeRevShareBps: bps, Transferable: true}
}

// licensed registers a parent-licensed child: the owner mints a license of every parent first.
func (e *Env) licensedChild(owner sdk.AccAddress, kind rt.AssetKind, name string, parents map[uint64]uint32) (uint64, error) {
	e.T.Helper()
	msg := dataset(owner, name)
	msg.Kind = kind
	for _, p := range sortedKeys(parents) {
		parent, err := e.App.RegistryKeeper.GetAsset(e.Ctx, p)
		must(e.T, err)
		pOwner, _ := sdk.AccAddressFromBech32(parent.Owner)
		terms := e.offerOnce(pOwner, p, derivTerms(parents[p]))
		lid, err := e.mint(owner, p, terms, sdk.Coin{}, 10_000)
		must(e.T, err)
		msg.Parents = append(msg.Parents, rt.ParentRef{ParentId: p, EdgeType: rt.EDGE_TYPE_TRAINED_ON, LicenseId: lid})
	}
	return e.register(msg)
}

// offerOnce is offer that tolerates the terms being attached already.
func (e *Env) offerOnce(owner sdk.AccAddress, asset uint64, t lt.Terms) uint64 {
	e.T.Helper()
	r, err := e.lic().CreateTerms(e.Ctx, &lt.MsgCreateTerms{Creator: Bech32(owner), Terms: t})
	must(e.T, err)
	_, err = e.lic().AttachTerms(e.Ctx, &lt.MsgAttachTerms{Owner: Bech32(owner), AssetId: asset, TermsId: r.TermsId})
	if err != nil && !strings.Contains(err.Error(), "already attached") {
		e.T.Fatal(err)
	}
	return r.TermsId
}

func sortedKeys(m map[uint64]uint32) []uint64 {
	out := make([]uint64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func (e *Env) pay(payer sdk.AccAddress, asset uint64, coins sdk.Coins) error {
	return e.Cached(func(ctx sdk.Context) error {
		_, err := e.roy().Pay(ctx, &yt.MsgPay{Payer: Bech32(payer), AssetId: asset, Amount: coins})
		return err
	})
}

func (e *Env) claim(who sdk.AccAddress, after uint64) (sdk.Coins, uint64, error) {
	var r *yt.MsgClaimResponse
	err := e.Cached(func(ctx sdk.Context) error {
		var err error
		r, err = e.roy().Claim(ctx, &yt.MsgClaim{Claimant: Bech32(who), StartAfter: after})
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return r.Claimed, r.Next, nil
}

func (e *Env) claimable(who sdk.AccAddress) sdk.Coins {
	e.T.Helper()
	r, err := e.royQ().Claimable(e.Ctx, &yt.QueryClaimableRequest{Address: Bech32(who)})
	must(e.T, err)
	return r.Total
}

func coins(n int64) sdk.Coins { return sdk.NewCoins(sdk.NewCoin(denom, math.NewInt(n))) }

func wantErr(t *testing.T, err error, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one containing %q", substr)
	}
	if !strings.Contains(err.Error(), substr) {
		t.Fatalf("error %q does not contain %q", err, substr)
	}
}
