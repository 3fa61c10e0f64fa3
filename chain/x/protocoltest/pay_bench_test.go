package protocoltest

import (
	"testing"

	rt "sahara/chain/x/registry/types"
)

// BenchmarkPay100Ancestors: one payment into an asset with 100 flattened
// ancestors, through the msg server (what the precompile calls), a block
// committed (vault deltas flushed) every 100 payments.
func BenchmarkPay100Ancestors(b *testing.B) {
	e := New(b)
	owner, payer := Addr(1), Addr(2)
	e.Fund(payer, coins(1_000_000_000_000))
	var ds []uint64
	for i := 0; i < 99; i++ {
		ds = append(ds, e.mustRegister(dataset(owner, "d")))
	}
	p1 := map[uint64]uint32{}
	for _, d := range ds[:50] {
		p1[d] = 10
	}
	m1, err := e.licensedChild(owner, rt.ASSET_KIND_MODEL, "m1", p1)
	must(b, err)
	p2 := map[uint64]uint32{m1: 10}
	for _, d := range ds[50:] {
		p2[d] = 10
	}
	m2, err := e.licensedChild(owner, rt.ASSET_KIND_MODEL, "m2", p2)
	must(b, err)
	lin, err := e.regQ().Lineage(e.Ctx, &rt.QueryLineageRequest{Id: m2})
	must(b, err)
	if len(lin.Ancestors) != 100 {
		b.Fatalf("%d ancestors", len(lin.Ancestors))
	}
	e.Commit()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		must(b, e.pay(payer, m2, coins(1_000_000)))
		if i%100 == 99 {
			e.Commit()
		}
	}
}

// go test ./chain/x/protocoltest -run X -bench FlushedVault: what one vault's deferred write
// really costs the node — the end-of-block write into the IAVL tree and its share of the commit —
// for 1,000 vaults that already exist, each changed once in the block. Compare it with the gas it
// is charged (the SDK's write price on its bytes, plus the read at its first change).
func BenchmarkFlushedVault(b *testing.B) {
	e := New(b)
	owner, payer := Addr(1), Addr(2)
	e.Fund(payer, coins(1_000_000_000_000))
	const n = 1000
	var assets []uint64
	for i := 0; i < n; i++ {
		assets = append(assets, e.mustRegister(dataset(owner, "d")))
	}
	for _, a := range assets {
		must(b, e.pay(payer, a, coins(1_000)))
	}
	e.Commit()
	k := e.App.RoyaltyKeeper
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for _, a := range assets { // one change per vault: they are hot, not yet written
			must(b, e.pay(payer, a, coins(1_000)))
		}
		b.StartTimer()
		must(b, k.Flush(e.Ctx))
		e.App.CommitMultiStore().Commit()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/vault")
}
