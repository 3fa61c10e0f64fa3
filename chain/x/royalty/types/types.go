// Package types holds the royalty module's messages, state types, parameters and errors.
package types

import (
	"cosmossdk.io/errors"
	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	cdctypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
)

const (
	ModuleName = "royalty"
	StoreKey   = ModuleName
	// ObjectStoreKey holds the vault deltas of the current block.
	ObjectStoreKey = "object_" + ModuleName
)

var (
	ErrInvalid      = errors.Register(ModuleName, 2, "invalid request")
	ErrUnauthorized = errors.Register(ModuleName, 3, "unauthorized")
)

func DefaultParams() Params { return Params{MaxClaimAssets: 200, GasPerAncestor: 300} }

func (p Params) Validate() error {
	if p.MaxClaimAssets == 0 {
		return errors.Wrap(ErrInvalid, "params: max_claim_assets must be at least 1")
	}
	return nil
}

func DefaultGenesis() *GenesisState { return &GenesisState{Params: DefaultParams()} }

func (g GenesisState) Validate() error {
	if err := g.Params.Validate(); err != nil {
		return err
	}
	for _, v := range g.Vaults {
		if !v.Received.Equal(v.Forwarded.Add(v.Distributed)) {
			return errors.Wrapf(ErrInvalid, "genesis: vault %d/%s: received %s != forwarded %s + distributed %s",
				v.AssetId, v.Denom, v.Received, v.Forwarded, v.Distributed)
		}
		if v.Claimed.GT(v.Distributed) {
			return errors.Wrapf(ErrInvalid, "genesis: vault %d/%s claimed more than it distributed", v.AssetId, v.Denom)
		}
	}
	return nil
}

// NewVault is an empty vault.
func NewVault(assetID uint64, denom string) Vault {
	z := math.ZeroInt()
	return Vault{AssetId: assetID, Denom: denom, Received: z, Forwarded: z, Distributed: z, Claimed: z}
}

func RegisterInterfaces(r cdctypes.InterfaceRegistry) {
	r.RegisterImplementations((*sdk.Msg)(nil), &MsgPay{}, &MsgClaim{}, &MsgUpdateParams{})
	msgservice.RegisterMsgServiceDesc(r, &Msg_serviceDesc)
}

func RegisterLegacyAminoCodec(cdc *codec.LegacyAmino) {
	cdc.RegisterConcrete(&MsgPay{}, "sahara/royalty/MsgPay", nil)
	cdc.RegisterConcrete(&MsgClaim{}, "sahara/royalty/MsgClaim", nil)
	cdc.RegisterConcrete(&MsgUpdateParams{}, "sahara/royalty/MsgUpdateParams", nil)
}
