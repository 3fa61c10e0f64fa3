package e2e

import (
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"sahara/sdk/evmclient"
)

// Each bad transaction gets a JSON-RPC error that says what is wrong, and
// the node keeps producing blocks and accepting good transactions.
func TestBadTransactionsAreRejectedClearly(t *testing.T) {
	n := shared(t)
	ctx := ctxFor(t, 2*time.Minute)
	c, err := n.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := n.Wallet(8)
	to := evmclient.NewWallet().Address
	fees, err := c.SuggestFees(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nonce, _ := c.PendingNonceAt(ctx, w.Address)
	// One good transaction first: its replay is a case below.
	good, err := c.Sign(w, evmclient.TxOpts{Nonce: nonce, To: &to, Value: big.NewInt(1), Gas: 21000, Fees: fees})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendTransaction(ctx, good); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitReceipt(ctx, good.Hash()); err != nil {
		t.Fatal(err)
	}
	nonce++

	sendRaw := func(raw []byte) error {
		var h string
		return c.Client.Client().CallContext(ctx, &h, "eth_sendRawTransaction", hexutil.Encode(raw))
	}
	signed := func(o evmclient.TxOpts, chainID *big.Int, key *evmclient.Wallet) []byte {
		tx := types.NewTx(&types.DynamicFeeTx{ChainID: chainID, Nonce: o.Nonce, GasTipCap: o.Fees.TipCap, GasFeeCap: o.Fees.FeeCap,
			Gas: o.Gas, To: o.To, Value: o.Value, Data: o.Data})
		s, err := types.SignTx(tx, types.LatestSignerForChainID(chainID), key.Key)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := s.MarshalBinary()
		return raw
	}
	goodRaw, _ := good.MarshalBinary()
	poor := evmclient.NewWallet()
	wrongChain := new(big.Int).Add(c.ChainID, big.NewInt(1))
	cases := []struct {
		name string
		raw  []byte
		want []string // any of these substrings, case-insensitive
	}{
		{"malformed bytes", []byte{0xde, 0xad, 0xbe, 0xef}, []string{"rlp", "decode", "typed transaction"}},
		{"empty", []byte{}, []string{"empty", "rlp", "decode", "typed transaction"}},
		{"wrong chain id", signed(evmclient.TxOpts{Nonce: nonce, To: &to, Value: big.NewInt(1), Gas: 21000, Fees: fees}, wrongChain, w), []string{"chain id", "chain-id", "chainid"}},
		{"replayed transaction", goodRaw, []string{"nonce too low", "already known", "invalid nonce", "nonce"}},
		{"insufficient funds", signed(evmclient.TxOpts{Nonce: 0, To: &to, Value: evmclient.Ether(1), Gas: 21000, Fees: fees}, c.ChainID, poor), []string{"insufficient funds"}},
		{"gas below intrinsic", signed(evmclient.TxOpts{Nonce: nonce, To: &to, Value: big.NewInt(1), Gas: 20_000, Fees: fees}, c.ChainID, w), []string{"intrinsic gas", "gas too low", "out of gas"}},
		{"oversized", signed(evmclient.TxOpts{Nonce: nonce, To: &to, Value: big.NewInt(0), Gas: 30_000_000, Data: make([]byte, 2<<20), Fees: fees}, c.ChainID, w), []string{"oversized", "too large", "exceeds", "size", "body limit"}},
	}
	h0, _ := c.BlockNumber(ctx)
	for _, tc := range cases {
		err := sendRaw(tc.raw)
		if err == nil {
			t.Errorf("%s: accepted, want an error", tc.name)
			continue
		}
		msg := strings.ToLower(err.Error())
		ok := false
		for _, s := range tc.want {
			ok = ok || strings.Contains(msg, s)
		}
		if !ok {
			t.Errorf("%s: error %q does not say %v", tc.name, err, tc.want)
		} else {
			t.Logf("%-22s -> %s", tc.name, err)
		}
	}
	// The node is alive: blocks continue and a good transaction lands.
	r, err := c.SendAndWait(ctx, w, &to, big.NewInt(2), nil, 21000)
	if err != nil {
		t.Fatalf("good transaction after the bad ones: %v", err)
	}
	if r.BlockNumber.Uint64() <= h0 || n.Exited() {
		t.Fatalf("node stalled or exited (block %d, before %d)", r.BlockNumber, h0)
	}
}
