// Package app wires the Sahara chain: the Cosmos SDK modules, cosmos/evm
// (EVM, fee market, ERC-20) and IBC transfer, on CometBFT.
package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/ethereum/go-ethereum/common"
	corevm "github.com/ethereum/go-ethereum/core/vm"
	"github.com/spf13/cast"

	// The tracer engines register themselves on import (debug_traceTransaction).
	_ "github.com/ethereum/go-ethereum/eth/tracers/js"
	_ "github.com/ethereum/go-ethereum/eth/tracers/native"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	dbm "github.com/cosmos/cosmos-db"
	evmante "github.com/cosmos/evm/ante"
	antetypes "github.com/cosmos/evm/ante/types"
	evmencoding "github.com/cosmos/evm/encoding"
	evmaddress "github.com/cosmos/evm/encoding/address"
	evmmempool "github.com/cosmos/evm/mempool"
	precompiletypes "github.com/cosmos/evm/precompiles/types"
	evmserver "github.com/cosmos/evm/server"
	srvflags "github.com/cosmos/evm/server/flags"
	"github.com/cosmos/evm/utils"
	"github.com/cosmos/evm/x/erc20"
	erc20keeper "github.com/cosmos/evm/x/erc20/keeper"
	erc20types "github.com/cosmos/evm/x/erc20/types"
	erc20v2 "github.com/cosmos/evm/x/erc20/v2"
	"github.com/cosmos/evm/x/feemarket"
	feemarketkeeper "github.com/cosmos/evm/x/feemarket/keeper"
	feemarkettypes "github.com/cosmos/evm/x/feemarket/types"
	"github.com/cosmos/evm/x/vm"
	evmkeeper "github.com/cosmos/evm/x/vm/keeper"
	vmrunner "github.com/cosmos/evm/x/vm/runner"
	evmtypes "github.com/cosmos/evm/x/vm/types"
	"github.com/cosmos/gogoproto/proto"
	transfer "github.com/cosmos/ibc-go/v11/modules/apps/transfer"
	transferkeeper "github.com/cosmos/ibc-go/v11/modules/apps/transfer/keeper"
	ibctransfertypes "github.com/cosmos/ibc-go/v11/modules/apps/transfer/types"
	transferv2 "github.com/cosmos/ibc-go/v11/modules/apps/transfer/v2"
	ibc "github.com/cosmos/ibc-go/v11/modules/core"
	porttypes "github.com/cosmos/ibc-go/v11/modules/core/05-port/types"
	ibcapi "github.com/cosmos/ibc-go/v11/modules/core/api"
	ibcexported "github.com/cosmos/ibc-go/v11/modules/core/exported"
	ibckeeper "github.com/cosmos/ibc-go/v11/modules/core/keeper"
	ibctm "github.com/cosmos/ibc-go/v11/modules/light-clients/07-tendermint"

	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
	reflectionv1 "cosmossdk.io/api/cosmos/reflection/v1"
	"cosmossdk.io/client/v2/autocli"
	"cosmossdk.io/core/appmodule"
	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/baseapp/txnrunner"
	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/grpc/cmtservice"
	"github.com/cosmos/cosmos-sdk/client/grpc/node"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/runtime"
	runtimeservices "github.com/cosmos/cosmos-sdk/runtime/services"
	sdkserver "github.com/cosmos/cosmos-sdk/server"
	"github.com/cosmos/cosmos-sdk/server/api"
	"github.com/cosmos/cosmos-sdk/server/config"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkmempool "github.com/cosmos/cosmos-sdk/types/mempool"
	"github.com/cosmos/cosmos-sdk/types/module"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
	"github.com/cosmos/cosmos-sdk/version"
	"github.com/cosmos/cosmos-sdk/x/auth"
	authkeeper "github.com/cosmos/cosmos-sdk/x/auth/keeper"
	"github.com/cosmos/cosmos-sdk/x/auth/posthandler"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
	txmodule "github.com/cosmos/cosmos-sdk/x/auth/tx/config"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	"github.com/cosmos/cosmos-sdk/x/authz"
	authzkeeper "github.com/cosmos/cosmos-sdk/x/authz/keeper"
	authzmodule "github.com/cosmos/cosmos-sdk/x/authz/module"
	"github.com/cosmos/cosmos-sdk/x/bank"
	bankkeeper "github.com/cosmos/cosmos-sdk/x/bank/keeper"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/cosmos-sdk/x/consensus"
	consensusparamkeeper "github.com/cosmos/cosmos-sdk/x/consensus/keeper"
	consensusparamtypes "github.com/cosmos/cosmos-sdk/x/consensus/types"
	distr "github.com/cosmos/cosmos-sdk/x/distribution"
	distrkeeper "github.com/cosmos/cosmos-sdk/x/distribution/keeper"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"
	"github.com/cosmos/cosmos-sdk/x/evidence"
	evidencekeeper "github.com/cosmos/cosmos-sdk/x/evidence/keeper"
	evidencetypes "github.com/cosmos/cosmos-sdk/x/evidence/types"
	"github.com/cosmos/cosmos-sdk/x/feegrant"
	feegrantkeeper "github.com/cosmos/cosmos-sdk/x/feegrant/keeper"
	feegrantmodule "github.com/cosmos/cosmos-sdk/x/feegrant/module"
	"github.com/cosmos/cosmos-sdk/x/genutil"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"
	"github.com/cosmos/cosmos-sdk/x/gov"
	govkeeper "github.com/cosmos/cosmos-sdk/x/gov/keeper"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	"github.com/cosmos/cosmos-sdk/x/mint"
	mintkeeper "github.com/cosmos/cosmos-sdk/x/mint/keeper"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"
	"github.com/cosmos/cosmos-sdk/x/slashing"
	slashingkeeper "github.com/cosmos/cosmos-sdk/x/slashing/keeper"
	slashingtypes "github.com/cosmos/cosmos-sdk/x/slashing/types"
	"github.com/cosmos/cosmos-sdk/x/staking"
	stakingkeeper "github.com/cosmos/cosmos-sdk/x/staking/keeper"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
	"github.com/cosmos/cosmos-sdk/x/upgrade"
	upgradekeeper "github.com/cosmos/cosmos-sdk/x/upgrade/keeper"
	upgradetypes "github.com/cosmos/cosmos-sdk/x/upgrade/types"

	datataskkeeper "sahara/chain/x/datatask/keeper"
	datataskmodule "sahara/chain/x/datatask/module"
	datatasktypes "sahara/chain/x/datatask/types"
	licensingkeeper "sahara/chain/x/licensing/keeper"
	licensingmodule "sahara/chain/x/licensing/module"
	licensingtypes "sahara/chain/x/licensing/types"
	registrykeeper "sahara/chain/x/registry/keeper"
	registrymodule "sahara/chain/x/registry/module"
	registrytypes "sahara/chain/x/registry/types"
	royaltykeeper "sahara/chain/x/royalty/keeper"
	royaltymodule "sahara/chain/x/royalty/module"
	royaltytypes "sahara/chain/x/royalty/types"

	datataskpc "sahara/chain/precompiles/datatask"
	licensingpc "sahara/chain/precompiles/licensing"
	registrypc "sahara/chain/precompiles/registry"
	royaltypc "sahara/chain/precompiles/royalty"
)

