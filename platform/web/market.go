package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cosmos/cosmos-sdk/types/bech32"
	"github.com/ethereum/go-ethereum/common"

	yt "sahara/chain/x/royalty/types"
	"sahara/platform/indexer"
	"sahara/platform/store"
)

func (a *App) routes() {
	m := a.mux
	m.Handle("GET /static/", http.FileServerFS(staticFS))
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	m.HandleFunc("GET /api/status", a.status)
	m.HandleFunc("GET /{$}", a.home)
	m.HandleFunc("GET /api/assets", a.home)
	m.HandleFunc("GET /assets/{id}", a.asset)
	m.HandleFunc("GET /api/assets/{id}", a.asset)
	m.HandleFunc("GET /assets/{id}/verify", a.verify)
	m.HandleFunc("GET /api/assets/{id}/verify", a.verify)
	m.HandleFunc("GET /account", a.account)
	m.HandleFunc("GET /api/account", a.account)
	m.HandleFunc("GET /accounts/{addr}", a.account)
	m.HandleFunc("GET /api/accounts/{addr}", a.account)
	m.HandleFunc("GET /login", a.loginPage)
	m.HandleFunc("GET /api/auth/nonce", a.authNonce)
	m.HandleFunc("POST /api/auth/login", a.authLogin)
	m.HandleFunc("POST /auth/dev", a.authDev)
	m.HandleFunc("POST /auth/logout", a.authLogout)
	m.HandleFunc("POST /api/auth/logout", a.authLogout)
	m.HandleFunc("GET /upload", a.uploadPage)
	m.HandleFunc("POST /api/upload", a.upload)
	m.HandleFunc("POST /api/tx/wait", a.txWait)
	m.HandleFunc("POST /api/tx/{action}", a.tx)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, http.StatusNotFound, "no page at %s", r.URL.Path)
	})
}

func (a *App) status(w http.ResponseWriter, r *http.Request) {
	s := a.cfg.Indexer.Status()
	writeJSON(w, 200, map[string]any{"indexed_height": s.Height, "chain_height": s.Head, "events_applied": s.Events, "dev_mode": a.DevMode(), "chain_id": a.cfg.ChainID})
}

var kinds = []string{"DATASET", "MODEL", "AGENT", "KNOWLEDGE_BASE"}
var licenseFilters = []string{"commercial", "derivatives", "free", "paid"}

