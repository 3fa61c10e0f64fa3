// Package db is the platform's one database layer: embedded SQLite by default (a pure-Go driver,
// nothing to install) and PostgreSQL by the same code, behind database/sql. Queries are written
// once with ? placeholders (Rebind turns them into $n for PostgreSQL); the few statements that
// differ between the two (full-text search) ask Postgres() which one they are on. Schema changes
// are numbered migrations, applied at open inside a transaction each.
package db

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "modernc.org/sqlite"             // driver "sqlite"
)

// DB is an open platform database.
type DB struct {
	*sql.DB
	postgres bool
	dsn      string
	stmts    sync.Map // query text → *sql.Stmt
}

// Stmt returns q (with ? placeholders) prepared once and kept: preparing a statement costs as
// much as running a small query, and pages run the same few queries over and over.
// database/sql prepares it again on each connection that runs it.
func (d *DB) Stmt(q string) (*sql.Stmt, error) {
	if st, ok := d.stmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := d.Prepare(d.Rebind(q))
	if err != nil {
		return nil, err
	}
	if old, loaded := d.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return old.(*sql.Stmt), nil
	}
	return st, nil
}

// QueryStmt runs a cached prepared statement (see Stmt).
func (d *DB) QueryStmt(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := d.Stmt(q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowStmt runs a cached prepared statement that returns one row.
func (d *DB) QueryRowStmt(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := d.Stmt(q)
	if err != nil {
		return d.DB.QueryRowContext(ctx, d.Rebind(q), args...) // carries the same error
	}
	return st.QueryRowContext(ctx, args...)
}

// IsPostgres reports whether a --db value names a PostgreSQL server rather than a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens dsn: a postgres:// URL, or else a SQLite file path (created with its folder).
// SQLite runs in WAL mode with synchronous=NORMAL: a killed process loses nothing that was
// committed (only a power cut may lose the last transactions, never half of one).
func Open(dsn string) (*DB, error) {
	if IsPostgres(dsn) {
		d, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("database %s: %w", redact(dsn), err)
		}
		d.SetMaxOpenConns(32)
		d.SetMaxIdleConns(32)
		if err := d.Ping(); err != nil {
			d.Close()
			return nil, fmt.Errorf("database %s: %w (is PostgreSQL running, and does the database exist?)", redact(dsn), err)
		}
		return &DB{DB: d, postgres: true, dsn: dsn}, nil
	}
	path := strings.TrimPrefix(dsn, "sqlite://")
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("database %s: %w", path, err)
		}
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(1)", "cache_size(-65536)", "mmap_size(4294967296)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate") // writers take the lock at BEGIN: no deadlock upgrading a reader
	d, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	// Readers run side by side (WAL); SQLite itself serialises writers.
	d.SetMaxOpenConns(8)
	d.SetMaxIdleConns(8)
	if err := d.Ping(); err != nil {
		d.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	return &DB{DB: d, dsn: path}, nil
}

// Postgres reports whether this is a PostgreSQL database.
func (d *DB) Postgres() bool { return d.postgres }

// String names the database for logs, without a password.
func (d *DB) String() string {
	if d.postgres {
		return "PostgreSQL " + redact(d.dsn)
	}
	return "SQLite " + d.dsn
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxx")
	}
	return u.String()
}

// Rebind turns ? placeholders into $1, $2, … on PostgreSQL. Queries hold no literal '?'.
func (d *DB) Rebind(q string) string {
	if !d.postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Migration is one schema step; Postgres, when set, replaces SQL on PostgreSQL.
type Migration struct {
	SQL, Postgres string
}

// Migrate applies the steps of one component that the database has not seen yet, each in its
// own transaction, and records them; a database newer than this binary is refused.
func (d *DB) Migrate(ctx context.Context, component string, steps []Migration) error {
	if _, err := d.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT PRIMARY KEY, version BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	var have int
	err := d.QueryRowContext(ctx, d.Rebind(`SELECT version FROM schema_migrations WHERE component = ?`), component).Scan(&have)
	if err != nil && err != sql.ErrNoRows {
		return err
	}
	if have > len(steps) {
		return fmt.Errorf("the %s schema in %s is at version %d, newer than this binary knows (%d): run a newer sahara", component, d, have, len(steps))
	}
	for i := have; i < len(steps); i++ {
		q := steps[i].SQL
		if d.postgres && steps[i].Postgres != "" {
			q = steps[i].Postgres
		}
		tx, err := d.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for _, stmt := range splitStatements(q) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				tx.Rollback()
				return fmt.Errorf("%s migration %d: %w\n%s", component, i+1, err, stmt)
			}
		}
		if _, err := tx.ExecContext(ctx, d.Rebind(`INSERT INTO schema_migrations (component, version) VALUES (?, ?)
			ON CONFLICT (component) DO UPDATE SET version = excluded.version`), component, i+1); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// splitStatements cuts a migration at semicolons that end a line.
func splitStatements(q string) []string {
	var out []string
	for _, s := range strings.Split(q, ";\n") {
		if s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), ";")); s != "" {
			out = append(out, s)
		}
	}
	return out
}
