// Command protocols benchmarks the registry, licensing and royalty precompiles against the same
// logic written as a plain Solidity contract (contracts/src/RoyaltyBaseline.sol), side by side on
// one fresh chain: gas per transaction and included transactions per second for registering with
// 0/16/64 parents, minting a license, paying into an asset with 1/100/1,000 ancestors, and one
// claim across 100 assets.
//
// The starting state (1,000 datasets, assets with 1, 100 and 1,000 flattened ancestors, licenses,
// 100 assets shared by the claimers) is written into the native modules' genesis and seeded into
// the contract by its admin before anything is measured.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"cosmossdk.io/log/v2"
	sdkmath "cosmossdk.io/math"

	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"sahara/chain/app"
	"sahara/chain/network"
	licensingpc "sahara/chain/precompiles/licensing"
	registrypc "sahara/chain/precompiles/registry"
	royaltypc "sahara/chain/precompiles/royalty"
	lt "sahara/chain/x/licensing/types"
	rt "sahara/chain/x/registry/types"
	yt "sahara/chain/x/royalty/types"
	"sahara/contracts"
	"sahara/internal/machine"
	"sahara/internal/testnode"
	"sahara/sdk/evmclient"
)

const (
	datasets    = 1000
	p1, p100    = 1001, 1002
	p1000       = 1003
	firstClaim  = 1004
	claimAssets = 100
	ancShare    = 10_000 // 0.01% per ancestor: 1,000 ancestors take 10%
)

var (
	registryAddr  = registrypc.Address
	licensingAddr = licensingpc.Address
	royaltyAddr   = royaltypc.Address
)

type parentArg = registrypc.ParentArg

type bench struct {
	ctx                 context.Context
	c                   *evmclient.Client
	n                   *testnode.Node
	admin               *evmclient.Wallet
	senders             []*evmclient.Wallet
	claimers            []*evmclient.Wallet
	nonces              map[common.Address]uint64
	fees                evmclient.Fees
	startBaseFee        *big.Int // the base fee before any load; each measurement starts near it
	reg, lic, roy, base abi.ABI
	baseAddr            common.Address
}

