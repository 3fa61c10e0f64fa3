package indexer

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"unicode"

	"sahara/platform/db"
)

// Reader answers the web app's questions from the indexed tables.
type Reader struct{ DB *db.DB }

// collect runs a query and scans every row with scan.
func collect[T any](ctx context.Context, d *db.DB, scan func(*sql.Rows, *T) error, q string, args ...any) ([]T, error) {
	rows, err := d.QueryStmt(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Asset is an indexed asset.
type Asset struct {
	ID            uint64 `json:"id"`
	Kind          string `json:"kind"`
	Name          string `json:"name"`
	Description   string `json:"description"`
	Owner         string `json:"owner"`
	URI           string `json:"uri"`
	ContentRoot   string `json:"content_root"`
	Size          int64  `json:"size"`
	Version       int    `json:"version"`
	RoyaltyStack  int64  `json:"royalty_stack"` // 1e8 = 100%
	AncestorCount int    `json:"ancestor_count"`
	CreatedHeight int64  `json:"created_height"`
	CreatedTime   int64  `json:"created_time"`
	Revenue       string `json:"revenue"` // smallest units of the native denom, everything that reached the vault
	Payments      int64  `json:"payments"`
	Licenses      int64  `json:"licenses"`
	LicenseKinds  string `json:"license_kinds"`
}

const assetCols = `a.id, a.kind, a.name, a.description, a.owner, a.uri, a.content_root, a.size, a.version, a.royalty_stack, a.ancestor_count,
	a.created_height, a.created_time, a.revenue, a.payments, a.licenses, a.license_kinds`

func scanAsset(s interface{ Scan(...any) error }) (Asset, error) {
	var a Asset
	err := s.Scan(&a.ID, &a.Kind, &a.Name, &a.Description, &a.Owner, &a.URI, &a.ContentRoot, &a.Size, &a.Version, &a.RoyaltyStack,
		&a.AncestorCount, &a.CreatedHeight, &a.CreatedTime, &a.Revenue, &a.Payments, &a.Licenses, &a.LicenseKinds)
	a.LicenseKinds = strings.TrimSpace(a.LicenseKinds)
	return a, err
}

func (r Reader) assets(ctx context.Context, q string, args ...any) ([]Asset, error) {
	rows, err := r.DB.QueryStmt(ctx, (q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Asset{}
	for rows.Next() {
		a, err := scanAsset(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Search is a query of the home page.
type Search struct {
	Text    string // full text over names and descriptions
	Kind    string // DATASET, MODEL, AGENT, KNOWLEDGE_BASE or ""
	License string // commercial, derivatives, free, paid or ""
	Owner   string // 0x address or ""
	Sort    string // newest (default) or revenue
	Limit   int
	Offset  int
}

// ftsTerms turns free text into prefix terms: letters and digits only, so no query syntax leaks.
func ftsTerms(text string) []string {
	var terms []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len(terms) < 8 {
			terms = append(terms, w)
		}
	}
	return terms
}

// Search lists assets matching s, and whether there are more.
func (r Reader) Search(ctx context.Context, s Search) ([]Asset, bool, error) {
	if s.Limit <= 0 || s.Limit > 100 {
		s.Limit = 24
	}
	var where []string
	var args []any
	if terms := ftsTerms(s.Text); len(terms) > 0 {
		// Whole words match exactly; the last word is a prefix (search as you type).
		if r.DB.Postgres() {
			terms[len(terms)-1] += ":*"
			where = append(where, `a.search @@ to_tsquery('simple', ?)`)
			args = append(args, strings.Join(terms, " & "))
		} else {
			for i := range terms {
				terms[i] = `"` + terms[i] + `"`
			}
			terms[len(terms)-1] += "*"
			where = append(where, `a.id IN (SELECT rowid FROM asset_search WHERE asset_search MATCH ?)`)
			args = append(args, strings.Join(terms, " AND "))
		}
	}
	if s.Kind != "" {
		where = append(where, `a.kind = ?`)
		args = append(args, s.Kind)
	}
	if s.License != "" {
		where = append(where, `a.license_kinds LIKE ?`)
		args = append(args, "% "+s.License+" %")
	}
	if s.Owner != "" {
		where = append(where, `a.owner = ?`)
		args = append(args, s.Owner)
	}
	var q string
	if ftsOnly := len(where) == 1 && !r.DB.Postgres() && len(args) == 1 && s.Sort != "revenue" && strings.HasPrefix(where[0], "a.id IN"); ftsOnly {
		// Text alone, newest first: the FTS index yields its rowids in order, so only a page of
		// matches is read rather than all of them.
		q = `SELECT ` + assetCols + ` FROM (SELECT rowid AS id FROM asset_search WHERE asset_search MATCH ? ORDER BY rowid DESC LIMIT ? OFFSET ?) m
			JOIN assets a ON a.id = m.id ORDER BY a.id DESC`
	} else {
		q = `SELECT ` + assetCols + ` FROM assets a`
		if len(where) > 0 {
			q += ` WHERE ` + strings.Join(where, ` AND `)
		}
		if s.Sort == "revenue" {
			q += ` ORDER BY a.revenue_rank DESC, a.id DESC`
		} else {
			q += ` ORDER BY a.id DESC`
		}
		q += ` LIMIT ? OFFSET ?` // parameters, so one prepared statement serves every page
	}
	out, err := r.assets(ctx, q, append(args, s.Limit+1, s.Offset)...)
	if err != nil {
		return nil, false, err
	}
	more := len(out) > s.Limit
	if more {
		out = out[:s.Limit]
	}
	return out, more, nil
}

// ErrNotFound is a missing row.
var ErrNotFound = sql.ErrNoRows

// Asset returns one asset.
func (r Reader) Asset(ctx context.Context, id uint64) (Asset, error) {
	return scanAsset(r.DB.QueryRowStmt(ctx, (`SELECT ` + assetCols + ` FROM assets a WHERE a.id = ?`), id))
}

// Version is one version of an asset's content.
type Version struct {
	Version     int    `json:"version"`
	URI         string `json:"uri"`
	ContentRoot string `json:"content_root"`
	Size        int64  `json:"size"`
	Height      int64  `json:"height"`
	Time        int64  `json:"time"`
}

func (r Reader) Versions(ctx context.Context, id uint64) ([]Version, error) {
	return collect(ctx, r.DB, func(rows *sql.Rows, v *Version) error {
		return rows.Scan(&v.Version, &v.URI, &v.ContentRoot, &v.Size, &v.Height, &v.Time)
	}, `SELECT version, uri, content_root, size, height, time FROM versions WHERE asset_id = ? ORDER BY version DESC LIMIT 50`, id)
}

// Holder is a shareholder of an asset.
type Holder struct {
	Address string `json:"address"`
	Shares  uint64 `json:"shares"` // 1e8 = 100%
}

func (r Reader) Shareholders(ctx context.Context, id uint64) ([]Holder, error) {
	return collect(ctx, r.DB, func(rows *sql.Rows, h *Holder) error { return rows.Scan(&h.Address, &h.Shares) },
		`SELECT address, shares FROM shareholders WHERE asset_id = ? ORDER BY shares DESC, address LIMIT 100`, id)
}

// Terms are license terms as indexed.
type Terms struct {
	ID           uint64 `json:"id"`
	Commercial   bool   `json:"commercial"`
	Derivatives  bool   `json:"derivatives"`
	RevShareBps  int    `json:"rev_share_bps"`
	MintFee      string `json:"mint_fee"` // "" or a coin, e.g. 1000asah
	PerCall      string `json:"per_call"`
	Duration     int64  `json:"duration_seconds"`
	Transferable bool   `json:"transferable"`
	SupplyCap    int64  `json:"supply_cap"`
	Revocable    bool   `json:"revocable"`
}

// AssetTerms lists the terms an asset offers.
func (r Reader) AssetTerms(ctx context.Context, id uint64) ([]Terms, error) {
	return collect(ctx, r.DB, func(rows *sql.Rows, t *Terms) error {
		var c, d, tr, rv int
		err := rows.Scan(&t.ID, &c, &d, &t.RevShareBps, &t.MintFee, &t.PerCall, &t.Duration, &tr, &t.SupplyCap, &rv)
		t.Commercial, t.Derivatives, t.Transferable, t.Revocable = c == 1, d == 1, tr == 1, rv == 1
		return err
	}, `SELECT t.id, t.commercial, t.derivatives, t.rev_share_bps, t.mint_fee, t.per_call, t.duration,
		t.transferable, t.supply_cap, t.revocable FROM asset_terms x JOIN terms t ON t.id = x.terms_id WHERE x.asset_id = ? ORDER BY t.id LIMIT 50`, id)
}

// License is a license token.
type License struct {
	ID        uint64 `json:"id"`
	AssetID   uint64 `json:"asset_id"`
	AssetName string `json:"asset_name"`
	TermsID   uint64 `json:"terms_id"`
	Holder    string `json:"holder"`
	Fee       string `json:"fee"`
	MintedAt  int64  `json:"minted_at"`
	ExpiresAt int64  `json:"expires_at"` // 0: perpetual
	Revoked   bool   `json:"revoked"`
}

func (r Reader) licenses(ctx context.Context, where string, args ...any) ([]License, error) {
	return collect(ctx, r.DB, func(rows *sql.Rows, l *License) error {
		var rv int
		err := rows.Scan(&l.ID, &l.AssetID, &l.AssetName, &l.TermsID, &l.Holder, &l.Fee, &l.MintedAt, &l.ExpiresAt, &rv)
		l.Revoked = rv == 1
		return err
	}, `SELECT l.id, l.asset_id, a.name, l.terms_id, l.holder, l.fee, l.minted_at, l.expires_at, l.revoked
		FROM licenses l JOIN assets a ON a.id = l.asset_id WHERE `+where+` ORDER BY l.id DESC LIMIT 100`, args...)
}

func (r Reader) LicensesOfAsset(ctx context.Context, id uint64) ([]License, error) {
	return r.licenses(ctx, `l.asset_id = ?`, id)
}

// LicensesOfAssetHeldBy lists the licenses of one asset that an address holds.
func (r Reader) LicensesOfAssetHeldBy(ctx context.Context, id uint64, addr string) ([]License, error) {
	return r.licenses(ctx, `l.asset_id = ? AND l.holder = ?`, id, addr)
}

func (r Reader) LicensesHeldBy(ctx context.Context, addr string) ([]License, error) {
	return r.licenses(ctx, `l.holder = ?`, addr)
}

// Payment is one payment into an asset.
type Payment struct {
	Height      int64  `json:"height"`
	Time        int64  `json:"time"`
	AssetID     uint64 `json:"asset_id"`
	Payer       string `json:"payer"`
	Denom       string `json:"denom"`
	Amount      string `json:"amount"`
	ToAncestors string `json:"to_ancestors"`
	Reason      string `json:"reason"`
	TxHash      string `json:"tx_hash"`
}

func (r Reader) RecentPayments(ctx context.Context, id uint64, limit int) ([]Payment, error) {
	return collect(ctx, r.DB, func(rows *sql.Rows, p *Payment) error {
		return rows.Scan(&p.Height, &p.Time, &p.AssetID, &p.Payer, &p.Denom, &p.Amount, &p.ToAncestors, &p.Reason, &p.TxHash)
	}, `SELECT height, time, asset_id, payer, denom, amount, to_ancestors, reason, tx_hash
		FROM payments WHERE asset_id = ? ORDER BY height DESC, tx_index DESC, event_index DESC LIMIT ?`, id, limit)
}

// Point is a step of a time series: at Time the running total reached Total (smallest units).
type Point struct {
	Time  int64  `json:"time"`
	Total string `json:"total"`
}

// series folds per-block amounts (time order) into a running total of at most ~200 points.
func series(rows *sql.Rows) ([]Point, error) {
	defer rows.Close()
	var pts []Point
	sum := new(big.Int)
	for rows.Next() {
		var t int64
		var amt string
		if err := rows.Scan(&t, &amt); err != nil {
			return nil, err
		}
		v, _ := new(big.Int).SetString(amt, 10)
		if v != nil {
			sum.Add(sum, v)
		}
		if n := len(pts); n > 0 && pts[n-1].Time == t {
			pts[n-1].Total = sum.String()
			continue
		}
		pts = append(pts, Point{t, sum.String()})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(pts) > 200 { // keep every k-th point and the last
		k := (len(pts) + 199) / 200
		var thin []Point
		for i := 0; i < len(pts); i += k {
			thin = append(thin, pts[i])
		}
		if thin[len(thin)-1] != pts[len(pts)-1] {
			thin = append(thin, pts[len(pts)-1])
		}
		pts = thin
	}
	return pts, nil
}

// Revenue is the running total of what reached an asset's vault in denom over time: its last
// 150 changes at most, read newest first from the total backwards, so a page costs the same
// for an asset paid a million times as for one paid once.
func (r Reader) Revenue(ctx context.Context, id uint64, denom string, total string) ([]Point, error) {
	rows, err := r.DB.QueryStmt(ctx, `SELECT time, amount FROM asset_income WHERE asset_id = ? AND denom = ? ORDER BY height DESC LIMIT 150`, id, denom)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	run, ok := new(big.Int).SetString(total, 10)
	if !ok {
		return nil, fmt.Errorf("asset %d: total %q is not a number", id, total)
	}
	var pts []Point
	for rows.Next() {
		var t int64
		var amt string
		if err := rows.Scan(&t, &amt); err != nil {
			return nil, err
		}
		pts = append(pts, Point{t, run.String()})
		if v, ok := new(big.Int).SetString(amt, 10); ok {
			run.Sub(run, v)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, j := 0, len(pts)-1; i < j; i, j = i+1, j-1 {
		pts[i], pts[j] = pts[j], pts[i]
	}
	return pts, nil
}

// EarningsSeries is an address's running earnings in denom, per role, over time.
func (r Reader) EarningsSeries(ctx context.Context, addr, denom string) (map[string][]Point, error) {
	out := map[string][]Point{}
	for _, role := range []string{RoleShareholder, RoleAncestor, RoleLicenseFee} {
		rows, err := r.DB.QueryStmt(ctx, (`SELECT time, amount FROM earnings WHERE address = ? AND role = ? AND denom = ? ORDER BY height`), addr, role, denom)
		if err != nil {
			return nil, err
		}
		pts, err := series(rows)
		if err != nil {
			return nil, err
		}
		if len(pts) > 0 {
			out[role] = pts
		}
	}
	return out, nil
}

// Earning is what an address earned from one asset in one role and denom.
type Earning struct {
	AssetID   uint64 `json:"asset_id"`
	AssetName string `json:"asset_name"`
	Role      string `json:"role"`
	Denom     string `json:"denom"`
	Amount    string `json:"amount"`
}

func (r Reader) Earnings(ctx context.Context, addr string) ([]Earning, error) {
	return collect(ctx, r.DB, func(rows *sql.Rows, e *Earning) error {
		return rows.Scan(&e.AssetID, &e.AssetName, &e.Role, &e.Denom, &e.Amount)
	}, `SELECT e.asset_id, a.name, e.role, e.denom, e.amount FROM earning_totals e JOIN assets a ON a.id = e.asset_id
		WHERE e.address = ? ORDER BY e.asset_id, e.role, e.denom LIMIT 500`, addr)
}

// Claim is one claim transaction.
type Claim struct {
	Height int64  `json:"height"`
	Time   int64  `json:"time"`
	Amount string `json:"amount"`
	TxHash string `json:"tx_hash"`
}

func (r Reader) Claims(ctx context.Context, addr string) ([]Claim, error) {
	return collect(ctx, r.DB, func(rows *sql.Rows, c *Claim) error { return rows.Scan(&c.Height, &c.Time, &c.Amount, &c.TxHash) },
		`SELECT height, time, amount, tx_hash FROM claims WHERE claimant = ? ORDER BY height DESC LIMIT 50`, addr)
}

// Graph is the lineage around an asset: every ancestor (up) and descendants to a depth (down).
type Graph struct {
	Nodes []GraphNode `json:"nodes"`
	Edges []GraphEdge `json:"edges"`
}

type GraphNode struct {
	ID      uint64 `json:"id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Revenue string `json:"revenue"`
	Focus   bool   `json:"focus,omitempty"`
}

type GraphEdge struct {
	Child  uint64 `json:"child"`
	Parent uint64 `json:"parent"`
	Type   string `json:"type"`
	Share  int64  `json:"share"` // of each payment into the child, 1e8 = 100%
}

// Lineage walks edges from id: up through every parent, down through children to depth levels,
// stopping at limit nodes.
func (r Reader) Lineage(ctx context.Context, id uint64, depth, limit int) (Graph, error) {
	seen := map[uint64]bool{id: true}
	edgeSeen := map[[2]uint64]bool{}
	var g Graph
	// walk goes a level at a time, one query per level.
	walk := func(start []uint64, up bool, levels int) error {
		frontier := start
		for l := 0; l < levels && len(frontier) > 0 && len(seen) < limit; l++ {
			col := "child_id"
			if !up {
				col = "parent_id"
			}
			args := make([]any, len(frontier))
			for i, n := range frontier {
				args[i] = n
			}
			rows, err := r.DB.QueryStmt(ctx, (fmt.Sprintf(`SELECT child_id, parent_id, edge_type, share FROM edges WHERE %s IN (%s) ORDER BY %s, child_id, parent_id LIMIT %d`,
				col, strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", "), col, 4*limit)), args...)
			if err != nil {
				return err
			}
			var next []uint64
			for rows.Next() {
				var e GraphEdge
				if err := rows.Scan(&e.Child, &e.Parent, &e.Type, &e.Share); err != nil {
					rows.Close()
					return err
				}
				other := e.Parent
				if !up {
					other = e.Child
				}
				if !seen[other] && len(seen) >= limit {
					continue
				}
				if k := [2]uint64{e.Child, e.Parent}; !edgeSeen[k] {
					edgeSeen[k] = true
					g.Edges = append(g.Edges, e)
				}
				if !seen[other] {
					seen[other] = true
					next = append(next, other)
				}
			}
			rows.Close()
			frontier = next
		}
		return nil
	}
	if err := walk([]uint64{id}, true, 64); err != nil {
		return g, err
	}
	if err := walk([]uint64{id}, false, depth); err != nil {
		return g, err
	}
	ids := make([]uint64, 0, len(seen))
	for n := range seen {
		ids = append(ids, n)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	args := make([]any, len(ids))
	for i, n := range ids {
		args[i] = n
	}
	rows, err := r.DB.QueryStmt(ctx, (`SELECT id, name, kind, revenue FROM assets WHERE id IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + `) ORDER BY id`), args...)
	if err != nil {
		return g, err
	}
	defer rows.Close()
	for rows.Next() {
		var node GraphNode
		if err := rows.Scan(&node.ID, &node.Name, &node.Kind, &node.Revenue); err != nil {
			return g, err
		}
		node.Focus = node.ID == id
		g.Nodes = append(g.Nodes, node)
	}
	if err := rows.Err(); err != nil {
		return g, err
	}
	return g, nil
}

// Stats are the marketplace's totals.
type Stats struct {
	Assets, Licenses, Payments int64
	Height                     int64
}

func (r Reader) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := r.DB.QueryRowContext(ctx, `SELECT m.assets, m.licenses, m.payments, COALESCE((SELECT height FROM indexer_state WHERE id = 1), 0)
		FROM market_stats m WHERE m.id = 1`).Scan(&s.Assets, &s.Licenses, &s.Payments, &s.Height)
	return s, err
}
