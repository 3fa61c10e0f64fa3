package e2e

import (
	"bufio"
	"fmt"
	"math/big"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"sahara/platform/db"
	"sahara/platform/dsp"
	"sahara/sdk/evmclient"
	"sahara/sdk/protocol"
)

// Payouts survive kill -9: 600 contributors, each with accepted answers, are paid in batches of 25
// by `sahara task payout`, which is killed twice at random moments while it settles (possibly
// between sending a batch and recording it) and run again until it finishes. Every contributor
// ends with exactly what the database says they earned — nobody paid twice, nobody missed — and
// every batch the database recorded is applied on chain exactly once.
func TestPayoutSurvivesKill9(t *testing.T) {
	n := shared(t)
	ctx := ctxFor(t, 10*time.Minute)
	c, err := n.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dbPath, keyPath := filepath.Join(dir, "platform.db"), filepath.Join(dir, "dsp-authority.key")
	authority := evmclient.NewWallet()
	os.WriteFile(keyPath, []byte(hexutil.Encode(crypto.FromECDSA(authority.Key))), 0o600)
	if _, err := c.SendAndWait(ctx, n.Wallet(1), &authority.Address, evmclient.Ether(1000), nil, 21_000); err != nil {
		t.Fatal(err)
	}

	// A rating project where every answer is accepted: 600 contributors answer 1 to 3 items each.
	d, err := db.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	s, err := dsp.New(ctx, dsp.Config{DB: d})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.CreateProject(ctx, "0xrequester", dsp.NewProject{Name: "ratings", TaskType: dsp.Rating,
		Spec: dsp.Spec{Overlap: 1, RatingMin: 1, RatingMax: 5, Rates: map[string]string{"asah": "1000000000000000"}}})
	if err != nil {
		t.Fatal(err)
	}
	var items strings.Builder
	items.WriteString("id,text\n")
	for i := 0; i < 1300; i++ {
		fmt.Fprintf(&items, "r%d,review number %d\n", i, i)
	}
	if _, err := s.Import(ctx, p.ID, "csv", strings.NewReader(items.String())); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(5))
	workers := make([]common.Address, 600)
	for i := range workers {
		workers[i] = evmclient.NewWallet().Address
		for k := 0; k <= rng.Intn(3); k++ {
			task, err := s.Next(ctx, p.ID, strings.ToLower(workers[i].Hex()))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Submit(ctx, p.ID, strings.ToLower(workers[i].Hex()), task.ItemID, []byte(fmt.Sprintf(`{"rating":%d}`, 1+rng.Intn(5))), 3*time.Second, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The requester's pool names the authority.
	call, _ := protocol.CreatePool(protocol.Pool{Name: "ratings", Authorities: []common.Address{authority.Address}, Denoms: []string{"asah"},
		Deposits: []*big.Int{evmclient.Ether(100)}, Rates: []*big.Int{big.NewInt(1e15)}, Deadline: time.Now().Add(time.Hour).Unix()})
	r, err := c.SendAndWait(ctx, n.Wallet(0), &call.To, nil, call.Data, call.Gas)
	if err != nil {
		t.Fatal(err)
	}
	pool, _ := protocol.PoolID(r)
	if err := s.LinkPool(ctx, p.ID, pool); err != nil {
		t.Fatal(err)
	}
	d.Close()

	run := func(killAfter int) (killed bool) {
		t.Helper()
		cmd := exec.Command(n.Bin, "task", "payout", fmt.Sprint(p.ID), "--db", dbPath, "--key", keyPath,
			"--evm-rpc", n.RPC, "--grpc", n.GRPC, "--batch-size", "25")
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		settled := 0
		for sc.Scan() {
			line := sc.Text()
			t.Log(line)
			if strings.Contains(line, "settled:") {
				settled++
			}
			if killAfter > 0 && settled == killAfter {
				time.Sleep(time.Duration(rng.Intn(1500)) * time.Millisecond) // somewhere in the next batch
				cmd.Process.Kill()                                           // SIGKILL
				cmd.Wait()
				return true
			}
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("sahara task payout: %v", err)
		}
		return false
	}
	if !run(3) || !run(2) {
		t.Fatal("the payout finished before it could be killed")
	}
	run(0)

	// Each contributor holds exactly what the database recorded for them, once.
	d, err = db.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	owed := map[string]*big.Int{}
	rows, err := d.Query(`SELECT worker, amount FROM dsp_payouts`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var w, a string
		rows.Scan(&w, &a)
		v, _ := new(big.Int).SetString(a, 10)
		if owed[w] == nil {
			owed[w] = new(big.Int)
		}
		owed[w].Add(owed[w], v)
	}
	rows.Close()
	var unbatched, pending, batches int
	d.QueryRow(`SELECT COUNT(*) FROM dsp_answers WHERE batch_id = 0`).Scan(&unbatched)
	d.QueryRow(`SELECT COUNT(*) FROM dsp_batches WHERE status <> 'settled'`).Scan(&pending)
	d.QueryRow(`SELECT COUNT(*) FROM dsp_batches`).Scan(&batches)
	if unbatched != 0 || pending != 0 || len(owed) != len(workers) || batches != 24 {
		t.Fatalf("after the runs: %d answers unbatched, %d batches pending of %d, %d contributors owed", unbatched, pending, batches, len(owed))
	}
	total := new(big.Int)
	for _, w := range workers {
		got, err := c.BalanceAt(ctx, w, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := owed[strings.ToLower(w.Hex())]
		if want == nil || got.Cmp(want) != 0 {
			t.Fatalf("%s holds %s, the database says %s", w, got, want)
		}
		total.Add(total, got)
	}
	out := runCLI(t, n, `last batch 24`, "pool", "show", fmt.Sprint(pool))
	if !strings.Contains(out, "paid      "+total.String()+"asah") {
		t.Fatalf("pool %d paid does not equal the %s the contributors hold:\n%s", pool, total, out)
	}
}
