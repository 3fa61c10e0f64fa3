// Package types holds the registry's messages, state types, parameters and errors.
package types

import (
	"fmt"
	"strings"

	"cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/codec"
	cdctypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
)

const (
	ModuleName = "registry"
	StoreKey   = ModuleName

	// TotalShares is 100% of an asset's revenue rights, and the unit of every
	// revenue share in the protocol (royalty shares, royalty stack).
	TotalShares uint64 = 100_000_000
	// BpsToShares converts basis points to TotalShares units.
	BpsToShares uint64 = TotalShares / 10_000

	MaxNameLen = 128
	MaxURILen  = 512
	RootLen    = 32
)

var (
	ErrInvalid          = errors.Register(ModuleName, 2, "invalid request")
	ErrNotFound         = errors.Register(ModuleName, 3, "asset not found")
	ErrUnauthorized     = errors.Register(ModuleName, 4, "not the asset owner")
	ErrTooManyParents   = errors.Register(ModuleName, 5, "too many parents")
	ErrTooManyAncestors = errors.Register(ModuleName, 6, "too many ancestors")
	ErrRoyaltyStack     = errors.Register(ModuleName, 7, "royalty stack above the cap")
	ErrShares           = errors.Register(ModuleName, 8, "invalid shares")
	ErrParentLicense    = errors.Register(ModuleName, 9, "parent license does not allow this derivative")
)

// DefaultParams: 64 parents, 4,096 ancestors, a royalty stack of at most 50%.
func DefaultParams() Params {
	return Params{MaxParents: 64, MaxAncestors: 4096, GasPerAncestor: 200, MaxRoyaltyStack: TotalShares / 2, MaxShareholders: 256}
}

func (p Params) Validate() error {
	switch {
	case p.MaxParents == 0:
		return errors.Wrap(ErrInvalid, "params: max_parents must be at least 1")
	case p.MaxAncestors < p.MaxParents:
		return errors.Wrap(ErrInvalid, "params: max_ancestors must be at least max_parents")
	case p.MaxRoyaltyStack > TotalShares:
		return errors.Wrapf(ErrInvalid, "params: max_royalty_stack %d is above 100%% (%d)", p.MaxRoyaltyStack, TotalShares)
	case p.MaxShareholders == 0:
		return errors.Wrap(ErrInvalid, "params: max_shareholders must be at least 1")
	}
	return nil
}

func DefaultGenesis() *GenesisState { return &GenesisState{Params: DefaultParams(), NextAssetId: 1} }

func (g GenesisState) Validate() error {
	if err := g.Params.Validate(); err != nil {
		return err
	}
	seen := map[uint64]bool{}
	for _, a := range g.Assets {
		if a.Id == 0 || a.Id >= g.NextAssetId {
			return errors.Wrapf(ErrInvalid, "genesis: asset id %d must be in [1, next_asset_id=%d)", a.Id, g.NextAssetId)
		}
		if seen[a.Id] {
			return errors.Wrapf(ErrInvalid, "genesis: asset id %d appears twice", a.Id)
		}
		seen[a.Id] = true
	}
	sum := map[uint64]uint64{}
	for _, s := range g.Shares {
		if !seen[s.AssetId] {
			return errors.Wrapf(ErrInvalid, "genesis: shares of unknown asset %d", s.AssetId)
		}
		sum[s.AssetId] += s.Shares
	}
	for id := range seen {
		if sum[id] != TotalShares {
			return errors.Wrapf(ErrShares, "genesis: shares of asset %d sum to %d, want %d", id, sum[id], TotalShares)
		}
	}
	return nil
}

// ValidKind reports whether k is a concrete asset kind.
func ValidKind(k AssetKind) bool {
	return k > ASSET_KIND_UNSPECIFIED && int32(k) < int32(len(AssetKind_name))
}

// ValidEdge reports whether e is a concrete edge type.
func ValidEdge(e EdgeType) bool {
	return e > EDGE_TYPE_UNSPECIFIED && int32(e) < int32(len(EdgeType_name))
}

// ParseKind accepts "dataset", "DATASET" or "ASSET_KIND_DATASET".
func ParseKind(s string) (AssetKind, error) {
	u := strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
	if v, ok := AssetKind_value["ASSET_KIND_"+u]; ok && v != 0 {
		return AssetKind(v), nil
	}
	if v, ok := AssetKind_value[u]; ok && v != 0 {
		return AssetKind(v), nil
	}
	return 0, fmt.Errorf("unknown asset kind %q: use dataset, model, agent or knowledge_base", s)
}

// ParseEdge accepts "trained_on", "TRAINED_ON" or "EDGE_TYPE_TRAINED_ON".
func ParseEdge(s string) (EdgeType, error) {
	u := strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
	if v, ok := EdgeType_value["EDGE_TYPE_"+u]; ok && v != 0 {
		return EdgeType(v), nil
	}
	if v, ok := EdgeType_value[u]; ok && v != 0 {
		return EdgeType(v), nil
	}
	return 0, fmt.Errorf("unknown edge type %q: use trained_on, finetuned_from, derived_from, uses, embeds or aggregates", s)
}

// ValidateContent checks the fields every version carries.
func ValidateContent(uri string, root []byte) error {
	if len(uri) > MaxURILen {
		return errors.Wrapf(ErrInvalid, "uri is %d bytes; the limit is %d", len(uri), MaxURILen)
	}
	if len(root) != RootLen {
		return errors.Wrapf(ErrInvalid, "content_root must be %d bytes (a sha256 Merkle root), got %d", RootLen, len(root))
	}
	return nil
}

func RegisterInterfaces(r cdctypes.InterfaceRegistry) {
	r.RegisterImplementations((*sdk.Msg)(nil),
		&MsgRegisterAsset{}, &MsgAddVersion{}, &MsgTransferOwnership{}, &MsgTransferShares{}, &MsgUpdateParams{})
	msgservice.RegisterMsgServiceDesc(r, &Msg_serviceDesc)
}

func RegisterLegacyAminoCodec(cdc *codec.LegacyAmino) {
	cdc.RegisterConcrete(&MsgRegisterAsset{}, "sahara/registry/MsgRegisterAsset", nil)
	cdc.RegisterConcrete(&MsgAddVersion{}, "sahara/registry/MsgAddVersion", nil)
	cdc.RegisterConcrete(&MsgTransferOwnership{}, "sahara/registry/MsgTransferOwnership", nil)
	cdc.RegisterConcrete(&MsgTransferShares{}, "sahara/registry/MsgTransferShares", nil)
	cdc.RegisterConcrete(&MsgUpdateParams{}, "sahara/registry/MsgUpdateParams", nil)
}
