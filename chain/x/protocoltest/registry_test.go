package protocoltest

import (
	"testing"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	lt "sahara/chain/x/licensing/types"
	rt "sahara/chain/x/registry/types"
)

func TestRegisterAndQueries(t *testing.T) {
	e := New(t)
	alice, bob := Addr(1), Addr(2)
	id := e.mustRegister(dataset(alice, "faces"))
	if id != 1 {
		t.Fatalf("first id %d, want 1", id)
	}
	msg := dataset(bob, "speech")
	msg.Kind = rt.ASSET_KIND_MODEL
	msg.Shareholders = []rt.Shareholder{{Address: Bech32(bob), Shares: 60_000_000}, {Address: Bech32(alice), Shares: 40_000_000}}
	id2 := e.mustRegister(msg)

	a, err := e.regQ().Asset(e.Ctx, &rt.QueryAssetRequest{Id: id})
	must(t, err)
	if a.Asset.Owner != Bech32(alice) || a.Asset.Version != 1 || len(a.Shareholders) != 1 || a.Shareholders[0].Shares != rt.TotalShares {
		t.Fatalf("asset %+v holders %+v", a.Asset, a.Shareholders)
	}
	a2, err := e.regQ().Asset(e.Ctx, &rt.QueryAssetRequest{Id: id2})
	must(t, err)
	if len(a2.Shareholders) != 2 {
		t.Fatalf("holders %+v", a2.Shareholders)
	}
	byOwner, err := e.regQ().AssetsByOwner(e.Ctx, &rt.QueryAssetsByOwnerRequest{Owner: Bech32(alice)})
	must(t, err)
	if len(byOwner.Assets) != 1 || byOwner.Assets[0].Id != id {
		t.Fatalf("by owner %+v", byOwner.Assets)
	}
	for i := 0; i < 5; i++ {
		e.mustRegister(dataset(alice, "more"+string(rune('a'+i))))
	}
	page, err := e.regQ().AssetsByKind(e.Ctx, &rt.QueryAssetsByKindRequest{Kind: rt.ASSET_KIND_DATASET, Pagination: &query.PageRequest{Limit: 4, CountTotal: true}})
	must(t, err)
	if len(page.Assets) != 4 || page.Pagination.Total != 6 || page.Pagination.NextKey == nil {
		t.Fatalf("kind page: %d assets, total %d", len(page.Assets), page.Pagination.Total)
	}
	page2, err := e.regQ().AssetsByKind(e.Ctx, &rt.QueryAssetsByKindRequest{Kind: rt.ASSET_KIND_DATASET, Pagination: &query.PageRequest{Key: page.Pagination.NextKey}})
	must(t, err)
	if len(page2.Assets) != 2 {
		t.Fatalf("second page %d assets", len(page2.Assets))
	}
	if _, err := e.regQ().Asset(e.Ctx, &rt.QueryAssetRequest{Id: 99}); err == nil {
		t.Fatal("missing asset found")
	}
	found := false
	for _, ev := range e.Ctx.EventManager().Events() {
		found = found || ev.Type == "sahara.registry.v1.asset_registered"
	}
	if !found {
		t.Fatal("no asset_registered event")
	}
}

