// Package types holds the licensing module's messages, state types, parameters and errors.
package types

import (
	"crypto/sha256"
	"fmt"
	"strings"

	"cosmossdk.io/errors"
	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	cdctypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
)

const (
	ModuleName = "licensing"
	StoreKey   = ModuleName
)

var (
	ErrInvalid      = errors.Register(ModuleName, 2, "invalid request")
	ErrNotFound     = errors.Register(ModuleName, 3, "not found")
	ErrUnauthorized = errors.Register(ModuleName, 4, "unauthorized")
	ErrNotAttached  = errors.Register(ModuleName, 5, "terms not attached to this asset")
	ErrCap          = errors.Register(ModuleName, 6, "above the caller's cap")
	ErrSupply       = errors.Register(ModuleName, 7, "supply cap reached")
	ErrNotAllowed   = errors.Register(ModuleName, 8, "not allowed by the license terms")
	ErrInactive     = errors.Register(ModuleName, 9, "license expired or revoked")
)

func DefaultParams() Params { return Params{MaxTermsPerAsset: 32} }

func (p Params) Validate() error {
	if p.MaxTermsPerAsset == 0 {
		return errors.Wrap(ErrInvalid, "params: max_terms_per_asset must be at least 1")
	}
	return nil
}

func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams(), NextTermsId: 1, NextLicenseId: 1}
}

func (g GenesisState) Validate() error {
	if err := g.Params.Validate(); err != nil {
		return err
	}
	for _, t := range g.Terms {
		if t.Id == 0 || t.Id >= g.NextTermsId {
			return errors.Wrapf(ErrInvalid, "genesis: terms id %d must be in [1, next_terms_id=%d)", t.Id, g.NextTermsId)
		}
		if _, err := t.Terms.Normalize(); err != nil {
			return errors.Wrapf(err, "genesis: terms %d", t.Id)
		}
	}
	for _, l := range g.Licenses {
		if l.Id == 0 || l.Id >= g.NextLicenseId {
			return errors.Wrapf(ErrInvalid, "genesis: license id %d must be in [1, next_license_id=%d)", l.Id, g.NextLicenseId)
		}
	}
	return nil
}

func normCoin(field string, c sdk.Coin) (sdk.Coin, error) {
	if c.Amount.IsNil() || c.Amount.IsZero() {
		return sdk.Coin{Denom: "", Amount: math.ZeroInt()}, nil
	}
	if c.Amount.IsNegative() {
		return c, errors.Wrapf(ErrInvalid, "%s amount %s is negative", field, c.Amount)
	}
	if err := sdk.ValidateDenom(c.Denom); err != nil {
		return c, errors.Wrapf(ErrInvalid, "%s denom %q: %v", field, c.Denom, err)
	}
	return c, nil
}

// Normalize validates terms and returns their canonical form (a zero fee has no denom), so that
// identical terms always hash the same.
func (t Terms) Normalize() (Terms, error) {
	var err error
	if t.MintFee, err = normCoin("mint_fee", t.MintFee); err != nil {
		return t, err
	}
	if t.PerCallPrice, err = normCoin("per_call_price", t.PerCallPrice); err != nil {
		return t, err
	}
	if t.DerivativeRevShareBps > 10_000 {
		return t, errors.Wrapf(ErrInvalid, "derivative_rev_share_bps %d is above 10000 (100%%)", t.DerivativeRevShareBps)
	}
	if !t.DerivativesAllowed && t.DerivativeRevShareBps != 0 {
		return t, errors.Wrap(ErrInvalid, "derivative_rev_share_bps is set but derivatives_allowed is false: allow derivatives or set the share to 0")
	}
	if t.DurationSeconds > 1<<40 {
		return t, errors.Wrapf(ErrInvalid, "duration_seconds %d is too large; use 0 for perpetual", t.DurationSeconds)
	}
	return t, nil
}

// Hash identifies terms for deduplication (of the canonical form).
func (t Terms) Hash() []byte {
	bz, err := t.Marshal()
	if err != nil {
		panic(err)
	}
	h := sha256.Sum256(bz)
	return h[:]
}

// ParsePurpose accepts "commercial", "derivative", "api-call" (any case) or the enum name.
func ParsePurpose(s string) (Purpose, error) {
	u := strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
	for _, name := range []string{"PURPOSE_" + u, u} {
		if v, ok := Purpose_value[name]; ok && v != 0 {
			return Purpose(v), nil
		}
	}
	return 0, fmt.Errorf("unknown purpose %q: use commercial, derivative, api-call or access", s)
}

func RegisterInterfaces(r cdctypes.InterfaceRegistry) {
	r.RegisterImplementations((*sdk.Msg)(nil), &MsgCreateTerms{}, &MsgAttachTerms{}, &MsgMintLicense{},
		&MsgTransferLicense{}, &MsgRevokeLicense{}, &MsgUpdateParams{})
	msgservice.RegisterMsgServiceDesc(r, &Msg_serviceDesc)
}

func RegisterLegacyAminoCodec(cdc *codec.LegacyAmino) {
	cdc.RegisterConcrete(&MsgCreateTerms{}, "sahara/licensing/MsgCreateTerms", nil)
	cdc.RegisterConcrete(&MsgAttachTerms{}, "sahara/licensing/MsgAttachTerms", nil)
	cdc.RegisterConcrete(&MsgMintLicense{}, "sahara/licensing/MsgMintLicense", nil)
	cdc.RegisterConcrete(&MsgTransferLicense{}, "sahara/licensing/MsgTransferLicense", nil)
	cdc.RegisterConcrete(&MsgRevokeLicense{}, "sahara/licensing/MsgRevokeLicense", nil)
	cdc.RegisterConcrete(&MsgUpdateParams{}, "sahara/licensing/MsgUpdateParams", nil)
}
