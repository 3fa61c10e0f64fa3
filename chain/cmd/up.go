package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	cmtcfg "github.com/cometbft/cometbft/config"

	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"

	"github.com/cosmos/cosmos-sdk/client/flags"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"

	"sahara/chain/app"
	"sahara/chain/network"
)

// DevAccountsFile is where `up` writes the funded dev accounts.
const DevAccountsFile = "dev-accounts.json"

type endpoints struct {
	EVMRPC, EVMWS, CometRPC, GRPC, API, P2P, Metrics, EVMMetrics, GethMetrics string
}

func (e endpoints) ports() (network.Ports, error) {
	var p network.Ports
	for _, f := range []struct {
		addr string
		dst  *int
	}{{e.P2P, &p.P2P}, {e.CometRPC, &p.RPC}, {e.GRPC, &p.GRPC}, {e.API, &p.API}, {e.EVMRPC, &p.JSONRPC},
		{e.EVMWS, &p.WS}, {e.Metrics, &p.Prometheus}, {e.EVMMetrics, &p.JSONRPCMetrics}, {e.GethMetrics, &p.GethMetrics}} {
		_, port, err := net.SplitHostPort(f.addr)
		if err != nil {
			return p, fmt.Errorf("address %q: %v (use host:port, e.g. 127.0.0.1:8545)", f.addr, err)
		}
		if *f.dst, err = strconv.Atoi(port); err != nil {
			return p, fmt.Errorf("address %q: port is not a number", f.addr)
		}
	}
	return p, nil
}

// UpEnv is what a service started with `sahara up` is told.
type UpEnv struct {
	Home     string               // the chain's home; services keep their state under it
	GRPC     string               // the node's gRPC address
	CometRPC string               // the node's CometBFT RPC address (host:port)
	EVMRPC   string               // the node's Ethereum JSON-RPC address (host:port)
	Accounts []network.DevAccount // the dev accounts (dev mode)
	Out      io.Writer
}

// UpService is a service `sahara up` runs beside the chain: it adds its
// flags to up and returns the function that starts it (in the
// background; errors are printed, the chain keeps running).
type UpService func(f *pflag.FlagSet) (start func(UpEnv) error)

var upServices []UpService

// AddUpService registers a service to run with `sahara up`; call it
// before the commands are built.
func AddUpService(s UpService) { upServices = append(upServices, s) }

