// Package base is the machinery shared by Sahara's protocol precompiles: ABI dispatch, read-only
// enforcement, native execution through cosmos/evm's RunNativeAction (cached context, snapshot
// and revert, gas accounting, balance sync with the EVM state), and EVM logs for events.
package base

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	ethtypes "github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"

	cmn "github.com/cosmos/evm/precompiles/common"

	"cosmossdk.io/math"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"sahara/contracts"
)

// Call is what one method sees: the native context, the EVM (for logs) and the direct caller.
type Call struct {
	Ctx    sdk.Context
	EVM    *vm.EVM
	Caller common.Address
	p      *Precompile
}

// Sender is the caller as a Cosmos address (the same 20 bytes).
func (c *Call) Sender() sdk.AccAddress { return sdk.AccAddress(c.Caller.Bytes()) }

// Method handles one ABI method: decoded arguments in, output values out.
type Method func(c *Call, args []any) ([]any, error)

// Precompile is one protocol precompile.
type Precompile struct {
	cmn.Precompile
	ABI     abi.ABI
	name    string
	writes  map[string]Method
	queries map[string]Method
}

// New builds a precompile from the compiled interface in contracts/build (by contract name).
func New(name, iface string, addr common.Address, bank cmn.BankKeeper, writes, queries map[string]Method) *Precompile {
	art, err := contracts.Load(iface)
	if err != nil {
		panic(err)
	}
	for n := range writes {
		if _, ok := art.ABI.Methods[n]; !ok {
			panic(fmt.Sprintf("%s: %s is not in the %s ABI", name, n, iface))
		}
	}
	for n := range queries {
		if _, ok := art.ABI.Methods[n]; !ok {
			panic(fmt.Sprintf("%s: %s is not in the %s ABI", name, n, iface))
		}
	}
	return &Precompile{
		Precompile: cmn.Precompile{
			KvGasConfig:           storetypes.KVGasConfig(),
			TransientKVGasConfig:  storetypes.TransientGasConfig(),
			ContractAddress:       addr,
			BalanceHandlerFactory: cmn.NewBalanceHandlerFactory(bank),
		},
		ABI: art.ABI, name: name, writes: writes, queries: queries,
	}
}

func (p *Precompile) Name() string { return p.name }

func (p *Precompile) isTx(m *abi.Method) bool { _, ok := p.writes[m.Name]; return ok }

// RequiredGas is the flat base per call; the native work is charged on top as it happens.
func (p *Precompile) RequiredGas(input []byte) uint64 {
	if len(input) < 4 {
		return 0
	}
	m, err := p.MethodById(input[:4])
	if err != nil {
		return 0
	}
	return p.Precompile.RequiredGas(input, p.isTx(m))
}

func (p *Precompile) MethodById(id []byte) (*abi.Method, error) { return p.ABI.MethodById(id) }

// Run dispatches a call. Writes in a read-only (static) call are refused by SetupABI; any error
// reverts with its message and rolls back the native state changes of this call.
func (p *Precompile) Run(evm *vm.EVM, contract *vm.Contract, readonly bool) ([]byte, error) {
	return p.RunNativeAction(evm, contract, func(ctx sdk.Context) (out []byte, err error) {
		method, args, err := cmn.SetupABI(p.ABI, contract, readonly, p.isTx)
		if err != nil {
			return nil, err
		}
		fn := p.writes[method.Name]
		if fn == nil {
			fn = p.queries[method.Name]
		}
		if fn == nil {
			return nil, fmt.Errorf("%s: method %s is not implemented", p.name, method.Name)
		}
		vals, err := fn(&Call{Ctx: ctx, EVM: evm, Caller: contract.Caller(), p: p}, args)
		if err != nil {
			return nil, err
		}
		return method.Outputs.Pack(vals...)
	})
}

// Emit adds an EVM log of an event of this precompile's ABI: indexed values become topics (in
// order), the rest is ABI-encoded data.
func (c *Call) Emit(name string, indexed []any, data ...any) error {
	ev, ok := c.p.ABI.Events[name]
	if !ok {
		return fmt.Errorf("%s: no event %s", c.p.name, name)
	}
	topics := []common.Hash{ev.ID}
	for _, v := range indexed {
		t, err := cmn.MakeTopic(v)
		if err != nil {
			return err
		}
		topics = append(topics, t)
	}
	bz, err := ev.Inputs.NonIndexed().Pack(data...)
	if err != nil {
		return err
	}
	c.EVM.StateDB.AddLog(&ethtypes.Log{Address: c.p.Address(), Topics: topics, Data: bz, BlockNumber: uint64(c.Ctx.BlockHeight())})
	return nil
}

// Arg reads argument i as T with a clear error on a type mismatch (ABI decoding already checked
// the shape; this guards the Go side).
func Arg[T any](args []any, i int) (T, error) {
	var zero T
	if i >= len(args) {
		return zero, fmt.Errorf("missing argument %d", i)
	}
	v, ok := args[i].(T)
	if !ok {
		return zero, fmt.Errorf("argument %d: got %T, want %T", i, args[i], zero)
	}
	return v, nil
}

// Int converts an ABI uint256 to a non-negative SDK integer.
func Int(b *big.Int) (math.Int, error) {
	if b == nil || b.Sign() < 0 {
		return math.Int{}, fmt.Errorf("amount must be a non-negative integer")
	}
	if b.BitLen() > 255 {
		return math.Int{}, fmt.Errorf("amount %s is too large", b)
	}
	return math.NewIntFromBigInt(b), nil
}

// Convert copies ABI-decoded argument i (a tuple or tuple array) into out, a pointer to a Go
// struct or slice of structs with the ABI's field names capitalised.
func Convert(args []any, i int, out any) (err error) {
	if i >= len(args) {
		return fmt.Errorf("missing argument %d", i)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("argument %d: %v", i, r)
		}
	}()
	abi.ConvertType(args[i], out)
	return nil
}
