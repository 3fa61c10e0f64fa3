package web

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/crypto"

	"sahara/sdk/evmclient"
	"sahara/sdk/protocol"
)

// walletJS is an EIP-1193 provider that lives in the page and holds the key: it signs sign-in
// messages and transactions itself (ethers), and only passes signed transactions and reads to
// the chain's JSON-RPC (through __rpc, as a wallet's RPC connection). The server sees neither
// the key nor anything signed with it but the SIWE signature and the broadcast transaction.
const walletJS = `(() => {
  const KEY = %q, CHAIN = %d;
  // every body sent to the server, kept across page loads of the tab
  const sent = { push: (s) => { const a = JSON.parse(sessionStorage.getItem("__sent") || "[]"); a.push(s); sessionStorage.setItem("__sent", JSON.stringify(a)); } };
  const origFetch = window.fetch;
  window.fetch = function (url, opts) { sent.push(String(url) + " " + String(opts && opts.body || "")); return origFetch.apply(this, arguments); };
  const origSend = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (body) { sent.push("xhr " + String(body || "")); return origSend.apply(this, arguments); };
  const w = new ethers.Wallet(KEY);
  const rpc = (method, params) => window.__rpc({ method, params: params || [] });
  window.ethereum = {
    isTestWallet: true,
    async request({ method, params }) {
      switch (method) {
        case "eth_requestAccounts": case "eth_accounts": return [w.address];
        case "eth_chainId": return "0x" + CHAIN.toString(16);
        case "wallet_switchEthereumChain": return null;
        case "personal_sign": return w.signMessage(ethers.getBytes(params[0]));
        case "eth_sendTransaction": {
          const tx = params[0];
          if (tx.from.toLowerCase() !== w.address.toLowerCase()) throw new Error("not this wallet's account");
          const nonce = await rpc("eth_getTransactionCount", [w.address, "pending"]);
          const price = BigInt(await rpc("eth_gasPrice"));
          const signed = await w.signTransaction({ type: 2, chainId: CHAIN, nonce: Number(nonce), to: tx.to, data: tx.data,
            gasLimit: BigInt(tx.gas), value: 0n, maxPriorityFeePerGas: price, maxFeePerGas: price * 2n });
          return rpc("eth_sendRawTransaction", [signed]);
        }
        default: return rpc(method, params);
      }
    },
  };
})();`

type rpcReq struct {
	Method string `json:"method"`
	Params []any  `json:"params"`
}