func init() {
	// Staking power counts whole SAH (10^18 asah), not 10^6 units.
	sdk.DefaultPowerReduction = utils.AttoPowerReduction
}

var _ evmserver.Application = (*App)(nil)

// App is the Sahara chain application.
type App struct {
	*baseapp.BaseApp

	legacyAmino       *codec.LegacyAmino
	appCodec          codec.Codec
	interfaceRegistry types.InterfaceRegistry
	txConfig          client.TxConfig

	pendingTxListeners []evmante.PendingTxListener

	keys  map[string]*storetypes.KVStoreKey
	oKeys map[string]*storetypes.ObjectStoreKey

	AccountKeeper         authkeeper.AccountKeeper
	BankKeeper            bankkeeper.Keeper
	StakingKeeper         *stakingkeeper.Keeper
	SlashingKeeper        slashingkeeper.Keeper
	MintKeeper            mintkeeper.Keeper
	DistrKeeper           distrkeeper.Keeper
	GovKeeper             govkeeper.Keeper
	UpgradeKeeper         *upgradekeeper.Keeper
	AuthzKeeper           authzkeeper.Keeper
	EvidenceKeeper        evidencekeeper.Keeper
	FeeGrantKeeper        feegrantkeeper.Keeper
	ConsensusParamsKeeper consensusparamkeeper.Keeper
	IBCKeeper             *ibckeeper.Keeper
	TransferKeeper        *transferkeeper.Keeper
	FeeMarketKeeper       feemarketkeeper.Keeper
	EVMKeeper             *evmkeeper.Keeper
	Erc20Keeper           erc20keeper.Keeper

	// Sahara's AI protocol modules.
	RegistryKeeper  *registrykeeper.Keeper
	LicensingKeeper *licensingkeeper.Keeper
	RoyaltyKeeper   *royaltykeeper.Keeper
	DataTaskKeeper  *datataskkeeper.Keeper
	EVMMempool      sdkmempool.ExtMempool

	ModuleManager      *module.Manager
	BasicModuleManager module.BasicManager
	configurator       module.Configurator

	postHandler sdk.PostHandler // also run by the proposer's gasUsedSelector
	blockMaxGas uint64          // the running block's gas limit, for gasUsedRunner (0: none)
	blockUse    blockUse        // how much of their limits the last block's transactions used
}

