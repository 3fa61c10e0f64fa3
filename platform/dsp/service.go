// Package dsp is the Data Services Platform: requesters post labelling projects, contributors
// label items, and quality is proven before anyone is paid.
//
//   - Assignment: leases that expire and reassign, fixed or dynamic overlap (ask again until the
//     truth library's confidence is high enough), control items mixed in at a set rate, a
//     qualification run of control items, blind labelling (no one sees another's answer).
//   - Quality: skills from control accuracy, automatic bans (low accuracy, answers faster than a
//     floor), a review queue for low-confidence items whose decisions become ground truth.
//   - Money: per accepted answer, with a quality bonus; accepted answers are settled in epochs as
//     payout batches through x/datatask, each answer in exactly one batch and each batch applied
//     on chain exactly once, even if the service is killed in the middle (payout.go).
//
// State lives in the platform database (SQLite or PostgreSQL, the same SQL); the truth models of
// categorical projects are kept in memory and rebuilt from the answers after a restart.
package dsp

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"

	"sahara/platform/db"
	"sahara/platform/store"
)

// Config wires the service.
type Config struct {
	DB    *db.DB
	Store *store.Store // item files (images); nil: text items only
	Chain Chain        // payouts and minting; nil: no settlement (tests of the labelling flow)
	Log   *slog.Logger
	Clock func() time.Time // nil: time.Now
	// MaxBatchEntries bounds one payout transaction (default 1000).
	MaxBatchEntries int
	// OnSettled, when set, hears of each batch Settle records as on chain.
	OnSettled func(b Batch, txHash string)
}

// Service is the data platform over one database.
type Service struct {
	db       *db.DB
	store    *store.Store
	chain    Chain
	log      *slog.Logger
	clock    func() time.Time
	maxBatch int

	modelsMu sync.Mutex
	models   map[int64]*model       // categorical projects' live truth models
	pre      map[int64]*prelabeller // categorical projects' pre-labellers
	settleMu sync.Mutex             // one settlement at a time: batches go out in order
	// writeMu serialises write transactions on SQLite, which allows one writer at a time: waiting
	// here is a queue; waiting in SQLite's busy handler is sleeping and polling.
	writeMu   sync.Mutex
	group     committer // SQLite's group commit of answers
	projects  sync.Map  // id → *Project, for the answer path (hotProject)
	sweptMu   sync.Mutex
	swept     map[int64]int64 // project → when its expired leases were last released (unix ms)
	onSettled func(b Batch, txHash string)
}

// New opens the service, migrating its tables.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if err := cfg.DB.Migrate(ctx, "dsp", migrations); err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.MaxBatchEntries == 0 {
		cfg.MaxBatchEntries = 1000
	}
	return &Service{db: cfg.DB, store: cfg.Store, chain: cfg.Chain, log: cfg.Log, clock: cfg.Clock,
		maxBatch: cfg.MaxBatchEntries, models: map[int64]*model{}, onSettled: cfg.OnSettled, swept: map[int64]int64{}}, nil
}

// DB is the service's database.
func (s *Service) DB() *db.DB { return s.db }

// Store is the blob store of item files (nil when there is none).
func (s *Service) Store() *store.Store { return s.store }

// txn is a write transaction whose statements are prepared once per connection and kept (the
// same dozen statements run for every answer; preparing them each time was a tenth of the work).
type txn struct {
	*sql.Tx
	db *db.DB
}

func (t *txn) stmt(ctx context.Context, q string) *sql.Stmt {
	if t.db.Postgres() {
		// pgx keeps prepared statements per connection itself; and preparing on the pool while
		// holding a connection could wait forever for another one.
		return nil
	}
	st, err := t.db.Stmt(q)
	if err != nil {
		return nil
	}
	return t.Tx.StmtContext(ctx, st)
}

func (t *txn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, q, args...)
}

func (t *txn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, q, args...)
}

func (t *txn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, q, args...)
}

// begin starts a write transaction; end releases it (after Commit or Rollback).
func (s *Service) begin(ctx context.Context) (*txn, func(), error) {
	if !s.db.Postgres() {
		s.writeMu.Lock()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		if !s.db.Postgres() {
			s.writeMu.Unlock()
		}
		return nil, nil, err
	}
	ended := false
	end := func() { // idempotent: deferred, and called early to release the lock after Commit
		if ended {
			return
		}
		ended = true
		tx.Rollback()
		if !s.db.Postgres() {
			s.writeMu.Unlock()
		}
	}
	return &txn{Tx: tx, db: s.db}, end, nil
}
