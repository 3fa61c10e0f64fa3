package web

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"sahara/internal/marketload"
	"sahara/platform/db"
	"sahara/platform/db/dbtest"
	"sahara/platform/indexer"
	"sahara/sdk/evmclient"
)

// TestIndexerCrash kills the node and its indexer with SIGKILL while the indexer catches up on a
// chain of thousands of protocol transactions, restarts it, and checks that the database it
// finishes equals a fresh index from genesis, table by table.
func TestIndexerCrash(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { indexerCrash(t, kind) })
	}
}

func indexerCrash(t *testing.T, kind string) {
	dsn := dbtest.DSN(t, kind)
	// The history is made with the web app (and so the indexer) off.
	n := startNode(t, "sqlite", "--web-addr", "", "--block-time", "300ms")
	ctx := ctxFor(t, 10*time.Minute)
	c, err := n.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ws []*evmclient.Wallet
	for i := range n.Accounts {
		ws = append(ws, n.Wallet(i))
	}
	st, err := marketload.Run(ctx, c, ws, marketload.Config{Datasets: 20, Licenses: 30, Pays: 150, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("history: %+v", st)
	if st.Txs < 2000 {
		t.Fatalf("only %d transactions", st.Txs)
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}

	// Start with the web app on and kill -9 while the index is part-way; try a few times.
	webArgs := []string{"--web-addr", n.Web[len("http://"):], "--db", dsn}
	kills := 0
	for try := 0; try < 8 && kills == 0; try++ {
		if err := n.Launch(webArgs...); err != nil {
			t.Fatal(err)
		}
		// aim at the middle of the history, then earlier when the indexer outran the watcher
		target := max(1, int64(st.LastBlock)/int64(2+2*try))
		h, head := watchUntilPartway(t, n.Web, target, 60*time.Second)
		n.Kill()
		if h > 0 && h < head {
			kills++
			t.Logf("try %d: killed with the index at block %d of %d", try+1, h, head)
		} else {
			t.Logf("try %d: missed (index at %d of %d)", try+1, h, head)
		}
	}
	if kills == 0 {
		t.Fatal("never caught the indexer part-way")
	}
	// Restart, let it finish, stop: its database is then frozen at height H.
	if err := n.RestartWith(ctx, webArgs...); err != nil {
		t.Fatal(err)
	}
	var status struct {
		Indexed int64 `json:"indexed_height"`
		Head    int64 `json:"chain_height"`
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		getJSON(t, n.Web+"/api/status", &status)
		if status.Indexed >= int64(st.LastBlock) && status.Indexed >= status.Head-1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the index did not catch up: %+v", status)
		}
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	resumed, err := db.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer resumed.Close()
	var h int64
	if err := resumed.QueryRow(`SELECT height FROM indexer_state WHERE id = 1`).Scan(&h); err != nil {
		t.Fatal(err)
	}
	got, err := indexer.Dump(ctx, resumed)
	if err != nil {
		t.Fatal(err)
	}

	// A fresh index of the same chain to the same height.
	if err := n.RestartWith(ctx, "--web-addr", ""); err != nil {
		t.Fatal(err)
	}
	fresh := dbtest.Open(t, kind)
	ix, err := indexer.New(ctx, fresh, indexer.NewSource(n.CometRPC), "asah", slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	ix.Until = h
	if err := ix.Run(ctx); err != nil {
		t.Fatal(err)
	}
	want, err := indexer.Dump(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range indexer.Tables {
		g, w := got[tb], want[tb]
		if len(g) != len(w) {
			t.Errorf("table %s: %d rows after the crashes, %d in a fresh index", tb, len(g), len(w))
			continue
		}
		for i := range g {
			if g[i] != w[i] {
				t.Errorf("table %s row %d: %q after the crashes, %q fresh", tb, i, g[i], w[i])
				break
			}
		}
	}
	var payments int
	fresh.QueryRow(`SELECT COUNT(*) FROM payments`).Scan(&payments)
	if payments < st.Pays {
		t.Fatalf("%d payments indexed, %d made", payments, st.Pays)
	}
	t.Logf("equal: %d tables at height %d, %d payments", len(indexer.Tables), h, payments)
}

// watchUntilPartway polls the indexer's status quickly and returns as soon as it has applied
// at least target blocks (the test then checks it had not applied them all).
func watchUntilPartway(t *testing.T, base string, target int64, d time.Duration) (int64, int64) {
	cl := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		res, err := cl.Get(base + "/api/status")
		if err != nil {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		var s struct {
			Indexed int64 `json:"indexed_height"`
			Head    int64 `json:"chain_height"`
		}
		json.NewDecoder(res.Body).Decode(&s)
		res.Body.Close()
		if s.Head > 0 && s.Indexed >= target {
			return s.Indexed, s.Head
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0, 0
}
