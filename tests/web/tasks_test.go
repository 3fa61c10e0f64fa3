package web

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/cosmos/cosmos-sdk/types/bech32"

	"sahara/chain/app"
	"sahara/internal/spamcorpus"
	"sahara/platform/db/dbtest"
)

// The data platform's first product, end to end in a real browser on the real chain: a requester
// posts a classification project on real e-mail (SpamAssassin), funded in SAH and a partner ERC-20;
// three contributors label with the keyboard, one of them at random; the control items get the
// random one banned; truth inference decides the items; the payout lands on chain to the unit in
// both denoms; the dataset is minted with the contributors as shareholders.
func TestDataTaskFlow(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			if kind == "postgres" {
				dbtest.DSN(t, kind) // skips (locally) or fails (CI) without PostgreSQL
			}
			dataTaskFlow(t, kind)
		})
	}
}

func dataTaskFlow(t *testing.T, kind string) {
	n := startNode(t, kind)
	ctx := ctxFor(t, 8*time.Minute)
	partner, err := n.PartnerToken(ctx, 0, sah(10_000))
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := spamcorpus.Load(spamcorpus.Dir(repoRoot), 300, "spam-1", "easy-ham-1")
	if err != nil {
		t.Fatal(err)
	}
	// 20 items to label and 10 control items, half spam, from a fixed shuffle of the corpus.
	rand.New(rand.NewSource(7)).Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
	var pick []spamcorpus.Message
	nspam, nham := 0, 0
	for _, m := range msgs {
		if (m.Spam && nspam < 15) || (!m.Spam && nham < 15) {
			pick = append(pick, m)
			if m.Spam {
				nspam++
			} else {
				nham++
			}
		}
	}
	truthOf := map[string]string{}
	var buf strings.Builder
	cw := csv.NewWriter(&buf)
	cw.Write([]string{"id", "text", "gold"})
	for i, m := range pick {
		truthOf[m.Text] = m.Label
		gold := ""
		if i < 10 {
			gold = m.Label
		}
		cw.Write([]string{m.ID, m.Text, gold})
	}
	cw.Flush()
	file := filepath.Join(t.TempDir(), "spam.csv")
	os.WriteFile(file, []byte(buf.String()), 0o644)

	shots := newShots(t)
	req := newUser(t, "requester", n.Web, shots)
	req.devLogin(0)
	req.open("/tasks/new")
	req.do(chromedp.SetValue(chromedp.CSS(`input[name=name]`), "Spam or not"),
		chromedp.SetValue(chromedp.CSS(`textarea[name=instructions]`), "Read the e-mail: is it unsolicited bulk mail (spam) or a normal message (ham)?"),
		chromedp.SetValue(chromedp.CSS(`select[name=task_type]`), "classify"),
		chromedp.SetValue(chromedp.CSS(`input[name=labels]`), "spam, ham"),
		chromedp.SetValue(chromedp.CSS(`input[name=overlap]`), "2"),
		chromedp.SetValue(chromedp.CSS(`input[name=control_rate]`), "20"),
		chromedp.SetValue(chromedp.CSS(`input[name=qualification]`), "8"),
		chromedp.SetValue(chromedp.CSS(`input[name=min_accuracy]`), "90"),
		chromedp.SetValue(chromedp.CSS(`input[name=rate]`), "1"),
		chromedp.SetValue(chromedp.CSS(`input[name=bonus_pct]`), "10"),
		chromedp.SetValue(chromedp.CSS(`input[name=requester_share]`), "20"),
		chromedp.SetValue(chromedp.CSS(`input[name=partner_denom]`), partner),
		chromedp.SetValue(chromedp.CSS(`input[name=partner_rate]`), "2"))
	req.snap("new-project")
	req.do(chromedp.Click(chromedp.CSS(`[data-testid="new-project"] button[type=submit]`)))
	projPath := req.waitPath(`^/tasks/\d+$`)
	project, _ := strconv.Atoi(strings.TrimPrefix(projPath, "/tasks/"))

	req.do(chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="import"] input[type=file]`), []string{file}),
		chromedp.Click(chromedp.CSS(`[data-testid="import"] button`)))
	req.waitText(`[data-testid="import"] output`, "Imported 30 items (10 control)")
	req.waitText(`[data-testid="progress"]`, "of 20 (+ 10 control)") // the page reloaded
	req.do(chromedp.SetValue(chromedp.CSS(`[data-testid="fund"] input[name=deposit]`), "100"),
		chromedp.SetValue(chromedp.CSS(`[data-testid="fund"] input[name=partner_amount]`), "300"))
	req.snap("fund")
	req.do(chromedp.Click(chromedp.CSS(`[data-testid="fund"] button[value=dev]`)))
	req.waitText(`[data-testid="payout"]`, "Pay out")

	// Three contributors, round robin, one answer each per turn; dev3 answers at random.
	workers := []*user{newUser(t, "good1", n.Web, shots), newUser(t, "good2", n.Web, shots), newUser(t, "random", n.Web, shots)}
	for i, w := range workers {
		w.devLogin(i + 1)
		if i == 0 {
			w.open("/tasks")
			w.snap("open-work")
			w.do(chromedp.Click(chromedp.CSS(`[data-testid="project-card"]`)))
			w.waitPath(`^/tasks/\d+$`)
			w.snap("project-as-contributor")
		}
		w.open(fmt.Sprintf("/tasks/%d/work", project))
	}
	rng := rand.New(rand.NewSource(3))
	done := make([]bool, 3)
	answers := make([]int, 3)
	banned := false
	for turn := 0; turn < 400 && !(done[0] && done[1] && done[2]); turn++ {
		i := turn % 3
		if done[i] {
			continue
		}
		w := workers[i]
		state := w.waitTask()
		switch state {
		case "no-work":
			done[i] = true
			continue
		case "banned":
			done[i] = true
			if i == 2 {
				banned = true
				w.snap("banned")
			}
			continue
		}
		text := w.eval(`document.querySelector("#item-text").textContent`)
		label, ok := truthOf[text]
		if !ok {
			t.Fatalf("%s sees an item that is not in the import: %q", w.name, text)
		}
		if i == 2 {
			label = []string{"spam", "ham"}[rng.Intn(2)]
		}
		key := "1"
		if label == "ham" {
			key = "2"
		}
		before := w.eval(`document.querySelector("#task .item").dataset.item`)
		if answers[i] == 3 {
			w.snap("labelling")
		}
		w.do(chromedp.KeyEvent(key))
		answers[i]++
		w.waitChange(before)
	}
	if !banned {
		t.Fatalf("the random labeller was never banned (answers %v)", answers)
	}
	for i := 0; i < 2; i++ {
		if !done[i] {
			t.Fatalf("%s still has work after 400 turns", workers[i].name)
		}
	}

	// The requester pays out: the epoch decides the answers and settles on chain.
	bech := func(i int) string {
		s, _ := bech32.ConvertAndEncode(app.Bech32Prefix, n.Wallet(i).Address.Bytes())
		return s
	}
	before := map[int][2]*big.Int{}
	for i := 1; i <= 3; i++ {
		a, _ := n.BankBalance(ctx, bech(i), "asah")
		p, _ := n.BankBalance(ctx, bech(i), partner)
		before[i] = [2]*big.Int{a, p}
	}
	req.open(projPath)
	req.snap("before-payout")
	req.do(chromedp.Click(chromedp.CSS(`[data-testid="payout"]`)))
	req.waitText(`#post-status`, "settled on chain")
	req.waitText(`[data-testid="paid"]`, "SAH") // the page reloaded
	req.snap("after-payout")

	var info struct {
		P struct {
			PoolID uint64 `json:"pool_id"`
		} `json:"P"`
		Progress struct {
			Done    int64
			Batches []struct {
				Status  string
				Denoms  []string
				Entries []struct {
					Worker  string
					Amounts []string
					Units   uint64
				}
			}
		}
	}
	req.getJSON(fmt.Sprintf("/api/tasks/%d", project), &info)
	if info.Progress.Done != 20 || len(info.Progress.Batches) != 1 || info.Progress.Batches[0].Status != "settled" {
		t.Fatalf("after payout: %+v", info.Progress)
	}
	paid, units := map[string][]string{}, map[string]uint64{}
	for _, e := range info.Progress.Batches[0].Entries {
		paid[strings.ToLower(e.Worker)] = e.Amounts
		units[strings.ToLower(e.Worker)] = e.Units
	}
	for i := 1; i <= 3; i++ {
		a, _ := n.BankBalance(ctx, bech(i), "asah")
		p, _ := n.BankBalance(ctx, bech(i), partner)
		gotA, gotP := new(big.Int).Sub(a, before[i][0]), new(big.Int).Sub(p, before[i][1])
		want := paid[strings.ToLower(n.Wallet(i).Address.Hex())]
		if i == 3 {
			if want != nil || gotA.Sign() != 0 || gotP.Sign() != 0 {
				t.Fatalf("the banned labeller was paid %s asah and %s partner (batch %v)", gotA, gotP, want)
			}
			continue
		}
		// Amounts are in the batch's denom order (sorted: asah, erc20:…).
		if want == nil || gotA.String() != want[0] || gotP.String() != want[1] {
			t.Fatalf("dev%d received %s asah and %s partner; the batch says %v", i, gotA, gotP, want)
		}
		// 1 SAH and 2 partner tokens per accepted answer plus the 10% bonus of perfect control accuracy.
		if want := new(big.Int).Mul(big.NewInt(int64(units[strings.ToLower(n.Wallet(i).Address.Hex())])), big.NewInt(11e17)); gotA.Cmp(want) != 0 {
			t.Fatalf("dev%d received %s asah for %d answers, want %s", i, gotA, units[strings.ToLower(n.Wallet(i).Address.Hex())], want)
		}
		if new(big.Int).Mul(gotA, big.NewInt(2)).Cmp(gotP) != 0 {
			t.Fatalf("dev%d: partner %s is not twice asah %s", i, gotP, gotA)
		}
	}

	// The dataset, minted with the contributors as shareholders.
	req.do(chromedp.Click(chromedp.CSS(`[data-testid="mint"]`)))
	req.waitText(`#post-status`, "Minted dataset asset")
	status := req.text(`#post-status`)
	asset := strings.TrimSuffix(strings.TrimPrefix(status, "Minted dataset asset #"), ".")
	var a struct {
		Shareholders []struct {
			Address string `json:"address"`
			Shares  uint64 `json:"shares"`
		} `json:"shareholders"`
	}
	waitIndexed(t, n.Web+"/api/assets/"+asset, &a)
	holders := map[string]uint64{}
	var sum uint64
	for _, h := range a.Shareholders {
		holders[strings.ToLower(h.Address)] = h.Shares
		sum += h.Shares
	}
	g1, g2 := holders[strings.ToLower(n.Wallet(1).Address.Hex())], holders[strings.ToLower(n.Wallet(2).Address.Hex())]
	if sum != 100_000_000 || g1 == 0 || g2 == 0 || holders[strings.ToLower(n.Wallet(3).Address.Hex())] != 0 || holders[strings.ToLower(n.Wallet(0).Address.Hex())] < 20_000_000 {
		t.Fatalf("dataset %s shareholders %v", asset, holders)
	}
	req.open("/assets/" + asset)
	req.snap("dataset")
	workers[0].open("/tasks/earnings")
	workers[0].snap("earnings")
	if got := workers[0].text(`[data-testid="earnings"]`); !strings.Contains(got, "Spam or not") {
		t.Fatalf("earnings page: %q", got)
	}
}

