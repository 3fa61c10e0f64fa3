package indexer

import (
	"database/sql"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/cosmos/cosmos-sdk/types/bech32"
	"github.com/ethereum/go-ethereum/common"

	lt "sahara/chain/x/licensing/types"
	rt "sahara/chain/x/registry/types"
	yt "sahara/chain/x/royalty/types"
)

// Earning roles: how money reached a shareholder of an asset.
const (
	RoleShareholder = "shareholder" // a payment into the asset
	RoleAncestor    = "ancestor"    // an ancestor's share of a payment into a derivative
	RoleLicenseFee  = "license_fee" // a licensee's mint fee
)

var totalShares = big.NewInt(int64(rt.TotalShares))

// block applies one block's events inside one database transaction.
type block struct {
	ix     *Indexer
	tx     *sql.Tx
	height int64
	time   int64
	// sums of this block, written once at its end
	earn      map[earnKey]*big.Int
	spend     map[spendKey]*big.Int
	income    map[incomeKey]*big.Int
	counts    map[uint64]counts
	events    int
	newAssets int64
	pending   map[string]*pendingRows // rows of multi-row inserts, by statement
	order     []string
}

// counts are an asset's new payments and licenses in the block, written once at its end.
type counts struct{ payments, licenses int64 }

func (c counts) add(p, l int64) counts { return counts{c.payments + p, c.licenses + l} }

type earnKey struct {
	addr       string
	asset      uint64
	role, coin string
}
type spendKey struct {
	addr         string
	asset        uint64
	reason, coin string
}
type incomeKey struct {
	asset uint64
	denom string
}

// exec runs a statement of the block's transaction, prepared once per database connection.
func (b *block) exec(q string, args ...any) error {
	st, err := b.ix.stmt(q)
	if err != nil {
		return err
	}
	_, err = b.tx.Stmt(st).Exec(args...)
	return err
}

// buffer queues a row for a multi-row INSERT (head: "INSERT INTO t (cols)"; suffix: an ON
// CONFLICT clause or ""), written by flush at the end of the block: one statement per 100 rows
// instead of one per row, which matters most on PostgreSQL where each statement is a round trip.
// Only tables nothing reads while a block is applied are buffered.
func (b *block) buffer(head, suffix string, args ...any) error {
	k := head + "\x00" + suffix
	q, ok := b.pending[k]
	if !ok {
		q = &pendingRows{head: head, suffix: suffix, width: len(args)}
		b.pending[k] = q
		b.order = append(b.order, k)
	}
	q.args = append(q.args, args...)
	return nil
}

type pendingRows struct {
	head, suffix string
	width        int
	args         []any
}

const rowsPerInsert = 100

func (b *block) flush() error {
	for _, k := range b.order {
		q := b.pending[k]
		rows := len(q.args) / q.width
		for i := 0; i < rows; i += rowsPerInsert {
			n := min(rowsPerInsert, rows-i)
			one := "(" + strings.TrimSuffix(strings.Repeat("?, ", q.width), ", ") + ")"
			stmt := q.head + " VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", n), ", ") + q.suffix
			args := q.args[i*q.width : (i+n)*q.width]
			if n == rowsPerInsert { // the full-size statement is prepared once
				if err := b.exec(stmt, args...); err != nil {
					return err
				}
				continue
			}
			if _, err := b.tx.Exec(b.ix.db.Rebind(stmt), args...); err != nil {
				return err
			}
		}
	}
	b.pending, b.order = nil, nil
	return nil
}

func (b *block) query(q string, args ...any) (*sql.Rows, error) {
	st, err := b.ix.stmt(q)
	if err != nil {
		return nil, err
	}
	return b.tx.Stmt(st).Query(args...)
}

func (b *block) queryRow(q string, args ...any) *sql.Row {
	st, err := b.ix.stmt(q)
	if err != nil {
		return b.tx.QueryRow(b.ix.db.Rebind(q), args...) // reports the same error
	}
	return b.tx.Stmt(st).QueryRow(args...)
}

