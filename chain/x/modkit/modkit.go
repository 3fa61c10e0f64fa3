// Package modkit is the app-module boilerplate shared by Sahara's own Cosmos modules: each module
// describes itself with a Spec (name, codecs, services, genesis, autocli) and gets an AppModule.
package modkit

import (
	"context"
	"encoding/json"
	"fmt"

	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/appmodule"
	errorsmod "cosmossdk.io/errors"
	gogoproto "github.com/cosmos/gogoproto/proto"
	gwruntime "github.com/grpc-ecosystem/grpc-gateway/runtime"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/codec"
	cdctypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
)

// Genesis is a module's genesis message.
type Genesis interface {
	gogoproto.Message
	Validate() error
}

// Spec describes one module.
type Spec[G Genesis] struct {
	Name               string
	RegisterInterfaces func(cdctypes.InterfaceRegistry)
	RegisterAmino      func(*codec.LegacyAmino)
	RegisterServices   func(module.Configurator)
	NewGenesis         func() G // empty, to unmarshal into
	DefaultGenesis     func() G
	InitGenesis        func(context.Context, G) error
	ExportGenesis      func(context.Context) (G, error)
	AutoCLI            *autocliv1.ModuleOptions
	EndBlock           func(context.Context) error // optional
}

// AppModule implements the SDK module interfaces from a Spec.
type AppModule[G Genesis] struct{ s Spec[G] }

var (
	_ module.AppModuleBasic   = AppModule[Genesis]{}
	_ module.HasGenesis       = AppModule[Genesis]{}
	_ module.HasServices      = AppModule[Genesis]{}
	_ appmodule.AppModule     = AppModule[Genesis]{}
	_ appmodule.HasEndBlocker = AppModule[Genesis]{}
)

func New[G Genesis](s Spec[G]) AppModule[G] { return AppModule[G]{s} }

func (m AppModule[G]) Name() string                                                { return m.s.Name }
func (AppModule[G]) IsOnePerModuleType()                                           {}
func (AppModule[G]) IsAppModule()                                                  {}
func (AppModule[G]) ConsensusVersion() uint64                                      { return 1 }
func (m AppModule[G]) RegisterLegacyAminoCodec(c *codec.LegacyAmino)               { m.s.RegisterAmino(c) }
func (m AppModule[G]) RegisterInterfaces(r cdctypes.InterfaceRegistry)             { m.s.RegisterInterfaces(r) }
func (AppModule[G]) RegisterGRPCGatewayRoutes(client.Context, *gwruntime.ServeMux) {}
func (m AppModule[G]) RegisterServices(cfg module.Configurator)                    { m.s.RegisterServices(cfg) }
func (m AppModule[G]) AutoCLIOptions() *autocliv1.ModuleOptions                    { return m.s.AutoCLI }

func (m AppModule[G]) DefaultGenesis(cdc codec.JSONCodec) json.RawMessage {
	return cdc.MustMarshalJSON(m.s.DefaultGenesis())
}

func (m AppModule[G]) ValidateGenesis(cdc codec.JSONCodec, _ client.TxEncodingConfig, bz json.RawMessage) error {
	g := m.s.NewGenesis()
	if err := cdc.UnmarshalJSON(bz, g); err != nil {
		return fmt.Errorf("%s genesis: %w", m.s.Name, err)
	}
	return g.Validate()
}

func (m AppModule[G]) InitGenesis(ctx sdk.Context, cdc codec.JSONCodec, bz json.RawMessage) {
	g := m.s.NewGenesis()
	cdc.MustUnmarshalJSON(bz, g)
	if err := m.s.InitGenesis(ctx, g); err != nil {
		panic(fmt.Errorf("%s genesis: %w", m.s.Name, err))
	}
}

func (m AppModule[G]) ExportGenesis(ctx sdk.Context, cdc codec.JSONCodec) json.RawMessage {
	g, err := m.s.ExportGenesis(ctx)
	if err != nil {
		panic(fmt.Errorf("%s export: %w", m.s.Name, err))
	}
	return cdc.MustMarshalJSON(g)
}

// Positional is a one-argument autocli command.
func Positional(method, use, short string, fields ...string) *autocliv1.RpcCommandOptions {
	o := &autocliv1.RpcCommandOptions{RpcMethod: method, Use: use, Short: short}
	for _, f := range fields {
		o.PositionalArgs = append(o.PositionalArgs, &autocliv1.PositionalArgDescriptor{ProtoField: f})
	}
	return o
}

// EndBlock runs the module's end-of-block work, if it has any.
func (m AppModule[G]) EndBlock(ctx context.Context) error {
	if m.s.EndBlock == nil {
		return nil
	}
	return m.s.EndBlock(ctx)
}

// DecodeAddress reads a bech32 field of a message, naming the field in the error (wrapped in the
// module's invalid-request error).
func DecodeAddress(ac address.Codec, invalid *errorsmod.Error, field, s string) (sdk.AccAddress, error) {
	if s == "" {
		return nil, invalid.Wrapf("%s is empty: give a bech32 (sahara1…) address", field)
	}
	b, err := ac.StringToBytes(s)
	if err != nil {
		return nil, invalid.Wrapf("%s %q is not a valid address: %v", field, s, err)
	}
	return b, nil
}

// NextID returns the next id of a sequence, starting at 1 so that 0 can mean "none" in messages.
func NextID(ctx context.Context, seq collections.Sequence) (uint64, error) {
	id, err := seq.Next(ctx)
	if err == nil && id == 0 {
		id, err = seq.Next(ctx)
	}
	return id, err
}

// UpdateParams is every module's MsgUpdateParams: governance only, validated, then stored.
func UpdateParams[P interface{ Validate() error }](ctx context.Context, authority, sender string, unauthorized *errorsmod.Error, p P, item collections.Item[P]) error {
	if sender != authority {
		return unauthorized.Wrapf("params are changed by governance (%s), not %s", authority, sender)
	}
	if err := p.Validate(); err != nil {
		return err
	}
	return item.Set(ctx, p)
}