func upCmd() *cobra.Command {
	var e endpoints
	var accounts int
	var blockTime time.Duration
	var blockGas int64
	var mnemonic string
	var starts []func(UpEnv) error
	c := &cobra.Command{
		Use:   "up",
		Short: "Run a single-validator dev chain (created on first run, resumed after)",
		Long: `Run the embedded dev chain in this process.

The first run creates the home (--home, default ~/.sahara): a genesis with chain id
` + app.DefaultChainID + ` (EVM chain id ` + strconv.FormatUint(app.EVMChainID, 10) + `), one validator, and dev accounts funded
from a new mnemonic, written to <home>/` + DevAccountsFile + `. Later runs resume the same chain.
Ctrl-C stops the node cleanly.`,
		Example: `  sahara up
  sahara up --home /tmp/dev --evm-rpc 127.0.0.1:18545 --block-time 500ms`,
		// up makes its own home; the node's config is loaded by the start it runs.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, _ := cmd.Flags().GetString(flags.FlagHome)
			if home == "" {
				home = DefaultHome()
			}
			home, err := filepath.Abs(home)
			if err != nil {
				return err
			}
			ports, err := e.ports()
			if err != nil {
				return err
			}
			host, _, _ := net.SplitHostPort(e.EVMRPC)
			out := cmd.OutOrStdout()
			genesis := filepath.Join(home, "config", "genesis.json")
			var accs []network.DevAccount
			if _, err := os.Stat(genesis); os.IsNotExist(err) {
				res, err := network.Init(network.Spec{
					Validators: 1, DevAccounts: accounts, Mnemonic: mnemonic, BlockTime: blockTime, BlockMaxGas: blockGas, Host: host, ImportKeys: true,
					Ports: func(int) network.Ports { return ports }, NodeHome: func(int) string { return home },
				})
				if err != nil {
					return fmt.Errorf("create the dev chain in %s: %w", home, err)
				}
				accs = res.Accounts
				if err := writeJSON(filepath.Join(home, DevAccountsFile), accs); err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(home, "dev-mnemonic.txt"), []byte(res.Mnemonic+"\n"), 0o600); err != nil {
					return err
				}
				fmt.Fprintf(out, "Created a new dev chain in %s\n\nMnemonic: %s\n", home, res.Mnemonic)
			} else {
				bz, err := os.ReadFile(filepath.Join(home, DevAccountsFile))
				if err == nil {
					_ = json.Unmarshal(bz, &accs)
				}
				if cmd.Flags().Changed("block-gas") {
					if err := checkGenesisBlockGas(genesis, blockGas); err != nil {
						return err
					}
				}
				if err := applyChangedAddresses(cmd, home, e, blockTime); err != nil {
					return err
				}
				fmt.Fprintf(out, "Resuming the dev chain in %s\n", home)
			}
			printAccounts(out, accs)
			fmt.Fprintf(out, "\nChain id:           %s (EVM chain id %d)\n", app.DefaultChainID, app.EVMChainID)
			fmt.Fprintf(out, "Ethereum JSON-RPC:  http://%s\nEthereum WebSocket: ws://%s\nCometBFT RPC:       http://%s\ngRPC:               %s\nREST API:           http://%s\nPrometheus metrics: http://%s/metrics\n\n",
				e.EVMRPC, e.EVMWS, e.CometRPC, e.GRPC, e.API, e.Metrics)

			args := []string{"node", "start", "--home", home}
			lvl, _ := cmd.Flags().GetString(flags.FlagLogLevel)
			if !cmd.Flags().Changed(flags.FlagLogLevel) {
				lvl = "warn"
			}
			args = append(args, "--log_level", lvl)
			go announceReady(out, e.CometRPC)
			for _, start := range starts {
				if err := start(UpEnv{Home: home, GRPC: e.GRPC, CometRPC: e.CometRPC, EVMRPC: e.EVMRPC, Accounts: accs, Out: out}); err != nil {
					return err
				}
			}
			root := &cobra.Command{Use: "sahara", SilenceUsage: true}
			AddChainCommands(root)
			root.SetArgs(args)
			return svrcmd.Execute(root, "SAHARA", home)
		},
	}
	f := c.Flags()
	f.IntVar(&accounts, "accounts", 10, "dev accounts to fund on first run")
	f.StringVar(&mnemonic, "mnemonic", "", "mnemonic for the dev accounts on first run (default: a new random one)")
	f.DurationVar(&blockTime, "block-time", time.Second, "target time between blocks")
	f.Int64Var(&blockGas, "block-gas", network.BlockMaxGas, "gas limit of a block, for a new chain (later runs keep the chain's own)")
	f.StringVar(&e.EVMRPC, "evm-rpc", "127.0.0.1:8545", "Ethereum JSON-RPC (HTTP) listen address")
	f.StringVar(&e.EVMWS, "evm-ws", "127.0.0.1:8546", "Ethereum JSON-RPC (WebSocket) listen address")
	f.StringVar(&e.CometRPC, "cometbft-rpc", "127.0.0.1:26657", "CometBFT RPC listen address")
	f.StringVar(&e.GRPC, "grpc-addr", "127.0.0.1:9090", "gRPC listen address")
	f.StringVar(&e.API, "api-addr", "127.0.0.1:1317", "REST API listen address")
	f.StringVar(&e.P2P, "p2p-addr", "127.0.0.1:26656", "CometBFT peer-to-peer listen address")
	f.StringVar(&e.Metrics, "metrics-addr", "127.0.0.1:26660", "Prometheus metrics (CometBFT and app) listen address")
	f.StringVar(&e.EVMMetrics, "evm-rpc-metrics", "127.0.0.1:6065", "JSON-RPC server metrics listen address (set on first run)")
	f.StringVar(&e.GethMetrics, "geth-metrics", "127.0.0.1:8100", "EVM (geth) metrics listen address")
	for _, s := range upServices {
		starts = append(starts, s(f))
	}
	return c
}

