package keeper

import (
	"context"
	"strconv"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"sahara/chain/x/modkit"
	"sahara/chain/x/registry/types"
)

type msgServer struct{ k *Keeper }

// NewMsgServer returns the registry's Msg service.
func NewMsgServer(k *Keeper) types.MsgServer { return msgServer{k} }

// addr decodes a bech32 field, naming it in the error.
func (k *Keeper) addr(field, s string) (sdk.AccAddress, error) {
	return modkit.DecodeAddress(k.addrs, types.ErrInvalid, field, s)
}

func (m msgServer) RegisterAsset(ctx context.Context, msg *types.MsgRegisterAsset) (*types.MsgRegisterAssetResponse, error) {
	owner, err := m.k.addr("owner", msg.Owner)
	if err != nil {
		return nil, err
	}
	in := RegisterInput{Owner: owner, Kind: msg.Kind, Name: msg.Name, URI: msg.Uri, ContentRoot: msg.ContentRoot, Size: msg.Size_, Parents: msg.Parents}
	for i, h := range msg.Shareholders {
		a, err := m.k.addr("shareholders["+itoa(i)+"].address", h.Address)
		if err != nil {
			return nil, err
		}
		in.Shareholders = append(in.Shareholders, Holder{a, h.Shares})
	}
	id, err := m.k.Register(ctx, in)
	if err != nil {
		return nil, err
	}
	return &types.MsgRegisterAssetResponse{Id: id}, nil
}

func (m msgServer) AddVersion(ctx context.Context, msg *types.MsgAddVersion) (*types.MsgAddVersionResponse, error) {
	owner, err := m.k.addr("owner", msg.Owner)
	if err != nil {
		return nil, err
	}
	v, err := m.k.AddVersion(ctx, owner, msg.AssetId, msg.Uri, msg.ContentRoot, msg.Size_)
	if err != nil {
		return nil, err
	}
	return &types.MsgAddVersionResponse{Version: v}, nil
}

func (m msgServer) TransferOwnership(ctx context.Context, msg *types.MsgTransferOwnership) (*types.MsgTransferOwnershipResponse, error) {
	owner, err := m.k.addr("owner", msg.Owner)
	if err != nil {
		return nil, err
	}
	to, err := m.k.addr("new_owner", msg.NewOwner)
	if err != nil {
		return nil, err
	}
	return &types.MsgTransferOwnershipResponse{}, m.k.TransferOwnership(ctx, owner, msg.AssetId, to)
}

func (m msgServer) TransferShares(ctx context.Context, msg *types.MsgTransferShares) (*types.MsgTransferSharesResponse, error) {
	from, err := m.k.addr("from", msg.From)
	if err != nil {
		return nil, err
	}
	to, err := m.k.addr("to", msg.To)
	if err != nil {
		return nil, err
	}
	return &types.MsgTransferSharesResponse{}, m.k.TransferShares(ctx, from, msg.AssetId, to, msg.Shares)
}

func (m msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	return &types.MsgUpdateParamsResponse{}, modkit.UpdateParams(ctx, m.k.authority, msg.Authority, types.ErrUnauthorized, msg.Params, m.k.Params)
}
func itoa(i int) string { return strconv.Itoa(i) }