func oneOf(v string, allowed []string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

type searchResult struct {
	assets []indexer.Asset
	more   bool
}

type homeData struct {
	Query            indexer.Search
	Assets           []indexer.Asset
	More             bool
	NextOffset       int
	Stats            indexer.Stats
	Kinds, Licenses  []string
	TopEarning       []indexer.Asset
	ShowcaseSections bool
}

// GET / and /api/assets: search with filters; htmx asks for the results part only.
func (a *App) home(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s := indexer.Search{Text: strings.TrimSpace(q.Get("q")), Kind: strings.ToUpper(q.Get("kind")), License: q.Get("license"), Sort: q.Get("sort")}
	if len(s.Text) > 200 {
		s.Text = s.Text[:200]
	}
	if s.Kind != "" && !oneOf(s.Kind, kinds) {
		a.fail(w, r, http.StatusBadRequest, "kind %q: use one of %s", q.Get("kind"), strings.Join(kinds, ", "))
		return
	}
	if s.License != "" && !oneOf(s.License, licenseFilters) {
		a.fail(w, r, http.StatusBadRequest, "license %q: use one of %s", s.License, strings.Join(licenseFilters, ", "))
		return
	}
	if s.Sort != "" && s.Sort != "newest" && s.Sort != "revenue" {
		a.fail(w, r, http.StatusBadRequest, "sort %q: use newest or revenue", s.Sort)
		return
	}
	if o := q.Get("offset"); o != "" {
		n, err := strconv.Atoi(o)
		if err != nil || n < 0 || n > 1_000_000 {
			a.fail(w, r, http.StatusBadRequest, "offset %q: want a whole number", o)
			return
		}
		s.Offset = n
	}
	if owner := q.Get("owner"); owner != "" {
		if !common.IsHexAddress(owner) {
			a.fail(w, r, http.StatusBadRequest, "owner %q: want a 0x address", owner)
			return
		}
		s.Owner = common.HexToAddress(owner).Hex()
	}
	s.Limit = 24
	ctx := r.Context()
	version := a.cfg.Indexer.Version()
	res, ok := a.searchCache.get(s, version)
	if !ok {
		var err error
		if res.assets, res.more, err = a.reader.Search(ctx, s); err != nil {
			a.fail(w, r, 500, "search: %v", err)
			return
		}
		a.searchCache.put(s, version, res)
	}
	assets, more := res.assets, res.more
	var err error
	d := homeData{Query: s, Assets: assets, More: more, NextOffset: s.Offset + len(assets), Kinds: kinds, Licenses: licenseFilters}
	if wantsJSON(r) {
		writeJSON(w, 200, map[string]any{"assets": assets, "more": more, "next_offset": d.NextOffset})
		return
	}
	if r.Header.Get("HX-Request") != "" {
		a.renderPart(w, r, "results", d)
		return
	}
	if d.Stats, err = a.reader.Stats(ctx); err != nil {
		a.fail(w, r, 500, "stats: %v", err)
		return
	}
	if s.Text == "" && s.Kind == "" && s.License == "" && s.Offset == 0 && s.Sort != "revenue" {
		d.ShowcaseSections = true
		d.TopEarning, _, _ = a.reader.Search(ctx, indexer.Search{Sort: "revenue", Limit: 4})
	}
	a.render(w, r, "home", "Marketplace", d)
}

func pathID(r *http.Request) (uint64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseUint(v, 10, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("asset id %q: want a positive whole number", v)
	}
	return id, nil
}

type assetData struct {
	Asset      indexer.Asset       `json:"asset"`
	Versions   []indexer.Version   `json:"versions"`
	Holders    []indexer.Holder    `json:"shareholders"`
	Terms      []indexer.Terms     `json:"terms"`
	Graph      indexer.Graph       `json:"lineage"`
	Revenue    []indexer.Point     `json:"revenue"`
	Payments   []indexer.Payment   `json:"recent_payments"`
	Licenses   []indexer.License   `json:"licenses"`
	Stored     bool                `json:"stored_here"`
	Private    bool                `json:"private"`
	Mine       []indexer.License   `json:"-"`
	IsOwner    bool                `json:"-"`
	ParentsFor []indexer.License   `json:"-"`
	Edges      map[string][]string `json:"-"`
}

// GET /assets/{id}
func (a *App) asset(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	ctx := r.Context()
	asJSON := wantsJSON(r)
	d, status, err := a.loadAsset(ctx, id, asJSON)
	if err != nil {
		a.fail(w, r, status, "%v", err)
		return
	}
	if a.cfg.Store != nil {
		if root, err := store.ParseHash(d.Asset.ContentRoot); err == nil {
			if m, err := a.cfg.Store.Manifest(root); err == nil {
				d.Stored, d.Private = true, m.Private()
			}
		}
	}
	if asJSON {
		writeJSON(w, 200, d)
		return
	}
	if s, ok := a.session(r); ok {
		d.IsOwner = s.Address.Hex() == d.Asset.Owner
		if d.Mine, err = a.reader.LicensesOfAssetHeldBy(ctx, id, s.Address.Hex()); err != nil {
			a.fail(w, r, 500, "asset %d: %v", id, err)
			return
		}
	}
	a.render(w, r, "asset", d.Asset.Name, d)
}

// loadAsset reads what an asset page shows from the index; the JSON twin also lists the
// asset's latest licenses (the page shows their count, and the visitor's own).
func (a *App) loadAsset(ctx context.Context, id uint64, withLicenses bool) (d assetData, status int, err error) {
	if d.Asset, err = a.reader.Asset(ctx, id); errors.Is(err, indexer.ErrNotFound) {
		return d, http.StatusNotFound, fmt.Errorf("asset %d does not exist (or is not indexed yet: the index is at block %d)", id, a.cfg.Indexer.Height())
	} else if err != nil {
		return d, 500, fmt.Errorf("asset %d: %v", id, err)
	}
	load := []func() error{
		func() (err error) {
			if d.Asset.Version == 1 { // the asset row is its only version
				d.Versions = []indexer.Version{{Version: 1, URI: d.Asset.URI, ContentRoot: d.Asset.ContentRoot, Size: d.Asset.Size,
					Height: d.Asset.CreatedHeight, Time: d.Asset.CreatedTime}}
				return nil
			}
			d.Versions, err = a.reader.Versions(ctx, id)
			return
		},
		func() (err error) { d.Holders, err = a.reader.Shareholders(ctx, id); return },
		func() (err error) { d.Terms, err = a.reader.AssetTerms(ctx, id); return },
		func() (err error) { d.Graph, err = a.reader.Lineage(ctx, id, 3, 60); return },
		func() (err error) { d.Revenue, err = a.reader.Revenue(ctx, id, a.cfg.Denom, d.Asset.Revenue); return },
		func() (err error) { d.Payments, err = a.reader.RecentPayments(ctx, id, 20); return },
		func() (err error) {
			if withLicenses {
				d.Licenses, err = a.reader.LicensesOfAsset(ctx, id)
			}
			return
		},
	}
	for _, f := range load {
		if err := f(); err != nil {
			return d, 500, fmt.Errorf("asset %d: %v", id, err)
		}
	}
	return d, 200, nil
}

// GET /assets/{id}/verify: re-reads the stored bytes (each chunk checked against its hash),
// recomputes the Merkle root from them and compares it with the root registered on chain.
func (a *App) verify(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	as, err := a.reader.Asset(r.Context(), id)
	if err != nil {
		a.fail(w, r, http.StatusNotFound, "asset %d is not indexed", id)
		return
	}
	res := map[string]any{"asset_id": id, "registered_root": as.ContentRoot}
	ok, msg := a.verifyRoot(as.ContentRoot, as.Size)
	res["ok"], res["message"] = ok, msg
	if wantsJSON(r) {
		writeJSON(w, 200, res)
		return
	}
	a.renderPart(w, r, "verify_result", res)
}

func (a *App) verifyRoot(rootHex string, size int64) (bool, string) {
	if a.cfg.Store == nil {
		return false, "this node runs no blob store"
	}
	root, err := store.ParseHash(rootHex)
	if err != nil {
		return false, "the registered root is not a store root"
	}
	start := time.Now()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(a.cfg.Store.Get(root, pw)) }()
	got, n, err := store.RootOf(pr)
	pr.Close()
	if err != nil {
		var nf *store.NotFoundError
		if errors.As(err, &nf) {
			return false, "the bytes are not in this node's store (only their commitment is on chain)"
		}
		return false, "verification failed: " + err.Error()
	}
	if got != root {
		return false, fmt.Sprintf("MISMATCH: the stored bytes hash to %s, the chain says %s", got, root)
	}
	if size != 0 && n != size {
		return false, fmt.Sprintf("MISMATCH: %d bytes stored, %d registered", n, size)
	}
	return true, fmt.Sprintf("Verified: %s re-hashed in %s; the Merkle root equals the registered root.", humanBytes(n), time.Since(start).Round(time.Millisecond))
}

