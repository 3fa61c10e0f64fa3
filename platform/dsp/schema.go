package dsp

import (
	"strings"

	"sahara/platform/db"
)

// The platform database's data-task tables. Every write that moves work or money happens in one
// transaction; amounts are decimal strings of the smallest unit (they exceed 64 bits).
var migrations = []db.Migration{
	{SQL: schemaV1, Postgres: strings.ReplaceAll(schemaV1, "id INTEGER PRIMARY KEY", "id BIGSERIAL PRIMARY KEY")},
}

const schemaV1 = `
CREATE TABLE dsp_projects (
	id INTEGER PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, instructions TEXT NOT NULL,
	task_type TEXT NOT NULL, spec TEXT NOT NULL, status TEXT NOT NULL, pool_id BIGINT NOT NULL DEFAULT 0,
	dataset_id BIGINT NOT NULL DEFAULT 0, next_batch BIGINT NOT NULL DEFAULT 1, created_at BIGINT NOT NULL);
CREATE INDEX dsp_projects_owner ON dsp_projects (owner);
CREATE TABLE dsp_items (
	id INTEGER PRIMARY KEY, project_id BIGINT NOT NULL, ext_id TEXT NOT NULL, data TEXT NOT NULL,
	gold TEXT, is_control INTEGER NOT NULL, status TEXT NOT NULL, needed INTEGER NOT NULL,
	answers INTEGER NOT NULL DEFAULT 0, assigned INTEGER NOT NULL DEFAULT 0, final TEXT, confidence DOUBLE PRECISION NOT NULL DEFAULT 0,
	reviewed_by TEXT, priority DOUBLE PRECISION NOT NULL DEFAULT 0, suggestion TEXT, done_at BIGINT NOT NULL DEFAULT 0,
	UNIQUE (project_id, ext_id));
CREATE INDEX dsp_items_work ON dsp_items (project_id, is_control, status, priority DESC, id);
CREATE INDEX dsp_items_kind ON dsp_items (project_id, is_control, id);
CREATE TABLE dsp_leases (
	item_id BIGINT NOT NULL, worker TEXT NOT NULL, project_id BIGINT NOT NULL, expires_at BIGINT NOT NULL,
	PRIMARY KEY (item_id, worker));
CREATE INDEX dsp_leases_worker ON dsp_leases (project_id, worker);
CREATE INDEX dsp_leases_expiry ON dsp_leases (project_id, expires_at);
CREATE TABLE dsp_answers (
	id INTEGER PRIMARY KEY, project_id BIGINT NOT NULL, item_id BIGINT NOT NULL, worker TEXT NOT NULL,
	value TEXT NOT NULL, label TEXT NOT NULL, duration_ms BIGINT NOT NULL, created_at BIGINT NOT NULL,
	is_control INTEGER NOT NULL, correct INTEGER, status TEXT NOT NULL, batch_id BIGINT NOT NULL DEFAULT 0,
	UNIQUE (item_id, worker));
CREATE INDEX dsp_answers_project ON dsp_answers (project_id, status, batch_id);
CREATE INDEX dsp_answers_worker ON dsp_answers (worker, project_id);
CREATE TABLE dsp_workers (
	project_id BIGINT NOT NULL, worker TEXT NOT NULL, answers BIGINT NOT NULL DEFAULT 0,
	controls BIGINT NOT NULL DEFAULT 0, controls_correct BIGINT NOT NULL DEFAULT 0, fast BIGINT NOT NULL DEFAULT 0,
	banned TEXT NOT NULL DEFAULT '', first_at BIGINT NOT NULL, last_at BIGINT NOT NULL,
	PRIMARY KEY (project_id, worker));
CREATE TABLE dsp_batches (
	project_id BIGINT NOT NULL, batch_id BIGINT NOT NULL, pool_id BIGINT NOT NULL, status TEXT NOT NULL,
	entries TEXT NOT NULL, total TEXT NOT NULL, labels BIGINT NOT NULL, tx_hash TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL, settled_at BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (project_id, batch_id));
CREATE TABLE dsp_payouts (
	project_id BIGINT NOT NULL, batch_id BIGINT NOT NULL, worker TEXT NOT NULL, denom TEXT NOT NULL,
	amount TEXT NOT NULL, labels BIGINT NOT NULL,
	PRIMARY KEY (project_id, batch_id, worker, denom));
CREATE INDEX dsp_payouts_worker ON dsp_payouts (worker);
`
