package app

import (
	"encoding/json"
	"fmt"
	"time"

	feemarkettypes "github.com/cosmos/evm/x/feemarket/types"
	evmtypes "github.com/cosmos/evm/x/vm/types"

	sdkmath "cosmossdk.io/math"

	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	govv1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
)

// GenesisAccount is an account funded at genesis.
type GenesisAccount struct {
	Address sdk.AccAddress
	Amount  sdkmath.Int // asah
}

// GenesisValidator is a validator bonded at genesis: its operator (which
// self-delegates Bond) and its consensus key.
type GenesisValidator struct {
	Moniker  string
	Operator sdk.AccAddress
	ConsKey  cryptotypes.PubKey
	Bond     sdkmath.Int
}

// GenesisConfig is what a new chain starts with.
type GenesisConfig struct {
	Accounts   []GenesisAccount
	Validators []GenesisValidator
	// GovVotingPeriod is short on dev chains so proposals can be tried out.
	GovVotingPeriod time.Duration
}

// DenomMetadata describes asah/SAH to the bank module; the EVM reads its
// decimals from here.
func DenomMetadata() banktypes.Metadata {
	return banktypes.Metadata{
		Description: "The native token of Sahara",
		DenomUnits: []*banktypes.DenomUnit{
			{Denom: Denom, Exponent: 0, Aliases: []string{"attosah"}},
			{Denom: DisplayDenom, Exponent: Decimals, Aliases: []string{"SAH"}},
		},
		Base: Denom, Display: DisplayDenom, Name: "Sahara", Symbol: "SAH",
	}
}

// DefaultGenesis is every module's default state with the native token set
// everywhere a denom appears.
func (app *App) DefaultGenesis() map[string]json.RawMessage {
	g := app.BasicModuleManager.DefaultGenesis(app.appCodec)
	cdc := app.appCodec

	var mint minttypes.GenesisState
	cdc.MustUnmarshalJSON(g[minttypes.ModuleName], &mint)
	mint.Params.MintDenom = Denom
	g[minttypes.ModuleName] = cdc.MustMarshalJSON(&mint)

	var staking stakingtypes.GenesisState
	cdc.MustUnmarshalJSON(g[stakingtypes.ModuleName], &staking)
	staking.Params.BondDenom = Denom
	g[stakingtypes.ModuleName] = cdc.MustMarshalJSON(&staking)

	var gov govv1.GenesisState
	cdc.MustUnmarshalJSON(g["gov"], &gov)
	gov.Params.MinDeposit = sdk.NewCoins(sdk.NewCoin(Denom, sdkmath.NewIntWithDecimal(100, Decimals)))
	gov.Params.ExpeditedMinDeposit = sdk.NewCoins(sdk.NewCoin(Denom, sdkmath.NewIntWithDecimal(500, Decimals)))
	g["gov"] = cdc.MustMarshalJSON(&gov)

	var bank banktypes.GenesisState
	cdc.MustUnmarshalJSON(g[banktypes.ModuleName], &bank)
	bank.DenomMetadata = []banktypes.Metadata{DenomMetadata()}
	g[banktypes.ModuleName] = cdc.MustMarshalJSON(&bank)

	// Gas is charged as used, as on Ethereum. cosmos/evm's default charges at least half of a
	// transaction's limit (min_gas_multiplier 0.5), against limits that reserved block space
	// when blocks were packed by limits; blocks here are bounded by the gas used (blockgas.go),
	// so a large limit holds no space, and the base fee follows the gas used too.
	var fm feemarkettypes.GenesisState
	cdc.MustUnmarshalJSON(g[feemarkettypes.ModuleName], &fm)
	fm.Params.MinGasMultiplier = sdkmath.LegacyZeroDec()
	g[feemarkettypes.ModuleName] = cdc.MustMarshalJSON(&fm)

	evm := evmtypes.DefaultGenesisState()
	evm.Params.EvmDenom = Denom
	evm.Params.ActiveStaticPrecompiles = ActiveStaticPrecompiles()
	evm.Preinstalls = evmtypes.DefaultPreinstalls
	g[evmtypes.ModuleName] = cdc.MustMarshalJSON(evm)
	return g
}

