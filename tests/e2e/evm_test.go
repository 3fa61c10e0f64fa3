package e2e

import (
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"sahara/chain/app"
	"sahara/contracts"
	"sahara/sdk/evmclient"
)

func TestChainIDAndBlocks(t *testing.T) {
	n := shared(t)
	ctx := ctxFor(t, time.Minute)
	c, err := n.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.ChainID.Uint64() != app.EVMChainID {
		t.Fatalf("eth_chainId = %d, want %d", c.ChainID, app.EVMChainID)
	}
	h1, err := c.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	h2, _ := c.BlockNumber(ctx)
	if h2 <= h1 {
		t.Fatalf("no new block in 2.5s: %d then %d", h1, h2)
	}
	b, err := c.BlockByNumber(ctx, new(big.Int).SetUint64(h2))
	if err != nil {
		t.Fatal(err)
	}
	if b.NumberU64() != h2 || b.GasLimit() != 100_000_000 || b.BaseFee() == nil {
		t.Fatalf("block %d: gas limit %d base fee %v", b.NumberU64(), b.GasLimit(), b.BaseFee())
	}
	// The block hash is the consensus (CometBFT) block hash, not the RLP
	// hash of the Ethereum-shaped header, so compare with what the node
	// reports rather than with Header.Hash() computed here.
	var parent struct {
		Hash common.Hash `json:"hash"`
	}
	if err := c.Client.Client().CallContext(ctx, &parent, "eth_getBlockByNumber", hexutil.EncodeUint64(h2-1), false); err != nil {
		t.Fatal(err)
	}
	if b.ParentHash() != parent.Hash {
		t.Fatalf("block %d parent hash %s != reported hash of block %d %s", h2, b.ParentHash(), h2-1, parent.Hash)
	}
}

func TestNativeTransfer(t *testing.T) {
	n := shared(t)
	ctx := ctxFor(t, time.Minute)
	c, _ := n.Client(ctx)
	from := n.Wallet(1)
	to := evmclient.NewWallet().Address
	before, err := c.BalanceAt(ctx, from.Address, nil)
	if err != nil {
		t.Fatal(err)
	}
	nonce, _ := c.NonceAt(ctx, from.Address, nil)
	value := big.NewInt(123_456_789)
	r, err := c.SendAndWait(ctx, from, &to, value, nil, 21000)
	if err != nil {
		t.Fatal(err)
	}
	if r.GasUsed != 21000 {
		t.Errorf("gas used %d, want 21000", r.GasUsed)
	}
	got, _ := c.BalanceAt(ctx, to, r.BlockNumber)
	if got.Cmp(value) != 0 {
		t.Fatalf("recipient balance %s, want %s", got, value)
	}
	after, _ := c.BalanceAt(ctx, from.Address, r.BlockNumber)
	fee := new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)
	want := new(big.Int).Sub(new(big.Int).Sub(before, value), fee)
	if after.Cmp(want) != 0 {
		t.Fatalf("sender balance %s, want %s (before %s - value - fee %s)", after, want, before, fee)
	}
	if nn, _ := c.NonceAt(ctx, from.Address, nil); nn != nonce+1 {
		t.Fatalf("nonce %d after one tx from %d", nn, nonce)
	}
	tx, pending, err := c.TransactionByHash(ctx, r.TxHash)
	if err != nil || pending || tx.Value().Cmp(value) != 0 {
		t.Fatalf("eth_getTransactionByHash: %v pending=%v", err, pending)
	}
}

