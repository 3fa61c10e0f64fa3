// Package keeper holds the licensing rules: deduplicated terms, terms attached to assets, and
// license tokens minted, transferred, revoked and checked.
package keeper

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	corestore "cosmossdk.io/core/store"
	"cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"sahara/chain/x/licensing/types"
	"sahara/chain/x/modkit"
	registrytypes "sahara/chain/x/registry/types"
	royaltytypes "sahara/chain/x/royalty/types"
)

// Registry is what licensing reads from the asset registry.
type Registry interface {
	GetAsset(ctx context.Context, id uint64) (registrytypes.Asset, error)
	IsOwner(ctx context.Context, id uint64, addr sdk.AccAddress) (bool, error)
}

// Royalty receives mint fees into the asset's vault.
type Royalty interface {
	PayFor(ctx context.Context, payer sdk.AccAddress, assetID uint64, amount sdk.Coins, reason string) (sdk.Coins, error)
}

type Keeper struct {
	cdc       codec.BinaryCodec
	addrs     address.Codec
	authority string
	registry  Registry
	royalty   Royalty

	Schema      collections.Schema
	Params      collections.Item[types.Params]
	TermsSeq    collections.Sequence
	Terms       collections.Map[uint64, types.Terms]
	TermsByHash collections.Map[[]byte, uint64]
	Attached    collections.KeySet[collections.Pair[uint64, uint64]]
	LicenseSeq  collections.Sequence
	Licenses    collections.Map[uint64, types.License]
	ByHolder    collections.KeySet[collections.Triple[sdk.AccAddress, uint64, uint64]]
	Minted      collections.Map[collections.Pair[uint64, uint64], uint64]
}

