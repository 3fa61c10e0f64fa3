package indexer

import "sahara/platform/db"

// Amounts are decimal strings (TEXT): token amounts of 18 decimals overflow 64-bit integers and
// SQLite has no wider exact type. Sums are done in Go with big integers; the *_rank columns hold
// the same total as a float, only for ordering. Addresses are EIP-55 0x strings.
var migrations = []db.Migration{
	{SQL: `
CREATE TABLE indexer_state (id INTEGER PRIMARY KEY, height BIGINT NOT NULL, block_time BIGINT NOT NULL);
CREATE TABLE assets (
	id BIGINT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL, owner TEXT NOT NULL,
	uri TEXT NOT NULL, content_root TEXT NOT NULL, size BIGINT NOT NULL, version INTEGER NOT NULL,
	royalty_stack BIGINT NOT NULL, ancestor_count INTEGER NOT NULL, created_height BIGINT NOT NULL, created_time BIGINT NOT NULL,
	revenue TEXT NOT NULL, revenue_rank DOUBLE PRECISION NOT NULL, payments BIGINT NOT NULL, licenses BIGINT NOT NULL,
	license_kinds TEXT NOT NULL);
CREATE INDEX assets_kind ON assets (kind, id);
CREATE INDEX assets_owner ON assets (owner, id);
CREATE INDEX assets_revenue ON assets (revenue_rank, id);
CREATE TABLE versions (asset_id BIGINT NOT NULL, version INTEGER NOT NULL, uri TEXT NOT NULL, content_root TEXT NOT NULL,
	size BIGINT NOT NULL, height BIGINT NOT NULL, time BIGINT NOT NULL, PRIMARY KEY (asset_id, version));
CREATE TABLE edges (child_id BIGINT NOT NULL, parent_id BIGINT NOT NULL, edge_type TEXT NOT NULL, license_id BIGINT NOT NULL,
	share BIGINT NOT NULL, PRIMARY KEY (child_id, parent_id));
CREATE INDEX edges_parent ON edges (parent_id, child_id);
CREATE TABLE lineage (asset_id BIGINT NOT NULL, ancestor_id BIGINT NOT NULL, share BIGINT NOT NULL, depth INTEGER NOT NULL,
	PRIMARY KEY (asset_id, ancestor_id));
CREATE TABLE shareholders (asset_id BIGINT NOT NULL, address TEXT NOT NULL, shares BIGINT NOT NULL, PRIMARY KEY (asset_id, address));
CREATE INDEX shareholders_address ON shareholders (address, asset_id);
CREATE TABLE terms (id BIGINT PRIMARY KEY, commercial INTEGER NOT NULL, derivatives INTEGER NOT NULL, rev_share_bps INTEGER NOT NULL,
	mint_fee TEXT NOT NULL, per_call TEXT NOT NULL, duration BIGINT NOT NULL, transferable INTEGER NOT NULL, supply_cap BIGINT NOT NULL,
	revocable INTEGER NOT NULL, height BIGINT NOT NULL);
CREATE TABLE asset_terms (asset_id BIGINT NOT NULL, terms_id BIGINT NOT NULL, height BIGINT NOT NULL, PRIMARY KEY (asset_id, terms_id));
CREATE TABLE licenses (id BIGINT PRIMARY KEY, asset_id BIGINT NOT NULL, terms_id BIGINT NOT NULL, holder TEXT NOT NULL, fee TEXT NOT NULL,
	minted_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, revoked INTEGER NOT NULL, height BIGINT NOT NULL);
CREATE INDEX licenses_holder ON licenses (holder, id);
CREATE INDEX licenses_asset ON licenses (asset_id, id);
CREATE TABLE payments (height BIGINT NOT NULL, tx_index INTEGER NOT NULL, event_index INTEGER NOT NULL, asset_id BIGINT NOT NULL,
	payer TEXT NOT NULL, denom TEXT NOT NULL, amount TEXT NOT NULL, to_ancestors TEXT NOT NULL, reason TEXT NOT NULL,
	time BIGINT NOT NULL, tx_hash TEXT NOT NULL, PRIMARY KEY (height, tx_index, event_index));
CREATE INDEX payments_asset ON payments (asset_id, height);
CREATE INDEX payments_payer ON payments (payer, height);
CREATE TABLE claims (height BIGINT NOT NULL, tx_index INTEGER NOT NULL, event_index INTEGER NOT NULL, claimant TEXT NOT NULL,
	amount TEXT NOT NULL, time BIGINT NOT NULL, tx_hash TEXT NOT NULL, PRIMARY KEY (height, tx_index, event_index));
CREATE INDEX claims_claimant ON claims (claimant, height);
CREATE TABLE transfers (height BIGINT NOT NULL, tx_index INTEGER NOT NULL, event_index INTEGER NOT NULL, sender TEXT NOT NULL,
	recipient TEXT NOT NULL, amount TEXT NOT NULL, time BIGINT NOT NULL, PRIMARY KEY (height, tx_index, event_index));
CREATE INDEX transfers_sender ON transfers (sender, height);
CREATE INDEX transfers_recipient ON transfers (recipient, height);
CREATE TABLE asset_income (asset_id BIGINT NOT NULL, denom TEXT NOT NULL, height BIGINT NOT NULL, time BIGINT NOT NULL,
	amount TEXT NOT NULL, PRIMARY KEY (asset_id, denom, height));
CREATE TABLE earnings (address TEXT NOT NULL, asset_id BIGINT NOT NULL, role TEXT NOT NULL, denom TEXT NOT NULL, height BIGINT NOT NULL,
	time BIGINT NOT NULL, amount TEXT NOT NULL, PRIMARY KEY (address, asset_id, role, denom, height));
CREATE TABLE earning_totals (address TEXT NOT NULL, asset_id BIGINT NOT NULL, role TEXT NOT NULL, denom TEXT NOT NULL,
	amount TEXT NOT NULL, PRIMARY KEY (address, asset_id, role, denom));
CREATE TABLE spending_totals (address TEXT NOT NULL, asset_id BIGINT NOT NULL, reason TEXT NOT NULL, denom TEXT NOT NULL,
	amount TEXT NOT NULL, PRIMARY KEY (address, asset_id, reason, denom))`},
	// Full-text search on names and descriptions: FTS5 on SQLite, a tsvector with a GIN index on PostgreSQL.
	{SQL: `CREATE VIRTUAL TABLE asset_search USING fts5(name, description, tokenize = 'unicode61 remove_diacritics 2')`,
		Postgres: `ALTER TABLE assets ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', name || ' ' || description)) STORED;
CREATE INDEX assets_search ON assets USING GIN (search)`},
	// Marketplace totals, kept by the indexer so the home page does not count a million rows.
	{SQL: `CREATE TABLE market_stats (id INTEGER PRIMARY KEY, assets BIGINT NOT NULL, licenses BIGINT NOT NULL, payments BIGINT NOT NULL);
INSERT INTO market_stats (id, assets, licenses, payments) SELECT 1, (SELECT COUNT(*) FROM assets), (SELECT COUNT(*) FROM licenses), (SELECT COUNT(*) FROM payments)`},
	// An asset's latest payments straight from the index, without sorting all of its payments.
	{SQL: `DROP INDEX payments_asset;
CREATE INDEX payments_asset ON payments (asset_id, height, tx_index, event_index)`},
	// Search as you type: the last word is a prefix; an index of 2- and 3-letter prefixes keeps
	// that as fast as a whole word (without it a prefix query merges every matching term's list).
	{SQL: `DROP TABLE asset_search;
CREATE VIRTUAL TABLE asset_search USING fts5(name, description, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
INSERT INTO asset_search (rowid, name, description) SELECT id, name, description FROM assets`, Postgres: `SELECT 1`},
}

// Tables lists every table the indexer fills, for dumps and comparisons.
var Tables = []string{"indexer_state", "assets", "versions", "edges", "lineage", "shareholders", "terms", "asset_terms",
	"licenses", "payments", "claims", "transfers", "asset_income", "earnings", "earning_totals", "spending_totals", "market_stats"}
