package keeper

import (
	"context"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"sahara/chain/x/registry/types"
)

type queryServer struct{ k *Keeper }

// NewQueryServer returns the registry's Query service.
func NewQueryServer(k *Keeper) types.QueryServer { return queryServer{k} }

func (q queryServer) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.k.Params.Get(ctx)
	return &types.QueryParamsResponse{Params: p}, err
}

func (q queryServer) Asset(ctx context.Context, req *types.QueryAssetRequest) (*types.QueryAssetResponse, error) {
	a, err := q.k.GetAsset(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	hs, err := q.k.Shareholders(ctx, req.Id)
	return &types.QueryAssetResponse{Asset: a, Shareholders: hs}, err
}

func (q queryServer) assets(ctx context.Context, ids []uint64, page *query.PageResponse) (*types.QueryAssetsResponse, error) {
	out := &types.QueryAssetsResponse{Pagination: page}
	for _, id := range ids {
		a, err := q.k.GetAsset(ctx, id)
		if err != nil {
			return nil, err
		}
		out.Assets = append(out.Assets, a)
	}
	return out, nil
}

func (q queryServer) AssetsByOwner(ctx context.Context, req *types.QueryAssetsByOwnerRequest) (*types.QueryAssetsResponse, error) {
	owner, err := q.k.addr("owner", req.Owner)
	if err != nil {
		return nil, err
	}
	ids, page, err := query.CollectionPaginate(ctx, q.k.ByOwner, req.Pagination,
		func(key collections.Pair[sdk.AccAddress, uint64], _ collections.NoValue) (uint64, error) {
			return key.K2(), nil
		},
		query.WithCollectionPaginationPairPrefix[sdk.AccAddress, uint64](owner))
	if err != nil {
		return nil, err
	}
	return q.assets(ctx, ids, page)
}

func (q queryServer) AssetsByKind(ctx context.Context, req *types.QueryAssetsByKindRequest) (*types.QueryAssetsResponse, error) {
	ids, page, err := query.CollectionPaginate(ctx, q.k.ByKind, req.Pagination,
		func(key collections.Pair[int32, uint64], _ collections.NoValue) (uint64, error) { return key.K2(), nil },
		query.WithCollectionPaginationPairPrefix[int32, uint64](int32(req.Kind)))
	if err != nil {
		return nil, err
	}
	return q.assets(ctx, ids, page)
}

func (q queryServer) Lineage(ctx context.Context, req *types.QueryLineageRequest) (*types.QueryLineageResponse, error) {
	a, err := q.k.GetAsset(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	anc, page, err := query.CollectionPaginate(ctx, q.k.Ancestors, req.Pagination,
		func(_ collections.Pair[uint64, uint64], v types.Ancestor) (types.Ancestor, error) { return v, nil },
		query.WithCollectionPaginationPairPrefix[uint64, uint64](req.Id))
	if err != nil {
		return nil, err
	}
	return &types.QueryLineageResponse{Ancestors: anc, RoyaltyStack: a.RoyaltyStack, Pagination: page}, nil
}

func (q queryServer) Children(ctx context.Context, req *types.QueryChildrenRequest) (*types.QueryChildrenResponse, error) {
	if _, err := q.k.GetAsset(ctx, req.Id); err != nil {
		return nil, err
	}
	ids, page, err := query.CollectionPaginate(ctx, q.k.Children, req.Pagination,
		func(key collections.Pair[uint64, uint64], _ collections.NoValue) (uint64, error) {
			return key.K2(), nil
		},
		query.WithCollectionPaginationPairPrefix[uint64, uint64](req.Id))
	if err != nil {
		return nil, err
	}
	return &types.QueryChildrenResponse{Children: ids, Pagination: page}, nil
}

func (q queryServer) Versions(ctx context.Context, req *types.QueryVersionsRequest) (*types.QueryVersionsResponse, error) {
	if _, err := q.k.GetAsset(ctx, req.Id); err != nil {
		return nil, err
	}
	it, err := q.k.Versions.Iterate(ctx, collections.NewPrefixedPairRange[uint64, uint32](req.Id))
	if err != nil {
		return nil, err
	}
	vs, err := it.Values()
	return &types.QueryVersionsResponse{Versions: vs}, err
}