func printAccounts(w io.Writer, accs []network.DevAccount) {
	if len(accs) == 0 {
		return
	}
	fmt.Fprintf(w, "\nDev accounts (%s each):\n", "1,000,000 SAH")
	for i, a := range accs {
		fmt.Fprintf(w, "(%d) %s\n", i, a.Address)
	}
	fmt.Fprintln(w, "\nPrivate keys:")
	for i, a := range accs {
		fmt.Fprintf(w, "(%d) %s\n", i, a.PrivateKey)
	}
}

// announceReady prints one line once the chain has produced a block.
func announceReady(w io.Writer, cometRPC string) {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		resp, err := http.Get("http://" + cometRPC + "/status")
		if err != nil {
			continue
		}
		var st struct {
			Result struct {
				SyncInfo struct {
					Height string `json:"latest_block_height"`
				} `json:"sync_info"`
			} `json:"result"`
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err == nil && st.Result.SyncInfo.Height != "" && st.Result.SyncInfo.Height != "0" {
			fmt.Fprintf(w, "Ready: producing blocks (height %s). Ctrl-C to stop.\n", st.Result.SyncInfo.Height)
			return
		}
	}
}

// applyChangedAddresses writes the flags the user set on a later run into
// config.toml and app.toml, leaving every other setting (and any hand edit)
// as it is.
// checkGenesisBlockGas refuses a --block-gas that differs from the one the chain was created
// with: the limit lives in the chain's state from then on.
func checkGenesisBlockGas(genesis string, gas int64) error {
	gen, err := genutiltypes.AppGenesisFromFile(genesis)
	if err != nil {
		return err
	}
	if gen.Consensus == nil || gen.Consensus.Params == nil || gen.Consensus.Params.Block.MaxGas != gas {
		return fmt.Errorf("--block-gas %d: this chain (%s) was created with another block gas limit, which now lives in its state; change it by a governance proposal, or start a new chain with another --home", gas, genesis)
	}
	return nil
}

func applyChangedAddresses(cmd *cobra.Command, home string, e endpoints, blockTime time.Duration) error {
	ch := cmd.Flags().Changed
	if ch("block-time") || ch("metrics-addr") || ch("cometbft-rpc") || ch("p2p-addr") {
		if err := network.PatchCometConfig(home, func(c *cmtcfg.Config) {
			if ch("block-time") {
				c.Consensus.TimeoutCommit = blockTime
			}
			if ch("metrics-addr") {
				c.Instrumentation.PrometheusListenAddr = e.Metrics
			}
			if ch("cometbft-rpc") {
				c.RPC.ListenAddress = "tcp://" + e.CometRPC
			}
			if ch("p2p-addr") {
				c.P2P.ListenAddress = "tcp://" + e.P2P
			}
		}); err != nil {
			return err
		}
	}
	if !(ch("evm-rpc") || ch("evm-ws") || ch("grpc-addr") || ch("api-addr") || ch("evm-rpc-metrics") || ch("geth-metrics")) {
		return nil
	}
	return network.PatchAppConfig(home, func(ac *network.AppConfig) {
		if ch("evm-rpc") {
			ac.JSONRPC.Address = e.EVMRPC
		}
		if ch("evm-ws") {
			ac.JSONRPC.WsAddress = e.EVMWS
		}
		if ch("grpc-addr") {
			ac.GRPC.Address = e.GRPC
		}
		if ch("api-addr") {
			ac.API.Address = "tcp://" + e.API
		}
		if ch("evm-rpc-metrics") {
			ac.JSONRPC.MetricsAddress = e.EVMMetrics
		}
		if ch("geth-metrics") {
			ac.EVM.GethMetricsAddress = e.GethMetrics
		}
	})
}
