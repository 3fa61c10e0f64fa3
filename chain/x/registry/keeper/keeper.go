// Package keeper holds the registry's state and rules: assets, versions,
// shareholders and the flattened provenance graph.
package keeper

import (
	"context"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	corestore "cosmossdk.io/core/store"
	"cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"sahara/chain/x/modkit"
	"sahara/chain/x/registry/types"
)

// LicenseChecker is what the registry asks the licensing module when a child names a parent.
type LicenseChecker interface {
	// DerivativeShareBps checks that licenseID is a live license of parentID, held by holder, whose
	// terms allow derivatives, and returns its derivative revenue share in basis points.
	DerivativeShareBps(ctx context.Context, licenseID, parentID uint64, holder sdk.AccAddress) (uint32, error)
}

// ShareHooks lets the royalty module settle a holder before their shares change.
type ShareHooks interface {
	BeforeSharesChange(ctx context.Context, assetID uint64, holder sdk.AccAddress, newShares uint64) error
}

type Keeper struct {
	cdc       codec.BinaryCodec
	addrs     address.Codec
	authority string
	licenses  LicenseChecker
	hooks     ShareHooks

	Schema    collections.Schema
	Params    collections.Item[types.Params]
	NextID    collections.Sequence
	Assets    collections.Map[uint64, types.Asset]
	Versions  collections.Map[collections.Pair[uint64, uint32], types.Version]
	Shares    collections.Map[collections.Pair[uint64, sdk.AccAddress], uint64]
	ByOwner   collections.KeySet[collections.Pair[sdk.AccAddress, uint64]]
	ByKind    collections.KeySet[collections.Pair[int32, uint64]]
	Ancestors collections.Map[collections.Pair[uint64, uint64], types.Ancestor]
	Children  collections.KeySet[collections.Pair[uint64, uint64]]
}

