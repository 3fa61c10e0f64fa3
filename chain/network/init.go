// Package network creates node homes for a new chain: keys, CometBFT and
// app configuration, and a genesis shared by every validator. `sahara up`
// uses it for the one-validator dev chain and `sahara localnet` for several
// validators on loopback.
package network

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cosmos/go-bip39"
	"github.com/ethereum/go-ethereum/common"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmttypes "github.com/cometbft/cometbft/types"

	dbm "github.com/cosmos/cosmos-db"
	evmhd "github.com/cosmos/evm/crypto/hd"
	evmkeyring "github.com/cosmos/evm/crypto/keyring"
	evmserverconfig "github.com/cosmos/evm/server/config"

	"cosmossdk.io/log/v2"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	srvconfig "github.com/cosmos/cosmos-sdk/server/config"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/x/genutil"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"

	"sahara/chain/app"
	saharapc "sahara/chain/rpc"
)

// Ports are one node's listen ports on Host.
type Ports struct {
	P2P, RPC, GRPC, API, JSONRPC, WS, JSONRPCMetrics, GethMetrics, Prometheus int
}

// DefaultPorts are the ports of the first node; node i adds i*Stride.
var DefaultPorts = Ports{P2P: 26656, RPC: 26657, GRPC: 9090, API: 1317, JSONRPC: 8545, WS: 8546,
	JSONRPCMetrics: 6065, GethMetrics: 8100, Prometheus: 26660}

// Offset returns the ports shifted by d (several nodes on one host).
func (p Ports) Offset(d int) Ports {
	return Ports{p.P2P + d, p.RPC + d, p.GRPC + d, p.API + d, p.JSONRPC + d, p.WS + d, p.JSONRPCMetrics + d, p.GethMetrics + d, p.Prometheus + d}
}

// Spec describes a new chain.
type Spec struct {
	ChainID     string
	Validators  int
	DevAccounts int           // accounts funded from the mnemonic (m/44'/60'/0'/0/i)
	DevBalance  sdkmath.Int   // asah each
	Mnemonic    string        // generated when empty
	BlockTime   time.Duration // CometBFT timeout_commit
	BlockMaxGas int64         // gas limit of a block; BlockMaxGas when 0
	Host        string        // listen host, 127.0.0.1 by default
	Ports       func(i int) Ports
	// NodeHome maps a validator index to its home folder.
	NodeHome func(i int) string
	// ImportKeys puts the dev accounts (dev0, dev1, ...) into the test
	// keyring of the first node's home, so `sahara tx ... --from dev0` works.
	ImportKeys bool
	// Tune, when set, adjusts each node's configuration before it is written.
	Tune func(i int, cmt *cmtcfg.Config, appCfg *AppConfig)
}

// AppConfig is app.toml: the SDK server settings plus the EVM and JSON-RPC ones.
type AppConfig struct {
	srvconfig.Config `mapstructure:",squash"`
	EVM              evmserverconfig.EVMConfig     `mapstructure:"evm"`
	JSONRPC          evmserverconfig.JSONRPCConfig `mapstructure:"json-rpc"`
	TLS              evmserverconfig.TLSConfig     `mapstructure:"tls"`
}

// AppConfigTemplate renders AppConfig.
const AppConfigTemplate = srvconfig.DefaultConfigTemplate + evmserverconfig.DefaultEVMConfigTemplate

// DevAccount is a funded development account, as written to dev-accounts.json.
type DevAccount struct {
	Address    string `json:"address"`
	PrivateKey string `json:"private_key"`
}

// Result is what Init created.
type Result struct {
	Mnemonic string
	Accounts []DevAccount
	Homes    []string
	NodeIDs  []string
}

// BlockMaxGas is the gas limit of a block.
const BlockMaxGas = 100_000_000

// DefaultDevBalance is what each dev account gets: 1,000,000 SAH.
var DefaultDevBalance = sdkmath.NewIntWithDecimal(1_000_000, app.Decimals)