// TestWalletPurchase buys a license with a browser wallet (EIP-1193): sign-in and the mint
// transaction are signed in the page; the server only builds the call. A cap below the fee is
// refused before anything is sent; the right cap pays exactly the fee.
func TestWalletPurchase(t *testing.T) {
	n := startNode(t, "sqlite")
	ctx := ctxFor(t, 5*time.Minute)
	c, err := n.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	owner := n.Wallet(4)
	// A dataset with a 2 SAH mint fee, set up directly on chain.
	send := func(call protocol.Call, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.SendAndWait(ctx, owner, &call.To, nil, call.Data, call.Gas); err != nil {
			t.Fatal(err)
		}
	}
	send(protocol.RegisterAsset("DATASET", "Street scenes", "data:text/plain,Dashcam%20frames", [32]byte{7}, 10, nil))
	send(protocol.CreateTerms(protocol.Terms{CommercialUse: true, MintFeeDenom: "asah", MintFee: sah(2)}))
	send(protocol.AttachTerms(1, 1))

	// A new wallet the server has never seen, funded with 100 SAH.
	wal := evmclient.NewWallet()
	if _, err := c.SendAndWait(ctx, n.Wallet(5), &wal.Address, sah(100), nil, 21000); err != nil {
		t.Fatal(err)
	}
	key := "0x" + hex.EncodeToString(crypto.FromECDSA(wal.Key))
	ethersJS, err := os.ReadFile(filepath.Join(repoRoot, "node_modules", "ethers", "dist", "ethers.umd.min.js"))
	if err != nil {
		t.Fatalf("ethers for the test wallet: %v (run npm ci)", err)
	}
	shots := newShots(t)
	u := newUser(t, "wallet", n.Web, shots)
	if _, err := chromedp.Call(u.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: string(ethersJS) + "\n" + fmt.Sprintf(walletJS, key, c.ChainID.Uint64())}); err != nil {
		t.Fatal(err)
	}
	u.do(chromedp.ExposeFunc("__rpc", func(ctx context.Context, r rpcReq) (json.RawMessage, error) {
		return jsonRPC(ctx, n.RPC, r)
	}))

	u.open("/login")
	u.snap("login-wallet")
	u.do(chromedp.Click(chromedp.CSS(`[data-testid="wallet-login"]`)))
	u.waitPath(`^/account$`)
	if got := u.eval(`document.querySelector('[data-testid="who"]').title`); got != wal.Address.Hex() {
		t.Fatalf("signed in as %q, want %s", got, wal.Address.Hex())
	}
	u.open("/assets/1")
	// A cap below the fee: refused with the chain's reason, nothing sent.
	nonce0, _ := c.NonceAt(ctx, wal.Address, nil)
	u.do(chromedp.SetValue(chromedp.CSS(`[data-testid="max-fee"]`), "1.5"), chromedp.Click(chromedp.CSS(`[data-testid="mint-wallet"]`)))
	u.waitText(`.terms output.status`, "mint fee is 2 SAH")
	u.snap("cap-too-low")
	if nonce1, _ := c.NonceAt(ctx, wal.Address, nil); nonce1 != nonce0 {
		t.Fatal("a refused mint still sent a transaction")
	}
	before, _ := c.BalanceAt(ctx, wal.Address, nil)
	u.do(chromedp.SetValue(chromedp.CSS(`[data-testid="max-fee"]`), "2"), chromedp.Click(chromedp.CSS(`[data-testid="mint-wallet"]`)))
	u.waitText(`[data-testid="my-licenses"]`, "License #1")
	u.snap("licensed-with-wallet")
	after, _ := c.BalanceAt(ctx, wal.Address, nil)

	var info struct {
		Licenses []struct{ Holder string } `json:"licenses"`
	}
	getJSON(t, n.Web+"/api/assets/1", &info)
	if len(info.Licenses) != 1 || info.Licenses[0].Holder != wal.Address.Hex() {
		t.Fatalf("licenses %+v", info.Licenses)
	}
	var pays []struct {
		Amount string `json:"amount"`
		Reason string `json:"reason"`
		TxHash string `json:"tx_hash"`
	}
	raw, _ := json.Marshal(mapGet(t, n.Web+"/api/assets/1", "recent_payments"))
	json.Unmarshal(raw, &pays)
	if len(pays) != 1 || pays[0].Reason != "license_fee" || pays[0].Amount != sah(2).String() {
		t.Fatalf("payments %+v", pays)
	}
	fee := txFee(t, ctx, c, pays[0].TxHash)
	if want := new(big.Int).Sub(new(big.Int).Sub(before, sah(2)), fee); after.Cmp(want) != 0 {
		t.Fatalf("wallet balance %s, want %s (2 SAH fee and %s gas)", after, want, fee)
	}
	// Nothing the page sent to the server carries the key.
	bodies := u.eval(`sessionStorage.getItem("__sent") || ""`)
	if !strings.Contains(bodies, "/api/tx/mint") {
		t.Fatalf("the recorder saw no mint request: %q", bodies)
	}
	for _, k := range []string{strings.TrimPrefix(key, "0x"), strings.ToUpper(strings.TrimPrefix(key, "0x"))} {
		if strings.Contains(bodies, k) {
			t.Fatal("a request to the server carried the wallet's private key")
		}
	}
}

func mapGet(t *testing.T, url, field string) any {
	var m map[string]any
	getJSON(t, url, &m)
	return m[field]
}

// jsonRPC relays one call to the node's JSON-RPC, as a wallet's provider connection does.
func jsonRPC(ctx context.Context, url string, r rpcReq) (json.RawMessage, error) {
	if r.Params == nil {
		r.Params = []any{}
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": r.Method, "params": r.Params})
	req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	bz, _ := io.ReadAll(res.Body)
	var out struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(bz, &out); err != nil {
		return nil, fmt.Errorf("%s: %s", r.Method, bz)
	}
	if out.Error != nil {
		return nil, fmt.Errorf("%s: %s", r.Method, out.Error.Message)
	}
	return out.Result, nil
}
