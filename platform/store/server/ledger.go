package server

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"sahara/platform/store"
	"sahara/platform/store/fingerprint"
)

// Export records one fingerprinted copy handed to a licensee.
type Export struct {
	Asset    uint64             `json:"asset"`
	Root     store.Hash         `json:"root"`
	Licensee string             `json:"licensee"`
	Format   fingerprint.Format `json:"format"`
	Time     time.Time          `json:"time"`
}

// Ledger is the append-only list of exports (JSON lines, fsynced before
// the copy is served), the candidates a leak is traced against.
type Ledger struct {
	path string
	mu   sync.Mutex
}

func OpenLedger(path string) *Ledger { return &Ledger{path: path} }

func (l *Ledger) Append(e Export) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	bz, _ := json.Marshal(e)
	if _, err := f.Write(append(bz, '\n')); err != nil {
		return err
	}
	return f.Sync()
}

// Licensees returns every address that received a copy of the asset.
func (l *Ledger) Licensees(asset uint64) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.Open(l.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	seen := map[string]bool{}
	var out []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		var e Export
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", l.path, n, err)
		}
		if e.Asset == asset && !seen[e.Licensee] {
			seen[e.Licensee] = true
			out = append(out, e.Licensee)
		}
	}
	return out, sc.Err()
}

// Trace attributes a suspect copy of an asset to one of its licensees.
// It needs only the node key and the ledger, not the store's data.
func Trace(key *store.NodeKey, l *Ledger, asset uint64, f fingerprint.Format, suspect io.Reader) (*fingerprint.Verdict, error) {
	if key == nil {
		return nil, errors.New("this store has no node key")
	}
	who, err := l.Licensees(asset)
	if err != nil {
		return nil, err
	}
	secret := key.Derive("fingerprint")
	var cands []fingerprint.Candidate
	for _, w := range who {
		cands = append(cands, fingerprint.Candidate{Licensee: w, Key: fingerprint.LicenseeKey(secret, asset, w)})
	}
	return fingerprint.Trace(f, suspect, cands)
}