func TestRegisterRejections(t *testing.T) {
	e := New(t)
	alice, bob := Addr(1), Addr(2)
	parent := e.mustRegister(dataset(bob, "parent"))
	noDeriv := e.offer(bob, parent, lt.Terms{CommercialUse: true})
	deriv := e.offer(bob, parent, derivTerms(500))
	revocable := lt.Terms{DerivativesAllowed: true, DerivativeRevShareBps: 100, Revocable: true}
	revTerms := e.offer(bob, parent, revocable)
	shortTerms := lt.Terms{DerivativesAllowed: true, DerivativeRevShareBps: 200, DurationSeconds: 60}
	short := e.offer(bob, parent, shortTerms)
	big := e.offer(bob, parent, derivTerms(6000))

	lNoDeriv, err := e.mint(alice, parent, noDeriv, sdk.Coin{}, 0)
	must(t, err)
	lDeriv, err := e.mint(alice, parent, deriv, sdk.Coin{}, 10_000)
	must(t, err)
	lBob, err := e.mint(bob, parent, deriv, sdk.Coin{}, 10_000)
	must(t, err)
	lRevoked, err := e.mint(alice, parent, revTerms, sdk.Coin{}, 10_000)
	must(t, err)
	_, err = e.lic().RevokeLicense(e.Ctx, &lt.MsgRevokeLicense{Sender: Bech32(bob), LicenseId: lRevoked})
	must(t, err)
	lShort, err := e.mint(alice, parent, short, sdk.Coin{}, 10_000)
	must(t, err)
	lBig, err := e.mint(alice, parent, big, sdk.Coin{}, 10_000)
	must(t, err)
	other := e.mustRegister(dataset(bob, "other"))

	withParent := func(p uint64, lic uint64, edge rt.EdgeType) *rt.MsgRegisterAsset {
		m := dataset(alice, "child")
		m.Parents = []rt.ParentRef{{ParentId: p, EdgeType: edge, LicenseId: lic}}
		return m
	}
	cases := []struct {
		name string
		msg  func() *rt.MsgRegisterAsset
		want string
	}{
		{"bad owner", func() *rt.MsgRegisterAsset { m := dataset(alice, "x"); m.Owner = "sahara1nope"; return m }, "owner \"sahara1nope\" is not a valid address"},
		{"empty owner", func() *rt.MsgRegisterAsset { m := dataset(alice, "x"); m.Owner = ""; return m }, "owner is empty"},
		{"no kind", func() *rt.MsgRegisterAsset { m := dataset(alice, "x"); m.Kind = 0; return m }, "not an asset kind"},
		{"unknown kind", func() *rt.MsgRegisterAsset { m := dataset(alice, "x"); m.Kind = 99; return m }, "not an asset kind"},
		{"empty name", func() *rt.MsgRegisterAsset { m := dataset(alice, ""); return m }, "name must be 1 to 128 bytes"},
		{"long name", func() *rt.MsgRegisterAsset { m := dataset(alice, string(make([]byte, 129))); return m }, "name must be 1 to 128 bytes"},
		{"short root", func() *rt.MsgRegisterAsset { m := dataset(alice, "x"); m.ContentRoot = []byte{1}; return m }, "content_root must be 32 bytes"},
		{"long uri", func() *rt.MsgRegisterAsset { m := dataset(alice, "x"); m.Uri = string(make([]byte, 600)); return m }, "uri is 600 bytes"},
		{"shares sum", func() *rt.MsgRegisterAsset {
			m := dataset(alice, "x")
			m.Shareholders = []rt.Shareholder{{Address: Bech32(alice), Shares: 1}}
			return m
		}, "they must sum to 100000000"},
		{"zero shares", func() *rt.MsgRegisterAsset {
			m := dataset(alice, "x")
			m.Shareholders = []rt.Shareholder{{Address: Bech32(alice), Shares: rt.TotalShares}, {Address: Bech32(bob), Shares: 0}}
			return m
		}, "shares must be in 1..100000000"},
		{"dup holder", func() *rt.MsgRegisterAsset {
			m := dataset(alice, "x")
			m.Shareholders = []rt.Shareholder{{Address: Bech32(alice), Shares: 50_000_000}, {Address: Bech32(alice), Shares: 50_000_000}}
			return m
		}, "address listed twice"},
		{"bad holder", func() *rt.MsgRegisterAsset {
			m := dataset(alice, "x")
			m.Shareholders = []rt.Shareholder{{Address: "0xabc", Shares: rt.TotalShares}}
			return m
		}, "shareholders[0].address"},
		{"unknown parent", func() *rt.MsgRegisterAsset { return withParent(77, lDeriv, rt.EDGE_TYPE_TRAINED_ON) }, "asset 77 does not exist"},
		{"bad edge", func() *rt.MsgRegisterAsset { return withParent(parent, lDeriv, 0) }, "edge type 0"},
		{"dup parent", func() *rt.MsgRegisterAsset {
			m := withParent(parent, lDeriv, rt.EDGE_TYPE_TRAINED_ON)
			m.Parents = append(m.Parents, m.Parents[0])
			return m
		}, "listed twice"},
		{"no license", func() *rt.MsgRegisterAsset { return withParent(parent, 999, rt.EDGE_TYPE_TRAINED_ON) }, "license 999 does not exist"},
		{"license of another asset", func() *rt.MsgRegisterAsset { return withParent(other, lDeriv, rt.EDGE_TYPE_TRAINED_ON) }, "is for asset"},
		{"someone else's license", func() *rt.MsgRegisterAsset { return withParent(parent, lBob, rt.EDGE_TYPE_TRAINED_ON) }, "not the registrant"},
		{"no derivatives", func() *rt.MsgRegisterAsset { return withParent(parent, lNoDeriv, rt.EDGE_TYPE_TRAINED_ON) }, "does not allow derivatives"},
		{"revoked", func() *rt.MsgRegisterAsset { return withParent(parent, lRevoked, rt.EDGE_TYPE_TRAINED_ON) }, "was revoked"},
		{"royalty stack", func() *rt.MsgRegisterAsset { return withParent(parent, lBig, rt.EDGE_TYPE_TRAINED_ON) }, "the cap is 50%"},
	}
	before, err := e.App.RegistryKeeper.NextID.Peek(e.Ctx)
	must(t, err)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.register(c.msg())
			wantErr(t, err, c.want)
		})
	}
	// Expiry: the same license works now and fails after its 60 s.
	later := e.Ctx.WithBlockTime(e.Ctx.BlockTime().Add(61e9))
	_, err = e.reg().RegisterAsset(later, withParent(parent, lShort, rt.EDGE_TYPE_TRAINED_ON))
	wantErr(t, err, "expired at")
	after, err := e.App.RegistryKeeper.NextID.Peek(e.Ctx)
	must(t, err)
	if after != before {
		t.Fatalf("rejected registrations advanced the id from %d to %d", before, after)
	}

	// Limits are parameters.
	p := rt.DefaultParams()
	p.MaxParents = 1
	_, err = e.reg().UpdateParams(e.Ctx, &rt.MsgUpdateParams{Authority: Bech32(alice), Params: p})
	wantErr(t, err, "changed by governance")
	_, err = e.reg().UpdateParams(e.Ctx, &rt.MsgUpdateParams{Authority: Bech32(gov), Params: p})
	must(t, err)
	_, err = e.licensedChild(alice, rt.ASSET_KIND_MODEL, "two", map[uint64]uint32{parent: 10, other: 10})
	wantErr(t, err, "2 parents; max_parents is 1")
	p.MaxAncestors = 0
	_, err = e.reg().UpdateParams(e.Ctx, &rt.MsgUpdateParams{Authority: Bech32(gov), Params: p})
	wantErr(t, err, "max_ancestors must be at least max_parents")
}