func NewKeeper(cdc codec.BinaryCodec, store corestore.KVStoreService, addrs address.Codec, authority string, registry Registry, royalty Royalty) *Keeper {
	sb := collections.NewSchemaBuilder(store)
	k := &Keeper{
		cdc: cdc, addrs: addrs, authority: authority, registry: registry, royalty: royalty,
		Params:      collections.NewItem(sb, collections.NewPrefix(0), "params", codec.CollValue[types.Params](cdc)),
		TermsSeq:    collections.NewSequence(sb, collections.NewPrefix(1), "terms_seq"),
		Terms:       collections.NewMap(sb, collections.NewPrefix(2), "terms", collections.Uint64Key, codec.CollValue[types.Terms](cdc)),
		TermsByHash: collections.NewMap(sb, collections.NewPrefix(3), "terms_by_hash", collections.BytesKey, collections.Uint64Value),
		Attached:    collections.NewKeySet(sb, collections.NewPrefix(4), "attached", collections.PairKeyCodec(collections.Uint64Key, collections.Uint64Key)),
		LicenseSeq:  collections.NewSequence(sb, collections.NewPrefix(5), "license_seq"),
		Licenses:    collections.NewMap(sb, collections.NewPrefix(6), "licenses", collections.Uint64Key, codec.CollValue[types.License](cdc)),
		ByHolder:    collections.NewKeySet(sb, collections.NewPrefix(7), "by_holder", collections.TripleKeyCodec(sdk.AccAddressKey, collections.Uint64Key, collections.Uint64Key)),
		Minted:      collections.NewMap(sb, collections.NewPrefix(8), "minted", collections.PairKeyCodec(collections.Uint64Key, collections.Uint64Key), collections.Uint64Value),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

func (k *Keeper) Authority() string           { return k.authority }
func (k *Keeper) AddressCodec() address.Codec { return k.addrs }

func event(ctx context.Context, name string, kv ...string) {
	attrs := make([]sdk.Attribute, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		attrs = append(attrs, sdk.NewAttribute(kv[i], kv[i+1]))
	}
	sdk.UnwrapSDKContext(ctx).EventManager().EmitEvent(sdk.NewEvent("sahara.licensing.v1."+name, attrs...))
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

// coinString is a coin for an event: "" when unset (a zero Coin's String panics on a nil amount).
func coinString(c sdk.Coin) string {
	if c.Amount.IsNil() || c.Denom == "" {
		return ""
	}
	return c.String()
}

// CreateTerms stores terms, or returns the id of identical terms stored before.
func (k *Keeper) CreateTerms(ctx context.Context, t types.Terms) (id uint64, created bool, err error) {
	if t, err = t.Normalize(); err != nil {
		return 0, false, err
	}
	h := t.Hash()
	if id, err := k.TermsByHash.Get(ctx, h); err == nil {
		return id, false, nil
	} else if !errors.IsOf(err, collections.ErrNotFound) {
		return 0, false, err
	}
	if id, err = modkit.NextID(ctx, k.TermsSeq); err != nil {
		return 0, false, err
	}
	if err := k.Terms.Set(ctx, id, t); err != nil {
		return 0, false, err
	}
	if err := k.TermsByHash.Set(ctx, h, id); err != nil {
		return 0, false, err
	}
	event(ctx, "terms_created", "terms_id", u64(id), "commercial", strconv.FormatBool(t.CommercialUse),
		"derivatives", strconv.FormatBool(t.DerivativesAllowed), "rev_share_bps", u64(uint64(t.DerivativeRevShareBps)),
		"mint_fee", coinString(t.MintFee), "per_call", coinString(t.PerCallPrice), "duration", u64(t.DurationSeconds),
		"transferable", strconv.FormatBool(t.Transferable), "supply_cap", u64(t.SupplyCap), "revocable", strconv.FormatBool(t.Revocable))
	return id, true, nil
}

func (k *Keeper) GetTerms(ctx context.Context, id uint64) (types.Terms, error) {
	t, err := k.Terms.Get(ctx, id)
	if errors.IsOf(err, collections.ErrNotFound) {
		return t, errors.Wrapf(types.ErrNotFound, "terms %d do not exist", id)
	}
	return t, err
}

func (k *Keeper) GetLicense(ctx context.Context, id uint64) (types.License, error) {
	l, err := k.Licenses.Get(ctx, id)
	if errors.IsOf(err, collections.ErrNotFound) {
		return l, errors.Wrapf(types.ErrNotFound, "license %d does not exist", id)
	}
	return l, err
}

func (k *Keeper) ownerOnly(ctx context.Context, assetID uint64, sender sdk.AccAddress) error {
	ok, err := k.registry.IsOwner(ctx, assetID, sender)
	if err != nil {
		return err
	}
	if !ok {
		return errors.Wrapf(types.ErrUnauthorized, "only the owner of asset %d may do this", assetID)
	}
	return nil
}

// AttachTerms lets the asset owner offer licenses under existing terms.
func (k *Keeper) AttachTerms(ctx context.Context, owner sdk.AccAddress, assetID, termsID uint64) error {
	if err := k.ownerOnly(ctx, assetID, owner); err != nil {
		return err
	}
	if _, err := k.GetTerms(ctx, termsID); err != nil {
		return err
	}
	key := collections.Join(assetID, termsID)
	if has, err := k.Attached.Has(ctx, key); err != nil || has {
		if has {
			return errors.Wrapf(types.ErrInvalid, "terms %d are already attached to asset %d", termsID, assetID)
		}
		return err
	}
	p, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	n := 0
	if err := k.Attached.Walk(ctx, collections.NewPrefixedPairRange[uint64, uint64](assetID), func(collections.Pair[uint64, uint64]) (bool, error) {
		n++
		return false, nil
	}); err != nil {
		return err
	}
	if uint32(n) >= p.MaxTermsPerAsset {
		return errors.Wrapf(types.ErrInvalid, "asset %d already has max_terms_per_asset=%d terms attached", assetID, p.MaxTermsPerAsset)
	}
	if err := k.Attached.Set(ctx, key); err != nil {
		return err
	}
	event(ctx, "terms_attached", "asset_id", u64(assetID), "terms_id", u64(termsID))
	return nil
}

// MintInput is a mint request with decoded addresses.
type MintInput struct {
	Minter, Receiver sdk.AccAddress
	AssetID, TermsID uint64
	MaxMintFee       sdk.Coin
	MaxRevShareBps   uint32
}

// Mint issues a license token under attached terms. The mint fee goes to the asset's royalty
// vault. The caller's caps bound what the terms may ask, so a fee can never surprise the signer.
func (k *Keeper) Mint(ctx context.Context, in MintInput) (uint64, error) {
	if _, err := k.registry.GetAsset(ctx, in.AssetID); err != nil {
		return 0, err
	}
	t, err := k.GetTerms(ctx, in.TermsID)
	if err != nil {
		return 0, err
	}
	if ok, err := k.Attached.Has(ctx, collections.Join(in.AssetID, in.TermsID)); err != nil {
		return 0, err
	} else if !ok {
		return 0, errors.Wrapf(types.ErrNotAttached, "asset %d does not offer terms %d", in.AssetID, in.TermsID)
	}
	if t.DerivativeRevShareBps > in.MaxRevShareBps {
		return 0, errors.Wrapf(types.ErrCap, "terms take %d bps of derivative revenue; max_rev_share_bps is %d",
			t.DerivativeRevShareBps, in.MaxRevShareBps)
	}
	if t.MintFee.IsPositive() {
		if in.MaxMintFee.Amount.IsNil() || in.MaxMintFee.Denom != t.MintFee.Denom || in.MaxMintFee.Amount.LT(t.MintFee.Amount) {
			return 0, errors.Wrapf(types.ErrCap, "mint fee is %s; max_mint_fee is %s", t.MintFee, in.MaxMintFee)
		}
	}
	mkey := collections.Join(in.AssetID, in.TermsID)
	minted, err := k.Minted.Get(ctx, mkey)
	if err != nil && !errors.IsOf(err, collections.ErrNotFound) {
		return 0, err
	}
	if t.SupplyCap > 0 && minted >= t.SupplyCap {
		return 0, errors.Wrapf(types.ErrSupply, "all %d licenses of asset %d under terms %d are minted", t.SupplyCap, in.AssetID, in.TermsID)
	}
	if t.MintFee.IsPositive() {
		if _, err := k.royalty.PayFor(ctx, in.Minter, in.AssetID, sdk.NewCoins(t.MintFee), royaltytypes.ReasonLicenseFee); err != nil {
			return 0, errors.Wrap(err, "paying the mint fee")
		}
	}
	receiver := in.Receiver
	if len(receiver) == 0 {
		receiver = in.Minter
	}
	holder, err := k.addrs.BytesToString(receiver)
	if err != nil {
		return 0, err
	}
	id, err := modkit.NextID(ctx, k.LicenseSeq)
	if err != nil {
		return 0, err
	}
	now := sdk.UnwrapSDKContext(ctx).BlockTime().Unix()
	l := types.License{Id: id, AssetId: in.AssetID, TermsId: in.TermsID, Terms: t, Holder: holder, MintedAt: now}
	if t.DurationSeconds > 0 {
		l.ExpiresAt = now + int64(t.DurationSeconds)
	}
	if err := k.Licenses.Set(ctx, id, l); err != nil {
		return 0, err
	}
	if err := k.ByHolder.Set(ctx, collections.Join3(receiver, in.AssetID, id)); err != nil {
		return 0, err
	}
	if err := k.Minted.Set(ctx, mkey, minted+1); err != nil {
		return 0, err
	}
	event(ctx, "license_minted", "license_id", u64(id), "asset_id", u64(in.AssetID), "terms_id", u64(in.TermsID),
		"holder", holder, "fee", coinString(t.MintFee), "minted_at", strconv.FormatInt(l.MintedAt, 10), "expires_at", strconv.FormatInt(l.ExpiresAt, 10))
	return id, nil
}

// active reports why a license cannot be used now, or nil.
func active(ctx context.Context, l types.License) error {
	if l.Revoked {
		return errors.Wrapf(types.ErrInactive, "license %d was revoked", l.Id)
	}
	if l.ExpiresAt > 0 {
		if now := sdk.UnwrapSDKContext(ctx).BlockTime().Unix(); now >= l.ExpiresAt {
			return errors.Wrapf(types.ErrInactive, "license %d expired at %s", l.Id, time.Unix(l.ExpiresAt, 0).UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// Transfer moves a license token to another holder when its terms allow it.
func (k *Keeper) Transfer(ctx context.Context, holder sdk.AccAddress, id uint64, to sdk.AccAddress) error {
	l, err := k.GetLicense(ctx, id)
	if err != nil {
		return err
	}
	h, err := k.addrs.BytesToString(holder)
	if err != nil {
		return err
	}
	if l.Holder != h {
		return errors.Wrapf(types.ErrUnauthorized, "license %d is held by %s, not %s", id, l.Holder, h)
	}
	if !l.Terms.Transferable {
		return errors.Wrapf(types.ErrNotAllowed, "license %d is not transferable under its terms", id)
	}
	if err := active(ctx, l); err != nil {
		return err
	}
	if l.Holder, err = k.addrs.BytesToString(to); err != nil {
		return err
	}
	if err := k.ByHolder.Remove(ctx, collections.Join3(holder, l.AssetId, id)); err != nil {
		return err
	}
	if err := k.ByHolder.Set(ctx, collections.Join3(to, l.AssetId, id)); err != nil {
		return err
	}
	if err := k.Licenses.Set(ctx, id, l); err != nil {
		return err
	}
	event(ctx, "license_transferred", "license_id", u64(id), "from", h, "to", l.Holder)
	return nil
}

// Revoke ends a license: governance always may; the asset owner may when the terms say revocable.
func (k *Keeper) Revoke(ctx context.Context, sender sdk.AccAddress, id uint64) error {
	l, err := k.GetLicense(ctx, id)
	if err != nil {
		return err
	}
	s, err := k.addrs.BytesToString(sender)
	if err != nil {
		return err
	}
	if s != k.authority {
		if err := k.ownerOnly(ctx, l.AssetId, sender); err != nil {
			return err
		}
		if !l.Terms.Revocable {
			return errors.Wrapf(types.ErrNotAllowed, "license %d is irrevocable under its terms (only governance can revoke it)", id)
		}
	}
	if l.Revoked {
		return errors.Wrapf(types.ErrInactive, "license %d is already revoked", id)
	}
	l.Revoked = true
	if err := k.Licenses.Set(ctx, id, l); err != nil {
		return err
	}
	event(ctx, "license_revoked", "license_id", u64(id), "by", s)
	return nil
}

// DerivativeShareBps implements the registry's LicenseChecker.
func (k *Keeper) DerivativeShareBps(ctx context.Context, licenseID, parentID uint64, holder sdk.AccAddress) (uint32, error) {
	l, err := k.GetLicense(ctx, licenseID)
	if err != nil {
		return 0, err
	}
	if l.AssetId != parentID {
		return 0, errors.Wrapf(types.ErrInvalid, "license %d is for asset %d, not %d", licenseID, l.AssetId, parentID)
	}
	h, err := k.addrs.BytesToString(holder)
	if err != nil {
		return 0, err
	}
	if l.Holder != h {
		return 0, errors.Wrapf(types.ErrUnauthorized, "license %d is held by %s, not the registrant %s", licenseID, l.Holder, h)
	}
	if err := active(ctx, l); err != nil {
		return 0, err
	}
	if !l.Terms.DerivativesAllowed {
		return 0, errors.Wrapf(types.ErrNotAllowed, "license %d does not allow derivatives", licenseID)
	}
	return l.Terms.DerivativeRevShareBps, nil
}

// CheckUse answers "may addr use asset for purpose now?" with a reason either way.
func (k *Keeper) CheckUse(ctx context.Context, addr sdk.AccAddress, assetID uint64, purpose types.Purpose) (*types.QueryCheckUseResponse, error) {
	if purpose == types.PURPOSE_UNSPECIFIED || types.Purpose_name[int32(purpose)] == "" {
		return nil, errors.Wrap(types.ErrInvalid, "purpose must be COMMERCIAL, DERIVATIVE, API_CALL or ACCESS")
	}
	if _, err := k.registry.GetAsset(ctx, assetID); err != nil {
		return &types.QueryCheckUseResponse{Reason: err.Error()}, nil
	}
	if ok, err := k.registry.IsOwner(ctx, assetID, addr); err != nil {
		return nil, err
	} else if ok {
		return &types.QueryCheckUseResponse{Allowed: true, Reason: "owner of the asset"}, nil
	}
	reason := fmt.Sprintf("no license of asset %d held by this address", assetID)
	it, err := k.ByHolder.Iterate(ctx, collections.NewSuperPrefixedTripleRange[sdk.AccAddress, uint64, uint64](addr, assetID))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		key, err := it.Key()
		if err != nil {
			return nil, err
		}
		l, err := k.GetLicense(ctx, key.K3())
		if err != nil {
			return nil, err
		}
		if err := active(ctx, l); err != nil {
			reason = err.Error()
			continue
		}
		switch {
		case purpose == types.PURPOSE_COMMERCIAL && !l.Terms.CommercialUse:
			reason = fmt.Sprintf("license %d does not allow commercial use", l.Id)
		case purpose == types.PURPOSE_DERIVATIVE && !l.Terms.DerivativesAllowed:
			reason = fmt.Sprintf("license %d does not allow derivatives", l.Id)
		default:
			return &types.QueryCheckUseResponse{Allowed: true, Reason: fmt.Sprintf("license %d", l.Id), LicenseId: l.Id}, nil
		}
	}
	return &types.QueryCheckUseResponse{Reason: reason}, nil
}
