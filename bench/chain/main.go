// Command chain is the chain throughput benchmark: it starts a fresh
// single-validator chain with many funded senders, pre-signs transactions,
// submits them concurrently over Ethereum JSON-RPC, and reports the
// included-and-successful transactions per second over a steady-state
// window, submit-to-inclusion latency (p50/p99), block time and rejections.
//
//	go run ./bench/chain -bin build/sahara                   # both workloads, every variant
//	go run ./bench/chain -bin build/sahara -workload native  # one workload
//
// Variants are node configurations run one after the other in the same
// invocation, so their ratios are comparable on a shared machine.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sahara/internal/machine"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"sahara/chain/network"
	"sahara/contracts"
	"sahara/internal/testnode"
	"sahara/sdk/evmclient"
)

type variant struct {
	name     string
	about    string
	optional bool // run only when named with -variant
	env      []string
	upArgs   []string // for the chain's first start (genesis settings)
	apply    func(home string) error
}

// variants are the configurations compared. Each starts from a fresh chain.
var variants = []variant{
	{name: "sahara", about: "as `sahara up` runs it: GOGC=400 (set by the binary), timeout_commit 1s"},
	{name: "gogc100", about: "Go's default collector pacing (GOGC=100): what the stock stack runs with", env: []string{"GOGC=100"}},
	{name: "blockstm2", about: "sahara + BlockSTM parallel execution with 2 workers (SAHARA_BLOCK_STM=2)", env: []string{"SAHARA_BLOCK_STM=2"}},
	{name: "fullrecheck", about: "sahara with the library's txpool rechecker: the whole ante handler on every pending tx after every block (SAHARA_RECHECK=full)",
		env: []string{"SAHARA_RECHECK=full"}},
	// Measured once and rejected; run only when named with -variant.
	{name: "tc300", about: "sahara + CometBFT timeout_commit 300ms", optional: true,
		apply: func(home string) error {
			return network.PatchCometConfig(home, func(c *cmtcfg.Config) { c.Consensus.TimeoutCommit = 300 * time.Millisecond })
		}},
	{name: "tc500", about: "sahara + CometBFT timeout_commit 500ms", optional: true,
		apply: func(home string) error {
			return network.PatchCometConfig(home, func(c *cmtcfg.Config) { c.Consensus.TimeoutCommit = 500 * time.Millisecond })
		}},
	{name: "allevents", about: "sahara with CometBFT's tx indexer writing every event attribute (index-events = [], the SDK default)", optional: true,
		apply: func(home string) error {
			return network.PatchAppConfig(home, func(ac *network.AppConfig) { ac.IndexEvents = nil })
		}},
	{name: "gas200", about: "sahara with a 200M block gas limit (twice the default)", optional: true,
		upArgs: []string{"--block-gas", strconv.Itoa(2 * network.BlockMaxGas)}},
	{name: "stockpool", about: "sahara with the library's txpool (5,120 global / 16 per-account slots, 1,024 queued) and IAVL cache (781,250 nodes)", optional: true,
		apply: func(home string) error {
			return network.PatchAppConfig(home, func(ac *network.AppConfig) {
				ac.IAVLCacheSize = 781_250
				ac.EVM.Mempool.GlobalSlots = 5_120
				ac.EVM.Mempool.AccountSlots = 16
				ac.EVM.Mempool.GlobalQueue = 1_024
			})
		}},
}

type config struct {
	bin, workload, only string
	senders, window     int
	conns               int
	warmup, measure     time.Duration
	keep                bool
	pprof               string
	erc20Gas            uint64
}

