// Package registry is the x/registry precompile (contracts/src/IRegistry.sol).
package registry

import (
	"github.com/ethereum/go-ethereum/common"

	cmn "github.com/cosmos/evm/precompiles/common"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"sahara/chain/precompiles/base"
	"sahara/chain/x/registry/keeper"
	"sahara/chain/x/registry/types"
)

// Address is the registry precompile's fixed address (contracts/addresses.json).
var Address = common.HexToAddress("0x0000000000000000000000000000000000000900")

// ParentArg is IRegistry.Parent as go-ethereum's ABI packs and unpacks it.
type ParentArg struct {
	ParentId  uint64
	EdgeType  uint8
	LicenseId uint64
}

// New returns the precompile over the registry keeper.
func New(k *keeper.Keeper, bank cmn.BankKeeper) *base.Precompile {
	evmAddr := func(bech string) common.Address {
		b, err := k.AddressCodec().StringToBytes(bech)
		if err != nil {
			return common.Address{}
		}
		return common.BytesToAddress(b)
	}
	writes := map[string]base.Method{
		"registerAsset": func(c *base.Call, args []any) ([]any, error) {
			kind, err := base.Arg[uint8](args, 0)
			if err != nil {
				return nil, err
			}
			name, _ := base.Arg[string](args, 1)
			uri, _ := base.Arg[string](args, 2)
			root, _ := base.Arg[[32]byte](args, 3)
			size, _ := base.Arg[uint64](args, 4)
			var ps []ParentArg
			if err := base.Convert(args, 5, &ps); err != nil {
				return nil, err
			}
			in := keeper.RegisterInput{Owner: c.Sender(), Kind: types.AssetKind(kind), Name: name, URI: uri, ContentRoot: root[:], Size: size}
			for _, p := range ps {
				in.Parents = append(in.Parents, types.ParentRef{ParentId: p.ParentId, EdgeType: types.EdgeType(p.EdgeType), LicenseId: p.LicenseId})
			}
			id, err := k.Register(c.Ctx, in)
			if err != nil {
				return nil, err
			}
			a, err := k.GetAsset(c.Ctx, id)
			if err != nil {
				return nil, err
			}
			return []any{id}, c.Emit("AssetRegistered", []any{id, c.Caller}, kind, a.AncestorCount, a.RoyaltyStack)
		},
		"addVersion": func(c *base.Call, args []any) ([]any, error) {
			id, err := base.Arg[uint64](args, 0)
			if err != nil {
				return nil, err
			}
			uri, _ := base.Arg[string](args, 1)
			root, _ := base.Arg[[32]byte](args, 2)
			size, _ := base.Arg[uint64](args, 3)
			v, err := k.AddVersion(c.Ctx, c.Sender(), id, uri, root[:], size)
			if err != nil {
				return nil, err
			}
			return []any{v}, c.Emit("VersionAdded", []any{id}, v, root)
		},
		"transferOwnership": func(c *base.Call, args []any) ([]any, error) {
			id, err := base.Arg[uint64](args, 0)
			if err != nil {
				return nil, err
			}
			to, _ := base.Arg[common.Address](args, 1)
			if err := k.TransferOwnership(c.Ctx, c.Sender(), id, to.Bytes()); err != nil {
				return nil, err
			}
			return []any{true}, c.Emit("OwnershipTransferred", []any{id, to})
		},
		"transferShares": func(c *base.Call, args []any) ([]any, error) {
			id, err := base.Arg[uint64](args, 0)
			if err != nil {
				return nil, err
			}
			to, _ := base.Arg[common.Address](args, 1)
			n, _ := base.Arg[uint64](args, 2)
			if err := k.TransferShares(c.Ctx, c.Sender(), id, to.Bytes(), n); err != nil {
				return nil, err
			}
			return []any{true}, c.Emit("SharesTransferred", []any{id, c.Caller, to}, n)
		},
	}
	queries := map[string]base.Method{
		"getAsset": func(c *base.Call, args []any) ([]any, error) {
			id, err := base.Arg[uint64](args, 0)
			if err != nil {
				return nil, err
			}
			a, err := k.GetAsset(c.Ctx, id)
			if err != nil {
				return nil, err
			}
			var root [32]byte
			copy(root[:], a.ContentRoot)
			return []any{uint8(a.Kind), a.Name, evmAddr(a.Owner), a.Uri, root, a.Size_, a.Version, a.RoyaltyStack}, nil
		},
		"sharesOf": func(c *base.Call, args []any) ([]any, error) {
			id, err := base.Arg[uint64](args, 0)
			if err != nil {
				return nil, err
			}
			h, _ := base.Arg[common.Address](args, 1)
			s, err := k.SharesOf(c.Ctx, id, sdk.AccAddress(h.Bytes()))
			return []any{s}, err
		},
		"lineage": func(c *base.Call, args []any) ([]any, error) {
			id, err := base.Arg[uint64](args, 0)
			if err != nil {
				return nil, err
			}
			if _, err := k.GetAsset(c.Ctx, id); err != nil {
				return nil, err
			}
			ids, shares := []uint64{}, []uint64{}
			err = k.WalkAncestors(c.Ctx, id, func(a types.Ancestor) error {
				ids = append(ids, a.AssetId)
				shares = append(shares, a.Share)
				return nil
			})
			return []any{ids, shares}, err
		},
	}
	return base.New("sahara-registry", "IRegistry", Address, bank, writes, queries)
}
