package keeper

import (
	"context"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"sahara/chain/x/modkit"
	"sahara/chain/x/royalty/types"
)

func (k *Keeper) addr(field, s string) (sdk.AccAddress, error) {
	return modkit.DecodeAddress(k.addrs, types.ErrInvalid, field, s)
}

type msgServer struct{ k *Keeper }

// NewMsgServer returns the royalty Msg service.
func NewMsgServer(k *Keeper) types.MsgServer { return msgServer{k} }

func (m msgServer) Pay(ctx context.Context, msg *types.MsgPay) (*types.MsgPayResponse, error) {
	payer, err := m.k.addr("payer", msg.Payer)
	if err != nil {
		return nil, err
	}
	_, err = m.k.Pay(ctx, payer, msg.AssetId, msg.Amount)
	return &types.MsgPayResponse{}, err
}

func (m msgServer) Claim(ctx context.Context, msg *types.MsgClaim) (*types.MsgClaimResponse, error) {
	c, err := m.k.addr("claimant", msg.Claimant)
	if err != nil {
		return nil, err
	}
	coins, next, err := m.k.Claim(ctx, c, msg.StartAfter)
	if err != nil {
		return nil, err
	}
	return &types.MsgClaimResponse{Claimed: coins, Next: next}, nil
}

func (m msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	return &types.MsgUpdateParamsResponse{}, modkit.UpdateParams(ctx, m.k.authority, msg.Authority, types.ErrUnauthorized, msg.Params, m.k.Params)
}

type queryServer struct{ k *Keeper }

// NewQueryServer returns the royalty Query service.
func NewQueryServer(k *Keeper) types.QueryServer { return queryServer{k} }

func (q queryServer) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.k.Params.Get(ctx)
	return &types.QueryParamsResponse{Params: p}, err
}

func (q queryServer) Claimable(ctx context.Context, req *types.QueryClaimableRequest) (*types.QueryClaimableResponse, error) {
	a, err := q.k.addr("address", req.Address)
	if err != nil {
		return nil, err
	}
	return q.k.Claimable(ctx, a, req.AssetId, req.Denom)
}

func (q queryServer) Vault(ctx context.Context, req *types.QueryVaultRequest) (*types.QueryVaultResponse, error) {
	b, err := q.k.VaultBalances(ctx, req.AssetId)
	if err != nil {
		return nil, err
	}
	return &types.QueryVaultResponse{Balances: b}, nil
}

func (k *Keeper) InitGenesis(ctx context.Context, g *types.GenesisState) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, g.Params); err != nil {
		return err
	}
	for _, v := range g.Vaults {
		if err := k.Vaults.Set(ctx, collections.Join(v.AssetId, v.Denom), v); err != nil {
			return err
		}
	}
	for _, h := range g.Holdings {
		a, err := k.addr("holding address", h.Address)
		if err != nil {
			return err
		}
		if err := k.Holdings.Set(ctx, collections.Join3(h.AssetId, h.Denom, a), h); err != nil {
			return err
		}
	}
	for _, p := range g.Positions {
		a, err := k.addr("position address", p.Address)
		if err != nil {
			return err
		}
		if err := k.Positions.Set(ctx, collections.Join(a, p.AssetId)); err != nil {
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
	if err := k.Vaults.Walk(ctx, nil, func(key collections.Pair[uint64, string], v types.Vault) (bool, error) {
		v.AssetId, v.Denom = key.K1(), key.K2()
		g.Vaults = append(g.Vaults, v)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Holdings.Walk(ctx, nil, func(_ collections.Triple[uint64, string, sdk.AccAddress], h types.Holding) (bool, error) {
		g.Holdings = append(g.Holdings, h)
		return false, nil
	}); err != nil {
		return nil, err
	}
	err = k.Positions.Walk(ctx, nil, func(key collections.Pair[sdk.AccAddress, uint64]) (bool, error) {
		a, err := k.addrs.BytesToString(key.K1())
		g.Positions = append(g.Positions, types.Position{Address: a, AssetId: key.K2()})
		return false, err
	})
	return g, err
}
