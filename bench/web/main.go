// Command web measures the marketplace's indexer and pages.
//
//	go run ./bench/web -bin build/sahara                 # everything (make bench-web)
//	go run ./bench/web -part pages -assets 100000 -payments 1000000
//
// index: a real chain (`sahara up`, web off) gets a marketplace history through the precompiles
// (internal/marketload); a fresh indexer then catches up on it, timed, on SQLite (and
// PostgreSQL with -pg); then the indexer follows the chain live while the load generator sends
// at its top rate, and the lag behind the head is sampled every 50 ms.
//
// pages: a database with -assets assets and -payments payments, applied through the indexer's
// own code as synthetic blocks, serves the web app in-process; -clients concurrent clients on
// loopback fetch asset pages and searches for -duration each, side by side with a bare net/http
// handler returning a static page of the same size, in the same run.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cosmos/cosmos-sdk/types/bech32"

	"sahara/internal/marketload"
	"sahara/internal/testnode"
	"sahara/platform/db"
	"sahara/platform/indexer"
	"sahara/platform/web"
	"sahara/sdk/evmclient"
)

var (
	bin      = flag.String("bin", "build/sahara", "the sahara binary (index part)")
	part     = flag.String("part", "all", "index, pages or all")
	pg       = flag.String("pg", os.Getenv("SAHARA_TEST_POSTGRES"), "a postgres:// URL of a server where the bench may create databases (empty: SQLite only)")
	assets   = flag.Int("assets", 100_000, "assets in the pages database")
	payments = flag.Int("payments", 1_000_000, "payments in the pages database")
	clients  = flag.Int("clients", 64, "concurrent HTTP clients")
	duration = flag.Duration("duration", 10*time.Second, "load per endpoint")
	pays     = flag.Int("pays", 600, "payments per wallet in the index history (10 wallets)")
	cpuprof  = flag.String("cpuprofile", "", "write a CPU profile of the run here")
	nocache  = flag.Bool("nocache", false, "pages: also measure with the web app's index caches off")
	verbose  = flag.Bool("v", false, "index: log what the live indexer does (debug)")
	keep     = flag.String("keep", "", "pages: a SQLite file to keep the filled database in, reused when it exists (iterating on pages)")
)

