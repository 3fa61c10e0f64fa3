// Command dsp measures the data platform.
//
//	go run ./bench/dsp -bin build/sahara                  # everything (make bench-dsp)
//	go run ./bench/dsp -part load -workers 1000 -duration 10s
//
// load: the web app with the data platform, in-process on loopback, on SQLite (and PostgreSQL
// when SAHARA_TEST_POSTGRES is set). -workers simulated contributors sign in with their own keys
// (Sign-In with Ethereum), then each loops: lease the next task, submit an answer (a
// classification project, overlap 3, 10% control items, the live truth model updated on every
// answer). A bare net/http handler that decodes the same JSON and answers, driven the same way in
// the same run, gives the machine's scale.
//
// payout: a real chain (`sahara up`); -labels accepted answers from -contributors contributors
// are settled through x/datatask by the service's epoch, in batches of 1000: the transactions,
// their gas and the time.
//
// prelabel: on the SpamAssassin corpus with a simulated crowd (each answer right with
// probability 0.85, three answers per item, majority vote), the human answers needed until the
// produced dataset (crowd labels where people labelled, the built-in classifier elsewhere)
// reaches 95% of the full crowd's accuracy, with items in random order and with active learning
// (the classifier's least certain items first). The classifier is the platform's, untuned.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"math/rand"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"sahara/internal/spamcorpus"
	"sahara/internal/testnode"
	"sahara/platform/db"
	"sahara/platform/dsp"
	"sahara/platform/dsp/dspweb"
	"sahara/platform/indexer"
	"sahara/platform/siwe"
	"sahara/platform/web"
	"sahara/sdk/evmclient"
	"sahara/sdk/protocol"
)

var (
	bin          = flag.String("bin", "build/sahara", "the sahara binary (payout part)")
	part         = flag.String("part", "all", "load, payout, prelabel or all")
	pg           = flag.String("pg", os.Getenv("SAHARA_TEST_POSTGRES"), "a postgres:// URL where the bench may create databases (empty: SQLite only)")
	workers      = flag.Int("workers", 1000, "load: simulated contributors")
	duration     = flag.Duration("duration", 10*time.Second, "load: how long each run lasts")
	rate         = flag.Float64("rate", 2, "load: answers per second each contributor tries to give (0: as fast as answered, a closed loop)")
	labels       = flag.Int("labels", 100_000, "payout: accepted answers to settle")
	contributors = flag.Int("contributors", 10_000, "payout: contributors they come from")
	repoRoot     = flag.String("root", ".", "the repository (for node_modules, the corpus)")
	cpuprof      = flag.String("cpuprofile", "", "write a CPU profile of the run here")
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
	var err error
	switch *part {
	case "load":
		err = benchLoad()
	case "payout":
		err = benchPayout()
	case "prelabel":
		err = benchPrelabel()
	case "all":
		if err = benchLoad(); err == nil {
			if err = benchPayout(); err == nil {
				err = benchPrelabel()
			}
		}
	default:
		err = fmt.Errorf("-part %q: use load, payout, prelabel or all", *part)
	}
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "bench/dsp:", err)
		os.Exit(1)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func freshDB(kind, dir string) (*db.DB, func(), error) {
	if kind == "sqlite" {
		d, err := db.Open(filepath.Join(dir, fmt.Sprintf("bench-%d.db", time.Now().UnixNano())))
		return d, func() { d.Close() }, err
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
	i := strings.LastIndexByte(u, '/')
	q := ""
	if j := strings.IndexByte(u[i:], '?'); j >= 0 {
		q = u[i+j:]
	}
	d, err := db.Open(u[:i] + "/" + name + q)
	return d, func() { d.Close(); admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); admin.Close() }, err
}

