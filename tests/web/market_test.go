package web

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common"

	"sahara/platform/db/dbtest"
	"sahara/sdk/evmclient"
)

// TestMarketplaceFlow is the marketplace's whole money path in a real browser on a real
// `sahara up`: dev0 signs in, publishes a dataset with terms that take 10% of derivatives'
// revenue; dev1 licenses it and publishes a model trained on it; dev2 pays the model 10 SAH;
// dev0's earnings page shows the 1 SAH royalty in its chart and claims it with one click; the
// chain balances move by exactly the amounts (fees included, from the receipts).
func TestMarketplaceFlow(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { marketplaceFlow(t, kind) })
	}
}

func marketplaceFlow(t *testing.T, kind string) {
	n := startNode(t, kind)
	ctx := ctxFor(t, 5*time.Minute)
	c, err := n.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	shots := newShots(t)
	dev0, dev1, dev2 := newUser(t, "dev0", n.Web, shots), newUser(t, "dev1", n.Web, shots), newUser(t, "dev2", n.Web, shots)
	addr := func(i int) common.Address { return n.Wallet(i).Address }
	bal := func(i int) *big.Int {
		b, err := c.BalanceAt(ctx, addr(i), nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// dev0 publishes a dataset with 10% derivative terms.
	dev0.devLogin(0)
	dev0.snap("account-empty")
	file := filepath.Join(t.TempDir(), "faces.csv")
	os.WriteFile(file, []byte(strings.Repeat("image,label\nface1.png,cat\nface2.png,dog\n", 200)), 0o644)
	dev0.open("/upload")
	dev0.do(chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="file"]`), []string{file}),
		chromedp.SetValue(chromedp.CSS(`[data-testid="name"]`), "Faces of pets"),
		chromedp.SetValue(chromedp.CSS(`[data-testid="description"]`), "Labelled portraits of cats and dogs, 400 rows."),
		chromedp.SetValue(chromedp.CSS(`[data-testid="rev-share"]`), "1000"))
	dev0.snap("upload-form")
	dev0.do(chromedp.Click(chromedp.CSS(`[data-testid="publish-dev"]`)))
	dsPath := dev0.waitPath(`^/assets/\d+$`)
	ds, _ := strconv.ParseUint(strings.TrimPrefix(dsPath, "/assets/"), 10, 64)
	if got := dev0.text(`[data-testid="asset-name"]`); got != "Faces of pets" {
		t.Fatalf("asset page shows %q", got)
	}
	if got := dev0.text(`[data-testid="terms"]`); !strings.Contains(got, "10% of every payment") {
		t.Fatalf("terms read %q", got)
	}
	dev0.do(chromedp.Click(chromedp.CSS(`[data-testid="verify"]`)))
	dev0.waitText(`[data-testid="verify-result"]`, "Verified")
	dev0.snap("dataset-page")

	// dev1 licenses it (the fee caps are shown) and publishes a model trained on it.
	dev1.devLogin(1)
	dev1.open(dsPath)
	if got := dev1.eval(`document.querySelector('[data-testid="max-fee"]').value`); got != "free" && got != "0" {
		t.Fatalf("max fee field shows %q", got)
	}
	dev1.do(chromedp.SetValue(chromedp.CSS(`[data-testid="max-fee"]`), "0"))
	dev1.snap("license-offer")
	dev1.do(chromedp.Click(chromedp.CSS(`[data-testid="mint-dev"]`)))
	dev1.waitText(`[data-testid="my-licenses"]`, "License #")
	dev1.snap("licensed")
	var dsInfo struct {
		Licenses []struct {
			ID     uint64 `json:"id"`
			Holder string `json:"holder"`
		} `json:"licenses"`
	}
	getJSON(t, fmt.Sprintf("%s/api/assets/%d", n.Web, ds), &dsInfo)
	if len(dsInfo.Licenses) != 1 || dsInfo.Licenses[0].Holder != addr(1).Hex() {
		t.Fatalf("licenses of the dataset: %+v", dsInfo.Licenses)
	}
	dev1.do(chromedp.Click(chromedp.CSS(`[data-testid="my-licenses"] a`)))
	dev1.waitPath(`^/upload$`)
	model := filepath.Join(t.TempDir(), "vision.bin")
	os.WriteFile(model, []byte(strings.Repeat("weights", 1000)), 0o644)
	dev1.do(chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="file"]`), []string{model}),
		chromedp.SetValue(chromedp.CSS(`[data-testid="kind"]`), "MODEL"),
		chromedp.SetValue(chromedp.CSS(`[data-testid="name"]`), "Pet vision"),
		chromedp.SetValue(chromedp.CSS(`[data-testid="description"]`), "A classifier trained on Faces of pets."))
	dev1.snap("derivative-form")
	dev1.do(chromedp.Click(chromedp.CSS(`[data-testid="publish-dev"]`)))
	modelPath := dev1.waitPath(`^/assets/\d+$`)
	if modelPath == dsPath {
		t.Fatal("the model got the dataset's id")
	}
	edges := dev1.eval(`JSON.parse(document.getElementById("graph-data").textContent).edges.map(e => e.parent + ">" + e.child + ":" + e.type + ":" + e.share).join(",")`)
	if want := fmt.Sprintf("%d>%s:TRAINED_ON:10000000", ds, strings.TrimPrefix(modelPath, "/assets/")); edges != want {
		t.Fatalf("lineage edges %q, want %q", edges, want)
	}
	dev1.snap("model-page")

	// dev2 pays the model 10 SAH.
	dev2.devLogin(2)
	dev2.open(modelPath)
	dev2.do(chromedp.SetValue(chromedp.CSS(`[data-testid="pay-amount"]`), "10"))
	dev2.do(chromedp.Click(chromedp.CSS(`[data-testid="pay-dev"]`)))
	dev2.waitText(`[data-testid="payments"]`, "10 SAH")
	dev2.snap("model-paid")

	// dev0 sees the 1 SAH royalty and claims it with one click.
	dev0.open("/account")
	if got := dev0.text(`[data-testid="total-earned"]`); got != "1 SAH" {
		t.Fatalf("dev0 earned %q, want 1 SAH", got)
	}
	if got := dev0.text(`[data-testid="by-role"]`); !strings.Contains(got, "Royalties from derivatives") {
		t.Fatalf("by role: %q", got)
	}
	if pts := dev0.eval(`String(document.querySelectorAll('[data-testid="earnings-chart"] canvas').length)`); pts != "1" {
		t.Fatalf("the earnings chart has %s canvases", pts)
	}
	if got := dev0.text(`[data-testid="claimable-total"]`); got != "1 SAH" {
		t.Fatalf("claimable %q", got)
	}
	dev0.snap("earnings")
	before := bal(0)
	dev0.do(chromedp.Click(chromedp.CSS(`[data-testid="claim-dev"]`)))
	dev0.waitText(`[data-testid="nothing-claimable"]`, "Nothing to claim")
	dev0.snap("claimed")
	after := bal(0)

	// The claim paid exactly 1 SAH, less the claim transaction's fee.
	var acct struct {
		Claims []struct {
			Amount string `json:"amount"`
			TxHash string `json:"tx_hash"`
		} `json:"claims"`
	}
	getJSON(t, fmt.Sprintf("%s/api/accounts/%s", n.Web, addr(0).Hex()), &acct)
	if len(acct.Claims) != 1 || acct.Claims[0].Amount != sah(1).String()+"asah" {
		t.Fatalf("indexed claims %+v", acct.Claims)
	}
	fee := txFee(t, ctx, c, acct.Claims[0].TxHash)
	if want := new(big.Int).Sub(new(big.Int).Add(before, sah(1)), fee); after.Cmp(want) != 0 {
		t.Fatalf("dev0 balance %s after the claim, want %s (before %s + 1 SAH - fee %s)", after, want, before, fee)
	}
	// dev1, the model's owner, may claim the other 9 SAH.
	var acct1 struct {
		ClaimTotal []struct{ Denom, Amount string } `json:"claimable_total"`
	}
	getJSON(t, fmt.Sprintf("%s/api/accounts/%s", n.Web, addr(1).Hex()), &acct1)
	if len(acct1.ClaimTotal) != 1 || acct1.ClaimTotal[0].Amount != sah(9).String() {
		t.Fatalf("dev1 claimable %+v, want 9 SAH", acct1.ClaimTotal)
	}

	// The home page finds both.
	dev2.open("/?q=pets")
	if got := dev2.eval(`String(document.querySelectorAll('[data-testid="asset-card"]').length)`); got != "2" {
		t.Fatalf("search for pets found %s cards", got)
	}
	dev2.snap("search")
	dev2.open("/")
	dev2.snap("home")
}

// txFee is what a transaction cost its sender: gas used × effective gas price.
func txFee(t *testing.T, ctx context.Context, c *evmclient.Client, hash string) *big.Int {
	t.Helper()
	r, err := c.TransactionReceipt(ctx, common.HexToHash(hash))
	if err != nil {
		t.Fatalf("receipt of %s: %v", hash, err)
	}
	return new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)
}
