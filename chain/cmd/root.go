// Package cmd holds the chain's commands of the sahara binary: node, keys,
// query, tx (autocli), up and localnet.
package cmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/spf13/cast"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	cmtcfg "github.com/cometbft/cometbft/config"

	dbm "github.com/cosmos/cosmos-db"
	evmclient "github.com/cosmos/evm/client"
	evmhd "github.com/cosmos/evm/crypto/hd"
	evmserver "github.com/cosmos/evm/server"
	srvflags "github.com/cosmos/evm/server/flags"
	"github.com/cosmos/evm/utils"

	"cosmossdk.io/log/v2"
	confixcmd "cosmossdk.io/tools/confix/cmd"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	clientcfg "github.com/cosmos/cosmos-sdk/client/config"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/rpc"
	sdkserver "github.com/cosmos/cosmos-sdk/server"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	snapshottypes "github.com/cosmos/cosmos-sdk/store/v2/snapshots/types"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	authcmd "github.com/cosmos/cosmos-sdk/x/auth/client/cli"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	genutilcli "github.com/cosmos/cosmos-sdk/x/genutil/client/cli"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"

	"sahara/chain/app"
	"sahara/chain/network"
	saharapc "sahara/chain/rpc"
)

var registerRPCOnce sync.Once

// DefaultHome is ~/.sahara.
func DefaultHome() string {
	h, err := os.UserHomeDir()
	if err != nil {
		return ".sahara"
	}
	return filepath.Join(h, ".sahara")
}

// AddChainCommands adds the chain's commands to root and installs the
// pre-run that loads the client and node configuration from --home. Other
// command trees of the binary (truth, ...) override the pre-run so they
// never touch a node home.
func AddChainCommands(root *cobra.Command) {
	app.SetSDKConfig()
	registerRPCOnce.Do(func() {
		if err := saharapc.Register(); err != nil {
			panic(err)
		}
	})
	tempApp := app.New(log.NewNopLogger(), dbm.NewMemDB(), false, simtestutil.EmptyAppOptions{})
	initClientCtx := client.Context{}.
		WithCodec(tempApp.AppCodec()).
		WithInterfaceRegistry(tempApp.InterfaceRegistry()).
		WithTxConfig(tempApp.TxConfig()).
		WithLegacyAmino(tempApp.LegacyAmino()).
		WithInput(os.Stdin).
		WithAccountRetriever(authtypes.AccountRetriever{}).
		WithBroadcastMode(flags.BroadcastSync).
		WithHomeDir(DefaultHome()).
		WithViper("SAHARA").
		WithKeyringOptions(evmhd.EthSecp256k1Option()).
		WithLedgerHasProtobuf(true)

	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		cmd.SetOut(cmd.OutOrStdout())
		cmd.SetErr(cmd.ErrOrStderr())
		ctx := initClientCtx.WithCmdContext(cmd.Context())
		ctx, err := client.ReadPersistentCommandFlags(ctx, cmd.Flags())
		if err != nil {
			return err
		}
		// A fresh viper: the start-up one already searched ~/.sahara/config, and viper reads the first
		// config path it was given, so --home's client.toml would be ignored.
		if ctx, err = clientcfg.ReadFromClientConfig(ctx.WithViper("SAHARA")); err != nil {
			return err
		}
		if err := client.SetCmdClientContextHandler(ctx, cmd); err != nil {
			return err
		}
		return interceptNodeConfig(cmd)
	}

	nodeCmd := &cobra.Command{Use: "node", Short: "Run and manage a chain node (init, start, export, comet, ...)"}
	nodeCmd.AddCommand(
		genutilcli.InitCmd(tempApp.BasicModuleManager, DefaultHome()),
		confixcmd.ConfigCommand(),
	)
	evmserver.AddCommands(nodeCmd, evmserver.NewDefaultStartOptions(newApp, DefaultHome()), appExport, func(*cobra.Command) {})

	queryCmd := &cobra.Command{Use: "query", Aliases: []string{"q"}, Short: "Query the chain", RunE: client.ValidateCmd}
	queryCmd.AddCommand(rpc.QueryEventForTxCmd(), rpc.ValidatorCommand(), authcmd.QueryTxsByEventsCmd(), authcmd.QueryTxCmd(),
		sdkserver.QueryBlockCmd(), sdkserver.QueryBlockResultsCmd())
	txCmd := &cobra.Command{Use: "tx", Short: "Sign and send transactions", RunE: client.ValidateCmd}
	txCmd.AddCommand(authcmd.GetSignCommand(), authcmd.GetBroadcastCommand(), authcmd.GetEncodeCommand(),
		authcmd.GetDecodeCommand(), authcmd.GetSimulateCmd())

	root.AddCommand(
		nodeCmd,
		evmclient.KeyCommands(DefaultHome(), true),
		queryCmd,
		txCmd,
		sdkserver.StatusCommand(),
		upCmd(),
		localnetCmd(),
	)
	root.AddCommand(protocolCommands()...)
	if _, err := srvflags.AddTxFlags(txCmd); err != nil {
		panic(err)
	}
	opts := tempApp.AutoCliOpts()
	initClientCtx, _ = clientcfg.ReadFromClientConfig(initClientCtx)
	opts.ClientCtx = initClientCtx
	if err := opts.EnhanceRootCommand(root); err != nil {
		panic(err)
	}
}

