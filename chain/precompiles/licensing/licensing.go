// Package licensing is the x/licensing precompile (contracts/src/ILicensing.sol).
package licensing

import (
	"math/big"

	"github.com/ethereum/go-ethereum/common"

	cmn "github.com/cosmos/evm/precompiles/common"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"sahara/chain/precompiles/base"
	"sahara/chain/x/licensing/keeper"
	"sahara/chain/x/licensing/types"
)

// Address is the licensing precompile's fixed address (contracts/addresses.json).
var Address = common.HexToAddress("0x0000000000000000000000000000000000000901")

// TermsArg is ILicensing.Terms as go-ethereum's ABI packs and unpacks it.
type TermsArg struct {
	CommercialUse         bool
	DerivativesAllowed    bool
	DerivativeRevShareBps uint32
	MintFeeDenom          string
	MintFee               *big.Int
	PerCallDenom          string
	PerCallPrice          *big.Int
	DurationSeconds       uint64
	Transferable          bool
	SupplyCap             uint64
	Revocable             bool
}

func coin(denom string, amt *big.Int) (sdk.Coin, error) {
	i, err := base.Int(amt)
	if err != nil {
		return sdk.Coin{}, err
	}
	return sdk.Coin{Denom: denom, Amount: i}, nil
}

// New returns the precompile over the licensing keeper.
func New(k *keeper.Keeper, bank cmn.BankKeeper) *base.Precompile {
	writes := map[string]base.Method{
		"createTerms": func(c *base.Call, args []any) ([]any, error) {
			var t TermsArg
			if err := base.Convert(args, 0, &t); err != nil {
				return nil, err
			}
			fee, err := coin(t.MintFeeDenom, t.MintFee)
			if err != nil {
				return nil, err
			}
			price, err := coin(t.PerCallDenom, t.PerCallPrice)
			if err != nil {
				return nil, err
			}
			id, _, err := k.CreateTerms(c.Ctx, types.Terms{
				CommercialUse: t.CommercialUse, DerivativesAllowed: t.DerivativesAllowed, DerivativeRevShareBps: t.DerivativeRevShareBps,
				MintFee: fee, PerCallPrice: price, DurationSeconds: t.DurationSeconds, Transferable: t.Transferable,
				SupplyCap: t.SupplyCap, Revocable: t.Revocable,
			})
			return []any{id}, err
		},
		"attachTerms": func(c *base.Call, args []any) ([]any, error) {
			asset, err := base.Arg[uint64](args, 0)
			if err != nil {
				return nil, err
			}
			terms, _ := base.Arg[uint64](args, 1)
			if err := k.AttachTerms(c.Ctx, c.Sender(), asset, terms); err != nil {
				return nil, err
			}
			return []any{true}, c.Emit("TermsAttached", []any{asset, terms})
		},
		"mintLicense": func(c *base.Call, args []any) ([]any, error) {
			asset, err := base.Arg[uint64](args, 0)
			if err != nil {
				return nil, err
			}
			terms, _ := base.Arg[uint64](args, 1)
			receiver, _ := base.Arg[common.Address](args, 2)
			denom, _ := base.Arg[string](args, 3)
			maxFee, _ := base.Arg[*big.Int](args, 4)
			maxBps, _ := base.Arg[uint32](args, 5)
			capFee, err := coin(denom, maxFee)
			if err != nil {
				return nil, err
			}
			in := keeper.MintInput{Minter: c.Sender(), AssetID: asset, TermsID: terms, MaxMintFee: capFee, MaxRevShareBps: maxBps}
			if receiver != (common.Address{}) {
				in.Receiver = receiver.Bytes()
			} else {
				receiver = c.Caller
			}
			id, err := k.Mint(c.Ctx, in)
			if err != nil {
				return nil, err
			}
			return []any{id}, c.Emit("LicenseMinted", []any{id, asset, receiver}, terms)
		},
		"transferLicense": func(c *base.Call, args []any) ([]any, error) {
			id, err := base.Arg[uint64](args, 0)
			if err != nil {
				return nil, err
			}
			to, _ := base.Arg[common.Address](args, 1)
			if err := k.Transfer(c.Ctx, c.Sender(), id, to.Bytes()); err != nil {
				return nil, err
			}
			return []any{true}, c.Emit("LicenseTransferred", []any{id, to})
		},
		"revokeLicense": func(c *base.Call, args []any) ([]any, error) {
			id, err := base.Arg[uint64](args, 0)
			if err != nil {
				return nil, err
			}
			if err := k.Revoke(c.Ctx, c.Sender(), id); err != nil {
				return nil, err
			}
			return []any{true}, c.Emit("LicenseRevoked", []any{id})
		},
	}
	queries := map[string]base.Method{
		"checkUse": func(c *base.Call, args []any) ([]any, error) {
			user, err := base.Arg[common.Address](args, 0)
			if err != nil {
				return nil, err
			}
			asset, _ := base.Arg[uint64](args, 1)
			purpose, _ := base.Arg[uint8](args, 2)
			r, err := k.CheckUse(c.Ctx, user.Bytes(), asset, types.Purpose(purpose))
			if err != nil {
				return nil, err
			}
			return []any{r.Allowed, r.Reason}, nil
		},
	}
	return base.New("sahara-licensing", "ILicensing", Address, bank, writes, queries)
}