// New builds the application on db. appOpts come from the node's config
// files and flags (see cosmos/evm server flags for the EVM ones).
func New(logger log.Logger, db dbm.DB, loadLatest bool, appOpts servertypes.AppOptions, baseAppOptions ...func(*baseapp.BaseApp)) *App {
	SetSDKConfig()
	// The node reads its EVM chain id from app.toml. Throwaway instances
	// (CLI codecs, genesis building) have none and use the library default:
	// the EVM chain config is a process global that may be replaced only
	// while it holds the default, so the real node can still set ours.
	evmChainID := cast.ToUint64(appOpts.Get(srvflags.EVMChainID))
	if evmChainID == 0 {
		evmChainID = evmtypes.DefaultEVMChainID
	}
	enc := evmencoding.MakeConfig(evmChainID)
	appCodec, legacyAmino, interfaceRegistry := enc.Codec, enc.Amino, enc.InterfaceRegistry
	txDecoder := enc.TxConfig.TxDecoder()

	baseAppOptions = append(baseAppOptions, baseapp.SetOptimisticExecution())
	bApp := baseapp.NewBaseApp(AppName, logger, db, txDecoder, baseAppOptions...)
	bApp.SetVersion(version.Version)
	bApp.SetInterfaceRegistry(interfaceRegistry)
	bApp.SetTxEncoder(enc.TxConfig.TxEncoder())

	keys := storetypes.NewKVStoreKeys(
		authtypes.StoreKey, banktypes.StoreKey, stakingtypes.StoreKey, minttypes.StoreKey,
		distrtypes.StoreKey, slashingtypes.StoreKey, govtypes.StoreKey, consensusparamtypes.StoreKey,
		upgradetypes.StoreKey, feegrant.StoreKey, evidencetypes.StoreKey, authzkeeper.StoreKey,
		ibcexported.StoreKey, ibctransfertypes.StoreKey,
		evmtypes.StoreKey, feemarkettypes.StoreKey, erc20types.StoreKey,
		registrytypes.StoreKey, licensingtypes.StoreKey, royaltytypes.StoreKey, datatasktypes.StoreKey,
	)
	oKeys := storetypes.NewObjectStoreKeys(banktypes.ObjectStoreKey, evmtypes.ObjectKey, royaltytypes.ObjectStoreKey)
	var nonTransientKeys []storetypes.StoreKey
	for _, k := range keys {
		nonTransientKeys = append(nonTransientKeys, k)
	}
	for _, k := range oKeys {
		nonTransientKeys = append(nonTransientKeys, k)
	}

	// The EVM accounts gas per transaction; a block gas meter on top would
	// double count.
	bApp.SetDisableBlockGasMeter(true)
	if err := bApp.RegisterStreamingServices(appOpts, keys); err != nil {
		panic(fmt.Sprintf("state streaming: %v", err))
	}

	app := &App{
		BaseApp: bApp, legacyAmino: legacyAmino, appCodec: appCodec, txConfig: enc.TxConfig,
		interfaceRegistry: interfaceRegistry, keys: keys, oKeys: oKeys,
	}
	authority := authtypes.NewModuleAddress(govtypes.ModuleName).String()
	accCodec := evmaddress.NewEvmCodec(sdk.GetConfig().GetBech32AccountAddrPrefix())

	app.ConsensusParamsKeeper = consensusparamkeeper.NewKeeper(appCodec, runtime.NewKVStoreService(keys[consensusparamtypes.StoreKey]), authority, runtime.EventService{})
	bApp.SetParamStore(app.ConsensusParamsKeeper.ParamsStore)

	app.AccountKeeper = authkeeper.NewAccountKeeper(appCodec, runtime.NewKVStoreService(keys[authtypes.StoreKey]),
		authtypes.ProtoBaseAccount, ModuleAccountPermissions(), accCodec, sdk.GetConfig().GetBech32AccountAddrPrefix(), authority)
	app.BankKeeper = bankkeeper.NewBaseKeeper(appCodec, runtime.NewKVStoreService(keys[banktypes.StoreKey]),
		app.AccountKeeper, BlockedAddresses(), authority, logger).WithObjStoreKey(oKeys[banktypes.ObjectStoreKey])

	txConfig, err := authtx.NewTxConfigWithOptions(appCodec, authtx.ConfigOptions{
		EnabledSignModes:           authtx.DefaultSignModes,
		TextualCoinMetadataQueryFn: txmodule.NewBankKeeperCoinMetadataQueryFn(app.BankKeeper),
	})
	if err != nil {
		panic(err)
	}
	app.txConfig = txConfig

	app.StakingKeeper = stakingkeeper.NewKeeper(appCodec, runtime.NewKVStoreService(keys[stakingtypes.StoreKey]),
		app.AccountKeeper, app.BankKeeper, authority,
		evmaddress.NewEvmCodec(sdk.GetConfig().GetBech32ValidatorAddrPrefix()),
		evmaddress.NewEvmCodec(sdk.GetConfig().GetBech32ConsensusAddrPrefix()))
	app.MintKeeper = mintkeeper.NewKeeper(appCodec, runtime.NewKVStoreService(keys[minttypes.StoreKey]),
		app.StakingKeeper, app.AccountKeeper, app.BankKeeper, authtypes.FeeCollectorName, authority)
	app.DistrKeeper = distrkeeper.NewKeeper(appCodec, runtime.NewKVStoreService(keys[distrtypes.StoreKey]),
		app.AccountKeeper, app.BankKeeper, app.StakingKeeper, authtypes.FeeCollectorName, authority)
	app.SlashingKeeper = slashingkeeper.NewKeeper(appCodec, legacyAmino, runtime.NewKVStoreService(keys[slashingtypes.StoreKey]),
		app.StakingKeeper, authority)
	app.FeeGrantKeeper = feegrantkeeper.NewKeeper(appCodec, runtime.NewKVStoreService(keys[feegrant.StoreKey]), app.AccountKeeper)
	app.StakingKeeper.SetHooks(stakingtypes.NewMultiStakingHooks(app.DistrKeeper.Hooks(), app.SlashingKeeper.Hooks()))
	app.AuthzKeeper = authzkeeper.NewKeeper(runtime.NewKVStoreService(keys[authzkeeper.StoreKey]), appCodec, app.MsgServiceRouter(), app.AccountKeeper)

	skipUpgradeHeights := map[int64]bool{}
	for _, h := range cast.ToIntSlice(appOpts.Get(sdkserver.FlagUnsafeSkipUpgrades)) {
		skipUpgradeHeights[int64(h)] = true
	}
	app.UpgradeKeeper = upgradekeeper.NewKeeper(skipUpgradeHeights, runtime.NewKVStoreService(keys[upgradetypes.StoreKey]),
		appCodec, cast.ToString(appOpts.Get(flags.FlagHome)), app.BaseApp, authority)
	app.IBCKeeper = ibckeeper.NewKeeper(appCodec, runtime.NewKVStoreService(keys[ibcexported.StoreKey]), app.UpgradeKeeper, authority)

	govKeeper := govkeeper.NewKeeper(appCodec, runtime.NewKVStoreService(keys[govtypes.StoreKey]), app.AccountKeeper,
		app.BankKeeper, app.DistrKeeper, app.MsgServiceRouter(), govtypes.DefaultConfig(), authority,
		govkeeper.NewDefaultCalculateVoteResultsAndVotingPower(app.StakingKeeper))
	app.GovKeeper = *govKeeper.SetHooks(govtypes.NewMultiGovHooks())

	app.EvidenceKeeper = *evidencekeeper.NewKeeper(appCodec, runtime.NewKVStoreService(keys[evidencetypes.StoreKey]),
		app.StakingKeeper, app.SlashingKeeper, app.AccountKeeper.AddressCodec(), runtime.ProvideCometInfoService())

	// registry ↔ licensing ↔ royalty: licensing reads the registry and pays mint fees into royalty;
	// the registry asks licensing about parent licenses and tells royalty before shares move.
	govAuthority := authtypes.NewModuleAddress(govtypes.ModuleName).String()
	app.RegistryKeeper = registrykeeper.NewKeeper(appCodec, runtime.NewKVStoreService(keys[registrytypes.StoreKey]), accCodec, govAuthority)
	app.RoyaltyKeeper = royaltykeeper.NewKeeper(appCodec, runtime.NewKVStoreService(keys[royaltytypes.StoreKey]),
		oKeys[royaltytypes.ObjectStoreKey], accCodec, govAuthority,
		app.RegistryKeeper, app.BankKeeper)
	app.LicensingKeeper = licensingkeeper.NewKeeper(appCodec, runtime.NewKVStoreService(keys[licensingtypes.StoreKey]), accCodec, govAuthority,
		app.RegistryKeeper, app.RoyaltyKeeper)
	app.RegistryKeeper.SetLicenseChecker(app.LicensingKeeper)
	app.RegistryKeeper.SetHooks(app.RoyaltyKeeper)
	// datatask escrows rewards and mints finished datasets into the registry.
	app.DataTaskKeeper = datataskkeeper.NewKeeper(appCodec, runtime.NewKVStoreService(keys[datatasktypes.StoreKey]), accCodec, govAuthority,
		authtypes.NewModuleAddress(datatasktypes.ModuleName).String(), app.RegistryKeeper, app.BankKeeper)

	app.FeeMarketKeeper = feemarketkeeper.NewKeeper(appCodec, authtypes.NewModuleAddress(govtypes.ModuleName), keys[feemarkettypes.StoreKey])

	// The transfer keeper must exist before the EVM keeper: the ICS-20
	// precompile holds a reference to it.
	app.TransferKeeper = transferkeeper.NewKeeper(appCodec, accCodec, runtime.NewKVStoreService(keys[ibctransfertypes.StoreKey]),
		app.IBCKeeper.ChannelKeeper, app.MsgServiceRouter(), app.AccountKeeper, app.BankKeeper, authority)

	// The EVM keeper comes before the ERC-20 keeper, which is built on it;
	// the EVM keeper gets a pointer to the ERC-20 keeper filled in below.
	app.EVMKeeper = evmkeeper.NewKeeper(appCodec, keys[evmtypes.StoreKey], oKeys[evmtypes.ObjectKey], nonTransientKeys,
		authtypes.NewModuleAddress(govtypes.ModuleName), app.AccountKeeper, app.BankKeeper, app.StakingKeeper,
		app.FeeMarketKeeper, &app.ConsensusParamsKeeper, &app.Erc20Keeper, evmChainID,
		cast.ToString(appOpts.Get(srvflags.EVMTracer)),
	).WithStaticPrecompiles(app.withProtocolPrecompiles(precompiletypes.DefaultStaticPrecompiles(
		*app.StakingKeeper, app.DistrKeeper, app.BankKeeper, &app.Erc20Keeper, app.TransferKeeper,
		app.IBCKeeper.ChannelKeeper, app.IBCKeeper.ClientKeeper, app.GovKeeper, app.SlashingKeeper, appCodec,
	)))
	app.EVMKeeper.EnableVirtualFeeCollection()
	app.Erc20Keeper = erc20keeper.NewKeeper(keys[erc20types.StoreKey], appCodec, authtypes.NewModuleAddress(govtypes.ModuleName),
		app.AccountKeeper, app.BankKeeper, app.EVMKeeper, app.StakingKeeper, app.TransferKeeper)

	// IBC transfer stack: transfer, wrapped by the ERC-20 middleware so
	// that tokens arriving over IBC show up as ERC-20s.
	var transferStack porttypes.IBCModule = transfer.NewIBCModule(app.TransferKeeper)
	transferStack = erc20.NewIBCMiddleware(app.Erc20Keeper, transferStack)
	var transferStackV2 ibcapi.IBCModule = transferv2.NewIBCModule(app.TransferKeeper)
	transferStackV2 = erc20v2.NewIBCMiddleware(transferStackV2, app.Erc20Keeper)
	ibcRouter := porttypes.NewRouter()
	ibcRouter.AddRoute(ibctransfertypes.ModuleName, transferStack)
	ibcRouterV2 := ibcapi.NewRouter()
	ibcRouterV2.AddRoute(ibctransfertypes.ModuleName, transferStackV2)
	app.IBCKeeper.SetRouter(ibcRouter)
	app.IBCKeeper.SetRouterV2(ibcRouterV2)
	tmLightClient := ibctm.NewLightClientModule(appCodec, app.IBCKeeper.ClientKeeper.GetStoreProvider())
	app.IBCKeeper.ClientKeeper.AddRoute(ibctm.ModuleName, &tmLightClient)

	vmModule := vm.NewAppModule(app.EVMKeeper, app.AccountKeeper, app.BankKeeper, app.AccountKeeper.AddressCodec())
	app.ModuleManager = module.NewManager(
		genutil.NewAppModule(app.AccountKeeper, app.StakingKeeper, app, app.txConfig),
		auth.NewAppModule(appCodec, app.AccountKeeper, nil, nil),
		bank.NewAppModule(appCodec, app.BankKeeper, app.AccountKeeper, nil),
		feegrantmodule.NewAppModule(appCodec, app.AccountKeeper, app.BankKeeper, app.FeeGrantKeeper, app.interfaceRegistry),
		gov.NewAppModule(appCodec, &app.GovKeeper, app.AccountKeeper, app.BankKeeper, nil),
		mint.NewAppModule(appCodec, app.MintKeeper, app.AccountKeeper, nil, nil),
		slashing.NewAppModule(appCodec, app.SlashingKeeper, app.AccountKeeper, app.BankKeeper, app.StakingKeeper, nil, app.interfaceRegistry),
		distr.NewAppModule(appCodec, app.DistrKeeper, app.AccountKeeper, app.BankKeeper, app.StakingKeeper, nil),
		staking.NewAppModule(appCodec, app.StakingKeeper, app.AccountKeeper, app.BankKeeper, nil),
		upgrade.NewAppModule(app.UpgradeKeeper, app.AccountKeeper.AddressCodec()),
		evidence.NewAppModule(app.EvidenceKeeper),
		authzmodule.NewAppModule(appCodec, app.AuthzKeeper, app.AccountKeeper, app.BankKeeper, app.interfaceRegistry),
		consensus.NewAppModule(appCodec, app.ConsensusParamsKeeper),
		ibc.NewAppModule(app.IBCKeeper),
		ibctm.NewAppModule(tmLightClient),
		transfer.NewAppModule(app.TransferKeeper),
		vmModule,
		feemarket.NewAppModule(app.FeeMarketKeeper),
		erc20.NewAppModule(app.Erc20Keeper, app.AccountKeeper),
		registrymodule.New(app.RegistryKeeper),
		licensingmodule.New(app.LicensingKeeper),
		royaltymodule.New(app.RoyaltyKeeper),
		datataskmodule.New(app.DataTaskKeeper),
	)
	app.BasicModuleManager = module.NewBasicManagerFromManager(app.ModuleManager, map[string]module.AppModuleBasic{
		genutiltypes.ModuleName:     genutil.NewAppModuleBasic(genutiltypes.DefaultMessageValidator),
		stakingtypes.ModuleName:     staking.AppModuleBasic{},
		govtypes.ModuleName:         gov.NewAppModuleBasic(nil),
		ibctransfertypes.ModuleName: transfer.AppModuleBasic{},
	})
	app.BasicModuleManager.RegisterLegacyAminoCodec(legacyAmino)
	app.BasicModuleManager.RegisterInterfaces(interfaceRegistry)

	app.ModuleManager.SetOrderPreBlockers(upgradetypes.ModuleName, authtypes.ModuleName, evmtypes.ModuleName)
	// The EVM begin blocker reads the base fee the fee market just set.
	app.ModuleManager.SetOrderBeginBlockers(
		minttypes.ModuleName, ibcexported.ModuleName, ibctransfertypes.ModuleName,
		erc20types.ModuleName, feemarkettypes.ModuleName, evmtypes.ModuleName,
		distrtypes.ModuleName, slashingtypes.ModuleName, evidencetypes.ModuleName, stakingtypes.ModuleName,
		authtypes.ModuleName, banktypes.ModuleName, govtypes.ModuleName, genutiltypes.ModuleName,
		authz.ModuleName, feegrant.ModuleName, consensusparamtypes.ModuleName,
	)
	// The fee market ends last among the modules that do work, so it sees
	// the whole block's gas.
	app.ModuleManager.SetOrderEndBlockers(
		banktypes.ModuleName, govtypes.ModuleName, stakingtypes.ModuleName, authtypes.ModuleName,
		evmtypes.ModuleName, erc20types.ModuleName, feemarkettypes.ModuleName,
		ibcexported.ModuleName, ibctransfertypes.ModuleName, distrtypes.ModuleName, slashingtypes.ModuleName,
		minttypes.ModuleName, genutiltypes.ModuleName, evidencetypes.ModuleName, authz.ModuleName,
		feegrant.ModuleName, upgradetypes.ModuleName, consensusparamtypes.ModuleName,
		registrytypes.ModuleName, licensingtypes.ModuleName, royaltytypes.ModuleName, datatasktypes.ModuleName,
	)
	// genutil after staking (pools funded) and auth; the fee market before
	// genutil (gentxs go through the min-gas-price check).
	genesisOrder := []string{
		authtypes.ModuleName, banktypes.ModuleName, distrtypes.ModuleName, stakingtypes.ModuleName,
		slashingtypes.ModuleName, govtypes.ModuleName, minttypes.ModuleName, ibcexported.ModuleName,
		evmtypes.ModuleName, feemarkettypes.ModuleName, erc20types.ModuleName, ibctransfertypes.ModuleName,
		genutiltypes.ModuleName, evidencetypes.ModuleName, authz.ModuleName, feegrant.ModuleName,
		upgradetypes.ModuleName, consensusparamtypes.ModuleName,
		registrytypes.ModuleName, licensingtypes.ModuleName, royaltytypes.ModuleName, datatasktypes.ModuleName,
	}
	app.ModuleManager.SetOrderInitGenesis(genesisOrder...)
	app.ModuleManager.SetOrderExportGenesis(genesisOrder...)

	app.configurator = module.NewConfigurator(app.appCodec, app.MsgServiceRouter(), app.GRPCQueryRouter())
	if err := app.ModuleManager.RegisterServices(app.configurator); err != nil {
		panic(fmt.Sprintf("register services: %v", err))
	}
	autocliv1.RegisterQueryServer(app.GRPCQueryRouter(), runtimeservices.NewAutoCLIQueryService(app.ModuleManager.Modules))
	reflectionSvc, err := runtimeservices.NewReflectionService()
	if err != nil {
		panic(err)
	}
	reflectionv1.RegisterReflectionServiceServer(app.GRPCQueryRouter(), reflectionSvc)

	app.MountKVStores(keys)
	app.MountObjectStores(oKeys)

	app.SetInitChainer(app.InitChainer)
	app.SetPreBlocker(app.PreBlocker)
	app.SetBeginBlocker(app.BeginBlocker)
	app.SetEndBlocker(app.EndBlocker)

	// The ante handler must be set before the EVM mempool is built: the
	// mempool's rechecker captures it, and a nil one panics on the first
	// RecheckTx.
	app.setAnteHandler(cast.ToUint64(appOpts.Get(srvflags.EVMMaxTxGasWanted)))
	if err := app.configureEVMMempool(appOpts, logger); err != nil {
		panic(fmt.Sprintf("EVM mempool: %v", err))
	}
	app.SetProcessProposal(app.processProposal)
	postHandler, err := posthandler.NewPostHandler(posthandler.HandlerOptions{})
	if err != nil {
		panic(err)
	}
	app.SetPostHandler(postHandler)
	app.postHandler = postHandler
	// Blocks are bounded by the gas used (blockgas.go). SetBlockSTMTxRunner is the SDK's one setter
	// for a TxRunner; ours runs the transactions in order, as the default does.
	app.SetBlockSTMTxRunner(&gasUsedRunner{decode: app.TxDecode, maxGas: func() uint64 { return app.blockMaxGas }, observe: app.blockUse.observe})

	protoFiles, err := proto.MergedRegistry()
	if err != nil {
		panic(err)
	}
	if err := msgservice.ValidateProtoAnnotations(protoFiles); err != nil {
		fmt.Fprintln(os.Stderr, err.Error())
	}

	if loadLatest {
		if err := app.LoadLatestVersion(); err != nil {
			panic(fmt.Sprintf("load latest version: %v", err))
		}
		ctx := app.NewContextLegacy(true, cmtproto.Header{Height: app.LastBlockHeight(), ChainID: app.ChainID()})
		// The EVM keeps its coin info in process globals; restore them after a restart.
		vmModule.HydrateGlobals(ctx)
	}
	if workers := cast.ToInt(os.Getenv("SAHARA_BLOCK_STM")); workers > 0 {
		// Optimistic parallel execution of a block's transactions (BlockSTM).
		// Off by default: see bench/chain/README.md for what it gave here.
		vmrunner.SetRunner(bApp, txnrunner.NewSTMRunner(txDecoder, nonTransientKeys, workers, true,
			func(ms storetypes.MultiStore) string {
				return app.EVMKeeper.GetParams(sdk.NewContext(ms, cmtproto.Header{}, false, log.NewNopLogger())).EvmDenom
			}))
	}
	return app
}