func kinds() []string {
	if *pg != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// ---- load ----

type stats struct {
	cycles  int64
	errs    int64
	lastErr atomic.Value
	next    []time.Duration
	submit  []time.Duration
	elapsed time.Duration
	noWork  int64
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[min(len(ds)-1, len(ds)*p/100)]
}

// client is one simulated contributor: a key, a cookie jar with its session, its CSRF token.
type client struct {
	hc   *http.Client
	base string
	csrf string
	key  *evmclient.Wallet
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([0-9a-f]+)">`)

func (c *client) post(path string, body any) (*http.Response, error) {
	bz, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", c.base+path, bytes.NewReader(bz))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-CSRF-Token", c.csrf)
	return c.hc.Do(req)
}

// signIn: a CSRF token from a page, then Sign-In with Ethereum with the client's key.
func (c *client) signIn() error {
	res, err := c.hc.Get(c.base + "/login")
	if err != nil {
		return err
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfMeta.FindSubmatch(page)
	if m == nil {
		return errors.New("no csrf token on /login")
	}
	c.csrf = string(m[1])
	res, err = c.hc.Get(c.base + "/api/auth/nonce?address=" + c.key.Address.Hex())
	if err != nil {
		return err
	}
	var n struct{ Message string }
	json.NewDecoder(res.Body).Decode(&n)
	res.Body.Close()
	sig, err := siwe.Sign(n.Message, crypto.FromECDSA(c.key.Key))
	if err != nil {
		return err
	}
	res, err = c.post("/api/auth/login", map[string]string{"message": n.Message, "signature": "0x" + fmt.Sprintf("%x", sig)})
	if err != nil {
		return err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("sign-in: %s", res.Status)
	}
	return nil
}

// drive runs every client's lease-and-submit loop for the duration.
func drive(cs []*client, project int64, labelOf func(item int64) string) *stats {
	st := &stats{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(*duration)
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var nexts, subs []time.Duration
			var task struct {
				ItemID int64 `json:"item_id"`
				Done   bool  `json:"done"`
			}
			due := time.Now()
			if *rate > 0 { // contributors start out of step
				due = due.Add(time.Duration(rand.Float64() * float64(time.Second) / *rate))
			}
			for time.Now().Before(end) {
				if *rate > 0 { // paced: one answer every 1/rate seconds, later if the server is slow
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
					due = maxTime(due.Add(time.Duration(float64(time.Second) / *rate)), time.Now())
					if !time.Now().Before(end) {
						break
					}
				}
				if task.ItemID == 0 { // else the last answer's response carried this task
					t0 := time.Now()
					res, err := c.post(fmt.Sprintf("/api/tasks/%d/next", project), struct{}{})
					if err != nil {
						atomic.AddInt64(&st.errs, 1)
						st.lastErr.Store(err.Error())
						continue
					}
					json.NewDecoder(res.Body).Decode(&task)
					res.Body.Close()
					nexts = append(nexts, time.Since(t0))
					if res.StatusCode != 200 {
						atomic.AddInt64(&st.errs, 1)
						st.lastErr.Store("next: " + res.Status)
						continue
					}
					if task.Done {
						task = struct {
							ItemID int64 `json:"item_id"`
							Done   bool  `json:"done"`
						}{}
						atomic.AddInt64(&st.noWork, 1)
						time.Sleep(50 * time.Millisecond)
						continue
					}
				}
				t1 := time.Now()
				res, err := c.post(fmt.Sprintf("/api/tasks/%d/submit", project), map[string]any{
					"item_id": task.ItemID, "answer": map[string]string{"label": labelOf(task.ItemID)}, "duration_ms": 4000, "next": true})
				task.ItemID = 0
				if err != nil {
					atomic.AddInt64(&st.errs, 1)
					st.lastErr.Store(err.Error())
					continue
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				subs = append(subs, time.Since(t1))
				if res.StatusCode != 200 {
					atomic.AddInt64(&st.errs, 1)
					st.lastErr.Store("submit: " + res.Status + " " + string(body))
					continue
				}
				var sr struct {
					Next *struct {
						ItemID int64 `json:"item_id"`
					} `json:"next"`
				}
				if json.Unmarshal(body, &sr) == nil && sr.Next != nil {
					task.ItemID = sr.Next.ItemID
				}
				atomic.AddInt64(&st.cycles, 1)
			}
			mu.Lock()
			st.next = append(st.next, nexts...)
			st.submit = append(st.submit, subs...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	st.elapsed = time.Since(start)
	return st
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func newClients(base string, n int) ([]*client, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n, IdleConnTimeout: time.Minute}
	cs := make([]*client, n)
	for i := range cs {
		jar, _ := cookiejar.New(nil)
		cs[i] = &client{hc: &http.Client{Transport: tr, Jar: jar, Timeout: 30 * time.Second}, base: base, key: evmclient.NewWallet()}
	}
	// Sign in 16 at a time (sign-in is not what is measured).
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for _, c := range cs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := c.signIn(); err != nil {
				firstErr.CompareAndSwap(nil, err)
			}
		}()
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		return nil, e.(error)
	}
	return cs, nil
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

func benchLoad() error {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "bench-dsp")
	defer os.RemoveAll(dir)
	pace := "as fast as answered (closed loop)"
	if *rate > 0 {
		pace = fmt.Sprintf("each trying %.1f answers/s (offered: %.0f/s)", *rate, *rate*float64(*workers))
	}
	fmt.Printf("load: %d contributors %s, %s per run, classification with overlap 3 and 10%% control items; one request per answer (the answer's response carries the next task)\n\n", *workers, pace, *duration)
	fmt.Println("| database | server | answers/s | next p50 | next p99 | answer p50 | answer p99 | errors |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, kind := range kinds() {
		d, done, err := freshDB(kind, dir)
		if err != nil {
			return err
		}
		// The bare handler, driven the same way: decode the JSON, answer a small JSON.
		bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var v map[string]any
			json.NewDecoder(r.Body).Decode(&v)
			w.Header().Set("Content-Type", "application/json")
			if strings.HasSuffix(r.URL.Path, "/next") {
				io.WriteString(w, `{"project_id":1,"item_id":7,"data":{"text":"a message"},"lease_expires":1}`)
				return
			}
			if strings.HasPrefix(r.URL.Path, "/login") {
				io.WriteString(w, `<meta name="csrf-token" content="00">`)
				return
			}
			io.WriteString(w, `{"answer_id":1,"next":{"project_id":1,"item_id":7,"data":{"text":"a message"},"lease_expires":1}}`)
		})
		url, stop, err := serve(bare)
		if err != nil {
			return err
		}
		cs := make([]*client, *workers)
		tr := &http.Transport{MaxIdleConnsPerHost: *workers, MaxConnsPerHost: *workers}
		for i := range cs {
			cs[i] = &client{hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}, base: url, csrf: "00"}
		}
		b := drive(cs, 1, func(int64) string { return "spam" })
		stop()
		report(kind, "bare net/http", b)
		bareRate := float64(b.cycles) / b.elapsed.Seconds()

		s, err := dsp.New(ctx, dsp.Config{DB: d, Log: quiet()})
		if err != nil {
			return err
		}
		ix, err := indexer.New(ctx, d, indexer.NewSource("http://127.0.0.1:1"), "asah", quiet()) // never run: pages only
		if err != nil {
			return err
		}
		key := bytes.Repeat([]byte{7}, 32)
		app, err := web.New(web.Config{DB: d, Indexer: ix, ChainID: 4817293, Denom: "asah", Bech32: "sahara", Key: key, Log: quiet()})
		if err != nil {
			return err
		}
		dspweb.Register(app, s, 0)
		p, err := s.CreateProject(ctx, "0x0000000000000000000000000000000000000001", dsp.NewProject{Name: "load", TaskType: dsp.Classify,
			Spec: dsp.Spec{Labels: []string{"spam", "ham"}, Overlap: 3, ControlRate: 0.1, LeaseSeconds: 600}})
		if err != nil {
			return err
		}
		n := int(float64(*workers)*duration.Seconds()) + 20_000 // more items than a run can finish
		var csv strings.Builder
		csv.WriteString("id,text,gold\n")
		truth := map[int64]string{}
		for i := 0; i < n; i++ {
			l := []string{"spam", "ham"}[i%2]
			gold := ""
			if i < 200 {
				gold = l
			}
			fmt.Fprintf(&csv, "i%d,message %d with some words about %s,%s\n", i, i, l, gold)
			truth[int64(i+1)] = l
		}
		if _, err := s.Import(ctx, p.ID, "csv", strings.NewReader(csv.String())); err != nil {
			return err
		}
		url, stop, err = serve(app.Handler())
		if err != nil {
			return err
		}
		cs, err = newClients(url, *workers)
		if err != nil {
			return err
		}
		r := drive(cs, p.ID, func(item int64) string { return truth[item] })
		stop()
		report(kind, "data platform", r)
		fmt.Printf("|  |  | %.1f%% of bare |  |  |  |  |  |\n", 100*float64(r.cycles)/r.elapsed.Seconds()/bareRate)
		if e := r.lastErr.Load(); e != nil {
			fmt.Fprintf(os.Stderr, "  %s: last error: %v\n", kind, e)
		}
		done()
	}
	fmt.Println()
	return nil
}