func main() {
	bin := flag.String("bin", "build/sahara", "the sahara binary")
	nSenders := flag.Int("senders", 50, "accounts sending the register, mint and pay transactions")
	nClaimers := flag.Int("claimers", 200, "shareholders of the 100 claim assets (one claim each)")
	per := flag.Int("per-sender", 6, "transactions per sender for the cheap operations (fewer for the heavy ones)")
	keep := flag.Bool("keep", false, "keep the chain home")
	only := flag.String("only", "", "run only the operations whose name contains this")
	flag.Int64Var(&blockGas, "block-gas", 0, "override the block gas limit in the bench genesis (0: the chain's default)")
	flag.StringVar(&pprofOut, "pprof", "", "write a 10 s CPU profile of the node, taken during each native measurement, to PREFIX-<op>.pprof")
	flag.Parse()
	if 100_000_000%*nClaimers != 0 {
		fail(fmt.Errorf("-claimers must divide 1e8"))
	}
	ctx := context.Background()
	home, err := os.MkdirTemp("", "sahara-bench-protocols")
	fail(err)
	if !*keep {
		defer os.RemoveAll(home)
	}
	fmt.Printf("# protocols bench — %s, %s, %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), hostname(), machine.CPUModel())
	fmt.Printf("# senders %d, claimers %d, %d txs/sender for cheap ops\n\n", *nSenders, *nClaimers, *per)

	b, err := setup(ctx, *bin, home, *nSenders, *nClaimers)
	fail(err)
	defer b.n.Stop()

	root := [32]byte{1}
	parents := func(s, k int) []parentArg {
		ps := make([]parentArg, k)
		for j := range ps {
			ps[j] = parentArg{ParentId: uint64(j + 1), EdgeType: 1, LicenseId: uint64(s*64 + j + 1)}
		}
		return ps
	}
	ether := evmclient.Ether(1)
	type op struct {
		name   string
		count  int // per sender
		from   []*evmclient.Wallet
		native func(s int) (common.Address, *big.Int, []byte)
		sol    func(s int) (common.Address, *big.Int, []byte)
	}
	reg := func(k int) func(int) (common.Address, *big.Int, []byte) {
		return func(s int) (common.Address, *big.Int, []byte) {
			return registryAddr, nil, b.pack(&b.reg, "registerAsset", uint8(1), "bench", "", root, uint64(0), parents(s, k))
		}
	}
	regSol := func(k int) func(int) (common.Address, *big.Int, []byte) {
		return func(s int) (common.Address, *big.Int, []byte) {
			return b.baseAddr, nil, b.pack(&b.base, "register", "bench", root, parents(s, k))
		}
	}
	pay := func(id uint64) func(int) (common.Address, *big.Int, []byte) {
		return func(int) (common.Address, *big.Int, []byte) {
			return royaltyAddr, nil, b.pack(&b.roy, "pay", id, "asah", ether)
		}
	}
	paySol := func(id uint64) func(int) (common.Address, *big.Int, []byte) {
		return func(int) (common.Address, *big.Int, []byte) { return b.baseAddr, ether, b.pack(&b.base, "pay", id) }
	}
	ops := []op{
		{"register, 0 parents", *per, b.senders, reg(0), regSol(0)},
		{"register, 16 parents", max(1, *per/2), b.senders, reg(16), regSol(16)},
		{"register, 64 parents", max(1, *per/3), b.senders, reg(64), regSol(64)},
		{"mint license (fee 1000 asah)", *per, b.senders, func(int) (common.Address, *big.Int, []byte) {
			return licensingAddr, nil, b.pack(&b.lic, "mintLicense", uint64(1), uint64(2), common.Address{}, "asah", big.NewInt(1000), uint32(0))
		}, nil},
		{"pay, 1 ancestor", *per, b.senders, pay(p1), paySol(p1)},
		{"pay, 100 ancestors", max(1, *per/2), b.senders, pay(p100), paySol(p100)},
		{"pay, 1,000 ancestors", max(1, *per/40), b.senders, pay(p1000), paySol(p1000)},
		{"claim across 100 assets", 1, b.claimers, func(int) (common.Address, *big.Int, []byte) {
			return royaltyAddr, nil, b.pack(&b.roy, "claim", uint64(0))
		}, func(int) (common.Address, *big.Int, []byte) { return b.baseAddr, nil, b.pack(&b.base, "claim") }},
	}
	fmt.Println("| operation | txs | native gas | Solidity gas | gas ratio (Solidity/native) | native / Solidity gas limit | native tx/s | Solidity tx/s | tx/s ratio (native/Solidity) |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, o := range ops {
		if !strings.Contains(o.name, *only) {
			continue
		}
		stopProfile := b.profile(o.name)
		nat, err := b.measure(o.from, o.count, o.native)
		stopProfile()
		fail(err)
		row := fmt.Sprintf("| %s | %d | %s | ", o.name, nat.txs, commas(nat.gas))
		if o.sol == nil {
			row += fmt.Sprintf("– | – | %s / – | %.0f | – | – |", commas(nat.limit), nat.tps)
		} else {
			sol, err := b.measure(o.from, o.count, o.sol)
			fail(err)
			row += fmt.Sprintf("%s | **%.2fx** | %s / %s | %.0f | %.0f | **%.2fx** |", commas(sol.gas), float64(sol.gas)/float64(nat.gas), commas(nat.limit), commas(sol.limit), nat.tps, sol.tps, nat.tps/sol.tps)
		}
		fmt.Println(row)
	}
}

var (
	pprofOut, pprofAddr string
	blockGas            int64
)

// profile starts a 10 s CPU profile of the node (with -pprof); the
// returned func waits for it and writes it.
func (b *bench) profile(op string) func() {
	if pprofAddr == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Get("http://" + pprofAddr + "/debug/pprof/profile?seconds=10")
		if err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
			return
		}
		defer resp.Body.Close()
		name := pprofOut + "-" + strings.NewReplacer(" ", "", ",", "", "(", "", ")", "").Replace(op) + ".pprof"
		f, err := os.Create(name)
		if err != nil {
			return
		}
		io.Copy(f, resp.Body)
		f.Close()
	}()
	return func() { <-done }
}