// interceptNodeConfig loads config.toml and app.toml from --home into the
// server context (writing defaults the first time).
func interceptNodeConfig(cmd *cobra.Command) error {
	cfg := cmtcfg.DefaultConfig()
	cfg.Mempool.Type = cmtcfg.MempoolTypeApp
	ac := network.DefaultAppConfig("127.0.0.1", network.DefaultPorts)
	return sdkserver.InterceptConfigsPreRunHandler(cmd, network.AppConfigTemplate, ac, cfg)
}

func newApp(logger log.Logger, db dbm.DB, appOpts servertypes.AppOptions) evmserver.Application {
	pruningOpts, err := sdkserver.GetPruningOptionsFromFlags(appOpts)
	if err != nil {
		panic(err)
	}
	chainID, err := chainIDFromOpts(appOpts)
	if err != nil {
		panic(err)
	}
	snapshotStore, err := sdkserver.GetSnapshotStore(appOpts)
	if err != nil {
		panic(err)
	}
	return app.New(logger, db, true, appOpts,
		baseapp.SetPruning(pruningOpts),
		baseapp.SetMinGasPrices(cast.ToString(appOpts.Get(sdkserver.FlagMinGasPrices))),
		baseapp.SetQueryGasLimit(cast.ToUint64(appOpts.Get(sdkserver.FlagQueryGasLimit))),
		baseapp.SetHaltHeight(cast.ToUint64(appOpts.Get(sdkserver.FlagHaltHeight))),
		baseapp.SetHaltTime(cast.ToUint64(appOpts.Get(sdkserver.FlagHaltTime))),
		baseapp.SetMinRetainBlocks(cast.ToUint64(appOpts.Get(sdkserver.FlagMinRetainBlocks))),
		baseapp.SetTrace(cast.ToBool(appOpts.Get(sdkserver.FlagTrace))),
		baseapp.SetIndexEvents(cast.ToStringSlice(appOpts.Get(sdkserver.FlagIndexEvents))),
		baseapp.SetSnapshot(snapshotStore, snapshottypes.NewSnapshotOptions(
			cast.ToUint64(appOpts.Get(sdkserver.FlagStateSyncSnapshotInterval)),
			cast.ToUint32(appOpts.Get(sdkserver.FlagStateSyncSnapshotKeepRecent)))),
		baseapp.SetIAVLCacheSize(cast.ToInt(appOpts.Get(sdkserver.FlagIAVLCacheSize))),
		baseapp.SetIAVLDisableFastNode(cast.ToBool(appOpts.Get(sdkserver.FlagDisableIAVLFastNode))),
		baseapp.SetChainID(chainID),
	)
}

func appExport(logger log.Logger, db dbm.DB, height int64, forZeroHeight bool, jailAllowedAddrs []string,
	appOpts servertypes.AppOptions, modulesToExport []string,
) (servertypes.ExportedApp, error) {
	v, ok := appOpts.(*viper.Viper)
	if !ok {
		return servertypes.ExportedApp{}, errors.New("export needs viper app options")
	}
	v.Set(sdkserver.FlagInvCheckPeriod, 1)
	chainID, err := chainIDFromOpts(appOpts)
	if err != nil {
		return servertypes.ExportedApp{}, err
	}
	a := app.New(logger, db, height == -1, v, baseapp.SetChainID(chainID))
	if height != -1 {
		if err := a.LoadHeight(height); err != nil {
			return servertypes.ExportedApp{}, err
		}
	}
	return a.ExportAppStateAndValidators(forZeroHeight, jailAllowedAddrs, modulesToExport)
}

func chainIDFromOpts(appOpts servertypes.AppOptions) (string, error) {
	if id := cast.ToString(appOpts.Get(flags.FlagChainID)); id != "" {
		return id, nil
	}
	home := cast.ToString(appOpts.Get(flags.FlagHome))
	if id, err := utils.GetChainIDFromHome(home); err == nil && id != "" {
		return id, nil
	}
	gen, err := genutiltypes.AppGenesisFromFile(filepath.Join(home, "config", "genesis.json"))
	if err != nil {
		return "", fmt.Errorf("no chain id: pass --chain-id, or set it in %s/config/client.toml: %w", home, err)
	}
	return gen.ChainID, nil
}