func main() {
	flag.Parse()
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	host, _ := os.Hostname()
	fmt.Printf("bench/web on %s, %d CPUs, %s, %s\n\n", host, runtime.NumCPU(), runtime.Version(), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	if *part == "index" || *part == "all" {
		if err := benchIndex(); err != nil {
			fmt.Fprintln(os.Stderr, "index:", err)
			return
		}
	}
	if *part == "pages" || *part == "all" {
		if err := benchPages(); err != nil {
			fmt.Fprintln(os.Stderr, "pages:", err)
			return
		}
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// freshDB makes an empty database: a SQLite file in dir, or a new PostgreSQL database.
func freshDB(kind, dir string) (*db.DB, func(), error) {
	if kind == "sqlite" {
		d, err := db.Open(filepath.Join(dir, fmt.Sprintf("bench-%d.db", time.Now().UnixNano())))
		return d, func() {}, err
	}
	admin, err := db.Open(*pg)
	if err != nil {
		return nil, nil, err
	}
	name := fmt.Sprintf("sahara_bench_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		return nil, nil, err
	}
	u := *pg
	if i := lastSlash(u); i > 0 {
		q := ""
		if j := indexByte(u[i:], '?'); j >= 0 {
			q = u[i+j:]
		}
		u = u[:i] + "/" + name + q
	}
	d, err := db.Open(u)
	return d, func() { d.Close(); admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); admin.Close() }, err
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func kinds() []string {
	if *pg != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// ---- index ----

func benchIndex() error {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "bench-web")
	defer os.RemoveAll(dir)
	n, err := testnode.StartUp(ctx, *bin, filepath.Join(dir, "chain"), "--web-addr", "")
	if err != nil {
		return err
	}
	defer n.Stop()
	c, err := n.Client(ctx)
	if err != nil {
		return err
	}
	var ws []*evmclient.Wallet
	for i := range n.Accounts {
		ws = append(ws, n.Wallet(i))
	}
	t0 := time.Now()
	st, err := marketload.Run(ctx, c, ws, marketload.Config{Datasets: 30, Licenses: 50, Pays: *pays, Seed: 1})
	if err != nil {
		return err
	}
	el := time.Since(t0)
	fmt.Printf("history: %d transactions (%d datasets, %d licenses, %d models, %d payments, %d claims) in %d blocks, sent at %.0f tx/s\n",
		st.Txs, st.Datasets, st.Licenses, st.Models, st.Pays, st.Claims, st.LastBlock, float64(st.Txs)/el.Seconds())
	head := int64(st.LastBlock)

	fmt.Printf("\ncatch-up from genesis to block %d:\n", head)
	fmt.Printf("| database | time | blocks/s | events read/s | protocol events applied/s |\n|---|---|---|---|---|\n")
	for _, kind := range kinds() {
		d, done, err := freshDB(kind, dir)
		if err != nil {
			return err
		}
		ix, err := indexer.New(ctx, d, indexer.NewSource(n.CometRPC), "asah", quiet())
		if err != nil {
			return err
		}
		ix.Until = head
		t := time.Now()
		if err := ix.Run(ctx); err != nil {
			return err
		}
		el := time.Since(t)
		s := ix.Status()
		var proto int64
		for _, tb := range []string{"assets", "versions", "licenses", "payments", "claims", "asset_terms", "terms"} {
			var k int64
			d.QueryRow(`SELECT COUNT(*) FROM ` + tb).Scan(&k)
			proto += k
		}
		var v int64
		d.QueryRow(`SELECT COUNT(*) FROM versions`).Scan(&v)
		proto -= v // versions mirror registrations
		fmt.Printf("| %s | %s | %.0f | %.0f | %.0f |\n", kind, el.Round(time.Millisecond), float64(head)/el.Seconds(), float64(s.Events)/el.Seconds(), float64(proto)/el.Seconds())
		done()
	}

	// Live: follow the chain while the load generator sends at its top rate.
	fmt.Printf("\nlive lag while the chain takes a new history at full rate (sampled every 50 ms):\n")
	fmt.Printf("| database | samples | lag p50 | lag p99 | lag max | history |\n|---|---|---|---|---|---|\n")
	for _, kind := range kinds() {
		d, done, err := freshDB(kind, dir)
		if err != nil {
			return err
		}
		log := quiet()
		if *verbose {
			log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
		ix, err := indexer.New(ctx, d, indexer.NewSource(n.CometRPC), "asah", log)
		if err != nil {
			return err
		}
		lctx, stop := context.WithCancel(ctx)
		go ix.Run(lctx)
		// catch up first, so what follows is the live lag
		cur, _ := indexer.NewSource(n.CometRPC).Head(ctx)
		ix.WaitFor(ctx, cur)
		var lags []int64
		var mu sync.Mutex
		sampling := make(chan struct{})
		go func() {
			src := indexer.NewSource(n.CometRPC)
			tk := time.NewTicker(50 * time.Millisecond)
			defer tk.Stop()
			for {
				select {
				case <-sampling:
					return
				case <-tk.C:
					h, err := src.Head(ctx)
					if err == nil {
						mu.Lock()
						lags = append(lags, max(0, h-ix.Height()))
						mu.Unlock()
						if *verbose && h-ix.Height() > 2 {
							fmt.Fprintf(os.Stderr, "%s lag %d: head %d, indexed %d\n", time.Now().Format("15:04:05.000"), h-ix.Height(), h, ix.Height())
						}
					}
				}
			}
		}()
		st, err := marketload.Run(ctx, c, ws, marketload.Config{Datasets: 10, Licenses: 20, Pays: *pays / 2, Seed: time.Now().UnixNano()})
		close(sampling)
		stop()
		if err != nil {
			return err
		}
		sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
		q := func(p float64) int64 { return lags[min(len(lags)-1, int(p*float64(len(lags))))] }
		fmt.Printf("| %s | %d | %d blocks | %d blocks | %d blocks | %d tx in %d blocks |\n", kind, len(lags), q(0.5), q(0.99), lags[len(lags)-1], st.Txs, int64(st.LastBlock)-cur)
		done()
	}
	return nil
}

// ---- pages ----

func addr(i int) string {
	b := make([]byte, 20)
	b[0], b[1], b[2] = byte(i>>16), byte(i>>8), byte(i)
	s, _ := bech32.ConvertAndEncode("sahara", b)
	return s
}

func ev(typ string, kv ...string) indexer.Event {
	e := indexer.Event{Type: typ}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Attrs = append(e.Attrs, indexer.Attr{Key: kv[i], Value: kv[i+1]})
	}
	return e
}

var words = []string{"faces", "street", "medical", "speech", "legal", "code", "finance", "satellite", "weather", "poetry", "retail", "traffic", "protein", "chess", "music", "news"}

// fill applies synthetic blocks through the indexer: assets (a tenth of them models derived
// from an earlier dataset), terms, licenses and payments (skewed: a few assets get most).
func fill(ctx context.Context, ix *indexer.Indexer) (time.Duration, error) {
	rng := rand.New(rand.NewSource(1))
	h := int64(0)
	t0 := time.Now()
	block := func(txs []indexer.TxResult) error {
		h++
		return ix.Apply(ctx, indexer.Meta{Height: h, Time: time.Unix(1_790_000_000+h, 0), NumTxs: len(txs)}, txs)
	}
	owner := func(id int) string { return addr(id % 5000) }
	// terms 1: derivatives with 10%
	if err := block([]indexer.TxResult{{Events: []indexer.Event{ev("sahara.licensing.v1.terms_created", "terms_id", "1", "commercial", "true",
		"derivatives", "true", "rev_share_bps", "1000", "mint_fee", "", "per_call", "", "duration", "0", "transferable", "false", "supply_cap", "0", "revocable", "false")}}}); err != nil {
		return 0, err
	}
	const per = 500
	for id := 1; id <= *assets; {
		var txs []indexer.TxResult
		for k := 0; k < per && id <= *assets; k, id = k+1, id+1 {
			w1, w2 := words[rng.Intn(len(words))], words[rng.Intn(len(words))]
			kind, edges, lineage := "ASSET_KIND_DATASET", "", ""
			if id > 10 && id%10 == 0 {
				p := 1 + rng.Intn(id-1)
				kind, edges, lineage = "ASSET_KIND_MODEL", fmt.Sprintf("%d:EDGE_TYPE_TRAINED_ON:%d:10000000", p, id), fmt.Sprintf("%d:10000000:1", p)
			}
			txs = append(txs, indexer.TxResult{Events: []indexer.Event{
				ev("sahara.registry.v1.asset_registered", "id", strconv.Itoa(id), "kind", kind, "owner", owner(id), "parents", "0", "ancestors", "0",
					"royalty_stack", "0", "name", fmt.Sprintf("%s %s %d", w1, w2, id), "uri", fmt.Sprintf("data:text/plain,%s%%20%s%%20data%%20for%%20training", w1, w2),
					"content_root", fmt.Sprintf("%064x", id), "size", "12345", "edges", edges, "holders", owner(id)+":100000000", "lineage", lineage),
				ev("sahara.licensing.v1.terms_attached", "asset_id", strconv.Itoa(id), "terms_id", "1"),
			}})
		}
		if err := block(txs); err != nil {
			return 0, err
		}
	}
	lic := 0
	for p := 0; p < *payments; {
		var txs []indexer.TxResult
		for k := 0; k < per && p < *payments; k, p = k+1, p+1 {
			a := 1 + int(float64(*assets)*rng.Float64()*rng.Float64()*rng.Float64()) // skewed to low ids
			if a%10 == 0 && a > 10 {
				a-- // pay datasets and models alike; models carry an ancestor
			}
			if p%50 == 0 {
				lic++
				txs = append(txs, indexer.TxResult{Events: []indexer.Event{ev("sahara.licensing.v1.license_minted", "license_id", strconv.Itoa(lic), "asset_id", strconv.Itoa(a),
					"terms_id", "1", "holder", addr(rng.Intn(5000)), "fee", "", "minted_at", "1790000000", "expires_at", "0")}})
			}
			txs = append(txs, indexer.TxResult{Events: []indexer.Event{ev("sahara.royalty.v1.paid", "asset_id", strconv.Itoa(a), "amount", fmt.Sprintf("%dasah", 1_000_000+rng.Intn(1e9)),
				"to_ancestors", "", "ancestors", "0", "payer", addr(rng.Intn(5000)), "reason", "payment")}})
		}
		if err := block(txs); err != nil {
			return 0, err
		}
	}
	return time.Since(t0), nil
}

type result struct {
	name     string
	reqs     int64
	errs     int64
	rps      float64
	p50, p99 time.Duration
	bytes    int64
}

// load runs clients that fetch next() URLs for the duration.
func load(name string, next func(r *rand.Rand) string) result {
	tr := &http.Transport{MaxIdleConnsPerHost: *clients, MaxConnsPerHost: *clients}
	cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var reqs, errs, bytes atomic.Int64
	lat := make([][]time.Duration, *clients)
	end := time.Now().Add(*duration)
	var wg sync.WaitGroup
	for i := 0; i < *clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(i)))
			for time.Now().Before(end) {
				t := time.Now()
				res, err := cl.Get(next(r))
				if err != nil {
					errs.Add(1)
					continue
				}
				n, _ := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					errs.Add(1)
				}
				lat[i] = append(lat[i], time.Since(t))
				reqs.Add(1)
				bytes.Add(n)
			}
		}()
	}
	wg.Wait()
	tr.CloseIdleConnections()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	r := result{name: name, reqs: reqs.Load(), errs: errs.Load(), rps: float64(reqs.Load()) / duration.Seconds(), bytes: bytes.Load()}
	if len(all) > 0 {
		r.p50, r.p99 = all[len(all)/2], all[min(len(all)-1, len(all)*99/100)]
	}
	return r
}