func report(kind, server string, st *stats) {
	fmt.Printf("| %s | %s | %.0f | %s | %s | %s | %s | %d |\n", kind, server, float64(st.cycles)/st.elapsed.Seconds(),
		pct(st.next, 50).Round(100*time.Microsecond), pct(st.next, 99).Round(100*time.Microsecond),
		pct(st.submit, 50).Round(100*time.Microsecond), pct(st.submit, 99).Round(100*time.Microsecond), st.errs)
}

// ---- payout ----

func benchPayout() error {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "bench-dsp-payout")
	defer os.RemoveAll(dir)
	node, err := testnode.StartUp(ctx, *bin, filepath.Join(dir, "node"), "--web-addr", "")
	if err != nil {
		return err
	}
	defer node.Stop()
	c, err := node.Client(ctx)
	if err != nil {
		return err
	}
	authority := evmclient.NewWallet()
	if _, err := c.SendAndWait(ctx, node.Wallet(1), &authority.Address, evmclient.Ether(10_000), nil, 21_000); err != nil {
		return err
	}
	ch, err := dsp.DialChain(node.RPC, node.GRPC, authority)
	if err != nil {
		return err
	}
	d, err := db.Open(filepath.Join(dir, "platform.db"))
	if err != nil {
		return err
	}
	var txs []string
	s, err := dsp.New(ctx, dsp.Config{DB: d, Chain: ch, Log: quiet(), OnSettled: func(b dsp.Batch, h string) { txs = append(txs, h) }})
	if err != nil {
		return err
	}
	p, err := s.CreateProject(ctx, "0xrequester", dsp.NewProject{Name: "payout", TaskType: dsp.Rating,
		Spec: dsp.Spec{Overlap: 1, RatingMin: 1, RatingMax: 5, Rates: map[string]string{"asah": "1000000000000000"}}})
	if err != nil {
		return err
	}
	// The answers are written straight into the tables (labelling is measured by the load part):
	// -labels finished items, each answered once, spread over -contributors contributors.
	t0 := time.Now()
	if err := fillAccepted(ctx, d, p.ID, *labels, *contributors); err != nil {
		return err
	}
	fill := time.Since(t0)
	rate := big.NewInt(1e15)
	deposit := new(big.Int).Mul(rate, big.NewInt(int64(*labels)))
	call, _ := protocol.CreatePool(protocol.Pool{Name: "payout", Authorities: []common.Address{authority.Address}, Denoms: []string{"asah"},
		Deposits: []*big.Int{deposit}, Rates: []*big.Int{rate}, Deadline: time.Now().Add(24 * time.Hour).Unix()})
	r, err := c.SendAndWait(ctx, node.Wallet(0), &call.To, nil, call.Data, call.Gas)
	if err != nil {
		return err
	}
	pool, _ := protocol.PoolID(r)
	s.LinkPool(ctx, p.ID, pool)

	t1 := time.Now()
	ep, err := s.CloseEpoch(ctx, p.ID)
	if err != nil {
		return err
	}
	epoch := time.Since(t1)
	t2 := time.Now()
	n, err := s.Settle(ctx, p.ID)
	if err != nil {
		return err
	}
	settle := time.Since(t2)
	var gas, maxGas uint64
	for _, h := range txs {
		rc, err := c.TransactionReceipt(ctx, common.HexToHash(h))
		if err != nil {
			return err
		}
		gas += rc.GasUsed
		maxGas = max(maxGas, rc.GasUsed)
	}
	fmt.Printf("payout: %d accepted answers from %d contributors (tables filled in %s)\n\n", ep.Accepted, ep.Paid, fill.Round(time.Millisecond))
	fmt.Println("| epoch (decide + record batches) | settle on chain | transactions | gas per transaction (mean / max) | gas per contributor |")
	fmt.Println("|---|---|---|---|---|")
	fmt.Printf("| %s | %s | %d | %d / %d | %d |\n\n", epoch.Round(time.Millisecond), settle.Round(time.Millisecond), n, gas/uint64(max(1, n)), maxGas, gas/uint64(max(1, ep.Paid)))
	return nil
}