func main() {
	var c config
	flag.StringVar(&c.bin, "bin", "build/sahara", "the sahara binary")
	flag.StringVar(&c.workload, "workload", "both", "native, erc20 or both")
	flag.StringVar(&c.only, "variant", "", "comma-separated variants to run (default: every non-optional one)")
	flag.IntVar(&c.senders, "senders", 1000, "funded sender accounts")
	flag.IntVar(&c.window, "window", 8, "transactions in flight per sender")
	flag.IntVar(&c.conns, "conns", 64, "concurrent JSON-RPC submitters")
	flag.DurationVar(&c.warmup, "warmup", 10*time.Second, "load before measuring")
	flag.DurationVar(&c.measure, "measure", 60*time.Second, "steady-state window measured")
	flag.BoolVar(&c.keep, "keep", false, "keep the chain homes")
	flag.Uint64Var(&c.erc20Gas, "erc20-gas", 0, "gas limit of every ERC-20 transfer (default: eth_estimateGas, as a wallet sets it)")
	flag.StringVar(&c.pprof, "pprof", "", "write a 15 s CPU profile of the node, taken mid-measurement, to this file prefix")
	flag.Parse()

	host, _ := os.Hostname()
	fmt.Printf("# chain bench — %s, %s, %d cores, %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), host, runtime.NumCPU(), machine.CPUModel())
	fmt.Printf("# senders %d, window %d/sender, %d submitters, warmup %s, measured %s\n\n", c.senders, c.window, c.conns, c.warmup, c.measure)
	fmt.Println("| workload | variant | included ok tx/s | submitted | rejected | failed | p50 ms | p99 ms | block time ms | txs/block |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	results := map[string]map[string]float64{}
	for _, wl := range []string{"native", "erc20"} {
		if c.workload != "both" && c.workload != wl {
			continue
		}
		results[wl] = map[string]float64{}
		for _, v := range variants {
			if !c.selected(v) {
				continue
			}
			r, err := run(c, wl, v)
			if err != nil {
				fmt.Fprintln(os.Stderr, "error:", wl, v.name, err)
				os.Exit(1)
			}
			results[wl][v.name] = r.tps
			fmt.Printf("| %s | %s | %.0f | %d | %d | %d | %.0f | %.0f | %.0f | %.0f |\n", wl, v.name, r.tps, r.submitted, r.rejected,
				r.failed, r.p50, r.p99, r.blockMs, r.perBlock)
		}
	}
	fmt.Println()
	for wl, m := range results {
		if d, ok := m["gogc100"]; ok && d > 0 {
			for name, tps := range m {
				if name != "gogc100" {
					fmt.Printf("%s: %s / gogc100 = %.2fx\n", wl, name, tps/d)
				}
			}
		}
	}
	for _, v := range variants {
		if c.selected(v) {
			fmt.Printf("- %s: %s\n", v.name, v.about)
		}
	}
}

type result struct {
	tps                 float64
	submitted, rejected int64
	failed              int
	p50, p99            float64
	blockMs, perBlock   float64
}

func run(c config, workload string, v variant) (*result, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sahara-bench-"+workload+"-"+v.name)
	if err != nil {
		return nil, err
	}
	if !c.keep {
		defer os.RemoveAll(dir)
	}
	home := filepath.Join(dir, "home")
	bin, _ := filepath.Abs(c.bin)
	// First start creates the chain with the senders funded in genesis;
	// then the variant's configuration is applied and the node restarted.
	n, err := testnode.StartUp(ctx, bin, home, append([]string{"--accounts", strconv.Itoa(c.senders + 1), "--log_level", "error"}, v.upArgs...)...)
	if err != nil {
		return nil, err
	}
	if err := n.Stop(); err != nil {
		return nil, err
	}
	if v.apply != nil {
		if err := v.apply(home); err != nil {
			return nil, err
		}
	}
	n.Env = v.env
	pprofAddr := ""
	if c.pprof != "" {
		ports, _ := testnode.FreePorts(1)
		pprofAddr = "127.0.0.1:" + strconv.Itoa(ports[0])
		if err := network.PatchCometConfig(home, func(cc *cmtcfg.Config) { cc.RPC.PprofListenAddress = pprofAddr }); err != nil {
			return nil, err
		}
	}
	if err := n.Restart(ctx); err != nil {
		return nil, err
	}
	defer n.Stop()
	cl, err := n.Client(ctx)
	if err != nil {
		return nil, err
	}
	wallets := make([]*evmclient.Wallet, c.senders)
	for i := range wallets {
		wallets[i] = n.Wallet(i + 1)
	}
	fees, err := cl.SuggestFees(ctx)
	if err != nil {
		return nil, err
	}
	// Price well above the base fee so a rising base fee under load does
	// not strand transactions.
	// Blocks above the gas target raise the base fee 12.5% each, so
	// pre-signed transactions carry a cap far above today's base fee
	// (1,000 gwei: 0.021 SAH for a transfer), or they go stale mid-run.
	fees.FeeCap = new(big.Int).Mul(big.NewInt(1000), big.NewInt(1e9))
	fees.TipCap = big.NewInt(1e9)

	var build func(w *evmclient.Wallet, nonce uint64) (*types.Transaction, error)
	var tokenAddr common.Address
	startNonce := uint64(0)
	switch workload {
	case "native":
		// Each sender pays its own recipient: no single hot account.
		build = func(w *evmclient.Wallet, nonce uint64) (*types.Transaction, error) {
			to := recipientOf(w.Address)
			return cl.Sign(w, evmclient.TxOpts{Nonce: nonce, To: &to, Value: big.NewInt(1), Gas: 21000, Fees: fees})
		}
	case "erc20":
		tok := contracts.MustLoad("SaharaToken")
		owner := n.Wallet(0)
		code, _ := tok.DeployData("Bench", "BEN", evmclient.Ether(1_000_000_000))
		addr, _, err := cl.Deploy(ctx, owner, code)
		if err != nil {
			return nil, err
		}
		tokenAddr = addr
		// Setup, not measured: every sender gets tokens.
		if err := fundTokens(ctx, cl, owner, addr, tok, wallets); err != nil {
			return nil, err
		}
		// Gas limits as a wallet sets them, from eth_estimateGas: a sender's first transfer
		// creates its recipient's balance (a zero-to-nonzero store), later ones update it, and
		// the second is the cheaper estimate (a transfer to the owner, who holds tokens). Blocks
		// are packed by gas limit, so a flat over-provision would shrink them.
		estimate := func(to common.Address) (uint64, error) {
			data, _ := tok.ABI.Pack("transfer", to, big.NewInt(1))
			return cl.EstimateGas(ctx, ethereum.CallMsg{From: wallets[0].Address, To: &addr, Data: data})
		}
		gasFirst, err := estimate(recipientOf(wallets[0].Address))
		if err != nil {
			return nil, err
		}
		gasNext, err := estimate(owner.Address)
		if err != nil {
			return nil, err
		}
		if c.erc20Gas > 0 {
			gasFirst, gasNext = c.erc20Gas, c.erc20Gas
		}
		fmt.Fprintf(os.Stderr, "erc20 gas limits (eth_estimateGas): %d for a sender's first transfer, %d after\n", gasFirst, gasNext)
		build = func(w *evmclient.Wallet, nonce uint64) (*types.Transaction, error) {
			data, _ := tok.ABI.Pack("transfer", recipientOf(w.Address), big.NewInt(1))
			gas := gasNext
			if nonce == startNonce {
				gas = gasFirst
			}
			return cl.Sign(w, evmclient.TxOpts{Nonce: nonce, To: &addr, Gas: gas, Data: data, Fees: fees})
		}
	}
	// Pre-sign enough for the whole run at up to 3,000 tx/s.
	total := c.warmup + c.measure + 5*time.Second
	perSender := int(3000*total.Seconds())/c.senders + c.window
	signed := make([][][]byte, c.senders)
	var wg sync.WaitGroup
	for p := 0; p < runtime.NumCPU(); p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for s := p; s < c.senders; s += runtime.NumCPU() {
				signed[s] = make([][]byte, perSender)
				for k := 0; k < perSender; k++ {
					tx, err := build(wallets[s], startNonce+uint64(k))
					if err != nil {
						panic(err)
					}
					raw, _ := tx.MarshalBinary()
					signed[s][k] = raw
				}
			}
		}(p)
	}
	wg.Wait()
	nonces, err := currentNonces(ctx, cl, wallets)
	if err != nil {
		return nil, err
	}

	// Submitters: each sender keeps up to `window` transactions ahead of
	// its last included nonce.
	var submitted, rejected atomic.Int64
	included := make([]atomic.Int64, c.senders) // count of included txs per sender (from receipts)
	sentAt := make([][]int64, c.senders)        // unix nanos of submission per tx
	for s := range sentAt {
		sentAt[s] = make([]int64, perSender)
	}
	next := make([]int, c.senders)
	backoff := make([]time.Time, c.senders)
	reasons := &reasonCount{m: map[string]int{}}
	for s := range next {
		next[s] = int(nonces[s])
		included[s].Store(int64(nonces[s]))
	}
	hashIndex := map[common.Hash][2]int{} // tx hash → sender, nonce
	bodies := make([][][]byte, c.senders) // the JSON-RPC request of each, encoded before the clock starts
	for s := range signed {
		bodies[s] = make([][]byte, perSender)
		for k := int(nonces[s]); k < perSender; k++ {
			var tx types.Transaction
			_ = tx.UnmarshalBinary(signed[s][k])
			hashIndex[tx.Hash()] = [2]int{s, k}
			bodies[s][k] = []byte(`{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["` + hexutil.Encode(signed[s][k]) + `"]}`)
		}
	}
	runCtx, stop := context.WithTimeout(ctx, total)
	defer stop()
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.conns, MaxConnsPerHost: c.conns}}
	for w := 0; w < c.conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for runCtx.Err() == nil {
				progressed := false
				for s := w; s < c.senders; s += c.conns {
					if time.Now().Before(backoff[s]) {
						continue
					}
					for next[s] < perSender && int64(next[s]) < included[s].Load()+int64(c.window) {
						k := next[s]
						sentAt[s][k] = time.Now().UnixNano()
						if err := sendRaw(runCtx, httpc, n.RPC, bodies[s][k]); err != nil {
							if runCtx.Err() != nil {
								return
							}
							rejected.Add(1)
							reasons.note(err.Error())
							if strings.Contains(err.Error(), "nonce too low") || strings.Contains(err.Error(), "already known") {
								next[s]++ // already in the pool or included
							}
							backoff[s] = time.Now().Add(100 * time.Millisecond)
							break
						}
						submitted.Add(1)
						next[s]++
						progressed = true
					}
				}
				if !progressed {
					time.Sleep(5 * time.Millisecond)
				}
			}
		}(w)
	}

	// Block follower: receipts of every new block.
	type blkStat struct {
		t        time.Time
		ok, fail int
	}
	var blocks []blkStat
	var lat []float64
	start := time.Now()
	measureFrom := start.Add(c.warmup)
	measureTo := measureFrom.Add(c.measure)
	if pprofAddr != "" {
		go func() {
			time.Sleep(c.warmup + c.measure/4)
			resp, err := http.Get("http://" + pprofAddr + "/debug/pprof/profile?seconds=15")
			if err != nil {
				fmt.Fprintln(os.Stderr, "pprof:", err)
				return
			}
			defer resp.Body.Close()
			f, _ := os.Create(c.pprof + "-" + workload + "-" + v.name + ".pb.gz")
			io.Copy(f, resp.Body)
			f.Close()
		}()
	}
	h0, _ := cl.BlockNumber(ctx)
	last := h0
	for time.Now().Before(measureTo.Add(2 * time.Second)) {
		time.Sleep(50 * time.Millisecond)
		h, err := cl.BlockNumber(ctx)
		if err != nil || h <= last {
			continue
		}
		for b := last + 1; b <= h; b++ {
			// Transaction hashes only: full receipts of 2,000-transaction
			// blocks are costly to serve and would load the node under test.
			// Success is verified from state at the end instead.
			var blk struct {
				Txs []common.Hash `json:"transactions"`
			}
			if err := cl.Client.Client().CallContext(ctx, &blk, "eth_getBlockByNumber", hexutil.EncodeUint64(b), false); err != nil {
				return nil, fmt.Errorf("eth_getBlockByNumber %d: %w", b, err)
			}
			now := time.Now()
			bb := blkStat{t: now}
			for _, h := range blk.Txs {
				idx, ok := hashIndex[h]
				if !ok {
					continue
				}
				bb.ok++
				included[idx[0]].Add(1)
				if now.After(measureFrom) && now.Before(measureTo) && sentAt[idx[0]][idx[1]] > 0 {
					lat = append(lat, float64(now.UnixNano()-sentAt[idx[0]][idx[1]])/1e6)
				}
			}
			blocks = append(blocks, bb)
		}
		last = h
	}
	stop()
	wg.Wait()

	// Every included transfer must have succeeded: each recipient holds
	// exactly one unit (wei or token) per included transfer of its sender.
	succeeded, inc := int64(0), int64(0)
	for sIdx, w := range wallets {
		n := included[sIdx].Load() - int64(nonces[sIdx])
		inc += n
		var bal *big.Int
		to := recipientOf(w.Address)
		if workload == "native" {
			bal, err = cl.BalanceAt(ctx, to, nil)
		} else {
			bal, err = tokenBalance(ctx, cl, tokenAddr, to)
		}
		if err != nil {
			return nil, err
		}
		succeeded += min(bal.Int64(), n)
	}
	res := &result{submitted: submitted.Load(), rejected: rejected.Load(), failed: int(inc - succeeded)}
	reasons.print(workload + "/" + v.name)
	var okIn int
	var nb int
	var first, lastT time.Time
	for _, b := range blocks {
		if b.t.Before(measureFrom) || b.t.After(measureTo) {
			continue
		}
		if nb == 0 {
			first = b.t
		}
		lastT = b.t
		nb++
		okIn += b.ok
	}
	okShare := 1.0
	if inc > 0 {
		okShare = float64(succeeded) / float64(inc)
	}
	res.tps = float64(okIn) * okShare / c.measure.Seconds()
	if nb > 1 {
		res.blockMs = float64(lastT.Sub(first).Milliseconds()) / float64(nb-1)
		res.perBlock = float64(okIn) / float64(nb)
	}
	sort.Float64s(lat)
	if len(lat) > 0 {
		res.p50 = lat[len(lat)/2]
		res.p99 = lat[len(lat)*99/100]
	}
	return res, nil
}