func (app *App) setAnteHandler(maxGasWanted uint64) {
	options := evmante.HandlerOptions{
		Cdc:                    app.appCodec,
		AccountKeeper:          app.AccountKeeper,
		BankKeeper:             app.BankKeeper,
		ExtensionOptionChecker: antetypes.HasDynamicFeeExtensionOption,
		EvmKeeper:              app.EVMKeeper,
		FeegrantKeeper:         app.FeeGrantKeeper,
		IBCKeeper:              app.IBCKeeper,
		FeeMarketKeeper:        app.FeeMarketKeeper,
		SignModeHandler:        app.txConfig.SignModeHandler(),
		SigGasConsumer:         evmante.SigVerificationGasConsumer,
		MaxTxGasWanted:         maxGasWanted,
		DynamicFeeChecker:      true,
		PendingTxListener:      app.onPendingTx,
	}
	if err := options.Validate(); err != nil {
		panic(err)
	}
	app.SetAnteHandler(evmante.NewAnteHandler(options))
}

func (app *App) onPendingTx(hash common.Hash) {
	for _, l := range app.pendingTxListeners {
		l(hash)
	}
}

// RegisterPendingTxListener lets the JSON-RPC server follow pending transactions.
func (app *App) RegisterPendingTxListener(l func(common.Hash)) {
	app.pendingTxListeners = append(app.pendingTxListeners, l)
}