func fillAccepted(ctx context.Context, d *db.DB, project int64, labels, people int) error {
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := time.Now().UnixMilli()
	workers := make([]string, people)
	for i := range workers {
		workers[i] = strings.ToLower(evmclient.NewWallet().Address.Hex())
		if _, err := tx.ExecContext(ctx, d.Rebind(`INSERT INTO dsp_workers (project_id, worker, answers, first_at, last_at) VALUES (?, ?, ?, ?, ?)`), project, workers[i], labels/people, now, now); err != nil {
			return err
		}
	}
	for i := 0; i < labels; i++ {
		var id int64
		if err := tx.QueryRowContext(ctx, d.Rebind(`INSERT INTO dsp_items (project_id, ext_id, data, is_control, status, needed, answers, final, confidence, done_at)
			VALUES (?, ?, '{"text":"x"}', 0, 'done', 1, 1, '{"rating":3}', 1, ?) RETURNING id`), project, fmt.Sprint(i), now).Scan(&id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, d.Rebind(`INSERT INTO dsp_answers (project_id, item_id, worker, value, label, duration_ms, created_at, is_control, status)
			VALUES (?, ?, ?, '{"rating":3}', '', 4000, ?, 0, 'pending')`), project, id, workers[i%people], now); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// ---- prelabel ----

func benchPrelabel() error {
	msgs, err := spamcorpus.Load(spamcorpus.Dir(*repoRoot), 2000)
	if err != nil {
		return err
	}
	rand.New(rand.NewSource(1)).Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
	for _, p := range []float64{0.85, 0.95} {
		prelabelRun(msgs, p)
	}
	return nil
}

// prelabelRun simulates a crowd whose answers are right with probability p.
func prelabelRun(msgs []spamcorpus.Message, p float64) {
	rng := rand.New(rand.NewSource(int64(p * 100)))
	crowd := make([]string, len(msgs))
	right := 0
	for i, m := range msgs {
		votes := 0
		for k := 0; k < 3; k++ {
			if rng.Float64() < p {
				votes++
			}
		}
		crowd[i] = m.Label
		if votes < 2 {
			crowd[i] = map[string]string{"spam": "ham", "ham": "spam"}[m.Label]
		} else {
			right++
		}
	}
	full := float64(right) / float64(len(msgs))
	fmt.Printf("prelabel: %d SpamAssassin messages, simulated crowd (3 answers each right at %.0f%%, majority vote): full-crowd accuracy %.4f\n\n", len(msgs), 100*p, full)
	fmt.Println("| order | items people labelled to reach 95% of the full crowd | human answers | to reach 100% of it | human answers |")
	fmt.Println("|---|---|---|---|---|")
	for _, active := range []bool{false, true} {
		clf := dsp.NewClassifier([]string{"spam", "ham"})
		labelled := make([]bool, len(msgs))
		order := rand.New(rand.NewSource(2)).Perm(len(msgs))
		n, at95, at100 := 0, 0, 0
		const batch = 10
		for n < len(msgs) && at100 == 0 {
			// The next batch: the next in random order, or the classifier's least certain.
			var pick []int
			if active && clf.Trained() > 0 {
				type cand struct {
					i int
					m float64
				}
				var cs []cand
				for i := range msgs {
					if !labelled[i] {
						cs = append(cs, cand{i, clf.Margin(msgs[i].Text)})
					}
				}
				sort.Slice(cs, func(a, b int) bool { return cs[a].m < cs[b].m })
				for _, c := range cs[:min(batch, len(cs))] {
					pick = append(pick, c.i)
				}
			} else {
				for _, i := range order {
					if !labelled[i] && len(pick) < batch {
						pick = append(pick, i)
					}
				}
			}
			for _, i := range pick {
				labelled[i] = true
				clf.Train(msgs[i].Text, crowd[i])
				n++
			}
			ok := 0
			for i, m := range msgs {
				l := crowd[i]
				if !labelled[i] {
					l, _ = clf.Guess(m.Text)
				}
				if l == m.Label {
					ok++
				}
			}
			acc := float64(ok) / float64(len(msgs))
			if at95 == 0 && acc >= 0.95*full {
				at95 = n
			}
			if acc >= full {
				at100 = n
			}
		}
		name := "random"
		if active {
			name = "active learning"
		}
		fmt.Printf("| %s | %d (%.1f%% of the items) | %d | %d (%.1f%%) | %d |\n", name, at95, 100*float64(at95)/float64(len(msgs)), 3*at95,
			at100, 100*float64(at100)/float64(len(msgs)), 3*at100)
	}
	fmt.Println()
}