// waitTask waits for the work page to show a task, "no-work" or "banned".
func (u *user) waitTask() string {
	u.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		s, _ := chromedp.Run(u.ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="no-work"]') ? "no-work" : document.querySelector('[data-testid="banned"]') ? "banned" : document.querySelector("#task .item") ? "task" : ""`))
		if s != "" {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	u.snap("failed")
	u.t.Fatalf("%s: no task, no end: %s", u.name, u.text("#work-status"))
	return ""
}

// waitChange waits until the page moved past the item it showed.
func (u *user) waitChange(item string) {
	u.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		s, _ := chromedp.Run(u.ctx, chromedp.Evaluate[string](`(document.querySelector("#task .item")||{dataset:{}}).dataset.item || "gone"`))
		if s != item {
			return
		}
		if st, _ := chromedp.Run(u.ctx, chromedp.Evaluate[string](`document.querySelector("#work-status").textContent`)); strings.Contains(st, "rror") || strings.Contains(st, "not") {
			u.t.Fatalf("%s: %s", u.name, st)
		}
		time.Sleep(30 * time.Millisecond)
	}
	u.snap("failed")
	u.t.Fatalf("%s: still on item %s", u.name, item)
}

// getJSON fetches an API path with the user's session cookie.
func (u *user) getJSON(path string, out any) {
	u.t.Helper()
	js := fmt.Sprintf(`fetch(%q, {headers: {Accept: "application/json"}}).then(r => r.text())`, path)
	s, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](js, chromedp.EvalAsValue, chromedp.EvalAwaitPromise))
	if err != nil {
		u.t.Fatal(err)
	}
	if err := jsonUnmarshal([]byte(s), out); err != nil {
		u.t.Fatalf("%s: %v: %s", path, err, s)
	}
}

func jsonUnmarshal(b []byte, out any) error { return json.Unmarshal(b, out) }

// waitIndexed polls an API URL until it answers 200 (the index reached the block), then decodes it.
func waitIndexed(t *testing.T, url string, out any) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		res, err := http.Get(url)
		if err == nil {
			bz, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == 200 {
				if err := json.Unmarshal(bz, out); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s never answered 200", url)
}