// BeginBlocker, EndBlocker, PreBlocker and InitChainer run the modules.
func (app *App) BeginBlocker(ctx sdk.Context) (sdk.BeginBlock, error) {
	app.blockMaxGas = 0
	if b := ctx.ConsensusParams().Block; b != nil && b.MaxGas > 0 {
		app.blockMaxGas = uint64(b.MaxGas)
	}
	return app.ModuleManager.BeginBlock(ctx)
}

func (app *App) EndBlocker(ctx sdk.Context) (sdk.EndBlock, error) {
	return app.ModuleManager.EndBlock(ctx)
}

func (app *App) PreBlocker(ctx sdk.Context, _ *abci.RequestFinalizeBlock) (*sdk.ResponsePreBlock, error) {
	return app.ModuleManager.PreBlock(ctx)
}

func (app *App) InitChainer(ctx sdk.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	var genesisState map[string]json.RawMessage
	if err := json.Unmarshal(req.AppStateBytes, &genesisState); err != nil {
		return nil, fmt.Errorf("genesis app state is not valid JSON: %w", err)
	}
	if err := app.UpgradeKeeper.SetModuleVersionMap(ctx, app.ModuleManager.GetVersionMap()); err != nil {
		return nil, err
	}
	return app.ModuleManager.InitGenesis(ctx, app.appCodec, genesisState)
}