// DeriveAccount returns the i-th Ethereum account of a mnemonic: its
// address and its private key (path m/44'/60'/0'/0/i, as MetaMask and
// Foundry derive them).
func DeriveAccount(mnemonic string, i int) (sdk.AccAddress, []byte, error) {
	bz, err := evmhd.EthSecp256k1.Derive()(mnemonic, "", fmt.Sprintf("m/44'/60'/0'/0/%d", i))
	if err != nil {
		return nil, nil, err
	}
	priv := evmhd.EthSecp256k1.Generate()(bz)
	return sdk.AccAddress(priv.PubKey().Address()), bz, nil
}

// Init writes the homes of spec's validators and returns the dev accounts.
func Init(spec Spec) (*Result, error) {
	app.SetSDKConfig()
	if spec.Validators <= 0 {
		spec.Validators = 1
	}
	if spec.ChainID == "" {
		spec.ChainID = app.DefaultChainID
	}
	if spec.Host == "" {
		spec.Host = "127.0.0.1"
	}
	if spec.DevBalance.IsNil() {
		spec.DevBalance = DefaultDevBalance
	}
	if spec.BlockTime <= 0 {
		spec.BlockTime = time.Second
	}
	if spec.Ports == nil {
		spec.Ports = func(i int) Ports { return DefaultPorts.Offset(i * 100) }
	}
	if spec.Mnemonic == "" {
		entropy, err := bip39.NewEntropy(256)
		if err != nil {
			return nil, err
		}
		if spec.Mnemonic, err = bip39.NewMnemonic(entropy); err != nil {
			return nil, err
		}
	} else if !bip39.IsMnemonicValid(spec.Mnemonic) {
		return nil, fmt.Errorf("the mnemonic is not a valid BIP-39 phrase")
	}
	res := &Result{Mnemonic: spec.Mnemonic}
	var gcfg app.GenesisConfig
	for i := 0; i < spec.DevAccounts; i++ {
		addr, key, err := DeriveAccount(spec.Mnemonic, i)
		if err != nil {
			return nil, err
		}
		res.Accounts = append(res.Accounts, DevAccount{
			Address:    common.BytesToAddress(addr).Hex(),
			PrivateKey: "0x" + common.Bytes2Hex(key),
		})
		gcfg.Accounts = append(gcfg.Accounts, app.GenesisAccount{Address: addr, Amount: spec.DevBalance})
	}

	// A throwaway app instance gives the codecs and the module defaults.
	tmp := app.New(log.NewNopLogger(), dbm.NewMemDB(), false, simtestutil.EmptyAppOptions{})
	if spec.ImportKeys {
		kr, err := keyring.New(sdk.KeyringServiceName(), keyring.BackendTest, spec.NodeHome(0), nil, tmp.AppCodec(), evmkeyring.Option())
		if err != nil {
			return nil, err
		}
		for i := 0; i < spec.DevAccounts; i++ {
			if _, err := kr.NewAccount(fmt.Sprintf("dev%d", i), spec.Mnemonic, "", fmt.Sprintf("m/44'/60'/0'/0/%d", i), evmhd.EthSecp256k1); err != nil {
				return nil, fmt.Errorf("import dev%d into the keyring: %w", i, err)
			}
		}
	}
	cmtConfigs := make([]*cmtcfg.Config, spec.Validators)
	for i := 0; i < spec.Validators; i++ {
		home := spec.NodeHome(i)
		if err := os.MkdirAll(filepath.Join(home, "config"), 0o700); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Join(home, "data"), 0o700); err != nil {
			return nil, err
		}
		ports := spec.Ports(i)
		cmt := cmtcfg.DefaultConfig()
		cmt.SetRoot(home)
		cmt.Moniker = fmt.Sprintf("validator-%d", i)
		cmt.P2P.ListenAddress = fmt.Sprintf("tcp://%s:%d", spec.Host, ports.P2P)
		cmt.RPC.ListenAddress = fmt.Sprintf("tcp://%s:%d", spec.Host, ports.RPC)
		cmt.RPC.PprofListenAddress = ""
		cmt.Consensus.TimeoutCommit = spec.BlockTime
		// The EVM mempool lives in the app (nonce ordering, replacement by
		// fee); CometBFT only reaps from it.
		cmt.Mempool.Type = cmtcfg.MempoolTypeApp
		cmt.Instrumentation.Prometheus = true
		cmt.Instrumentation.PrometheusListenAddr = fmt.Sprintf("%s:%d", spec.Host, ports.Prometheus)
		// Several nodes on one host: same IP for every peer, no public address book.
		cmt.P2P.AllowDuplicateIP = true
		cmt.P2P.AddrBookStrict = false
		cmt.P2P.PexReactor = spec.Validators > 1

		nodeID, consKey, err := genutil.InitializeNodeValidatorFiles(cmt)
		if err != nil {
			return nil, err
		}
		res.Homes = append(res.Homes, home)
		res.NodeIDs = append(res.NodeIDs, nodeID)
		cmtConfigs[i] = cmt

		// The validator operator is its own key (derived far from the dev
		// accounts); it holds only its bond.
		opAddr, _, err := DeriveAccount(spec.Mnemonic, 1000+i)
		if err != nil {
			return nil, err
		}
		gcfg.Validators = append(gcfg.Validators, app.GenesisValidator{
			Moniker: cmt.Moniker, Operator: opAddr, ConsKey: consKey,
			Bond: sdkmath.NewIntWithDecimal(1000, app.Decimals),
		})

		ac := DefaultAppConfig(spec.Host, ports)
		if spec.Tune != nil {
			spec.Tune(i, cmt, ac)
		}
		srvconfig.SetConfigTemplate(AppConfigTemplate)
		srvconfig.WriteConfigFile(filepath.Join(home, "config", "app.toml"), ac)
	}
	gcfg.GovVotingPeriod = 2 * time.Minute
	state, err := tmp.BuildGenesis(gcfg)
	if err != nil {
		return nil, err
	}
	stateJSON, err := json.MarshalIndent(state, "", " ")
	if err != nil {
		return nil, err
	}
	gen := genutiltypes.NewAppGenesisWithVersion(spec.ChainID, stateJSON)
	gen.AppName = app.AppName
	gen.GenesisTime = time.Now().UTC().Truncate(time.Second)
	cp := cmttypes.DefaultConsensusParams()
	// 100M gas a block: ~4,700 plain transfers, well above what two cores
	// execute per second, so the block limit is never the bottleneck.
	cp.Block.MaxGas = BlockMaxGas
	if spec.BlockMaxGas != 0 {
		cp.Block.MaxGas = spec.BlockMaxGas
	}
	gen.Consensus.Params = cp
	for i, cmt := range cmtConfigs {
		var peers []string
		for j, id := range res.NodeIDs {
			if j != i {
				peers = append(peers, fmt.Sprintf("%s@%s:%d", id, spec.Host, spec.Ports(j).P2P))
			}
		}
		cmt.P2P.PersistentPeers = strings.Join(peers, ",")
		cmtcfg.WriteConfigFile(filepath.Join(cmt.RootDir, "config", "config.toml"), cmt)
		client := fmt.Sprintf("chain-id = %q\nkeyring-backend = \"test\"\noutput = \"text\"\nnode = %q\nbroadcast-mode = \"sync\"\n",
			spec.ChainID, cmt.RPC.ListenAddress)
		if err := os.WriteFile(filepath.Join(cmt.RootDir, "config", "client.toml"), []byte(client), 0o600); err != nil {
			return nil, err
		}
		if err := gen.SaveAs(cmt.GenesisFile()); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// IndexedEvents are the event attributes CometBFT's tx indexer writes (app.toml index-events),
// so `sahara q txs --query` can find transactions by them; tx.hash and tx.height are always
// indexed. Indexing every attribute of every event cost 7.7% of node CPU under load (bench/chain,
// variant allevents), and Ethereum clients never need it: JSON-RPC keeps its own index
// (json-rpc.enable-indexer). The ethereum_tx keys are what JSON-RPC searches when that index is
// off. An empty list in app.toml indexes everything again.
var IndexedEvents = []string{
	"message.sender", "message.action", "message.module",
	"ethereum_tx.ethereumTxHash", "ethereum_tx.txIndex",
	"sahara.registry.v1.asset_registered.id", "sahara.registry.v1.asset_registered.owner",
	"sahara.registry.v1.version_added.id", "sahara.registry.v1.ownership_transferred.id",
	"sahara.registry.v1.ownership_transferred.to", "sahara.registry.v1.shares_transferred.id",
	"sahara.registry.v1.shares_transferred.from", "sahara.registry.v1.shares_transferred.to",
	"sahara.licensing.v1.terms_created.terms_id", "sahara.licensing.v1.terms_attached.asset_id",
	"sahara.licensing.v1.license_minted.license_id", "sahara.licensing.v1.license_minted.asset_id",
	"sahara.licensing.v1.license_transferred.license_id", "sahara.licensing.v1.license_transferred.to",
	"sahara.licensing.v1.license_revoked.license_id",
	"sahara.royalty.v1.paid.asset_id", "sahara.royalty.v1.claimed.claimant",
	"sahara.datatask.v1.pool_created.pool_id", "sahara.datatask.v1.pool_created.requester",
	"sahara.datatask.v1.payouts_posted.pool_id", "sahara.datatask.v1.pool_closed.pool_id",
	"sahara.datatask.v1.dataset_minted.pool_id",
}

// DefaultAppConfig is the app.toml of a node listening on host with ports.
func DefaultAppConfig(host string, p Ports) *AppConfig {
	sc := srvconfig.DefaultConfig()
	sc.MinGasPrices = "0" + app.Denom
	sc.API.Enable = true
	sc.API.Address = fmt.Sprintf("tcp://%s:%d", host, p.API)
	sc.GRPC.Enable = true
	sc.GRPC.Address = fmt.Sprintf("%s:%d", host, p.GRPC)
	sc.Telemetry.Enabled = true
	sc.Telemetry.PrometheusRetentionTime = 60
	sc.Pruning = "default"
	sc.IndexEvents = IndexedEvents

	evm := evmserverconfig.DefaultEVMConfig()
	evm.EVMChainID = app.EVMChainID
	evm.GethMetricsAddress = fmt.Sprintf("%s:%d", host, p.GethMetrics)
	// A larger txpool and IAVL cache: measured side by side in bench/chain (three runs, 1.10–1.28x
	// over the library defaults of 5,120 global / 16 per-account slots and a 781k-node cache).
	sc.IAVLCacheSize = 2_000_000
	evm.Mempool.GlobalSlots = 20_000
	evm.Mempool.AccountSlots = 64
	evm.Mempool.GlobalQueue = 5_000
	rpc := evmserverconfig.DefaultJSONRPCConfig()
	rpc.Enable = true
	rpc.EnableIndexer = true
	rpc.API = []string{"eth", saharapc.PendingNonceNamespace, saharapc.IndexRepairNamespace, "net", "web3", "txpool", "debug"}
	rpc.Address = fmt.Sprintf("%s:%d", host, p.JSONRPC)
	rpc.WsAddress = fmt.Sprintf("%s:%d", host, p.WS)
	rpc.MetricsAddress = fmt.Sprintf("%s:%d", host, p.JSONRPCMetrics)
	// eth_call and eth_estimateGas may use as much gas as a block holds (the default cap, 25M, is
	// below a payout batch of 1,000 new contributors at ~34k gas each).
	rpc.GasCap = BlockMaxGas
	return &AppConfig{Config: *sc, EVM: *evm, JSONRPC: *rpc, TLS: *evmserverconfig.DefaultTLSConfig()}
}
