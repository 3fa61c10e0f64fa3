// Package royalty is the x/royalty precompile (contracts/src/IRoyalty.sol).
package royalty

import (
	"math/big"

	"github.com/ethereum/go-ethereum/common"

	cmn "github.com/cosmos/evm/precompiles/common"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"sahara/chain/precompiles/base"
	"sahara/chain/x/royalty/keeper"
	"sahara/chain/x/royalty/types"
)

// Address is the royalty precompile's fixed address (contracts/addresses.json).
var Address = common.HexToAddress("0x0000000000000000000000000000000000000902")

// New returns the precompile over the royalty keeper.
func New(k *keeper.Keeper, bank cmn.BankKeeper) *base.Precompile {
	writes := map[string]base.Method{
		"pay": func(c *base.Call, args []any) ([]any, error) {
			asset, err := base.Arg[uint64](args, 0)
			if err != nil {
				return nil, err
			}
			denom, _ := base.Arg[string](args, 1)
			amt, _ := base.Arg[*big.Int](args, 2)
			i, err := base.Int(amt)
			if err != nil {
				return nil, err
			}
			if err := sdk.ValidateDenom(denom); err != nil {
				return nil, types.ErrInvalid.Wrapf("denom %q: %v", denom, err)
			}
			if !i.IsPositive() {
				return nil, types.ErrInvalid.Wrap("amount must be positive")
			}
			forwarded, err := k.Pay(c.Ctx, c.Sender(), asset, sdk.NewCoins(sdk.NewCoin(denom, i)))
			if err != nil {
				return nil, err
			}
			up := forwarded.AmountOf(denom).BigInt()
			return []any{up}, c.Emit("Paid", []any{asset, c.Caller}, denom, amt, up)
		},
		"claim": func(c *base.Call, args []any) ([]any, error) {
			after, err := base.Arg[uint64](args, 0)
			if err != nil {
				return nil, err
			}
			got, next, err := k.Claim(c.Ctx, c.Sender(), after)
			if err != nil {
				return nil, err
			}
			for _, coin := range got {
				if err := c.Emit("Claimed", []any{c.Caller}, coin.Denom, coin.Amount.BigInt()); err != nil {
					return nil, err
				}
			}
			return []any{next}, nil
		},
	}
	queries := map[string]base.Method{
		"claimable": func(c *base.Call, args []any) ([]any, error) {
			holder, err := base.Arg[common.Address](args, 0)
			if err != nil {
				return nil, err
			}
			denom, _ := base.Arg[string](args, 1)
			r, err := k.Claimable(c.Ctx, holder.Bytes(), 0, denom)
			if err != nil {
				return nil, err
			}
			return []any{r.Total.AmountOf(denom).BigInt()}, nil
		},
	}
	return base.New("sahara-royalty", "IRoyalty", Address, bank, writes, queries)
}