// LoadHeight loads the state at a height (export).
func (app *App) LoadHeight(height int64) error { return app.LoadVersion(height) }

func (app *App) LegacyAmino() *codec.LegacyAmino               { return app.legacyAmino }
func (app *App) AppCodec() codec.Codec                         { return app.appCodec }
func (app *App) InterfaceRegistry() types.InterfaceRegistry    { return app.interfaceRegistry }
func (app *App) TxConfig() client.TxConfig                     { return app.txConfig }
func (app *App) GetMempool() sdkmempool.ExtMempool             { return app.EVMMempool }
func (app *App) GetKey(storeKey string) *storetypes.KVStoreKey { return app.keys[storeKey] }

// RegisterAPIRoutes registers the REST (gRPC-gateway) routes.
func (app *App) RegisterAPIRoutes(apiSvr *api.Server, apiConfig config.APIConfig) {
	clientCtx := apiSvr.ClientCtx
	authtx.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
	cmtservice.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
	node.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
	app.BasicModuleManager.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
	if err := sdkserver.RegisterSwaggerAPI(apiSvr.ClientCtx, apiSvr.Router, apiConfig.Swagger); err != nil {
		panic(err)
	}
}

func (app *App) RegisterTxService(clientCtx client.Context) {
	authtx.RegisterTxService(app.GRPCQueryRouter(), clientCtx, app.Simulate, app.interfaceRegistry)
}

