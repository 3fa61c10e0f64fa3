package keeper

import (
	"context"

	"cosmossdk.io/collections"
	"cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"sahara/chain/x/licensing/types"
	"sahara/chain/x/modkit"
)

type msgServer struct{ k *Keeper }

// NewMsgServer returns the licensing Msg service.
func NewMsgServer(k *Keeper) types.MsgServer { return msgServer{k} }

func (k *Keeper) addr(field, s string) (sdk.AccAddress, error) {
	return modkit.DecodeAddress(k.addrs, types.ErrInvalid, field, s)
}

func (m msgServer) CreateTerms(ctx context.Context, msg *types.MsgCreateTerms) (*types.MsgCreateTermsResponse, error) {
	if _, err := m.k.addr("creator", msg.Creator); err != nil {
		return nil, err
	}
	id, created, err := m.k.CreateTerms(ctx, msg.Terms)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreateTermsResponse{TermsId: id, Created: created}, nil
}

func (m msgServer) AttachTerms(ctx context.Context, msg *types.MsgAttachTerms) (*types.MsgAttachTermsResponse, error) {
	owner, err := m.k.addr("owner", msg.Owner)
	if err != nil {
		return nil, err
	}
	return &types.MsgAttachTermsResponse{}, m.k.AttachTerms(ctx, owner, msg.AssetId, msg.TermsId)
}

func (m msgServer) MintLicense(ctx context.Context, msg *types.MsgMintLicense) (*types.MsgMintLicenseResponse, error) {
	minter, err := m.k.addr("minter", msg.Minter)
	if err != nil {
		return nil, err
	}
	in := MintInput{Minter: minter, AssetID: msg.AssetId, TermsID: msg.TermsId, MaxMintFee: msg.MaxMintFee, MaxRevShareBps: msg.MaxRevShareBps}
	if msg.Receiver != "" {
		if in.Receiver, err = m.k.addr("receiver", msg.Receiver); err != nil {
			return nil, err
		}
	}
	id, err := m.k.Mint(ctx, in)
	if err != nil {
		return nil, err
	}
	return &types.MsgMintLicenseResponse{LicenseId: id}, nil
}

func (m msgServer) TransferLicense(ctx context.Context, msg *types.MsgTransferLicense) (*types.MsgTransferLicenseResponse, error) {
	holder, err := m.k.addr("holder", msg.Holder)
	if err != nil {
		return nil, err
	}
	to, err := m.k.addr("to", msg.To)
	if err != nil {
		return nil, err
	}
	return &types.MsgTransferLicenseResponse{}, m.k.Transfer(ctx, holder, msg.LicenseId, to)
}

func (m msgServer) RevokeLicense(ctx context.Context, msg *types.MsgRevokeLicense) (*types.MsgRevokeLicenseResponse, error) {
	sender, err := m.k.addr("sender", msg.Sender)
	if err != nil {
		return nil, err
	}
	return &types.MsgRevokeLicenseResponse{}, m.k.Revoke(ctx, sender, msg.LicenseId)
}

func (m msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	return &types.MsgUpdateParamsResponse{}, modkit.UpdateParams(ctx, m.k.authority, msg.Authority, types.ErrUnauthorized, msg.Params, m.k.Params)
}

type queryServer struct{ k *Keeper }

// NewQueryServer returns the licensing Query service.
func NewQueryServer(k *Keeper) types.QueryServer { return queryServer{k} }

func (q queryServer) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.k.Params.Get(ctx)
	return &types.QueryParamsResponse{Params: p}, err
}

