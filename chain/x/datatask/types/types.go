// Package types holds the datatask module's messages, state types, parameters and errors.
package types

import (
	"cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/codec"
	cdctypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
)

const (
	ModuleName = "datatask"
	StoreKey   = ModuleName

	// MaxNameLen bounds a pool's name.
	MaxNameLen = 200
	// MaxBonusBps bounds a pool's quality bonus (10x the rate).
	MaxBonusBps = 100_000
)

var (
	ErrInvalid      = errors.Register(ModuleName, 2, "invalid request")
	ErrUnauthorized = errors.Register(ModuleName, 3, "unauthorized")
	ErrNotFound     = errors.Register(ModuleName, 4, "not found")
	ErrBatchApplied = errors.Register(ModuleName, 5, "payout batch already applied")
	ErrEscrow       = errors.Register(ModuleName, 6, "escrow too small")
	ErrClosed       = errors.Register(ModuleName, 7, "pool closed")
	ErrDeadline     = errors.Register(ModuleName, 8, "deadline not reached")
)

func DefaultParams() Params {
	return Params{MaxBatchEntries: 2000, MaxAuthorities: 8, MaxDenoms: 4, GasPerEntry: 1000}
}

func (p Params) Validate() error {
	switch {
	case p.MaxBatchEntries == 0:
		return errors.Wrap(ErrInvalid, "params: max_batch_entries must be at least 1")
	case p.MaxAuthorities == 0:
		return errors.Wrap(ErrInvalid, "params: max_authorities must be at least 1")
	case p.MaxDenoms == 0:
		return errors.Wrap(ErrInvalid, "params: max_denoms must be at least 1")
	}
	return nil
}

func DefaultGenesis() *GenesisState { return &GenesisState{Params: DefaultParams()} }

func (g GenesisState) Validate() error {
	if err := g.Params.Validate(); err != nil {
		return err
	}
	for _, p := range g.Pools {
		if p.Id == 0 || p.Id >= g.NextPoolId {
			return errors.Wrapf(ErrInvalid, "genesis: pool id %d must be in 1..next_pool_id-1 (%d)", p.Id, g.NextPoolId)
		}
		if _, err := p.Held(); err != nil {
			return errors.Wrapf(ErrInvalid, "genesis: pool %d: %v", p.Id, err)
		}
	}
	return nil
}

// Held is what the escrow still holds: deposited - paid - refunded (an error if negative).
func (p Pool) Held() (sdk.Coins, error) {
	out := sdk.Coins(p.Paid).Add(p.Refunded...)
	held, neg := sdk.Coins(p.Deposited).SafeSub(out...)
	if neg {
		return nil, errors.Wrapf(ErrEscrow, "pool %d paid and refunded %s but holds only %s", p.Id, out, p.Deposited)
	}
	return held, nil
}

// IsAuthority reports whether addr (bech32) is one of the pool's QA authorities.
func (p Pool) IsAuthority(addr string) bool {
	for _, a := range p.Authorities {
		if a == addr {
			return true
		}
	}
	return false
}

func RegisterInterfaces(r cdctypes.InterfaceRegistry) {
	r.RegisterImplementations((*sdk.Msg)(nil), &MsgCreatePool{}, &MsgFundPool{}, &MsgPostPayouts{},
		&MsgClosePool{}, &MsgMintDataset{}, &MsgUpdateParams{})
	msgservice.RegisterMsgServiceDesc(r, &Msg_serviceDesc)
}

func RegisterLegacyAminoCodec(cdc *codec.LegacyAmino) {
	cdc.RegisterConcrete(&MsgCreatePool{}, "sahara/datatask/MsgCreatePool", nil)
	cdc.RegisterConcrete(&MsgFundPool{}, "sahara/datatask/MsgFundPool", nil)
	cdc.RegisterConcrete(&MsgPostPayouts{}, "sahara/datatask/MsgPostPayouts", nil)
	cdc.RegisterConcrete(&MsgClosePool{}, "sahara/datatask/MsgClosePool", nil)
	cdc.RegisterConcrete(&MsgMintDataset{}, "sahara/datatask/MsgMintDataset", nil)
	cdc.RegisterConcrete(&MsgUpdateParams{}, "sahara/datatask/MsgUpdateParams", nil)
}