func NewKeeper(cdc codec.BinaryCodec, store corestore.KVStoreService, addrs address.Codec, authority string) *Keeper {
	sb := collections.NewSchemaBuilder(store)
	k := &Keeper{
		cdc: cdc, addrs: addrs, authority: authority,
		Params:    collections.NewItem(sb, collections.NewPrefix(0), "params", codec.CollValue[types.Params](cdc)),
		NextID:    collections.NewSequence(sb, collections.NewPrefix(1), "next_id"),
		Assets:    collections.NewMap(sb, collections.NewPrefix(2), "assets", collections.Uint64Key, codec.CollValue[types.Asset](cdc)),
		Versions:  collections.NewMap(sb, collections.NewPrefix(3), "versions", collections.PairKeyCodec(collections.Uint64Key, collections.Uint32Key), codec.CollValue[types.Version](cdc)),
		Shares:    collections.NewMap(sb, collections.NewPrefix(4), "shares", collections.PairKeyCodec(collections.Uint64Key, sdk.AccAddressKey), collections.Uint64Value),
		ByOwner:   collections.NewKeySet(sb, collections.NewPrefix(5), "by_owner", collections.PairKeyCodec(sdk.AccAddressKey, collections.Uint64Key)),
		ByKind:    collections.NewKeySet(sb, collections.NewPrefix(6), "by_kind", collections.PairKeyCodec(collections.Int32Key, collections.Uint64Key)),
		Ancestors: collections.NewMap(sb, collections.NewPrefix(7), "ancestors", collections.PairKeyCodec(collections.Uint64Key, collections.Uint64Key), codec.CollValue[types.Ancestor](cdc)),
		Children:  collections.NewKeySet(sb, collections.NewPrefix(8), "children", collections.PairKeyCodec(collections.Uint64Key, collections.Uint64Key)),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// SetLicenseChecker and SetHooks close the registry ↔ licensing ↔ royalty cycle at app wiring time.
func (k *Keeper) SetLicenseChecker(l LicenseChecker) { k.licenses = l }
func (k *Keeper) SetHooks(h ShareHooks)              { k.hooks = h }

func (k *Keeper) Authority() string           { return k.authority }
func (k *Keeper) AddressCodec() address.Codec { return k.addrs }

func (k *Keeper) GetParams(ctx context.Context) (types.Params, error) { return k.Params.Get(ctx) }

// GetAsset returns the asset or ErrNotFound.
func (k *Keeper) GetAsset(ctx context.Context, id uint64) (types.Asset, error) {
	a, err := k.Assets.Get(ctx, id)
	if errors.IsOf(err, collections.ErrNotFound) {
		return a, errors.Wrapf(types.ErrNotFound, "asset %d does not exist", id)
	}
	return a, err
}

// SharesOf returns holder's shares of an asset (0 if none).
func (k *Keeper) SharesOf(ctx context.Context, assetID uint64, holder sdk.AccAddress) (uint64, error) {
	s, err := k.Shares.Get(ctx, collections.Join(assetID, holder))
	if errors.IsOf(err, collections.ErrNotFound) {
		return 0, nil
	}
	return s, err
}

// WalkAncestors calls fn for every flattened ancestor of an asset, in id order.
func (k *Keeper) WalkAncestors(ctx context.Context, assetID uint64, fn func(types.Ancestor) error) error {
	it, err := k.Ancestors.Iterate(ctx, collections.NewPrefixedPairRange[uint64, uint64](assetID))
	if err != nil {
		return err
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		a, err := it.Value()
		if err != nil {
			return err
		}
		if err := fn(a); err != nil {
			return err
		}
	}
	return nil
}

// WalkShareholders calls fn for every current shareholder of an asset.
func (k *Keeper) WalkShareholders(ctx context.Context, assetID uint64, fn func(sdk.AccAddress, uint64) error) error {
	it, err := k.Shares.Iterate(ctx, collections.NewPrefixedPairRange[uint64, sdk.AccAddress](assetID))
	if err != nil {
		return err
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		kv, err := it.KeyValue()
		if err != nil {
			return err
		}
		if err := fn(kv.Key.K2(), kv.Value); err != nil {
			return err
		}
	}
	return nil
}

// Shareholders lists an asset's shareholders with bech32 addresses.
func (k *Keeper) Shareholders(ctx context.Context, assetID uint64) ([]types.Shareholder, error) {
	var out []types.Shareholder
	err := k.WalkShareholders(ctx, assetID, func(a sdk.AccAddress, s uint64) error {
		str, err := k.addrs.BytesToString(a)
		out = append(out, types.Shareholder{Address: str, Shares: s})
		return err
	})
	return out, err
}

// setShares writes one holder's shares, running the royalty hook first.
func (k *Keeper) setShares(ctx context.Context, assetID uint64, holder sdk.AccAddress, shares uint64) error {
	if k.hooks != nil {
		if err := k.hooks.BeforeSharesChange(ctx, assetID, holder, shares); err != nil {
			return err
		}
	}
	key := collections.Join(assetID, holder)
	if shares == 0 {
		return k.Shares.Remove(ctx, key)
	}
	return k.Shares.Set(ctx, key, shares)
}

// RegisterInput is a registration with decoded addresses.
type RegisterInput struct {
	Owner        sdk.AccAddress
	Kind         types.AssetKind
	Name, URI    string
	ContentRoot  []byte
	Size         uint64
	Shareholders []Holder // empty: the owner holds 100%
	Parents      []types.ParentRef
}

type Holder struct {
	Addr   sdk.AccAddress
	Shares uint64
}

// Register creates an asset. Each parent must be backed by a derivative-allowing license of it
// held by the owner; the parents' shares and their own flattened ancestors are merged (an
// ancestor reached by several paths takes its largest share and shortest depth) and stored with
// the child, so a payment later is one pass over a flat list. Gas is charged per ancestor visited.
func (k *Keeper) Register(ctx context.Context, in RegisterInput) (uint64, error) {
	p, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	if err := validateRegister(in, p); err != nil {
		return 0, err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	type anc struct {
		share uint64
		depth uint32
	}
	flat := map[uint64]anc{}
	merge := func(id, share uint64, depth uint32) error {
		sdkCtx.GasMeter().ConsumeGas(p.GasPerAncestor, "registry: ancestor visited")
		cur, ok := flat[id]
		if !ok {
			if uint32(len(flat)) >= p.MaxAncestors {
				return errors.Wrapf(types.ErrTooManyAncestors, "the flattened lineage exceeds max_ancestors=%d", p.MaxAncestors)
			}
			flat[id] = anc{share, depth}
			return nil
		}
		cur.share = max(cur.share, share)
		cur.depth = min(cur.depth, depth)
		flat[id] = cur
		return nil
	}
	edges := make([]types.ParentEdge, 0, len(in.Parents))
	for i, pr := range in.Parents {
		if _, err := k.GetAsset(ctx, pr.ParentId); err != nil {
			return 0, errors.Wrapf(err, "parents[%d]", i)
		}
		if k.licenses == nil {
			return 0, errors.Wrap(types.ErrParentLicense, "no licensing module wired")
		}
		bps, err := k.licenses.DerivativeShareBps(ctx, pr.LicenseId, pr.ParentId, in.Owner)
		if err != nil {
			return 0, errors.Wrapf(err, "parents[%d] (asset %d, license %d)", i, pr.ParentId, pr.LicenseId)
		}
		share := uint64(bps) * types.BpsToShares
		edges = append(edges, types.ParentEdge{ParentId: pr.ParentId, EdgeType: pr.EdgeType, LicenseId: pr.LicenseId, Share: share})
		if err := merge(pr.ParentId, share, 1); err != nil {
			return 0, err
		}
		if err := k.WalkAncestors(ctx, pr.ParentId, func(a types.Ancestor) error {
			return merge(a.AssetId, a.Share, a.Depth+1)
		}); err != nil {
			return 0, err
		}
	}
	var stack uint64
	ids := make([]uint64, 0, len(flat))
	for id, a := range flat {
		stack += a.share
		ids = append(ids, id)
	}
	if stack > p.MaxRoyaltyStack {
		return 0, errors.Wrapf(types.ErrRoyaltyStack, "ancestors would take %s of every payment; the cap is %s",
			pct(stack), pct(p.MaxRoyaltyStack))
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })

	id, err := modkit.NextID(ctx, k.NextID)
	if err != nil {
		return 0, err
	}
	owner, err := k.addrs.BytesToString(in.Owner)
	if err != nil {
		return 0, err
	}
	asset := types.Asset{
		Id: id, Kind: in.Kind, Name: in.Name, Owner: owner, Uri: in.URI, ContentRoot: in.ContentRoot, Size_: in.Size,
		Version: 1, Parents: edges, CreatedHeight: sdkCtx.BlockHeight(), RoyaltyStack: stack, AncestorCount: uint32(len(ids)),
	}
	if err := k.Assets.Set(ctx, id, asset); err != nil {
		return 0, err
	}
	if err := k.Versions.Set(ctx, collections.Join(id, uint32(1)), types.Version{
		AssetId: id, Version: 1, Uri: in.URI, ContentRoot: in.ContentRoot, Size_: in.Size, Height: sdkCtx.BlockHeight(),
	}); err != nil {
		return 0, err
	}
	if err := k.ByOwner.Set(ctx, collections.Join(in.Owner, id)); err != nil {
		return 0, err
	}
	if err := k.ByKind.Set(ctx, collections.Join(int32(in.Kind), id)); err != nil {
		return 0, err
	}
	holders := in.Shareholders
	if len(holders) == 0 {
		holders = []Holder{{in.Owner, types.TotalShares}}
	}
	for _, h := range holders {
		if err := k.setShares(ctx, id, h.Addr, h.Shares); err != nil {
			return 0, err
		}
	}
	for _, aid := range ids {
		a := flat[aid]
		if err := k.Ancestors.Set(ctx, collections.Join(id, aid), types.Ancestor{AssetId: aid, Share: a.share, Depth: a.depth}); err != nil {
			return 0, err
		}
	}
	for _, e := range edges {
		if err := k.Children.Set(ctx, collections.Join(e.ParentId, id)); err != nil {
			return 0, err
		}
	}
	// The event carries the whole record, so an indexer needs no query to follow the registry:
	// edges "parent:EDGE:license:share", holders "address:shares", lineage "ancestor:share:depth".
	var edgeList, holderList, lineage []string
	for _, e := range edges {
		edgeList = append(edgeList, fmt.Sprintf("%d:%s:%d:%d", e.ParentId, e.EdgeType, e.LicenseId, e.Share))
	}
	for _, h := range holders {
		a, err := k.addrs.BytesToString(h.Addr)
		if err != nil {
			return 0, err
		}
		holderList = append(holderList, a+":"+u64(h.Shares))
	}
	for _, aid := range ids {
		lineage = append(lineage, fmt.Sprintf("%d:%d:%d", aid, flat[aid].share, flat[aid].depth))
	}
	sdkCtx.EventManager().EmitEvent(sdk.NewEvent(types.EventAssetRegistered,
		sdk.NewAttribute("id", u64(id)), sdk.NewAttribute("kind", in.Kind.String()), sdk.NewAttribute("owner", owner),
		sdk.NewAttribute("parents", u64(uint64(len(edges)))), sdk.NewAttribute("ancestors", u64(uint64(len(ids)))),
		sdk.NewAttribute("royalty_stack", u64(stack)),
		sdk.NewAttribute("name", in.Name), sdk.NewAttribute("uri", in.URI), sdk.NewAttribute("content_root", hex.EncodeToString(in.ContentRoot)),
		sdk.NewAttribute("size", u64(in.Size)), sdk.NewAttribute("edges", strings.Join(edgeList, ",")),
		sdk.NewAttribute("holders", strings.Join(holderList, ",")), sdk.NewAttribute("lineage", strings.Join(lineage, ","))))
	return id, nil
}

func validateRegister(in RegisterInput, p types.Params) error {
	if !types.ValidKind(in.Kind) {
		return errors.Wrapf(types.ErrInvalid, "kind %d is not an asset kind: use DATASET, MODEL, AGENT or KNOWLEDGE_BASE", in.Kind)
	}
	if in.Name == "" || len(in.Name) > types.MaxNameLen {
		return errors.Wrapf(types.ErrInvalid, "name must be 1 to %d bytes, got %d", types.MaxNameLen, len(in.Name))
	}
	if err := types.ValidateContent(in.URI, in.ContentRoot); err != nil {
		return err
	}
	if err := validateHolders(in.Shareholders, p); err != nil {
		return err
	}
	if uint32(len(in.Parents)) > p.MaxParents {
		return errors.Wrapf(types.ErrTooManyParents, "%d parents; max_parents is %d", len(in.Parents), p.MaxParents)
	}
	seen := map[uint64]bool{}
	for i, pr := range in.Parents {
		if !types.ValidEdge(pr.EdgeType) {
			return errors.Wrapf(types.ErrInvalid, "parents[%d]: edge type %d is not one of TRAINED_ON, FINETUNED_FROM, DERIVED_FROM, USES, EMBEDS, AGGREGATES", i, pr.EdgeType)
		}
		if seen[pr.ParentId] {
			return errors.Wrapf(types.ErrInvalid, "parents[%d]: asset %d is listed twice", i, pr.ParentId)
		}
		seen[pr.ParentId] = true
	}
	return nil
}

func validateHolders(hs []Holder, p types.Params) error {
	if len(hs) == 0 {
		return nil
	}
	if uint32(len(hs)) > p.MaxShareholders {
		return errors.Wrapf(types.ErrShares, "%d shareholders; max_shareholders is %d", len(hs), p.MaxShareholders)
	}
	var sum uint64
	seen := map[string]bool{}
	for i, h := range hs {
		if h.Shares == 0 || h.Shares > types.TotalShares {
			return errors.Wrapf(types.ErrShares, "shareholders[%d]: shares must be in 1..%d", i, types.TotalShares)
		}
		if seen[string(h.Addr)] {
			return errors.Wrapf(types.ErrShares, "shareholders[%d]: address listed twice", i)
		}
		seen[string(h.Addr)] = true
		sum += h.Shares
	}
	if sum != types.TotalShares {
		return errors.Wrapf(types.ErrShares, "shares sum to %d; they must sum to %d (100%%)", sum, types.TotalShares)
	}
	return nil
}

// owned loads an asset and checks that sender owns it.
func (k *Keeper) owned(ctx context.Context, id uint64, sender sdk.AccAddress) (types.Asset, error) {
	a, err := k.GetAsset(ctx, id)
	if err != nil {
		return a, err
	}
	s, err := k.addrs.BytesToString(sender)
	if err != nil {
		return a, err
	}
	if a.Owner != s {
		return a, errors.Wrapf(types.ErrUnauthorized, "asset %d is owned by %s, not %s", id, a.Owner, s)
	}
	return a, nil
}

// IsOwner reports whether addr owns the asset.
func (k *Keeper) IsOwner(ctx context.Context, id uint64, addr sdk.AccAddress) (bool, error) {
	_, err := k.owned(ctx, id, addr)
	if errors.IsOf(err, types.ErrUnauthorized) {
		return false, nil
	}
	return err == nil, err
}

// AddVersion records new content for an asset and returns its version number.
func (k *Keeper) AddVersion(ctx context.Context, sender sdk.AccAddress, id uint64, uri string, root []byte, size uint64) (uint32, error) {
	if err := types.ValidateContent(uri, root); err != nil {
		return 0, err
	}
	a, err := k.owned(ctx, id, sender)
	if err != nil {
		return 0, err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	a.Version++
	a.Uri, a.ContentRoot, a.Size_ = uri, root, size
	if err := k.Versions.Set(ctx, collections.Join(id, a.Version), types.Version{
		AssetId: id, Version: a.Version, Uri: uri, ContentRoot: root, Size_: size, Height: sdkCtx.BlockHeight(),
	}); err != nil {
		return 0, err
	}
	if err := k.Assets.Set(ctx, id, a); err != nil {
		return 0, err
	}
	sdkCtx.EventManager().EmitEvent(sdk.NewEvent(types.EventVersionAdded,
		sdk.NewAttribute("id", u64(id)), sdk.NewAttribute("version", u64(uint64(a.Version))),
		sdk.NewAttribute("uri", uri), sdk.NewAttribute("content_root", hex.EncodeToString(root)), sdk.NewAttribute("size", u64(size))))
	return a.Version, nil
}

// TransferOwnership hands control of an asset (versions, terms) to another address; shares do not move.
func (k *Keeper) TransferOwnership(ctx context.Context, sender sdk.AccAddress, id uint64, to sdk.AccAddress) error {
	a, err := k.owned(ctx, id, sender)
	if err != nil {
		return err
	}
	toStr, err := k.addrs.BytesToString(to)
	if err != nil {
		return err
	}
	if err := k.ByOwner.Remove(ctx, collections.Join(sender, id)); err != nil {
		return err
	}
	if err := k.ByOwner.Set(ctx, collections.Join(to, id)); err != nil {
		return err
	}
	a.Owner = toStr
	if err := k.Assets.Set(ctx, id, a); err != nil {
		return err
	}
	fromStr, err := k.addrs.BytesToString(sender)
	if err != nil {
		return err
	}
	sdk.UnwrapSDKContext(ctx).EventManager().EmitEvent(sdk.NewEvent(types.EventOwnershipTransferred,
		sdk.NewAttribute("id", u64(id)), sdk.NewAttribute("from", fromStr), sdk.NewAttribute("to", toStr)))
	return nil
}

// TransferShares moves revenue shares between addresses; royalties earned before the move stay with the sender.
func (k *Keeper) TransferShares(ctx context.Context, from sdk.AccAddress, id uint64, to sdk.AccAddress, amount uint64) error {
	if amount == 0 {
		return errors.Wrap(types.ErrShares, "shares to transfer must be positive")
	}
	if from.Equals(to) {
		return errors.Wrap(types.ErrShares, "sender and recipient are the same address")
	}
	if _, err := k.GetAsset(ctx, id); err != nil {
		return err
	}
	have, err := k.SharesOf(ctx, id, from)
	if err != nil {
		return err
	}
	if have < amount {
		return errors.Wrapf(types.ErrShares, "sender holds %d shares of asset %d, cannot transfer %d", have, id, amount)
	}
	toHave, err := k.SharesOf(ctx, id, to)
	if err != nil {
		return err
	}
	if toHave == 0 && have != amount {
		p, err := k.Params.Get(ctx)
		if err != nil {
			return err
		}
		n := 0
		if err := k.WalkShareholders(ctx, id, func(sdk.AccAddress, uint64) error { n++; return nil }); err != nil {
			return err
		}
		if uint32(n) >= p.MaxShareholders {
			return errors.Wrapf(types.ErrShares, "asset %d already has max_shareholders=%d holders", id, p.MaxShareholders)
		}
	}
	if err := k.setShares(ctx, id, from, have-amount); err != nil {
		return err
	}
	if err := k.setShares(ctx, id, to, toHave+amount); err != nil {
		return err
	}
	toStr, _ := k.addrs.BytesToString(to)
	fromStr, _ := k.addrs.BytesToString(from)
	sdk.UnwrapSDKContext(ctx).EventManager().EmitEvent(sdk.NewEvent(types.EventSharesTransferred,
		sdk.NewAttribute("id", u64(id)), sdk.NewAttribute("from", fromStr), sdk.NewAttribute("to", toStr),
		sdk.NewAttribute("shares", u64(amount))))
	return nil
}
