// Package dbtest gives tests a fresh database of each kind: a SQLite file in a temporary folder,
// and a new PostgreSQL database on the server named by SAHARA_TEST_POSTGRES (a postgres:// URL of
// a database the test may connect to; .ci/run starts a server and sets it). Without the variable
// the PostgreSQL variants are skipped, saying how to run them.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"sahara/platform/db"
)

// Kinds are the database kinds every database test runs on.
var Kinds = []string{"sqlite", "postgres"}

// Open returns a fresh, empty database of a kind, dropped (PostgreSQL) when the test ends.
func Open(t testing.TB, kind string) *db.DB {
	t.Helper()
	dsn := DSN(t, kind)
	d, err := db.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// DSN makes a fresh database of a kind and returns its --db value.
func DSN(t testing.TB, kind string) string {
	t.Helper()
	if kind == "sqlite" {
		return filepath.Join(t.TempDir(), "platform.db")
	}
	base := os.Getenv("SAHARA_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("SAHARA_TEST_POSTGRES is not set on CI: .ci/run must start PostgreSQL and set it")
		}
		t.Skip("PostgreSQL variant: set SAHARA_TEST_POSTGRES=postgres://user:pass@127.0.0.1:5432/postgres to run it")
	}
	admin, err := db.Open(base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "sahara_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a, err := db.Open(base)
		if err == nil {
			a.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			a.Close()
		}
	})
	u, _ := url.Parse(base)
	u.Path = "/" + name
	return u.String()
}