// evmAddr turns a bech32 account address into its EIP-55 0x form ("" stays "").
func evmAddr(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	_, bz, err := bech32.DecodeAndConvert(s)
	if err != nil {
		return "", fmt.Errorf("address %q: %w", s, err)
	}
	return common.BytesToAddress(bz).Hex(), nil
}

func atou(s string) uint64 { v, _ := strconv.ParseUint(s, 10, 64); return v }
func atoi(s string) int64  { v, _ := strconv.ParseInt(s, 10, 64); return v }
func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Description reads an asset's description from its URI when that is a data: URI
// (data:text/plain,… or data:text/markdown;base64,…); other URIs have none.
func Description(uri string) string {
	rest, ok := strings.CutPrefix(uri, "data:")
	if !ok {
		return ""
	}
	meta, data, ok := strings.Cut(rest, ",")
	if !ok {
		return ""
	}
	if strings.HasSuffix(meta, ";base64") {
		bz, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return ""
		}
		return string(bz)
	}
	s, err := url.PathUnescape(data)
	if err != nil {
		return data
	}
	return s
}

// apply routes one event of a successful transaction.
func (b *block) apply(txIndex, eventIndex int, txHash string, e Event) error {
	switch e.Type {
	case rt.EventAssetRegistered:
		return b.assetRegistered(e)
	case rt.EventVersionAdded:
		return b.versionAdded(e)
	case rt.EventOwnershipTransferred:
		to, err := evmAddr(e.Get("to"))
		if err != nil {
			return err
		}
		return b.exec(`UPDATE assets SET owner = ? WHERE id = ?`, to, atou(e.Get("id")))
	case rt.EventSharesTransferred:
		return b.sharesTransferred(e)
	case lt.EventTermsCreated:
		return b.exec(`INSERT INTO terms (id, commercial, derivatives, rev_share_bps, mint_fee, per_call, duration, transferable, supply_cap, revocable, height)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, atou(e.Get("terms_id")), bit(e.Get("commercial") == "true"), bit(e.Get("derivatives") == "true"),
			atoi(e.Get("rev_share_bps")), e.Get("mint_fee"), e.Get("per_call"), atoi(e.Get("duration")), bit(e.Get("transferable") == "true"),
			atoi(e.Get("supply_cap")), bit(e.Get("revocable") == "true"), b.height)
	case lt.EventTermsAttached:
		return b.termsAttached(atou(e.Get("asset_id")), atou(e.Get("terms_id")))
	case lt.EventLicenseMinted:
		holder, err := evmAddr(e.Get("holder"))
		if err != nil {
			return err
		}
		asset := atou(e.Get("asset_id"))
		b.counts[asset] = b.counts[asset].add(0, 1)
		return b.exec(`INSERT INTO licenses (id, asset_id, terms_id, holder, fee, minted_at, expires_at, revoked, height) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)`,
			atou(e.Get("license_id")), asset, atou(e.Get("terms_id")), holder, e.Get("fee"), atoi(e.Get("minted_at")), atoi(e.Get("expires_at")), b.height)
	case lt.EventLicenseTransferred:
		to, err := evmAddr(e.Get("to"))
		if err != nil {
			return err
		}
		return b.exec(`UPDATE licenses SET holder = ? WHERE id = ?`, to, atou(e.Get("license_id")))
	case lt.EventLicenseRevoked:
		return b.exec(`UPDATE licenses SET revoked = 1 WHERE id = ?`, atou(e.Get("license_id")))
	case yt.EventPaid:
		return b.paid(txIndex, eventIndex, txHash, e)
	case yt.EventClaimed:
		who, err := evmAddr(e.Get("claimant"))
		if err != nil {
			return err
		}
		if e.Get("amount") == "" {
			return nil // claimed nothing
		}
		return b.buffer(`INSERT INTO claims (height, tx_index, event_index, claimant, amount, time, tx_hash)`, ``,
			b.height, txIndex, eventIndex, who, e.Get("amount"), b.time, txHash)
	case "transfer":
		return b.transfer(txIndex, eventIndex, e)
	}
	return nil
}

func (b *block) assetRegistered(e Event) error {
	id := atou(e.Get("id"))
	owner, err := evmAddr(e.Get("owner"))
	if err != nil {
		return err
	}
	kind := strings.TrimPrefix(e.Get("kind"), "ASSET_KIND_")
	name, uri := e.Get("name"), e.Get("uri")
	desc := Description(uri)
	size := atoi(e.Get("size"))
	if err := b.exec(`INSERT INTO assets (id, kind, name, description, owner, uri, content_root, size, version, royalty_stack, ancestor_count,
		created_height, created_time, revenue, revenue_rank, payments, licenses, license_kinds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, '0', 0, 0, 0, '')`,
		id, kind, name, desc, owner, uri, e.Get("content_root"), size, atoi(e.Get("royalty_stack")), atoi(e.Get("ancestors")), b.height, b.time); err != nil {
		return err
	}
	if err := b.exec(`INSERT INTO versions (asset_id, version, uri, content_root, size, height, time) VALUES (?, 1, ?, ?, ?, ?, ?)`,
		id, uri, e.Get("content_root"), size, b.height, b.time); err != nil {
		return err
	}
	if !b.ix.db.Postgres() { // PostgreSQL's search column is generated
		if err := b.exec(`INSERT INTO asset_search (rowid, name, description) VALUES (?, ?, ?)`, id, name, desc); err != nil {
			return err
		}
	}
	for _, s := range splitList(e.Get("edges")) {
		f := strings.Split(s, ":")
		if len(f) != 4 {
			return fmt.Errorf("asset %d: edge %q", id, s)
		}
		if err := b.exec(`INSERT INTO edges (child_id, parent_id, edge_type, license_id, share) VALUES (?, ?, ?, ?, ?)`,
			id, atou(f[0]), strings.TrimPrefix(f[1], "EDGE_TYPE_"), atou(f[2]), atoi(f[3])); err != nil {
			return err
		}
	}
	var lin []ancestor
	for _, s := range splitList(e.Get("lineage")) {
		f := strings.Split(s, ":")
		if len(f) != 3 {
			return fmt.Errorf("asset %d: lineage entry %q", id, s)
		}
		a := ancestor{id: atou(f[0]), share: atou(f[1])}
		lin = append(lin, a)
		if err := b.exec(`INSERT INTO lineage (asset_id, ancestor_id, share, depth) VALUES (?, ?, ?, ?)`, id, a.id, a.share, atoi(f[2])); err != nil {
			return err
		}
	}
	var hs []holder
	for _, s := range splitList(e.Get("holders")) {
		addr, shares, _ := strings.Cut(s, ":")
		a, err := evmAddr(addr)
		if err != nil {
			return err
		}
		hs = append(hs, holder{a, atou(shares)})
		if err := b.exec(`INSERT INTO shareholders (asset_id, address, shares) VALUES (?, ?, ?)`, id, a, atou(shares)); err != nil {
			return err
		}
	}
	b.ix.cache.setLineage(id, lin)
	b.ix.cache.setHolders(id, hs)
	b.newAssets++
	return nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func (b *block) searchSet(id uint64, name, desc string) error {
	if b.ix.db.Postgres() {
		return nil // a generated column
	}
	if err := b.exec(`DELETE FROM asset_search WHERE rowid = ?`, id); err != nil {
		return err
	}
	return b.exec(`INSERT INTO asset_search (rowid, name, description) VALUES (?, ?, ?)`, id, name, desc)
}

func (b *block) versionAdded(e Event) error {
	id, v := atou(e.Get("id")), atoi(e.Get("version"))
	uri, root, size := e.Get("uri"), e.Get("content_root"), atoi(e.Get("size"))
	if err := b.exec(`INSERT INTO versions (asset_id, version, uri, content_root, size, height, time) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, v, uri, root, size, b.height, b.time); err != nil {
		return err
	}
	desc := Description(uri)
	if err := b.exec(`UPDATE assets SET version = ?, uri = ?, content_root = ?, size = ?, description = ? WHERE id = ?`, v, uri, root, size, desc, id); err != nil {
		return err
	}
	var name string
	if err := b.queryRow(`SELECT name FROM assets WHERE id = ?`, id).Scan(&name); err != nil {
		return err
	}
	return b.searchSet(id, name, desc)
}

