package keeper

import (
	"context"

	"cosmossdk.io/collections"
	"cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"sahara/chain/x/datatask/types"
	"sahara/chain/x/modkit"
)

type msgServer struct{ k *Keeper }

// NewMsgServer returns the datatask Msg service.
func NewMsgServer(k *Keeper) types.MsgServer { return msgServer{k} }

func (m msgServer) CreatePool(ctx context.Context, msg *types.MsgCreatePool) (*types.MsgCreatePoolResponse, error) {
	req, err := m.k.addr("requester", msg.Requester)
	if err != nil {
		return nil, err
	}
	in := CreatePoolInput{Requester: req, Name: msg.Name, Deposit: msg.Deposit, Rate: msg.Rate,
		MaxBonusBps: msg.MaxBonusBps, Deadline: msg.Deadline, RequesterShare: msg.RequesterShare}
	for i, a := range msg.Authorities {
		b, err := m.k.addr("authorities["+itoa(i)+"]", a)
		if err != nil {
			return nil, err
		}
		in.Authorities = append(in.Authorities, b)
	}
	id, err := m.k.CreatePool(ctx, in)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreatePoolResponse{PoolId: id}, nil
}

func (m msgServer) FundPool(ctx context.Context, msg *types.MsgFundPool) (*types.MsgFundPoolResponse, error) {
	f, err := m.k.addr("funder", msg.Funder)
	if err != nil {
		return nil, err
	}
	return &types.MsgFundPoolResponse{}, m.k.FundPool(ctx, f, msg.PoolId, msg.Amount)
}

func (m msgServer) PostPayouts(ctx context.Context, msg *types.MsgPostPayouts) (*types.MsgPostPayoutsResponse, error) {
	a, err := m.k.addr("authority", msg.Authority)
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, len(msg.Entries))
	for i, e := range msg.Entries {
		b, err := m.k.addr("entries["+itoa(i)+"].address", e.Address)
		if err != nil {
			return nil, err
		}
		entries[i] = Entry{Addr: b, Amount: e.Amount, Units: e.Units, Weight: e.Weight}
	}
	paid, err := m.k.PostPayouts(ctx, a, msg.PoolId, msg.BatchId, entries)
	if err != nil {
		return nil, err
	}
	return &types.MsgPostPayoutsResponse{Paid: paid}, nil
}

func (m msgServer) ClosePool(ctx context.Context, msg *types.MsgClosePool) (*types.MsgClosePoolResponse, error) {
	s, err := m.k.addr("sender", msg.Sender)
	if err != nil {
		return nil, err
	}
	refunded, err := m.k.ClosePool(ctx, s, msg.PoolId)
	if err != nil {
		return nil, err
	}
	return &types.MsgClosePoolResponse{Refunded: refunded}, nil
}

func (m msgServer) MintDataset(ctx context.Context, msg *types.MsgMintDataset) (*types.MsgMintDatasetResponse, error) {
	s, err := m.k.addr("sender", msg.Sender)
	if err != nil {
		return nil, err
	}
	id, err := m.k.MintDataset(ctx, s, msg.PoolId, MintInput{Name: msg.Name, URI: msg.Uri, ContentRoot: msg.ContentRoot, Size: msg.Size_})
	if err != nil {
		return nil, err
	}
	return &types.MsgMintDatasetResponse{AssetId: id}, nil
}

func (m msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	return &types.MsgUpdateParamsResponse{}, modkit.UpdateParams(ctx, m.k.authority, msg.Authority, types.ErrUnauthorized, msg.Params, m.k.Params)
}

type queryServer struct{ k *Keeper }

// NewQueryServer returns the datatask Query service.
func NewQueryServer(k *Keeper) types.QueryServer { return queryServer{k} }

func (q queryServer) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.k.Params.Get(ctx)
	return &types.QueryParamsResponse{Params: p}, err
}