type result struct {
	txs   int
	gas   uint64 // mean gas used
	limit uint64 // gas limit of each transaction (1.5x eth_estimateGas)
	tps   float64
}

// measure pre-signs count transactions per sender, submits them concurrently (each sender in
// nonce order), and follows the blocks until every one is included; every one must succeed.
func (b *bench) measure(from []*evmclient.Wallet, count int, build func(s int) (common.Address, *big.Int, []byte)) (*result, error) {
	to, value, data := build(0)
	est, err := b.c.EstimateGas(b.ctx, callMsg(from[0].Address, to, value, data))
	if err != nil {
		return nil, fmt.Errorf("estimate: %w", err)
	}
	gas := min(est+est/2, 60_000_000)
	txs := make([][]*types.Transaction, len(from))
	want := map[common.Hash]bool{}
	for s, w := range from {
		for k := 0; k < count; k++ {
			to, value, data := build(s)
			tx, err := b.c.Sign(w, evmclient.TxOpts{Nonce: b.nonces[w.Address], To: &to, Value: value, Gas: gas, Data: data, Fees: b.fees})
			if err != nil {
				return nil, err
			}
			b.nonces[w.Address]++
			txs[s] = append(txs[s], tx)
			want[tx.Hash()] = true
		}
	}
	if err := b.settleFees(); err != nil {
		return nil, err
	}
	start, err := b.c.BlockNumber(b.ctx)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, len(from))
	for s := range from {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			for _, tx := range txs[s] {
				if err := b.c.SendTransaction(b.ctx, tx); err != nil {
					errs <- fmt.Errorf("send: %w", err)
					return
				}
			}
		}(s)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	var blocks []uint64
	var t1 time.Time
	seen := 0
	deadline := time.Now().Add(5 * time.Minute)
	for h := start + 1; seen < len(want); {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("only %d of %d transactions included after 5 minutes", seen, len(want))
		}
		var blk struct {
			Transactions []common.Hash `json:"transactions"`
		}
		if err := b.c.Client.Client().CallContext(b.ctx, &blk, "eth_getBlockByNumber", hexutil.EncodeUint64(h), false); err != nil || blk.Transactions == nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		mine := 0
		for _, tx := range blk.Transactions {
			if want[tx] {
				mine++
			}
		}
		if mine > 0 {
			seen += mine
			blocks = append(blocks, h)
			t1 = time.Now()
		}
		h++
	}
	var total uint64
	for _, h := range blocks {
		var rs []*types.Receipt
		if err := b.c.Client.Client().CallContext(b.ctx, &rs, "eth_getBlockReceipts", hexutil.EncodeUint64(h)); err != nil {
			return nil, err
		}
		for _, r := range rs {
			if !want[r.TxHash] {
				continue
			}
			if r.Status != types.ReceiptStatusSuccessful {
				return nil, fmt.Errorf("transaction %s failed (gas used %d of %d)", r.TxHash, r.GasUsed, gas)
			}
			total += r.GasUsed
		}
	}
	return &result{txs: len(want), gas: total / uint64(len(want)), limit: gas, tps: float64(len(want)) / t1.Sub(t0).Seconds()}, nil
}

func (b *bench) baseFee() (*big.Int, error) {
	h, err := b.c.HeaderByNumber(b.ctx, nil)
	if err != nil {
		return nil, err
	}
	if h.BaseFee == nil {
		return new(big.Int), nil
	}
	return h.BaseFee, nil
}