func (b *block) sharesTransferred(e Event) error {
	id, n := atou(e.Get("id")), atou(e.Get("shares"))
	from, err := evmAddr(e.Get("from"))
	if err != nil {
		return err
	}
	to, err := evmAddr(e.Get("to"))
	if err != nil {
		return err
	}
	hs, err := b.holders(id)
	if err != nil {
		return err
	}
	next := map[string]uint64{}
	for _, h := range hs {
		next[h.addr] = h.shares
	}
	next[from] -= n
	next[to] += n
	out := make([]holder, 0, len(next))
	for a, s := range next {
		if s > 0 {
			out = append(out, holder{a, s})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].addr < out[j].addr })
	for _, a := range []string{from, to} {
		if next[a] == 0 {
			if err := b.exec(`DELETE FROM shareholders WHERE asset_id = ? AND address = ?`, id, a); err != nil {
				return err
			}
			continue
		}
		if err := b.exec(`INSERT INTO shareholders (asset_id, address, shares) VALUES (?, ?, ?)
			ON CONFLICT (asset_id, address) DO UPDATE SET shares = excluded.shares`, id, a, next[a]); err != nil {
			return err
		}
	}
	b.ix.cache.setHolders(id, out)
	return nil
}

// termsAttached records the offer and refreshes the asset's license summary (for the filters).
func (b *block) termsAttached(asset, terms uint64) error {
	if err := b.exec(`INSERT INTO asset_terms (asset_id, terms_id, height) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, asset, terms, b.height); err != nil {
		return err
	}
	rows, err := b.query(`SELECT t.commercial, t.derivatives, t.mint_fee FROM asset_terms a JOIN terms t ON t.id = a.terms_id WHERE a.asset_id = ?`, asset)
	if err != nil {
		return err
	}
	kinds := map[string]bool{}
	for rows.Next() {
		var c, d int
		var fee string
		if err := rows.Scan(&c, &d, &fee); err != nil {
			rows.Close()
			return err
		}
		kinds["commercial"] = kinds["commercial"] || c == 1
		kinds["derivatives"] = kinds["derivatives"] || d == 1
		if fee == "" || strings.HasPrefix(fee, "0") {
			kinds["free"] = true
		} else {
			kinds["paid"] = true
		}
	}
	rows.Close()
	var list []string
	for _, k := range []string{"commercial", "derivatives", "free", "paid"} {
		if kinds[k] {
			list = append(list, k)
		}
	}
	return b.exec(`UPDATE assets SET license_kinds = ? WHERE id = ?`, " "+strings.Join(list, " ")+" ", asset)
}

// paid records a payment and splits it exactly as x/royalty does: each flattened ancestor takes
// floor(amount × share / 1e8), the rest goes to the asset's shareholders; each holder's earning is
// floor(part × shares / 1e8) (the chain keeps the fractions as dust or later whole units, so a
// holder's indexed earnings can trail the claimable amount by less than one unit per payment).
func (b *block) paid(txIndex, eventIndex int, txHash string, e Event) error {
	asset := atou(e.Get("asset_id"))
	coin, err := parseCoin(e.Get("amount"))
	if err != nil {
		return fmt.Errorf("paid event of asset %d: %w", asset, err)
	}
	payer, err := evmAddr(e.Get("payer"))
	if err != nil {
		return err
	}
	reason := e.Get("reason")
	if reason == "" {
		reason = yt.ReasonPayment
	}
	if err := b.buffer(`INSERT INTO payments (height, tx_index, event_index, asset_id, payer, denom, amount, to_ancestors, reason, time, tx_hash)`, ``, b.height, txIndex, eventIndex, asset, payer, coin.denom, coin.amount.String(),
		e.Get("to_ancestors"), reason, b.time, txHash); err != nil {
		return err
	}
	b.counts[asset] = b.counts[asset].add(1, 0)
	addTo(b.spend, spendKey{payer, asset, reason, coin.denom}, coin.amount)
	lin, err := b.lineage(asset)
	if err != nil {
		return err
	}
	forwarded := new(big.Int)
	for _, a := range lin {
		cut := new(big.Int).Mul(coin.amount, new(big.Int).SetUint64(a.share))
		cut.Quo(cut, totalShares)
		if cut.Sign() == 0 {
			continue
		}
		forwarded.Add(forwarded, cut)
		if err := b.credit(a.id, coin.denom, cut, RoleAncestor); err != nil {
			return err
		}
	}
	if want := e.Get("to_ancestors"); want != "" && want != forwarded.String() {
		return fmt.Errorf("asset %d at height %d: the chain forwarded %s to ancestors, the indexer's lineage gives %s", asset, b.height, want, forwarded)
	}
	role := RoleShareholder
	if reason == yt.ReasonLicenseFee {
		role = RoleLicenseFee
	}
	return b.credit(asset, coin.denom, new(big.Int).Sub(coin.amount, forwarded), role)
}

// credit adds money arriving in an asset's vault to its income and its holders' earnings.
func (b *block) credit(asset uint64, denom string, amount *big.Int, role string) error {
	addTo(b.income, incomeKey{asset, denom}, amount)
	hs, err := b.holders(asset)
	if err != nil {
		return err
	}
	for _, h := range hs {
		part := new(big.Int).Mul(amount, new(big.Int).SetUint64(h.shares))
		part.Quo(part, totalShares)
		if part.Sign() > 0 {
			addTo(b.earn, earnKey{h.addr, asset, role, denom}, part)
		}
	}
	return nil
}

func addTo[K comparable](m map[K]*big.Int, k K, v *big.Int) {
	if cur, ok := m[k]; ok {
		cur.Add(cur, v)
		return
	}
	m[k] = new(big.Int).Set(v)
}

func (b *block) transfer(txIndex, eventIndex int, e Event) error {
	amt := e.Get("amount")
	if !strings.Contains(amt, b.ix.denom) {
		return nil
	}
	from, err := evmAddr(e.Get("sender"))
	if err != nil {
		return nil // a module account in another format: not a person's transfer
	}
	to, err := evmAddr(e.Get("recipient"))
	if err != nil {
		return nil
	}
	return b.buffer(`INSERT INTO transfers (height, tx_index, event_index, sender, recipient, amount, time)`, ``,
		b.height, txIndex, eventIndex, from, to, amt, b.time)
}

// finish writes the block's sums: per-block rows for the charts, running totals for the tables.
func (b *block) finish() error {
	for k, v := range b.earn {
		if err := b.buffer(`INSERT INTO earnings (address, asset_id, role, denom, height, time, amount)`, ``,
			k.addr, k.asset, k.role, k.coin, b.height, b.time, v.String()); err != nil {
			return err
		}
		if err := b.addTotal(`earning_totals`, `address = ? AND asset_id = ? AND role = ? AND denom = ?`,
			`(address, asset_id, role, denom, amount)`, []any{k.addr, k.asset, k.role, k.coin}, v); err != nil {
			return err
		}
	}
	for k, v := range b.spend {
		if err := b.addTotal(`spending_totals`, `address = ? AND asset_id = ? AND reason = ? AND denom = ?`,
			`(address, asset_id, reason, denom, amount)`, []any{k.addr, k.asset, k.reason, k.coin}, v); err != nil {
			return err
		}
	}
	for k, v := range b.income {
		if err := b.buffer(`INSERT INTO asset_income (asset_id, denom, height, time, amount)`, ``,
			k.asset, k.denom, b.height, b.time, v.String()); err != nil {
			return err
		}
		if k.denom == b.ix.denom {
			b.counts[k.asset] = b.counts[k.asset].add(0, 0) // the asset row changes below
		}
	}
	// Each changed asset's row is written once: its counters, and its revenue in the native denom.
	for id, c := range b.counts {
		v, paid := b.income[incomeKey{id, b.ix.denom}]
		if !paid {
			if err := b.exec(`UPDATE assets SET payments = payments + ?, licenses = licenses + ? WHERE id = ?`, c.payments, c.licenses, id); err != nil {
				return err
			}
			continue
		}
		ck := "revenue" + strconv.FormatUint(id, 10)
		sum, ok := b.ix.cache.total(ck)
		if !ok {
			var cur string
			if err := b.queryRow(`SELECT revenue FROM assets WHERE id = ?`, id).Scan(&cur); err != nil {
				return err
			}
			sum, _ = new(big.Int).SetString(cur, 10)
		}
		sum = new(big.Int).Add(sum, v)
		b.ix.cache.setTotal(ck, sum)
		f, _ := new(big.Float).SetInt(sum).Float64()
		if err := b.exec(`UPDATE assets SET payments = payments + ?, licenses = licenses + ?, revenue = ?, revenue_rank = ? WHERE id = ?`,
			c.payments, c.licenses, sum.String(), f, id); err != nil {
			return err
		}
	}
	if err := b.flush(); err != nil {
		return err
	}
	var pays, lics int64
	for _, c := range b.counts {
		pays, lics = pays+c.payments, lics+c.licenses
	}
	if b.newAssets+pays+lics > 0 {
		if err := b.exec(`UPDATE market_stats SET assets = assets + ?, licenses = licenses + ?, payments = payments + ? WHERE id = 1`, b.newAssets, lics, pays); err != nil {
			return err
		}
	}
	return b.exec(`INSERT INTO indexer_state (id, height, block_time) VALUES (1, ?, ?)
		ON CONFLICT (id) DO UPDATE SET height = excluded.height, block_time = excluded.block_time`, b.height, b.time)
}

// addTotal adds v to a running total, reading it only when the cache does not hold it, and
// writes it with one upsert.
func (b *block) addTotal(table, where, cols string, key []any, v *big.Int) error {
	ck := table + fmt.Sprint(key...)
	sum, ok := b.ix.cache.total(ck)
	if !ok {
		var cur string
		err := b.queryRow(`SELECT amount FROM `+table+` WHERE `+where, key...).Scan(&cur)
		switch {
		case err == sql.ErrNoRows:
			sum = new(big.Int)
		case err != nil:
			return err
		default:
			sum, _ = new(big.Int).SetString(cur, 10)
		}
	}
	sum = new(big.Int).Add(sum, v)
	b.ix.cache.setTotal(ck, sum)
	conflict := strings.TrimSuffix(strings.TrimPrefix(cols, "("), ", amount)")
	return b.buffer(`INSERT INTO `+table+` `+cols, ` ON CONFLICT (`+conflict+`) DO UPDATE SET amount = excluded.amount`,
		append(key, sum.String())...)
}

type coin struct {
	denom  string
	amount *big.Int
}

// parseCoin reads "123asah" (one coin, as the paid event carries).
func parseCoin(s string) (coin, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	amt, ok := new(big.Int).SetString(s[:i], 10)
	if !ok || i == len(s) {
		return coin{}, fmt.Errorf("amount %q is not a coin", s)
	}
	return coin{denom: s[i:], amount: amt}, nil
}

func (b *block) lineage(asset uint64) ([]ancestor, error) {
	if l, ok := b.ix.cache.lineageOf(asset); ok {
		return l, nil
	}
	rows, err := b.query(`SELECT ancestor_id, share FROM lineage WHERE asset_id = ? ORDER BY ancestor_id`, asset)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ancestor
	for rows.Next() {
		var a ancestor
		if err := rows.Scan(&a.id, &a.share); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	b.ix.cache.setLineage(asset, out)
	return out, rows.Err()
}

func (b *block) holders(asset uint64) ([]holder, error) {
	if h, ok := b.ix.cache.holdersOf(asset); ok {
		return h, nil
	}
	rows, err := b.query(`SELECT address, shares FROM shareholders WHERE asset_id = ? ORDER BY address`, asset)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []holder
	for rows.Next() {
		var h holder
		if err := rows.Scan(&h.addr, &h.shares); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	b.ix.cache.setHolders(asset, out)
	return out, rows.Err()
}