func (q queryServer) Pool(ctx context.Context, req *types.QueryPoolRequest) (*types.QueryPoolResponse, error) {
	p, err := q.k.GetPool(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	held, err := p.Held()
	return &types.QueryPoolResponse{Pool: p, Held: held}, err
}

func (q queryServer) Pools(ctx context.Context, req *types.QueryPoolsRequest) (*types.QueryPoolsResponse, error) {
	pools, page, err := query.CollectionPaginate(ctx, q.k.Pools, req.Pagination,
		func(_ uint64, p types.Pool) (types.Pool, error) { return p, nil })
	if err != nil {
		return nil, err
	}
	return &types.QueryPoolsResponse{Pools: pools, Pagination: page}, nil
}

func (q queryServer) Contributions(ctx context.Context, req *types.QueryContributionsRequest) (*types.QueryContributionsResponse, error) {
	cs, page, err := query.CollectionPaginate(ctx, q.k.Contributions, req.Pagination,
		func(_ collections.Pair[uint64, sdk.AccAddress], c types.Contribution) (types.Contribution, error) {
			return c, nil
		},
		query.WithCollectionPaginationPairPrefix[uint64, sdk.AccAddress](req.PoolId))
	if err != nil {
		return nil, err
	}
	return &types.QueryContributionsResponse{Contributions: cs, Pagination: page}, nil
}

func (q queryServer) Contribution(ctx context.Context, req *types.QueryContributionRequest) (*types.QueryContributionResponse, error) {
	a, err := q.k.addr("address", req.Address)
	if err != nil {
		return nil, err
	}
	c, err := q.k.Contributions.Get(ctx, collections.Join(req.PoolId, a))
	if errors.IsOf(err, collections.ErrNotFound) {
		return nil, errors.Wrapf(types.ErrNotFound, "%s has no contribution to pool %d", req.Address, req.PoolId)
	}
	return &types.QueryContributionResponse{Contribution: c}, err
}

func (q queryServer) Batch(ctx context.Context, req *types.QueryBatchRequest) (*types.QueryBatchResponse, error) {
	b, err := q.k.Batches.Get(ctx, collections.Join(req.PoolId, req.BatchId))
	if errors.IsOf(err, collections.ErrNotFound) {
		return nil, errors.Wrapf(types.ErrNotFound, "batch %d of pool %d was not applied", req.BatchId, req.PoolId)
	}
	return &types.QueryBatchResponse{Batch: b}, err
}

func (k *Keeper) InitGenesis(ctx context.Context, g *types.GenesisState) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, g.Params); err != nil {
		return err
	}
	if g.NextPoolId > 0 {
		if err := k.NextID.Set(ctx, g.NextPoolId); err != nil {
			return err
		}
	}
	for _, p := range g.Pools {
		if err := k.Pools.Set(ctx, p.Id, p); err != nil {
			return err
		}
	}
	for _, c := range g.Contributions {
		a, err := k.addr("contribution address", c.Address)
		if err != nil {
			return err
		}
		if err := k.Contributions.Set(ctx, collections.Join(c.PoolId, a), c); err != nil {
			return err
		}
	}
	for _, b := range g.Batches {
		if err := k.Batches.Set(ctx, collections.Join(b.PoolId, b.BatchId), b); err != nil {
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
	if g.NextPoolId, err = k.NextID.Peek(ctx); err != nil {
		return nil, err
	}
	if err := k.Pools.Walk(ctx, nil, func(_ uint64, p types.Pool) (bool, error) {
		g.Pools = append(g.Pools, p)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Contributions.Walk(ctx, nil, func(_ collections.Pair[uint64, sdk.AccAddress], c types.Contribution) (bool, error) {
		g.Contributions = append(g.Contributions, c)
		return false, nil
	}); err != nil {
		return nil, err
	}
	err = k.Batches.Walk(ctx, nil, func(_ collections.Pair[uint64, uint64], b types.Batch) (bool, error) {
		g.Batches = append(g.Batches, b)
		return false, nil
	})
	return g, err
}
