package indexer_test

import (
	"context"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/core/types"

	"sahara/internal/testnode"
	"sahara/platform/db/dbtest"
	"sahara/platform/indexer"
	"sahara/sdk/evmclient"
	"sahara/sdk/protocol"
)

func binary(t *testing.T) string {
	if b := os.Getenv("SAHARA_BIN"); b != "" {
		return b
	}
	root, _ := filepath.Abs("../..")
	b, err := testnode.Build(root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type chain struct {
	t   *testing.T
	ctx context.Context
	c   *evmclient.Client
	n   *testnode.Node
}

// send returns a sender for one call: ch.send(w)(protocol.Pay(…)).
func (c chain) send(w *evmclient.Wallet) func(protocol.Call, error) *types.Receipt {
	return func(call protocol.Call, err error) *types.Receipt { return c.sendCall(w, call, err) }
}

func (c chain) sendCall(w *evmclient.Wallet, call protocol.Call, err error) *types.Receipt {
	c.t.Helper()
	if err != nil {
		c.t.Fatal(err)
	}
	r, err := c.c.SendAndWait(c.ctx, w, &call.To, nil, call.Data, call.Gas)
	if err != nil {
		c.t.Fatal(err)
	}
	if r.Status != types.ReceiptStatusSuccessful {
		c.t.Fatalf("call to %s reverted", call.To)
	}
	return r
}

// TestIndexerFollowsProtocol runs the marketplace's money path on a real chain and checks that
// the index holds it to the unit, on SQLite and PostgreSQL: a dataset with 10% derivative terms,
// a licensed model derived from it, a payment to the model, a claim.
func TestIndexerFollowsProtocol(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	n, err := testnode.StartUp(ctx, binary(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	c, err := n.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ch := chain{t, ctx, c, n}
	dev0, dev1, dev2 := n.Wallet(0), n.Wallet(1), n.Wallet(2)

	root := [32]byte{1, 2, 3}
	r := ch.send(dev0)(protocol.RegisterAsset("DATASET", "faces <b>", "data:text/plain,Portraits%20of%20cats", root, 1234, nil))
	ds, _ := protocol.AssetID(r)
	ch.send(dev0)(protocol.CreateTerms(protocol.Terms{DerivativesAllowed: true, DerivativeRevShareBps: 1000}))
	ch.send(dev0)(protocol.AttachTerms(ds, 1))
	r = ch.send(dev1)(protocol.MintLicense(ds, 1, dev1.Address, "asah", nil, 1000))
	lic, _ := protocol.LicenseID(r)
	r = ch.send(dev1)(protocol.RegisterAsset("MODEL", "vision", "", [32]byte{9}, 99, []protocol.Parent{{ParentId: ds, EdgeType: 1, LicenseId: lic}}))
	model, _ := protocol.AssetID(r)
	ch.send(dev2)(protocol.Pay(model, "asah", big.NewInt(1_000_000)))
	ch.send(dev2)(protocol.Pay(model, "asah", big.NewInt(333)))
	r = ch.send(dev0)(protocol.Claim(0))
	head := r.BlockNumber.Int64()

	var dumps []map[string][]string
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			d := dbtest.Open(t, kind)
			ix, err := indexer.New(ctx, d, indexer.NewSource(n.CometRPC), "asah", slog.Default())
			if err != nil {
				t.Fatal(err)
			}
			rctx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- ix.Run(rctx) }()
			if err := ix.WaitFor(ctx, head); err != nil {
				t.Fatal(err)
			}
			stop()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			rd := indexer.Reader{DB: d}
			a, err := rd.Asset(ctx, ds)
			if err != nil {
				t.Fatal(err)
			}
			if a.Name != "faces <b>" || a.Description != "Portraits of cats" || a.Kind != "DATASET" || a.Owner != dev0.Address.Hex() {
				t.Fatalf("dataset indexed as %+v", a)
			}
			// 10% of 1,000,000 and of 333 (floored: 33) reached the dataset.
			if a.Revenue != "100033" {
				t.Fatalf("dataset revenue %s, want 100033", a.Revenue)
			}
			m, _ := rd.Asset(ctx, model)
			if m.Revenue != "900300" || m.Payments != 2 || m.AncestorCount != 1 {
				t.Fatalf("model indexed as %+v", m)
			}
			es, err := rd.Earnings(ctx, dev0.Address.Hex())
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != 1 || es[0].Role != indexer.RoleAncestor || es[0].Amount != "100033" || es[0].AssetID != ds {
				t.Fatalf("dev0 earnings %+v", es)
			}
			es, _ = rd.Earnings(ctx, dev1.Address.Hex())
			if len(es) != 1 || es[0].Amount != "900300" || es[0].Role != indexer.RoleShareholder {
				t.Fatalf("dev1 earnings %+v", es)
			}
			cl, _ := rd.Claims(ctx, dev0.Address.Hex())
			if len(cl) != 1 || cl[0].Amount != "100033asah" {
				t.Fatalf("dev0 claims %+v", cl)
			}
			found, _, err := rd.Search(ctx, indexer.Search{Text: "cats"})
			if err != nil || len(found) != 1 || found[0].ID != ds {
				t.Fatalf("search cats: %v %+v", err, found)
			}
			found, _, _ = rd.Search(ctx, indexer.Search{Text: "visi", Kind: "MODEL"})
			if len(found) != 1 || found[0].ID != model {
				t.Fatalf("search visi: %+v", found)
			}
			found, _, _ = rd.Search(ctx, indexer.Search{License: "derivatives"})
			if len(found) != 1 || found[0].ID != ds {
				t.Fatalf("license filter: %+v", found)
			}
			g, err := rd.Lineage(ctx, model, 3, 100)
			if err != nil || len(g.Nodes) != 2 || len(g.Edges) != 1 || g.Edges[0].Type != "TRAINED_ON" {
				t.Fatalf("lineage %v %+v", err, g)
			}
			dump, err := indexer.Dump(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			dumps = append(dumps, dump)
		})
	}
	if len(dumps) == 2 {
		for _, tb := range indexer.Tables {
			if a, b := dumps[0][tb], dumps[1][tb]; len(a) != len(b) {
				t.Errorf("table %s: %d rows on SQLite, %d on PostgreSQL", tb, len(a), len(b))
			}
		}
	}
}
