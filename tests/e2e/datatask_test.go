package e2e

import (
	"math/big"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"sahara/contracts"
	"sahara/internal/testnode"
	"sahara/sdk/evmclient"
	"sahara/sdk/protocol"
)

func cosmosTx(t *testing.T, n *testnode.Node, args ...string) {
	t.Helper()
	if err := n.CosmosTx(ctxFor(t, 2*time.Minute), args...); err != nil {
		t.Fatal(err)
	}
}

// bankBalance is an address's bank balance of denom.
func bankBalance(t *testing.T, n *testnode.Node, addr common.Address, denom string) *big.Int {
	t.Helper()
	v, err := n.BankBalance(ctxFor(t, time.Minute), bech32Of(t, addr.Hex()), denom)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A partner ERC-20 registered through x/erc20 funds a pool beside the native coin: payouts land
// in both denoms to the unit, a replayed batch is refused and pays nothing, the authority closes
// the pool and the requester gets back exactly what was left, and the dataset is minted with the
// contributors as shareholders.
func TestDataTaskPartnerTokenPool(t *testing.T) {
	n := shared(t)
	ctx := ctxFor(t, 4*time.Minute)
	c, err := n.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	requester, qa := n.Wallet(2), n.Wallet(5)
	tok := contracts.MustLoad("SaharaToken")
	code, _ := tok.DeployData("Partner", "PTN", evmclient.Ether(1_000_000))
	token, _, err := c.Deploy(ctx, requester, code)
	if err != nil {
		t.Fatal(err)
	}
	partner := "erc20:" + token.Hex()
	cosmosTx(t, n, "tx", "erc20", "register-erc20", token.Hex(), "--from", "dev2")
	cosmosTx(t, n, "tx", "erc20", "convert-erc20", token.Hex(), evmclient.Ether(1000).String(), "--from", "dev2")
	if got := bankBalance(t, n, requester.Address, partner); got.Cmp(evmclient.Ether(1000)) != 0 {
		all, _ := exec.Command(n.Bin, "q", "bank", "balances", bech32Of(t, requester.Address.Hex()), "--home", n.Home).CombinedOutput()
		t.Fatalf("requester holds %s %s after converting, want 1000e18; all balances:\n%s", got, partner, all)
	}

	mc := func(call protocol.Call, err error) protocol.Call {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return call
	}
	send := func(w *evmclient.Wallet, call protocol.Call) *types.Receipt {
		t.Helper()
		r, err := c.SendAndWait(ctx, w, &call.To, nil, call.Data, call.Gas)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	denoms := []string{"asah", partner}
	r := send(requester, mc(protocol.CreatePool(protocol.Pool{
		Name: "spam labels", Authorities: []common.Address{qa.Address}, Denoms: denoms,
		Deposits: []*big.Int{evmclient.Ether(10), evmclient.Ether(100)}, Rates: []*big.Int{evmclient.Ether(1), evmclient.Ether(5)},
		MaxBonusBps: 2000, Deadline: time.Now().Add(time.Hour).Unix(), RequesterShare: 10_000_000,
	})))
	pool, ok := protocol.PoolID(r)
	if !ok {
		t.Fatalf("no PoolCreated log in %+v", r.Logs)
	}

	workers := []*evmclient.Wallet{evmclient.NewWallet(), evmclient.NewWallet(), evmclient.NewWallet()}
	pay := []protocol.Payout{
		{To: workers[0].Address, Amounts: []*big.Int{evmclient.Ether(3), evmclient.Ether(15)}, Units: 3, Weight: 300},
		{To: workers[1].Address, Amounts: []*big.Int{evmclient.Ether(2), evmclient.Ether(10)}, Units: 2, Weight: 200},
		{To: workers[2].Address, Amounts: []*big.Int{big.NewInt(1), big.NewInt(7)}, Units: 1, Weight: 1},
	}
	if r := send(qa, mc(protocol.PostPayouts(pool, 1, denoms, pay))); r.Status != types.ReceiptStatusSuccessful {
		t.Fatal("payout batch 1 failed")
	}
	check := func(w *evmclient.Wallet, asah, part *big.Int) {
		t.Helper()
		if got := bankBalance(t, n, w.Address, "asah"); got.Cmp(asah) != 0 {
			t.Fatalf("%s holds %s asah, want %s", w.Address, got, asah)
		}
		if got := bankBalance(t, n, w.Address, partner); got.Cmp(part) != 0 {
			t.Fatalf("%s holds %s %s, want %s", w.Address, got, partner, part)
		}
	}
	check(workers[0], evmclient.Ether(3), evmclient.Ether(15))
	check(workers[2], big.NewInt(1), big.NewInt(7))

	// The same batch again: the transaction reverts with the reason, and nobody is paid twice.
	call, _ := protocol.PostPayouts(pool, 1, denoms, pay)
	rr, _ := c.SendAndWait(ctx, qa, &call.To, nil, call.Data, call.Gas)
	if rr == nil || rr.Status != types.ReceiptStatusFailed {
		t.Fatalf("replayed batch: receipt %+v, want a failed one", rr)
	}
	check(workers[0], evmclient.Ether(3), evmclient.Ether(15))
	out, _ := exec.Command(n.Bin, "pool", "show", itoa(pool), "--home", n.Home).CombinedOutput()
	if !strings.Contains(string(out), "last batch 1") || !strings.Contains(string(out), bech32Of(t, workers[0].Address.Hex())) {
		t.Fatalf("sahara pool show:\n%s", out)
	}

	// The authority ends the project: the rest goes back to the requester, exactly.
	before := bankBalance(t, n, requester.Address, partner)
	send(qa, mc(protocol.ClosePool(pool)))
	refund := new(big.Int).Sub(evmclient.Ether(100), new(big.Int).Add(evmclient.Ether(25), big.NewInt(7)))
	if got := new(big.Int).Sub(bankBalance(t, n, requester.Address, partner), before); got.Cmp(refund) != 0 {
		t.Fatalf("refund %s %s, want %s", got, partner, refund)
	}

	r = send(qa, mc(protocol.MintDataset(pool, "spam labels v1", "sahara://spam", [32]byte{1}, 1234)))
	asset, ok := protocol.DatasetID(r)
	if !ok {
		t.Fatalf("no DatasetMinted log")
	}
	// 10% to the requester; 90% by weight 300:200:1 → 53.89…%, 35.92…%, 0.17…%, remainders to the requester.
	out = []byte(runCLI(t, n, `shareholders`, "asset", "show", itoa(asset)))
	for _, w := range workers {
		if !strings.Contains(string(out), bech32Of(t, w.Address.Hex())) {
			t.Fatalf("asset %d does not list contributor %s:\n%s", asset, w.Address, out)
		}
	}
}

func itoa(v uint64) string { return new(big.Int).SetUint64(v).String() }