func currentNonces(ctx context.Context, cl *evmclient.Client, ws []*evmclient.Wallet) ([]uint64, error) {
	out := make([]uint64, len(ws))
	for i, w := range ws {
		n, err := cl.NonceAt(ctx, w.Address, nil)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

func fundTokens(ctx context.Context, cl *evmclient.Client, owner *evmclient.Wallet, tokenAddr common.Address, tok *contracts.Artifact, ws []*evmclient.Wallet) error {
	fees, err := cl.SuggestFees(ctx)
	if err != nil {
		return err
	}
	fees.FeeCap.Mul(fees.FeeCap, big.NewInt(10))
	nonce, err := cl.PendingNonceAt(ctx, owner.Address)
	if err != nil {
		return err
	}
	var lastTx *types.Transaction
	for i, w := range ws {
		data, _ := tok.ABI.Pack("transfer", w.Address, evmclient.Ether(100_000))
		tx, err := cl.Sign(owner, evmclient.TxOpts{Nonce: nonce + uint64(i), To: &tokenAddr, Gas: 80_000, Data: data, Fees: fees})
		if err != nil {
			return err
		}
		for {
			err = cl.SendTransaction(ctx, tx)
			if err == nil {
				break
			}
			if !strings.Contains(err.Error(), "full") && !strings.Contains(err.Error(), "queue") {
				return fmt.Errorf("fund sender %d: %w", i, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		lastTx = tx
		if i%50 == 49 { // stay inside the per-account slots of the pool
			if _, err := cl.WaitReceipt(ctx, tx.Hash()); err != nil {
				return err
			}
		}
	}
	_, err = cl.WaitReceipt(ctx, lastTx.Hash())
	return err
}

func sendRaw(ctx context.Context, c *http.Client, url string, body []byte) error {
	req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	var r struct {
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return fmt.Errorf("bad response: %s", out)
	}
	if r.Error != nil {
		return fmt.Errorf("%s", r.Error.Message)
	}
	return nil
}

// recipientOf derives a distinct recipient per sender.
func recipientOf(a common.Address) common.Address {
	var r common.Address
	copy(r[:], a[:])
	r[0] ^= 0xff
	return r
}

// reasonCount tallies rejection messages (numbers stripped) for stderr.
type reasonCount struct {
	mu sync.Mutex
	m  map[string]int
}

func (r *reasonCount) note(msg string) {
	if i := strings.IndexAny(msg, "0123456789"); i > 0 {
		msg = msg[:i]
	}
	r.mu.Lock()
	r.m[msg]++
	r.mu.Unlock()
}

func (r *reasonCount) print(label string) {
	for m, n := range r.m {
		fmt.Fprintf(os.Stderr, "%s rejected %d× %q\n", label, n, m)
	}
}

func tokenBalance(ctx context.Context, cl *evmclient.Client, token, who common.Address) (*big.Int, error) {
	tok := contracts.MustLoad("SaharaToken")
	data, _ := tok.ABI.Pack("balanceOf", who)
	out, err := cl.CallContract(ctx, ethereum.CallMsg{To: &token, Data: data}, nil)
	if err != nil {
		return nil, err
	}
	v, err := tok.ABI.Unpack("balanceOf", out)
	if err != nil {
		return nil, err
	}
	return v[0].(*big.Int), nil
}

// selected reports whether a variant runs: the ones named with -variant,
// or every non-optional one.
func (c config) selected(v variant) bool {
	if c.only == "" {
		return !v.optional
	}
	for _, n := range strings.Split(c.only, ",") {
		if strings.TrimSpace(n) == v.name {
			return true
		}
	}
	return false
}