func (app *App) RegisterTendermintService(clientCtx client.Context) {
	cmtservice.RegisterTendermintService(clientCtx, app.GRPCQueryRouter(), app.interfaceRegistry, app.Query)
}

func (app *App) RegisterNodeService(clientCtx client.Context, cfg config.Config) {
	node.RegisterNodeService(clientCtx, app.GRPCQueryRouter(), cfg, func() int64 {
		return app.CommitMultiStore().EarliestVersion()
	})
}

// Close stops the mempool and the base app.
func (app *App) Close() error {
	var err error
	if m, ok := app.EVMMempool.(*evmmempool.Mempool); ok && m != nil {
		err = m.Close()
	}
	return errors.Join(err, app.BaseApp.Close())
}

// AutoCliOpts exposes every module's queries and txs to autocli.
func (app *App) AutoCliOpts() autocli.AppOptions {
	modules := map[string]appmodule.AppModule{}
	for _, m := range app.ModuleManager.Modules {
		if named, ok := m.(module.HasName); ok {
			if am, ok := named.(appmodule.AppModule); ok {
				modules[named.Name()] = am
			}
		}
	}
	return autocli.AppOptions{
		Modules:               modules,
		ModuleOptions:         runtimeservices.ExtractAutoCLIOptions(app.ModuleManager.Modules),
		AddressCodec:          evmaddress.NewEvmCodec(sdk.GetConfig().GetBech32AccountAddrPrefix()),
		ValidatorAddressCodec: evmaddress.NewEvmCodec(sdk.GetConfig().GetBech32ValidatorAddrPrefix()),
		ConsensusAddressCodec: evmaddress.NewEvmCodec(sdk.GetConfig().GetBech32ConsensusAddrPrefix()),
	}
}

