package app

import (
	datatasktypes "sahara/chain/x/datatask/types"
	royaltytypes "sahara/chain/x/royalty/types"

	"maps"
	"sort"

	corevm "github.com/ethereum/go-ethereum/core/vm"

	evmhd "github.com/cosmos/evm/crypto/hd"
	evmutils "github.com/cosmos/evm/utils"
	erc20types "github.com/cosmos/evm/x/erc20/types"
	feemarkettypes "github.com/cosmos/evm/x/feemarket/types"
	vmtypes "github.com/cosmos/evm/x/vm/types"
	transfertypes "github.com/cosmos/ibc-go/v11/modules/apps/transfer/types"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
)

const (
	// AppName is the name of the chain application.
	AppName = "sahara"

	// Denom is the native token in its smallest unit: 1 SAH = 10^18 asah.
	Denom = "asah"
	// DisplayDenom is the human unit of the native token.
	DisplayDenom = "sah"
	// Decimals of the display denom.
	Decimals = 18

	// DefaultChainID is the Cosmos chain id of the local dev chain.
	DefaultChainID = "sahara-local-1"
	// EVMChainID is the EIP-155 chain id. 4817293 (0x49818d) is not in the
	// public chain registries we know of; check chainlist before any
	// public network uses it.
	EVMChainID uint64 = 4817293

	// Bech32Prefix is used for the Cosmos-side (bech32) form of addresses;
	// users see 0x addresses everywhere.
	Bech32Prefix = "sahara"
)

// SetSDKConfig sets the bech32 prefixes and the Ethereum HD path (coin type
// 60) once per process, before any address is encoded.
func SetSDKConfig() {
	cfg := sdk.GetConfig()
	if cfg.GetBech32AccountAddrPrefix() == Bech32Prefix {
		return
	}
	cfg.SetBech32PrefixForAccount(Bech32Prefix, Bech32Prefix+sdk.PrefixPublic)
	cfg.SetBech32PrefixForValidator(Bech32Prefix+sdk.PrefixValidator+sdk.PrefixOperator, Bech32Prefix+sdk.PrefixValidator+sdk.PrefixOperator+sdk.PrefixPublic)
	cfg.SetBech32PrefixForConsensusNode(Bech32Prefix+sdk.PrefixValidator+sdk.PrefixConsensus, Bech32Prefix+sdk.PrefixValidator+sdk.PrefixConsensus+sdk.PrefixPublic)
	cfg.SetCoinType(evmhd.Bip44CoinType)
	cfg.SetPurpose(sdk.Purpose)
	cfg.Seal()
}

// moduleAccountPermissions are the module accounts and what they may do.
var moduleAccountPermissions = map[string][]string{
	authtypes.FeeCollectorName:     nil,
	distrtypes.ModuleName:          nil,
	transfertypes.ModuleName:       {authtypes.Minter, authtypes.Burner},
	minttypes.ModuleName:           {authtypes.Minter},
	stakingtypes.BondedPoolName:    {authtypes.Burner, authtypes.Staking},
	stakingtypes.NotBondedPoolName: {authtypes.Burner, authtypes.Staking},
	govtypes.ModuleName:            {authtypes.Burner},
	vmtypes.ModuleName:             {authtypes.Minter, authtypes.Burner},
	feemarkettypes.ModuleName:      nil,
	erc20types.ModuleName:          {authtypes.Minter, authtypes.Burner},
	royaltytypes.ModuleName:        nil, // holds unclaimed royalties
	datatasktypes.ModuleName:       nil, // holds data-task escrows
}

// ModuleAccountPermissions returns a copy of the module account permissions.
func ModuleAccountPermissions() map[string][]string { return maps.Clone(moduleAccountPermissions) }

// BlockedAddresses are the addresses that may not receive funds by a plain
// send: module accounts and precompiles.
func BlockedAddresses() map[string]bool {
	blocked := map[string]bool{}
	names := make([]string, 0, len(moduleAccountPermissions))
	for n := range moduleAccountPermissions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		blocked[authtypes.NewModuleAddress(n).String()] = true
	}
	precompiles := ActiveStaticPrecompiles()
	for _, a := range corevm.PrecompiledAddressesPrague {
		precompiles = append(precompiles, a.Hex())
	}
	for _, p := range precompiles {
		blocked[evmutils.Bech32StringFromHexAddress(p)] = true
	}
	return blocked
}