// settleFees waits (up to two minutes) until the base fee is back under twice what it was before
// any load, so that every measurement starts from the same fee market and none is priced out.
func (b *bench) settleFees() error {
	limit := new(big.Int).Mul(b.startBaseFee, big.NewInt(2))
	for deadline := time.Now().Add(2 * time.Minute); ; {
		fee, err := b.baseFee()
		if err != nil {
			return err
		}
		if fee.Cmp(limit) <= 0 || limit.Sign() == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the base fee is still %s after two minutes (started at %s)", fee, b.startBaseFee)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func callMsg(from, to common.Address, value *big.Int, data []byte) ethereum.CallMsg {
	return ethereum.CallMsg{From: from, To: &to, Value: value, Data: data}
}

func (b *bench) pack(a *abi.ABI, method string, args ...any) []byte {
	bz, err := a.Pack(method, args...)
	fail(err)
	return bz
}

// setup writes the chain (genesis with the protocol state), starts it, deploys and seeds the
// Solidity baseline, and funds both sides' claim assets.
func setup(ctx context.Context, bin, home string, nSenders, nClaimers int) (*bench, error) {
	ports, err := testnode.FreePorts(9)
	if err != nil {
		return nil, err
	}
	accounts := 1 + max(nSenders, nClaimers)
	res, err := network.Init(network.Spec{Validators: 1, DevAccounts: accounts, NodeHome: func(int) string { return home },
		Ports: func(int) network.Ports {
			return network.Ports{JSONRPC: ports[0], WS: ports[1], RPC: ports[2], GRPC: ports[3], API: ports[4], P2P: ports[5], Prometheus: ports[6], JSONRPCMetrics: ports[7], GethMetrics: ports[8]}
		}})
	if err != nil {
		return nil, err
	}
	bz, _ := json.Marshal(res.Accounts)
	if err := os.WriteFile(filepath.Join(home, "dev-accounts.json"), bz, 0o600); err != nil {
		return nil, err
	}
	addr := func(i int) sdk.AccAddress {
		return sdk.AccAddress(common.HexToAddress(res.Accounts[i].Address).Bytes())
	}
	if err := writeProtocolGenesis(home, addr, nSenders, nClaimers); err != nil {
		return nil, err
	}
	// eth_call/eth_estimateGas are capped at 25M gas by default; the baseline's heavy calls need more.
	if pprofOut != "" {
		pp, _ := testnode.FreePorts(1)
		pprofAddr = "127.0.0.1:" + strconv.Itoa(pp[0])
		if err := network.PatchCometConfig(home, func(cc *cmtcfg.Config) { cc.RPC.PprofListenAddress = pprofAddr }); err != nil {
			return nil, err
		}
	}
	if err := network.PatchAppConfig(home, func(ac *network.AppConfig) { ac.JSONRPC.GasCap = 100_000_000 }); err != nil {
		return nil, err
	}
	n, err := testnode.StartUp(ctx, bin, home, "--log_level", "error")
	if err != nil {
		return nil, err
	}
	running = n
	c, err := n.Client(ctx)
	if err != nil {
		return nil, err
	}
	b := &bench{ctx: ctx, c: c, n: n, admin: n.Wallet(0), nonces: map[common.Address]uint64{}}
	for i := 1; i <= nSenders; i++ {
		b.senders = append(b.senders, n.Wallet(i))
	}
	for i := 1; i <= nClaimers; i++ {
		b.claimers = append(b.claimers, n.Wallet(i))
	}
	for i := range res.Accounts {
		w := n.Wallet(i)
		if b.nonces[w.Address], err = c.PendingNonceAt(ctx, w.Address); err != nil {
			return nil, err
		}
	}
	b.reg, b.lic, b.roy = contracts.MustLoad("IRegistry").ABI, contracts.MustLoad("ILicensing").ABI, contracts.MustLoad("IRoyalty").ABI
	base := contracts.MustLoad("RoyaltyBaseline")
	b.base = base.ABI
	fees, err := c.SuggestFees(ctx)
	if err != nil {
		return nil, err
	}
	// Blocks are packed by gas used, so under this load they run full and the base fee rises by an
	// eighth a block (EIP-1559). A fee cap of 1,000 gwei (as bench/chain) keeps every transaction
	// payable; settleFees lets the base fee fall back between measurements.
	b.fees = evmclient.Fees{TipCap: big.NewInt(1e9), FeeCap: new(big.Int).Add(new(big.Int).Mul(fees.FeeCap, big.NewInt(20)), big.NewInt(1e9))}
	if floor := big.NewInt(1e12); b.fees.FeeCap.Cmp(floor) < 0 {
		b.fees.FeeCap = floor
	}
	if b.startBaseFee, err = b.baseFee(); err != nil {
		return nil, err
	}
	b.baseAddr, _, err = c.Deploy(ctx, b.admin, base.Bytecode)
	if err != nil {
		return nil, fmt.Errorf("deploy the baseline: %w", err)
	}
	b.nonces[b.admin.Address]++
	// Seed the contract with the same state, in transactions that fit a block.
	var seeds [][]byte
	for lo := 1; lo < firstClaim+claimAssets; lo += 200 {
		seeds = append(seeds, b.pack(&b.base, "seedAssets", uint64(lo), uint64(min(200, firstClaim+claimAssets-lo)), b.admin.Address))
	}
	ids := func(lo, hi int) []uint64 {
		out := []uint64{}
		for i := lo; i <= hi; i++ {
			out = append(out, uint64(i))
		}
		return out
	}
	seeds = append(seeds, b.pack(&b.base, "seedAncestors", uint64(p1), ids(1, 1), uint64(ancShare)),
		b.pack(&b.base, "seedAncestors", uint64(p100), ids(1, 100), uint64(ancShare)))
	for lo := 1; lo <= datasets; lo += 200 {
		seeds = append(seeds, b.pack(&b.base, "seedAncestors", uint64(p1000), ids(lo, lo+199), uint64(ancShare)))
	}
	for s, w := range b.senders {
		seeds = append(seeds, b.pack(&b.base, "seedLicenses", uint64(s*64+1), uint64(1), uint64(64), w.Address, uint32(1)))
	}
	holders := make([]common.Address, len(b.claimers))
	for i, w := range b.claimers {
		holders[i] = w.Address
	}
	for a := firstClaim; a < firstClaim+claimAssets; a++ {
		seeds = append(seeds, b.pack(&b.base, "seedShares", uint64(a), uint64(1), holders, uint64(100_000_000/len(holders))))
	}
	var last *types.Transaction
	var sent []*types.Transaction
	for i, data := range seeds {
		est, err := c.EstimateGas(ctx, callMsg(b.admin.Address, b.baseAddr, nil, data))
		if err != nil {
			return nil, fmt.Errorf("seed %d: estimate: %w", i, err)
		}
		tx, err := c.Sign(b.admin, evmclient.TxOpts{Nonce: b.nonces[b.admin.Address], To: &b.baseAddr, Gas: 2 * est, Data: data, Fees: b.fees}) // estimated on state without the earlier seeds
		if err != nil {
			return nil, err
		}
		b.nonces[b.admin.Address]++
		if err := c.SendTransaction(ctx, tx); err != nil {
			return nil, fmt.Errorf("seed: %w", err)
		}
		sent = append(sent, tx)
	}
	if err := b.waitNonce(b.admin.Address); err != nil {
		return nil, fmt.Errorf("seeding the baseline: %w", err)
	}
	for i, tx := range sent {
		if r, err := c.TransactionReceipt(ctx, tx.Hash()); err != nil || r.Status != types.ReceiptStatusSuccessful {
			used := uint64(0)
			if r != nil {
				used = r.GasUsed
			}
			return nil, fmt.Errorf("seed transaction %d of %d failed (gas used %d of %d): %v", i, len(sent), used, tx.Gas(), err)
		}
	}
	// Revenue for the claim assets, on both sides, and one payment into each pay target so both
	// sides measure steady state (accumulators already written once).
	targets := []int{p1, p100, p1000}
	for a := firstClaim; a < firstClaim+claimAssets; a++ {
		targets = append(targets, a)
	}
	for _, a := range targets {
		for _, t := range []struct {
			to    common.Address
			value *big.Int
			data  []byte
		}{{royaltyAddr, nil, b.pack(&b.roy, "pay", uint64(a), "asah", evmclient.Ether(1))}, {b.baseAddr, evmclient.Ether(1), b.pack(&b.base, "pay", uint64(a))}} {
			tx, err := c.Sign(b.admin, evmclient.TxOpts{Nonce: b.nonces[b.admin.Address], To: &t.to, Value: t.value, Gas: 40_000_000, Data: t.data, Fees: b.fees})
			if err != nil {
				return nil, err
			}
			b.nonces[b.admin.Address]++
			if err := c.SendTransaction(ctx, tx); err != nil {
				return nil, fmt.Errorf("fund claim assets: %w", err)
			}
			last = tx
		}
	}
	if err := b.waitNonce(b.admin.Address); err != nil {
		return nil, fmt.Errorf("funding the claim assets: %w", err)
	}
	if r, err := c.TransactionReceipt(ctx, last.Hash()); err != nil || r.Status != types.ReceiptStatusSuccessful {
		return nil, fmt.Errorf("funding the claim assets failed: %v", err)
	}
	return b, nil
}

// writeProtocolGenesis puts the starting graph into the registry, licensing and royalty genesis.
func writeProtocolGenesis(home string, addr func(int) sdk.AccAddress, nSenders, nClaimers int) error {
	tmp := app.New(log.NewNopLogger(), dbm.NewMemDB(), false, simtestutil.EmptyAppOptions{})
	cdc := tmp.AppCodec()
	path := filepath.Join(home, "config", "genesis.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	var state map[string]json.RawMessage
	if err := json.Unmarshal(doc["app_state"], &state); err != nil {
		return err
	}
	admin := addr(0).String()
	reg := rt.DefaultGenesis()
	var root [32]byte
	asset := func(id uint64, kind rt.AssetKind) rt.Asset {
		return rt.Asset{Id: id, Kind: kind, Name: "seed", Owner: admin, ContentRoot: root[:], Version: 1}
	}
	for id := uint64(1); id <= datasets; id++ {
		reg.Assets = append(reg.Assets, asset(id, rt.ASSET_KIND_DATASET))
		reg.Shares = append(reg.Shares, rt.ShareEntry{AssetId: id, Address: admin, Shares: rt.TotalShares})
	}
	for _, p := range []struct{ id, anc uint64 }{{p1, 1}, {p100, 100}, {p1000, 1000}} {
		a := asset(p.id, rt.ASSET_KIND_MODEL)
		a.AncestorCount, a.RoyaltyStack = uint32(p.anc), p.anc*ancShare
		reg.Assets = append(reg.Assets, a)
		reg.Shares = append(reg.Shares, rt.ShareEntry{AssetId: p.id, Address: admin, Shares: rt.TotalShares})
		for d := uint64(1); d <= p.anc; d++ {
			reg.Ancestors = append(reg.Ancestors, rt.AncestorEntry{AssetId: p.id, Ancestor: rt.Ancestor{AssetId: d, Share: ancShare, Depth: 1}})
		}
	}
	roy := yt.DefaultGenesis()
	for id := uint64(firstClaim); id < firstClaim+claimAssets; id++ {
		reg.Assets = append(reg.Assets, asset(id, rt.ASSET_KIND_AGENT))
		for c := 1; c <= nClaimers; c++ {
			reg.Shares = append(reg.Shares, rt.ShareEntry{AssetId: id, Address: addr(c).String(), Shares: rt.TotalShares / uint64(nClaimers)})
			roy.Positions = append(roy.Positions, yt.Position{Address: addr(c).String(), AssetId: id})
		}
	}
	reg.NextAssetId = firstClaim + claimAssets
	lic := lt.DefaultGenesis()
	deriv := lt.Terms{CommercialUse: true, DerivativesAllowed: true, DerivativeRevShareBps: 1, MintFee: sdk.Coin{Amount: sdkmath.ZeroInt()}, PerCallPrice: sdk.Coin{Amount: sdkmath.ZeroInt()}}
	paid := lt.Terms{CommercialUse: true, MintFee: sdk.NewCoin(app.Denom, sdkmath.NewInt(1000)), PerCallPrice: sdk.Coin{Amount: sdkmath.ZeroInt()}}
	lic.Terms = []lt.TermsEntry{{Id: 1, Terms: deriv}, {Id: 2, Terms: paid}}
	lic.NextTermsId = 3
	lic.Attachments = append(lic.Attachments, lt.Attachment{AssetId: 1, TermsId: 2})
	for j := uint64(1); j <= 64; j++ {
		lic.Attachments = append(lic.Attachments, lt.Attachment{AssetId: j, TermsId: 1})
	}
	for s := 0; s < nSenders; s++ {
		for j := 0; j < 64; j++ {
			lic.Licenses = append(lic.Licenses, lt.License{Id: uint64(s*64 + j + 1), AssetId: uint64(j + 1), TermsId: 1, Terms: deriv, Holder: addr(s + 1).String()})
		}
	}
	lic.NextLicenseId = uint64(nSenders*64 + 1)
	// Receipts should show the gas really used: cosmos/evm's default charges at least min_gas_multiplier
	// (0.5) of a transaction's gas limit, which would flatten both sides' numbers towards their limits.
	// The chain's own genesis sets it to 0 too (chain/app/genesis.go); this keeps the bench independent of that.
	var fm map[string]json.RawMessage
	var params map[string]any
	if err := json.Unmarshal(state["feemarket"], &fm); err != nil {
		return err
	}
	if err := json.Unmarshal(fm["params"], &params); err != nil {
		return err
	}
	params["min_gas_multiplier"] = "0.000000000000000000"
	if fm["params"], err = json.Marshal(params); err != nil {
		return err
	}
	if state["feemarket"], err = json.Marshal(fm); err != nil {
		return err
	}
	state[rt.ModuleName] = cdc.MustMarshalJSON(reg)
	state[lt.ModuleName] = cdc.MustMarshalJSON(lic)
	state[yt.ModuleName] = cdc.MustMarshalJSON(roy)
	if doc["app_state"], err = json.Marshal(state); err != nil {
		return err
	}
	out, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		return err
	}
	if blockGas > 0 {
		return network.PatchBlockMaxGas(home, blockGas)
	}
	return nil
}

func commas(v uint64) string {
	s := fmt.Sprint(v)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

// running is the chain under test, stopped on the way out whatever happens.
var running *testnode.Node

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		if running != nil {
			running.Kill()
		}
		os.Exit(1)
	}
}

// waitNonce waits until every transaction signed for addr is in a block (its mined nonce caught up).
func (b *bench) waitNonce(addr common.Address) error {
	deadline := time.Now().Add(3 * time.Minute)
	for {
		n, err := b.c.NonceAt(b.ctx, addr, nil)
		if err == nil && n >= b.nonces[addr] {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nonce of %s at %d, want %d after 3 minutes", addr, n, b.nonces[addr])
		}
		time.Sleep(200 * time.Millisecond)
	}
}
