// Package datatask is the x/datatask precompile (contracts/src/IDataTask.sol).
package datatask

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"

	cmn "github.com/cosmos/evm/precompiles/common"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"sahara/chain/precompiles/base"
	"sahara/chain/x/datatask/keeper"
	"sahara/chain/x/datatask/types"
)

// Address is the datatask precompile's fixed address (contracts/addresses.json).
var Address = common.HexToAddress("0x0000000000000000000000000000000000000903")

// coins pairs denoms[i] with amounts[i], naming the argument in errors.
func coins(field string, denoms []string, amounts []*big.Int) (sdk.Coins, error) {
	if len(denoms) != len(amounts) {
		return nil, types.ErrInvalid.Wrapf("%s: %d denoms but %d amounts", field, len(denoms), len(amounts))
	}
	out := sdk.NewCoins()
	for i, d := range denoms {
		if err := sdk.ValidateDenom(d); err != nil {
			return nil, types.ErrInvalid.Wrapf("%s: denom %q: %v", field, d, err)
		}
		a, err := base.Int(amounts[i])
		if err != nil {
			return nil, types.ErrInvalid.Wrapf("%s[%d]: %v", field, i, err)
		}
		if out.AmountOf(d).IsPositive() {
			return nil, types.ErrInvalid.Wrapf("%s: denom %s is listed twice", field, d)
		}
		out = out.Add(sdk.NewCoin(d, a))
	}
	return out, nil
}

// New returns the precompile over the datatask keeper.
func New(k *keeper.Keeper, bank cmn.BankKeeper) *base.Precompile {
	writes := map[string]base.Method{
		"createPool": func(c *base.Call, args []any) ([]any, error) {
			name, err := base.Arg[string](args, 0)
			if err != nil {
				return nil, err
			}
			auths, _ := base.Arg[[]common.Address](args, 1)
			denoms, _ := base.Arg[[]string](args, 2)
			deposits, _ := base.Arg[[]*big.Int](args, 3)
			rates, _ := base.Arg[[]*big.Int](args, 4)
			bonus, _ := base.Arg[uint32](args, 5)
			deadline, _ := base.Arg[int64](args, 6)
			share, _ := base.Arg[uint64](args, 7)
			dep, err := coins("deposits", denoms, deposits)
			if err != nil {
				return nil, err
			}
			rate, err := coins("rates", denoms, rates)
			if err != nil {
				return nil, err
			}
			in := keeper.CreatePoolInput{Requester: c.Sender(), Name: name, Deposit: dep, Rate: rate,
				MaxBonusBps: bonus, Deadline: deadline, RequesterShare: share}
			for _, a := range auths {
				in.Authorities = append(in.Authorities, sdk.AccAddress(a.Bytes()))
			}
			id, err := k.CreatePool(c.Ctx, in)
			if err != nil {
				return nil, err
			}
			return []any{id}, c.Emit("PoolCreated", []any{id, c.Caller}, name)
		},
		"fundPool": func(c *base.Call, args []any) ([]any, error) {
			id, err := base.Arg[uint64](args, 0)
			if err != nil {
				return nil, err
			}
			denom, _ := base.Arg[string](args, 1)
			amt, _ := base.Arg[*big.Int](args, 2)
			cs, err := coins("amount", []string{denom}, []*big.Int{amt})
			if err != nil {
				return nil, err
			}
			return []any{true}, k.FundPool(c.Ctx, c.Sender(), id, cs)
		},
		"postPayouts": func(c *base.Call, args []any) ([]any, error) {
			id, err := base.Arg[uint64](args, 0)
			if err != nil {
				return nil, err
			}
			batch, _ := base.Arg[uint64](args, 1)
			denoms, _ := base.Arg[[]string](args, 2)
			to, _ := base.Arg[[]common.Address](args, 3)
			amounts, _ := base.Arg[[][]*big.Int](args, 4)
			units, _ := base.Arg[[]uint64](args, 5)
			weights, _ := base.Arg[[]uint64](args, 6)
			if len(amounts) != len(to) || len(units) != len(to) || len(weights) != len(to) {
				return nil, types.ErrInvalid.Wrapf("to, amounts, units and weights must have the same length (got %d, %d, %d, %d)",
					len(to), len(amounts), len(units), len(weights))
			}
			entries := make([]keeper.Entry, len(to))
			for i, a := range to {
				cs, err := coins(fmt.Sprintf("amounts[%d]", i), denoms, amounts[i])
				if err != nil {
					return nil, err
				}
				entries[i] = keeper.Entry{Addr: a.Bytes(), Amount: cs, Units: units[i], Weight: weights[i]}
			}
			if _, err := k.PostPayouts(c.Ctx, c.Sender(), id, batch, entries); err != nil {
				return nil, err
			}
			return []any{true}, c.Emit("PayoutsPosted", []any{id, batch}, big.NewInt(int64(len(entries))))
		},
		"closePool": func(c *base.Call, args []any) ([]any, error) {
			id, err := base.Arg[uint64](args, 0)
			if err != nil {
				return nil, err
			}
			if _, err := k.ClosePool(c.Ctx, c.Sender(), id); err != nil {
				return nil, err
			}
			return []any{true}, c.Emit("PoolClosed", []any{id})
		},
		"mintDataset": func(c *base.Call, args []any) ([]any, error) {
			id, err := base.Arg[uint64](args, 0)
			if err != nil {
				return nil, err
			}
			name, _ := base.Arg[string](args, 1)
			uri, _ := base.Arg[string](args, 2)
			root, _ := base.Arg[[32]byte](args, 3)
			size, _ := base.Arg[uint64](args, 4)
			asset, err := k.MintDataset(c.Ctx, c.Sender(), id, keeper.MintInput{Name: name, URI: uri, ContentRoot: root[:], Size: size})
			if err != nil {
				return nil, err
			}
			return []any{asset}, c.Emit("DatasetMinted", []any{id, asset})
		},
	}
	queries := map[string]base.Method{
		"pool": func(c *base.Call, args []any) ([]any, error) {
			id, err := base.Arg[uint64](args, 0)
			if err != nil {
				return nil, err
			}
			p, err := k.GetPool(c.Ctx, id)
			if err != nil {
				return nil, err
			}
			req, err := k.AddressCodec().StringToBytes(p.Requester)
			if err != nil {
				return nil, err
			}
			return []any{common.BytesToAddress(req), p.Status == types.POOL_STATUS_OPEN, p.LastBatch, p.DatasetId, p.Deadline}, nil
		},
		"held": func(c *base.Call, args []any) ([]any, error) {
			id, err := base.Arg[uint64](args, 0)
			if err != nil {
				return nil, err
			}
			denom, _ := base.Arg[string](args, 1)
			p, err := k.GetPool(c.Ctx, id)
			if err != nil {
				return nil, err
			}
			h, err := p.Held()
			if err != nil {
				return nil, err
			}
			return []any{h.AmountOf(denom).BigInt()}, nil
		},
	}
	return base.New("sahara-datatask", "IDataTask", Address, bank, writes, queries)
}
