package keeper

import (
	"context"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"sahara/chain/x/registry/types"
)

// InitGenesis writes the state and rebuilds the indexes (owner, kind, children) from it.
func (k *Keeper) InitGenesis(ctx context.Context, g *types.GenesisState) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, g.Params); err != nil {
		return err
	}
	if err := k.NextID.Set(ctx, g.NextAssetId); err != nil {
		return err
	}
	for _, a := range g.Assets {
		owner, err := k.addrs.StringToBytes(a.Owner)
		if err != nil {
			return err
		}
		if err := k.Assets.Set(ctx, a.Id, a); err != nil {
			return err
		}
		if err := k.ByOwner.Set(ctx, collections.Join(sdk.AccAddress(owner), a.Id)); err != nil {
			return err
		}
		if err := k.ByKind.Set(ctx, collections.Join(int32(a.Kind), a.Id)); err != nil {
			return err
		}
		for _, e := range a.Parents {
			if err := k.Children.Set(ctx, collections.Join(e.ParentId, a.Id)); err != nil {
				return err
			}
		}
	}
	for _, v := range g.Versions {
		if err := k.Versions.Set(ctx, collections.Join(v.AssetId, v.Version), v); err != nil {
			return err
		}
	}
	for _, s := range g.Shares {
		addr, err := k.addrs.StringToBytes(s.Address)
		if err != nil {
			return err
		}
		if err := k.Shares.Set(ctx, collections.Join(s.AssetId, sdk.AccAddress(addr)), s.Shares); err != nil {
			return err
		}
	}
	for _, a := range g.Ancestors {
		if err := k.Ancestors.Set(ctx, collections.Join(a.AssetId, a.Ancestor.AssetId), a.Ancestor); err != nil {
			return err
		}
	}
	return nil
}

func (k *Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	g := &types.GenesisState{}
	var err error
	if g.Params, err = k.Params.Get(ctx); err != nil {
		return nil, err
	}
	if g.NextAssetId, err = k.NextID.Peek(ctx); err != nil {
		return nil, err
	}
	if err := k.Assets.Walk(ctx, nil, func(_ uint64, a types.Asset) (bool, error) {
		g.Assets = append(g.Assets, a)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Versions.Walk(ctx, nil, func(_ collections.Pair[uint64, uint32], v types.Version) (bool, error) {
		g.Versions = append(g.Versions, v)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Shares.Walk(ctx, nil, func(key collections.Pair[uint64, sdk.AccAddress], s uint64) (bool, error) {
		addr, err := k.addrs.BytesToString(key.K2())
		g.Shares = append(g.Shares, types.ShareEntry{AssetId: key.K1(), Address: addr, Shares: s})
		return false, err
	}); err != nil {
		return nil, err
	}
	err = k.Ancestors.Walk(ctx, nil, func(key collections.Pair[uint64, uint64], a types.Ancestor) (bool, error) {
		g.Ancestors = append(g.Ancestors, types.AncestorEntry{AssetId: key.K1(), Ancestor: a})
		return false, nil
	})
	return g, err
}