// A model trained on two datasets, an agent built on the model, and a diamond.
func TestLineageFlattening(t *testing.T) {
	e := New(t)
	a, b, c := Addr(1), Addr(2), Addr(3)
	A := e.mustRegister(dataset(a, "A"))
	B := e.mustRegister(dataset(b, "B"))
	M, err := e.licensedChild(c, rt.ASSET_KIND_MODEL, "M", map[uint64]uint32{A: 1000, B: 500})
	must(t, err)
	G, err := e.licensedChild(c, rt.ASSET_KIND_AGENT, "G", map[uint64]uint32{M: 2000})
	must(t, err)
	lin, err := e.regQ().Lineage(e.Ctx, &rt.QueryLineageRequest{Id: G})
	must(t, err)
	want := map[uint64][2]uint64{M: {20_000_000, 1}, A: {10_000_000, 2}, B: {5_000_000, 2}}
	if len(lin.Ancestors) != 3 || lin.RoyaltyStack != 35_000_000 {
		t.Fatalf("lineage %+v stack %d", lin.Ancestors, lin.RoyaltyStack)
	}
	for _, an := range lin.Ancestors {
		if w := want[an.AssetId]; an.Share != w[0] || uint64(an.Depth) != w[1] {
			t.Fatalf("ancestor %+v, want share %d depth %d", an, w[0], w[1])
		}
	}
	// Diamond: X uses M (5%) and A directly (3%): A reached twice keeps its larger share (10% via M) at depth 1.
	X, err := e.licensedChild(c, rt.ASSET_KIND_AGENT, "X", map[uint64]uint32{M: 500, A: 300})
	must(t, err)
	lin, err = e.regQ().Lineage(e.Ctx, &rt.QueryLineageRequest{Id: X})
	must(t, err)
	got := map[uint64]uint64{}
	for _, an := range lin.Ancestors {
		got[an.AssetId] = an.Share
		if an.AssetId == A && an.Depth != 1 {
			t.Fatalf("A depth %d, want 1", an.Depth)
		}
	}
	if got[M] != 5_000_000 || got[A] != 10_000_000 || got[B] != 5_000_000 {
		t.Fatalf("diamond shares %v", got)
	}
	kids, err := e.regQ().Children(e.Ctx, &rt.QueryChildrenRequest{Id: M})
	must(t, err)
	if len(kids.Children) != 2 || kids.Children[0] != G || kids.Children[1] != X {
		t.Fatalf("children of M: %v", kids.Children)
	}
}

// Gas grows with the ancestors actually visited, not a flat charge.
func TestGasPerAncestorVisited(t *testing.T) {
	e := New(t)
	o := Addr(1)
	prev := e.mustRegister(dataset(o, "root"))
	gas := map[int]uint64{}
	for depth := 1; depth <= 40; depth++ {
		ctx := e.Ctx.WithGasMeter(storeGasMeter())
		saved := e.Ctx
		e.Ctx = ctx
		id, err := e.licensedChild(o, rt.ASSET_KIND_MODEL, "chain", map[uint64]uint32{prev: 1})
		e.Ctx = saved
		must(t, err)
		gas[depth] = ctx.GasMeter().GasConsumed()
		prev = id
	}
	// Each level adds one ancestor to walk: the cost must rise with depth.
	if !(gas[40] > gas[20] && gas[20] > gas[2]) {
		t.Fatalf("gas by depth: 2→%d 20→%d 40→%d", gas[2], gas[20], gas[40])
	}
	p := rt.DefaultParams()
	p.MaxAncestors = 10
	p.MaxParents = 10
	_, err := e.reg().UpdateParams(e.Ctx, &rt.MsgUpdateParams{Authority: Bech32(gov), Params: p})
	must(t, err)
	_, err = e.licensedChild(o, rt.ASSET_KIND_MODEL, "deep", map[uint64]uint32{prev: 1})
	wantErr(t, err, "exceeds max_ancestors=10")
}