func serve(h http.Handler) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	return "http://" + l.Addr().String(), func() { srv.Close() }, nil
}

func benchPages() error {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "bench-web-pages")
	defer os.RemoveAll(dir)
	for _, kind := range kinds() {
		var d *db.DB
		var done func()
		var err error
		reuse := false
		if *keep != "" && kind == "sqlite" {
			_, serr := os.Stat(*keep)
			reuse = serr == nil
			d, err = db.Open(*keep)
			done = func() { d.Close() }
		} else {
			d, done, err = freshDB(kind, dir)
		}
		if err != nil {
			return err
		}
		ix, err := indexer.New(ctx, d, indexer.NewSource("127.0.0.1:1"), "asah", quiet())
		if err != nil {
			return err
		}
		var took time.Duration
		if !reuse {
			if took, err = fill(ctx, ix); err != nil {
				return err
			}
		}
		events := *assets*2 + *payments + *payments/50
		fmt.Printf("\npages on %s: %d assets and %d payments applied through the indexer in %s (%.0f events/s)\n", kind, *assets, *payments, took.Round(time.Second), float64(events)/took.Seconds())
		key := make([]byte, 32)
		app, err := web.New(web.Config{DB: d, Indexer: ix, ChainID: 4817293, Denom: "asah", Bech32: "sahara", Key: key, Log: quiet()})
		if err != nil {
			return err
		}
		base, stop, err := serve(app.Handler())
		if err != nil {
			return err
		}
		raw, err := web.New(web.Config{DB: d, Indexer: ix, ChainID: 4817293, Denom: "asah", Bech32: "sahara", Key: key, Log: quiet(), CacheEntries: -1})
		if err != nil {
			return err
		}
		baseRaw, stopRaw, err := serve(raw.Handler())
		if err != nil {
			return err
		}
		defer stopRaw()
		// The bare server returns a static page as large as an asset page.
		res, err := http.Get(base + "/assets/1")
		if err != nil {
			return err
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		bare, stopBare, err := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(page)
		}))
		if err != nil {
			return err
		}
		fmt.Printf("%d clients, %s each, same run; the bare handler serves a static copy of an asset page (%d bytes)\n\n", *clients, *duration, len(page))
		fmt.Printf("| endpoint | requests/s | p50 | p99 | errors | vs bare |\n|---|---|---|---|---|---|\n")
		rb := load("bare net/http", func(*rand.Rand) string { return bare + "/" })
		ra := load("asset page", func(r *rand.Rand) string {
			return fmt.Sprintf("%s/assets/%d", base, 1+int(float64(*assets)*r.Float64()*r.Float64()))
		})
		rs := load("search page", func(r *rand.Rand) string {
			return fmt.Sprintf("%s/?q=%s+%s", base, words[r.Intn(len(words))], words[r.Intn(len(words))][:3])
		})
		rj := load("asset JSON", func(r *rand.Rand) string {
			return fmt.Sprintf("%s/api/assets/%d", base, 1+int(float64(*assets)*r.Float64()*r.Float64()))
		})
		results := []result{rb, ra, rs, rj}
		hs := app.SearchCacheHitRatio()
		if *nocache {
			results = append(results,
				load("search page, cache off", func(r *rand.Rand) string {
					return fmt.Sprintf("%s/?q=%s+%s", baseRaw, words[r.Intn(len(words))], words[r.Intn(len(words))][:3])
				}))
		}
		for _, r := range results {
			fmt.Printf("| %s | %.0f | %s | %s | %d | %.1f%% |\n", r.name, r.rps, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.errs, 100*r.rps/rb.rps)
		}
		fmt.Printf("\nsearch cache hits (the index is unchanged during the run): %.1f%%\n", 100*hs)
		stop()
		stopBare()
		done()
	}
	return nil
}