// BuildGenesis returns the app state of a new chain: the default state plus
// the funded accounts and the validators. Validators enter unbonded with
// their stake in the not-bonded pool; InitChain's validator-set update bonds
// them, which also runs the slashing and distribution hooks.
func (app *App) BuildGenesis(cfg GenesisConfig) (map[string]json.RawMessage, error) {
	if len(cfg.Validators) == 0 {
		return nil, fmt.Errorf("a chain needs at least one validator")
	}
	g := app.DefaultGenesis()
	cdc := app.appCodec

	var auth authtypes.GenesisState
	cdc.MustUnmarshalJSON(g[authtypes.ModuleName], &auth)
	var bank banktypes.GenesisState
	cdc.MustUnmarshalJSON(g[banktypes.ModuleName], &bank)
	var staking stakingtypes.GenesisState
	cdc.MustUnmarshalJSON(g[stakingtypes.ModuleName], &staking)

	seen := map[string]bool{}
	balances := map[string]sdkmath.Int{}
	var order []string
	addAccount := func(addr sdk.AccAddress, amt sdkmath.Int) error {
		s := addr.String()
		if !seen[s] {
			seen[s] = true
			order = append(order, s)
			acc, err := authtypes.PackAccounts(authtypes.GenesisAccounts{authtypes.NewBaseAccount(addr, nil, 0, 0)})
			if err != nil {
				return err
			}
			auth.Accounts = append(auth.Accounts, acc...)
			balances[s] = sdkmath.ZeroInt()
		}
		balances[s] = balances[s].Add(amt)
		return nil
	}
	for _, a := range cfg.Accounts {
		if a.Amount.IsNegative() {
			return nil, fmt.Errorf("account %s: negative balance", a.Address)
		}
		if err := addAccount(a.Address, a.Amount); err != nil {
			return nil, err
		}
	}
	bonded := sdkmath.ZeroInt()
	for _, v := range cfg.Validators {
		if !v.Bond.IsPositive() {
			return nil, fmt.Errorf("validator %s: bond must be positive", v.Moniker)
		}
		if err := addAccount(v.Operator, sdkmath.ZeroInt()); err != nil {
			return nil, err
		}
		val, err := stakingtypes.NewValidator(sdk.ValAddress(v.Operator).String(), v.ConsKey, stakingtypes.NewDescription(v.Moniker, "", "", "", ""))
		if err != nil {
			return nil, err
		}
		val.Tokens = v.Bond
		val.DelegatorShares = sdkmath.LegacyNewDecFromInt(v.Bond)
		val.Status = stakingtypes.Unbonded
		val.Commission = stakingtypes.NewCommission(sdkmath.LegacyNewDecWithPrec(5, 2), sdkmath.LegacyNewDecWithPrec(20, 2), sdkmath.LegacyNewDecWithPrec(1, 2))
		val.MinSelfDelegation = sdkmath.OneInt()
		staking.Validators = append(staking.Validators, val)
		staking.Delegations = append(staking.Delegations, stakingtypes.NewDelegation(v.Operator.String(), val.OperatorAddress, val.DelegatorShares))
		bonded = bonded.Add(v.Bond)
	}
	for _, s := range order {
		bank.Balances = append(bank.Balances, banktypes.Balance{Address: s, Coins: sdk.NewCoins(sdk.NewCoin(Denom, balances[s]))})
	}
	notBondedPool := authtypes.NewModuleAddress(stakingtypes.NotBondedPoolName)
	bank.Balances = append(bank.Balances, banktypes.Balance{Address: notBondedPool.String(), Coins: sdk.NewCoins(sdk.NewCoin(Denom, bonded))})
	supply := bonded
	for _, s := range order {
		supply = supply.Add(balances[s])
	}
	bank.Supply = sdk.NewCoins(sdk.NewCoin(Denom, supply))
	bank.Balances = banktypes.SanitizeGenesisBalances(bank.Balances)

	g[authtypes.ModuleName] = cdc.MustMarshalJSON(&auth)
	g[banktypes.ModuleName] = cdc.MustMarshalJSON(&bank)
	g[stakingtypes.ModuleName] = cdc.MustMarshalJSON(&staking)

	if cfg.GovVotingPeriod > 0 {
		var gov govv1.GenesisState
		cdc.MustUnmarshalJSON(g["gov"], &gov)
		gov.Params.VotingPeriod = &cfg.GovVotingPeriod
		exp := cfg.GovVotingPeriod / 2
		gov.Params.ExpeditedVotingPeriod = &exp
		g["gov"] = cdc.MustMarshalJSON(&gov)
	}
	if err := app.BasicModuleManager.ValidateGenesis(cdc, app.txConfig, g); err != nil {
		return nil, fmt.Errorf("genesis does not validate: %w", err)
	}
	return g, nil
}