// ExportAppStateAndValidators exports the state for a genesis file. Export
// for a zero-height restart (which rewrites distribution and staking
// state) is not supported yet and says so.
func (app *App) ExportAppStateAndValidators(forZeroHeight bool, _ []string, modulesToExport []string) (servertypes.ExportedApp, error) {
	if forZeroHeight {
		return servertypes.ExportedApp{}, errors.New("export --for-zero-height is not supported: export at the current height instead")
	}
	ctx := app.NewContextLegacy(true, cmtproto.Header{Height: app.LastBlockHeight()})
	genState, err := app.ModuleManager.ExportGenesisForModules(ctx, app.appCodec, modulesToExport)
	if err != nil {
		return servertypes.ExportedApp{}, err
	}
	appState, err := json.MarshalIndent(genState, "", "  ")
	if err != nil {
		return servertypes.ExportedApp{}, err
	}
	validators, err := staking.WriteValidators(ctx, app.StakingKeeper)
	return servertypes.ExportedApp{AppState: appState, Validators: validators, Height: app.LastBlockHeight() + 1,
		ConsensusParams: app.GetConsensusParams(ctx)}, err
}

// withProtocolPrecompiles adds the registry, licensing, royalty and datatask precompiles to the stack's.
func (app *App) withProtocolPrecompiles(m map[common.Address]corevm.PrecompiledContract) map[common.Address]corevm.PrecompiledContract {
	m[registrypc.Address] = registrypc.New(app.RegistryKeeper, app.BankKeeper)
	m[licensingpc.Address] = licensingpc.New(app.LicensingKeeper, app.BankKeeper)
	m[royaltypc.Address] = royaltypc.New(app.RoyaltyKeeper, app.BankKeeper)
	m[datataskpc.Address] = datataskpc.New(app.DataTaskKeeper, app.BankKeeper)
	return m
}

// ProtocolPrecompiles are the addresses of Sahara's own precompiles (contracts/addresses.json).
func ProtocolPrecompiles() []string {
	return []string{registrypc.Address.Hex(), licensingpc.Address.Hex(), royaltypc.Address.Hex(), datataskpc.Address.Hex()}
}

// ActiveStaticPrecompiles is every static precompile the chain enables, sorted as the vm module requires.
func ActiveStaticPrecompiles() []string {
	all := append(append([]string(nil), evmtypes.AvailableStaticPrecompiles...), ProtocolPrecompiles()...)
	sort.Strings(all)
	return all
}