type accountData struct {
	Address      string                     `json:"address"`
	Own          bool                       `json:"-"`
	Earnings     []indexer.Earning          `json:"earnings"`
	ByRole       []roleTotal                `json:"by_role"`
	Total        string                     `json:"total_earned"`
	Series       map[string][]indexer.Point `json:"series"`
	Claimable    []yt.ClaimableEntry        `json:"claimable"`
	ClaimTotal   []denomAmount              `json:"claimable_total"`
	ClaimableErr string                     `json:"claimable_error,omitempty"`
	Licenses     []indexer.License          `json:"licenses"`
	Owned        []indexer.Asset            `json:"owned"`
	Claims       []indexer.Claim            `json:"claims"`
}

type roleTotal struct {
	Role   string `json:"role"`
	Amount string `json:"amount"`
}

type denomAmount struct {
	Denom  string `json:"denom"`
	Amount string `json:"amount"`
}

// GET /account (the signed-in address) and /accounts/{addr}.
func (a *App) account(w http.ResponseWriter, r *http.Request) {
	var addr common.Address
	own := false
	if v := r.PathValue("addr"); v != "" {
		if !common.IsHexAddress(v) {
			a.fail(w, r, http.StatusBadRequest, "address %q: want a 0x address", v)
			return
		}
		addr = common.HexToAddress(v)
	} else {
		s, ok := a.requireSession(w, r)
		if !ok {
			return
		}
		addr, own = s.Address, true
	}
	if s, ok := a.session(r); ok && s.Address == addr {
		own = true
	}
	ctx := r.Context()
	d := accountData{Address: addr.Hex(), Own: own}
	var err error
	if d.Earnings, err = a.reader.Earnings(ctx, d.Address); err != nil {
		a.fail(w, r, 500, "earnings: %v", err)
		return
	}
	sums := map[string]*big.Int{}
	total := new(big.Int)
	for _, e := range d.Earnings {
		if e.Denom != a.cfg.Denom {
			continue
		}
		v, _ := new(big.Int).SetString(e.Amount, 10)
		if sums[e.Role] == nil {
			sums[e.Role] = new(big.Int)
		}
		sums[e.Role].Add(sums[e.Role], v)
		total.Add(total, v)
	}
	for _, role := range []string{indexer.RoleShareholder, indexer.RoleAncestor, indexer.RoleLicenseFee} {
		if v := sums[role]; v != nil {
			d.ByRole = append(d.ByRole, roleTotal{role, v.String()})
		}
	}
	d.Total = total.String()
	if d.Series, err = a.reader.EarningsSeries(ctx, d.Address, a.cfg.Denom); err != nil {
		a.fail(w, r, 500, "earnings: %v", err)
		return
	}
	d.Licenses, _ = a.reader.LicensesHeldBy(ctx, d.Address)
	d.Owned, _, _ = a.reader.Search(ctx, indexer.Search{Owner: d.Address, Limit: 50})
	d.Claims, _ = a.reader.Claims(ctx, d.Address)
	d.Claimable, d.ClaimTotal, err = a.claimable(ctx, addr)
	if err != nil {
		d.ClaimableErr = err.Error()
	}
	if wantsJSON(r) {
		writeJSON(w, 200, d)
		return
	}
	title := "Earnings of " + d.Address
	if own {
		title = "Your earnings"
	}
	a.render(w, r, "account", title, d)
}

// claimable asks the chain (not the index: it is what a claim would pay now).
func (a *App) claimable(ctx context.Context, addr common.Address) ([]yt.ClaimableEntry, []denomAmount, error) {
	if a.grpc == nil {
		return nil, nil, errors.New("no chain connection")
	}
	b32, err := bech32.ConvertAndEncode(a.cfg.Bech32, addr.Bytes())
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := yt.NewQueryClient(a.grpc).Claimable(ctx, &yt.QueryClaimableRequest{Address: b32})
	if err != nil {
		return nil, nil, fmt.Errorf("asking the chain what is claimable: %v", err)
	}
	var tot []denomAmount
	for _, c := range res.Total {
		tot = append(tot, denomAmount{c.Denom, c.Amount.String()})
	}
	sort.Slice(res.Entries, func(i, j int) bool { return res.Entries[i].AssetId < res.Entries[j].AssetId })
	return res.Entries, tot, nil
}
