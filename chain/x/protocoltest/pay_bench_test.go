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