func TestVersionsOwnershipShares(t *testing.T) {
	e := New(t)
	alice, bob, carol := Addr(1), Addr(2), Addr(3)
	id := e.mustRegister(dataset(alice, "d"))
	r := e.reg()
	_, err := r.AddVersion(e.Ctx, &rt.MsgAddVersion{Owner: Bech32(bob), AssetId: id, Uri: "u2", ContentRoot: Root("v2")})
	wantErr(t, err, "is owned by")
	_, err = r.AddVersion(e.Ctx, &rt.MsgAddVersion{Owner: Bech32(alice), AssetId: id, Uri: "u2", ContentRoot: []byte("short")})
	wantErr(t, err, "content_root must be 32 bytes")
	v, err := r.AddVersion(e.Ctx, &rt.MsgAddVersion{Owner: Bech32(alice), AssetId: id, Uri: "u2", ContentRoot: Root("v2"), Size_: 7})
	must(t, err)
	if v.Version != 2 {
		t.Fatalf("version %d", v.Version)
	}
	vs, err := e.regQ().Versions(e.Ctx, &rt.QueryVersionsRequest{Id: id})
	must(t, err)
	if len(vs.Versions) != 2 || vs.Versions[0].Uri != "sahara://d" || vs.Versions[1].Size_ != 7 {
		t.Fatalf("versions %+v", vs.Versions)
	}

	_, err = r.TransferOwnership(e.Ctx, &rt.MsgTransferOwnership{Owner: Bech32(bob), AssetId: id, NewOwner: Bech32(bob)})
	wantErr(t, err, "is owned by")
	_, err = r.TransferOwnership(e.Ctx, &rt.MsgTransferOwnership{Owner: Bech32(alice), AssetId: id, NewOwner: Bech32(bob)})
	must(t, err)
	_, err = r.AddVersion(e.Ctx, &rt.MsgAddVersion{Owner: Bech32(alice), AssetId: id, Uri: "u3", ContentRoot: Root("v3")})
	wantErr(t, err, "is owned by")
	byBob, err := e.regQ().AssetsByOwner(e.Ctx, &rt.QueryAssetsByOwnerRequest{Owner: Bech32(bob)})
	must(t, err)
	byAlice, err := e.regQ().AssetsByOwner(e.Ctx, &rt.QueryAssetsByOwnerRequest{Owner: Bech32(alice)})
	must(t, err)
	if len(byBob.Assets) != 1 || len(byAlice.Assets) != 0 {
		t.Fatalf("owner index: bob %d alice %d", len(byBob.Assets), len(byAlice.Assets))
	}

	// Shares stay with alice (ownership is control, shares are revenue).
	ts := func(from, to sdk.AccAddress, n uint64) error {
		_, err := r.TransferShares(e.Ctx, &rt.MsgTransferShares{From: Bech32(from), AssetId: id, To: Bech32(to), Shares: n})
		return err
	}
	wantErr(t, ts(bob, carol, 1), "sender holds 0 shares")
	wantErr(t, ts(alice, carol, 0), "must be positive")
	wantErr(t, ts(alice, alice, 5), "same address")
	wantErr(t, ts(alice, carol, rt.TotalShares+1), "cannot transfer")
	must(t, ts(alice, carol, 25_000_000))
	must(t, ts(alice, bob, 75_000_000))
	a, err := e.regQ().Asset(e.Ctx, &rt.QueryAssetRequest{Id: id})
	must(t, err)
	sum := uint64(0)
	for _, h := range a.Shareholders {
		sum += h.Shares
		if h.Address == Bech32(alice) {
			t.Fatal("alice still listed with zero shares")
		}
	}
	if sum != rt.TotalShares || len(a.Shareholders) != 2 {
		t.Fatalf("holders %+v", a.Shareholders)
	}
	p := rt.DefaultParams()
	p.MaxShareholders = 2
	_, err = r.UpdateParams(e.Ctx, &rt.MsgUpdateParams{Authority: Bech32(gov), Params: p})
	must(t, err)
	wantErr(t, ts(bob, alice, 1), "already has max_shareholders=2")
	must(t, ts(bob, carol, 75_000_000)) // a whole position may always move
	_ = math.ZeroInt()
}