func TestERC20AndLogs(t *testing.T) {
	n := shared(t)
	ctx := ctxFor(t, 2*time.Minute)
	c, _ := n.Client(ctx)
	owner := n.Wallet(2)
	tok := contracts.MustLoad("SaharaToken")
	supply := evmclient.Ether(1_000_000)
	code, err := tok.DeployData("Test Token", "TT", supply)
	if err != nil {
		t.Fatal(err)
	}
	addr, r, err := c.Deploy(ctx, owner, code)
	if err != nil {
		t.Fatal(err)
	}
	if deployed, _ := c.CodeAt(ctx, addr, nil); len(deployed) == 0 {
		t.Fatal("no code at the deployed address")
	}
	if len(r.Logs) != 1 || r.Logs[0].Topics[0] != tok.ABI.Events["Transfer"].ID {
		t.Fatalf("deploy receipt logs: %+v", r.Logs)
	}

	call := func(method string, args ...any) []any {
		t.Helper()
		data, err := tok.ABI.Pack(method, args...)
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.CallContract(ctx, ethereum.CallMsg{To: &addr, Data: data}, nil)
		if err != nil {
			t.Fatalf("eth_call %s: %v", method, err)
		}
		vals, err := tok.ABI.Unpack(method, out)
		if err != nil {
			t.Fatal(err)
		}
		return vals
	}
	if s := call("symbol")[0].(string); s != "TT" {
		t.Fatalf("symbol %q", s)
	}
	if b := call("balanceOf", owner.Address)[0].(*big.Int); b.Cmp(supply) != 0 {
		t.Fatalf("owner balance %s, want %s", b, supply)
	}

	to := evmclient.NewWallet().Address
	amt := evmclient.Ether(42)
	data, _ := tok.ABI.Pack("transfer", to, amt)
	gas, err := c.EstimateGas(ctx, ethereum.CallMsg{From: owner.Address, To: &addr, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if gas < 30_000 || gas > 80_000 {
		t.Fatalf("eth_estimateGas for an ERC-20 transfer = %d, want 30k..80k", gas)
	}
	tr, err := c.SendAndWait(ctx, owner, &addr, nil, data, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b := call("balanceOf", to)[0].(*big.Int); b.Cmp(amt) != 0 {
		t.Fatalf("recipient balance %s, want %s", b, amt)
	}

	// eth_getLogs filtered by address and by the indexed "to" topic.
	q := ethereum.FilterQuery{FromBlock: r.BlockNumber, ToBlock: tr.BlockNumber, Addresses: []common.Address{addr},
		Topics: [][]common.Hash{{tok.ABI.Events["Transfer"].ID}, nil, {common.BytesToHash(to.Bytes())}}}
	logs, err := c.FilterLogs(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 1 || logs[0].TxHash != tr.TxHash || common.BytesToAddress(logs[0].Topics[1].Bytes()) != owner.Address {
		t.Fatalf("eth_getLogs by topic: %+v", logs)
	}
	v, _ := tok.ABI.Unpack("Transfer", logs[0].Data)
	if len(v) != 1 || v[0].(*big.Int).Cmp(amt) != 0 {
		t.Fatalf("log data %v", v)
	}
	// A filter on another "to" finds nothing.
	q.Topics[2] = []common.Hash{common.BytesToHash(evmclient.NewWallet().Address.Bytes())}
	if logs, _ := c.FilterLogs(ctx, q); len(logs) != 0 {
		t.Fatalf("filter on an unrelated topic returned %d logs", len(logs))
	}

	// A transfer over the balance reverts and leaves balances alone.
	over, _ := tok.ABI.Pack("transfer", owner.Address, evmclient.Ether(1))
	stranger := n.Wallet(3)
	if _, err := c.EstimateGas(ctx, ethereum.CallMsg{From: stranger.Address, To: &addr, Data: over}); err == nil {
		t.Fatal("eth_estimateGas of a reverting call succeeded")
	}
	rr, err := c.SendAndWait(ctx, stranger, &addr, nil, over, 100_000)
	if err == nil || rr == nil || rr.Status != types.ReceiptStatusFailed {
		t.Fatalf("over-balance transfer: receipt %+v err %v, want a failed receipt", rr, err)
	}
}

func TestCounterEventsAndRevert(t *testing.T) {
	n := shared(t)
	ctx := ctxFor(t, time.Minute)
	c, _ := n.Client(ctx)
	w := n.Wallet(4)
	ctr := contracts.MustLoad("Counter")
	addr, _, err := c.Deploy(ctx, w, ctr.Bytecode)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := ctr.ABI.Pack("bump", "hello")
	r, err := c.SendAndWait(ctx, w, &addr, nil, data, 0)
	if err != nil {
		t.Fatal(err)
	}
	ev := ctr.ABI.Events["Bumped"]
	if len(r.Logs) != 1 || r.Logs[0].Topics[0] != ev.ID || r.Logs[0].Topics[2] != common.BigToHash(big.NewInt(1)) {
		t.Fatalf("Bumped log: %+v", r.Logs)
	}
	fail, _ := ctr.ABI.Pack("fail")
	_, err = c.CallContract(ctx, ethereum.CallMsg{From: w.Address, To: &addr, Data: fail}, nil)
	if err == nil || !strings.Contains(err.Error(), "Counter: always fails") {
		t.Fatalf("eth_call of a revert: %v, want the revert reason", err)
	}
}

// Several transactions in flight from one sender: the pending nonce counts
// them before they are mined, and all of them land in order.
func TestPendingNonceWithTxsInFlight(t *testing.T) {
	n := shared(t)
	ctx := ctxFor(t, time.Minute)
	c, _ := n.Client(ctx)
	w := n.Wallet(5)
	start, err := c.PendingNonceAt(ctx, w.Address)
	if err != nil {
		t.Fatal(err)
	}
	fees, _ := c.SuggestFees(ctx)
	to := evmclient.NewWallet().Address
	const k = 8
	var txs []*types.Transaction
	for i := uint64(0); i < k; i++ {
		tx, err := c.Sign(w, evmclient.TxOpts{Nonce: start + i, To: &to, Value: big.NewInt(1), Gas: 21000, Fees: fees})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.SendTransaction(ctx, tx); err != nil {
			t.Fatalf("send nonce %d: %v", start+i, err)
		}
		txs = append(txs, tx)
	}
	pending, err := c.PendingNonceAt(ctx, w.Address)
	if err != nil {
		t.Fatal(err)
	}
	if pending != start+k {
		t.Fatalf("pending nonce %d with %d txs in flight from %d, want %d", pending, k, start, start+k)
	}
	var last uint64
	for i, tx := range txs {
		r, err := c.WaitReceipt(ctx, tx.Hash())
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != 1 || r.BlockNumber.Uint64() < last {
			t.Fatalf("tx %d: status %d block %d after %d", i, r.Status, r.BlockNumber, last)
		}
		last = r.BlockNumber.Uint64()
	}
	if nn, _ := c.NonceAt(ctx, w.Address, nil); nn != start+k {
		t.Fatalf("nonce after mining %d, want %d", nn, start+k)
	}
	if bal, _ := c.BalanceAt(ctx, to, nil); bal.Int64() != k {
		t.Fatalf("recipient got %s, want %d", bal, k)
	}
}

func TestEthCallAtHistoricBlock(t *testing.T) {
	n := shared(t)
	ctx := ctxFor(t, time.Minute)
	c, _ := n.Client(ctx)
	w := n.Wallet(6)
	to := crypto.PubkeyToAddress(evmclient.NewWallet().Key.PublicKey)
	r1, err := c.SendAndWait(ctx, w, &to, big.NewInt(5), nil, 21000)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.SendAndWait(ctx, w, &to, big.NewInt(7), nil, 21000)
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := c.BalanceAt(ctx, to, r1.BlockNumber)
	b2, _ := c.BalanceAt(ctx, to, r2.BlockNumber)
	if b1.Int64() != 5 || b2.Int64() != 12 {
		t.Fatalf("balances at blocks %d/%d: %s/%s, want 5/12", r1.BlockNumber, r2.BlockNumber, b1, b2)
	}
}