func (q queryServer) Terms(ctx context.Context, req *types.QueryTermsRequest) (*types.QueryTermsResponse, error) {
	t, err := q.k.GetTerms(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return &types.QueryTermsResponse{Terms: t}, nil
}

func (q queryServer) AssetTerms(ctx context.Context, req *types.QueryAssetTermsRequest) (*types.QueryAssetTermsResponse, error) {
	out := &types.QueryAssetTermsResponse{}
	err := q.k.Attached.Walk(ctx, collections.NewPrefixedPairRange[uint64, uint64](req.AssetId), func(key collections.Pair[uint64, uint64]) (bool, error) {
		t, err := q.k.GetTerms(ctx, key.K2())
		out.Terms = append(out.Terms, types.TermsEntry{Id: key.K2(), Terms: t})
		return false, err
	})
	return out, err
}

func (q queryServer) License(ctx context.Context, req *types.QueryLicenseRequest) (*types.QueryLicenseResponse, error) {
	l, err := q.k.GetLicense(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return &types.QueryLicenseResponse{License: l}, nil
}

func (q queryServer) LicensesByHolder(ctx context.Context, req *types.QueryLicensesByHolderRequest) (*types.QueryLicensesByHolderResponse, error) {
	holder, err := q.k.addr("holder", req.Holder)
	if err != nil {
		return nil, err
	}
	// Offset/limit paging over the holder's prefix (the triple key has no prefix paginator).
	var offset, limit uint64 = 0, 100
	if p := req.Pagination; p != nil {
		offset = p.Offset
		if p.Limit > 0 {
			limit = min(p.Limit, 1000)
		}
	}
	var ls []types.License
	var n uint64
	err = q.k.ByHolder.Walk(ctx, collections.NewPrefixedTripleRange[sdk.AccAddress, uint64, uint64](holder),
		func(key collections.Triple[sdk.AccAddress, uint64, uint64]) (bool, error) {
			n++
			if n <= offset || uint64(len(ls)) >= limit {
				return false, nil
			}
			l, err := q.k.GetLicense(ctx, key.K3())
			ls = append(ls, l)
			return false, err
		})
	if err != nil {
		return nil, err
	}
	page := &query.PageResponse{Total: n}
	return &types.QueryLicensesByHolderResponse{Licenses: ls, Pagination: page}, nil
}

func (q queryServer) CheckUse(ctx context.Context, req *types.QueryCheckUseRequest) (*types.QueryCheckUseResponse, error) {
	a, err := q.k.addr("address", req.Address)
	if err != nil {
		return nil, err
	}
	return q.k.CheckUse(ctx, a, req.AssetId, req.Purpose)
}

// InitGenesis writes the state and rebuilds the indexes (hash, holder, minted counts).
func (k *Keeper) InitGenesis(ctx context.Context, g *types.GenesisState) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, g.Params); err != nil {
		return err
	}
	if err := k.TermsSeq.Set(ctx, g.NextTermsId); err != nil {
		return err
	}
	if err := k.LicenseSeq.Set(ctx, g.NextLicenseId); err != nil {
		return err
	}
	for _, t := range g.Terms {
		if err := k.Terms.Set(ctx, t.Id, t.Terms); err != nil {
			return err
		}
		if err := k.TermsByHash.Set(ctx, t.Terms.Hash(), t.Id); err != nil {
			return err
		}
	}
	for _, a := range g.Attachments {
		if err := k.Attached.Set(ctx, collections.Join(a.AssetId, a.TermsId)); err != nil {
			return err
		}
	}
	for _, l := range g.Licenses {
		holder, err := k.addrs.StringToBytes(l.Holder)
		if err != nil {
			return err
		}
		if err := k.Licenses.Set(ctx, l.Id, l); err != nil {
			return err
		}
		if err := k.ByHolder.Set(ctx, collections.Join3(sdk.AccAddress(holder), l.AssetId, l.Id)); err != nil {
			return err
		}
		mk := collections.Join(l.AssetId, l.TermsId)
		n, err := k.Minted.Get(ctx, mk)
		if err != nil && !errors.IsOf(err, collections.ErrNotFound) {
			return err
		}
		if err := k.Minted.Set(ctx, mk, n+1); err != nil {
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
	if g.NextTermsId, err = k.TermsSeq.Peek(ctx); err != nil {
		return nil, err
	}
	if g.NextLicenseId, err = k.LicenseSeq.Peek(ctx); err != nil {
		return nil, err
	}
	if err := k.Terms.Walk(ctx, nil, func(id uint64, t types.Terms) (bool, error) {
		g.Terms = append(g.Terms, types.TermsEntry{Id: id, Terms: t})
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Attached.Walk(ctx, nil, func(key collections.Pair[uint64, uint64]) (bool, error) {
		g.Attachments = append(g.Attachments, types.Attachment{AssetId: key.K1(), TermsId: key.K2()})
		return false, nil
	}); err != nil {
		return nil, err
	}
	err = k.Licenses.Walk(ctx, nil, func(_ uint64, l types.License) (bool, error) {
		g.Licenses = append(g.Licenses, l)
		return false, nil
	})
	return g, err
}
