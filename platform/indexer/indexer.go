// Package indexer follows the chain into the platform database: every event of the registry,
// licensing and royalty modules and every native-token transfer becomes rows that the web app
// reads (assets, versions, edges, shareholders, terms, licenses, payments, claims, earnings).
//
// It reads blocks from the node's CometBFT RPC and applies each block in one database
// transaction that also records the block's height, so a crash never leaves half a block and a
// restart resumes after the last block applied. While catching up it fetches several blocks at
// once and applies them in order; blocks without transactions only advance the height.
package indexer

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"sahara/platform/db"
)

// Indexer follows one chain into one database.
type Indexer struct {
	db    *db.DB
	src   *Source
	denom string
	log   *slog.Logger
	cache cache

	// Poll is how often the head is read when caught up.
	Poll time.Duration
	// Window is how many blocks are fetched ahead while catching up; Fetchers how many at once.
	Window, Fetchers int
	// Until, when set, is the last block to apply: Run returns once it is applied (re-indexing
	// to a known height, for comparisons).
	Until int64

	mu      sync.Mutex
	version int64 // blocks applied that changed anything: readers' caches key on it
	height  int64
	head    int64
	applied int64 // events applied since start
	waiters []chan struct{}
}

// New prepares an indexer: it applies the schema migrations and reads where it stopped.
func New(ctx context.Context, d *db.DB, src *Source, denom string, log *slog.Logger) (*Indexer, error) {
	if err := d.Migrate(ctx, "indexer", migrations); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	ix := &Indexer{db: d, src: src, denom: denom, log: log, Poll: 200 * time.Millisecond, Window: 256, Fetchers: 6}
	ix.cache.reset()
	err := d.QueryRowContext(ctx, `SELECT height FROM indexer_state WHERE id = 1`).Scan(&ix.height)
	if err != nil && err != sql.ErrNoRows {
		return nil, err
	}
	return ix, nil
}

// stmt returns q prepared once (database/sql prepares it again on each connection).
func (ix *Indexer) stmt(q string) (*sql.Stmt, error) { return ix.db.Stmt(q) }

// DB is the database the indexer writes.
func (ix *Indexer) DB() *db.DB { return ix.db }

// Height is the last block applied.
func (ix *Indexer) Height() int64 {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.height
}

// Status is the indexer's progress.
type Status struct {
	Height, Head, Events int64
}

func (ix *Indexer) Status() Status {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return Status{Height: ix.height, Head: ix.head, Events: ix.applied}
}

// WaitFor returns once block h is applied (or ctx ends).
func (ix *Indexer) WaitFor(ctx context.Context, h int64) error {
	for {
		ix.mu.Lock()
		if ix.height >= h {
			ix.mu.Unlock()
			return nil
		}
		ch := make(chan struct{})
		ix.waiters = append(ix.waiters, ch)
		ix.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Version changes whenever a block changed the index (not on empty blocks): what a reader
// computed at one version stays right until the version moves.
func (ix *Indexer) Version() int64 {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.version
}

func (ix *Indexer) advance(h int64, events int) {
	ix.mu.Lock()
	if events > 0 {
		ix.version++
	}
	ix.height = h
	ix.applied += int64(events)
	ws := ix.waiters
	ix.waiters = nil
	ix.mu.Unlock()
	for _, w := range ws {
		close(w)
	}
}

// Run follows the chain until ctx ends. Errors reading the node are retried (the node may be
// starting or restarting); an error applying a block stops the indexer, since skipping it would
// leave the database wrong.
func (ix *Indexer) Run(ctx context.Context) error {
	backoff := ix.Poll
	for ctx.Err() == nil {
		head, err := ix.src.Head(ctx)
		if ix.Until > 0 && head > ix.Until {
			head = ix.Until
		}
		if err == nil {
			ix.mu.Lock()
			ix.head = head
			ix.mu.Unlock()
			err = ix.catchUp(ctx, head)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if _, ok := err.(*applyError); ok {
				return err
			}
			ix.log.Debug("indexer: reading the node", "err", err, "retry_in", backoff)
			sleep(ctx, backoff)
			backoff = min(backoff*2, time.Second) // the node restarts or is busy: come back soon
			continue
		}
		backoff = ix.Poll
		if ix.Until > 0 && ix.Height() >= ix.Until {
			return nil
		}
		if ix.Height() >= head {
			sleep(ctx, ix.Poll)
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

type applyError struct{ err error }

func (e *applyError) Error() string { return e.err.Error() }
func (e *applyError) Unwrap() error { return e.err }

// fetched is one block on its way: its results arrive on done.
type fetched struct {
	meta Meta
	txs  []TxResult
	err  error
	done chan struct{}
}

// catchUp applies every block up to head, a window at a time.
func (ix *Indexer) catchUp(ctx context.Context, head int64) error {
	for from := ix.Height() + 1; from <= head; from = ix.Height() + 1 {
		to := min(head, from+int64(ix.Window)-1)
		var metas []Meta
		for lo := from; lo <= to; lo += 20 {
			ms, err := ix.src.Metas(ctx, lo, min(to, lo+19))
			if err != nil {
				return err
			}
			metas = append(metas, ms...)
		}
		if len(metas) == 0 || metas[0].Height != from {
			return fmt.Errorf("the node did not return block %d", from)
		}
		// Fetch the blocks with transactions, several at once; apply in order.
		queue := make([]*fetched, len(metas))
		sem := make(chan struct{}, ix.Fetchers)
		for i, m := range metas {
			f := &fetched{meta: m, done: make(chan struct{})}
			queue[i] = f
			if m.NumTxs == 0 {
				close(f.done)
				continue
			}
			go func() {
				sem <- struct{}{}
				defer func() { <-sem; close(f.done) }()
				f.txs, f.err = ix.src.BlockResults(ctx, f.meta.Height)
			}()
		}
		for i := 0; i < len(queue); {
			f := queue[i]
			<-f.done
			if f.err != nil {
				for _, g := range queue[i:] { // let the others finish before returning
					<-g.done
				}
				return f.err
			}
			if f.meta.NumTxs == 0 { // a run of empty blocks: one write records them all
				j := i
				for j+1 < len(queue) && queue[j+1].meta.NumTxs == 0 {
					j++
				}
				if err := ix.applyBlock(ctx, queue[j].meta, nil); err != nil {
					return err
				}
				i = j + 1
				continue
			}
			if err := ix.applyBlock(ctx, f.meta, f.txs); err != nil {
				return err
			}
			i++
		}
	}
	return nil
}

// applyBlock writes one block's events and its height in one transaction.
func (ix *Indexer) applyBlock(ctx context.Context, m Meta, txs []TxResult) error {
	start := time.Now()
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	b := &block{ix: ix, tx: tx, height: m.Height, time: m.Time.Unix(), earn: map[earnKey]*big.Int{}, spend: map[spendKey]*big.Int{},
		income: map[incomeKey]*big.Int{}, counts: map[uint64]counts{},
		pending: map[string]*pendingRows{}}
	err = func() error {
		for ti, t := range txs {
			if t.Code != 0 {
				continue // a failed transaction changed nothing but its fee
			}
			hash := ""
			for _, e := range t.Events {
				if e.Type == "ethereum_tx" && hash == "" {
					hash = e.Get("ethereumTxHash")
				}
			}
			for ei, e := range t.Events {
				if err := b.apply(ti, ei, hash, e); err != nil {
					return fmt.Errorf("block %d, tx %d, event %d (%s): %w", m.Height, ti, ei, e.Type, err)
				}
				b.events++
			}
		}
		return b.finish()
	}()
	if err == nil {
		err = tx.Commit()
	} else {
		tx.Rollback()
	}
	if err != nil {
		ix.cache.reset() // the caches may hold this block's changes
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &applyError{fmt.Errorf("indexer: %w", err)}
	}
	ix.advance(m.Height, b.events)
	if len(txs) > 0 {
		ix.log.Debug("indexer: applied", "height", m.Height, "txs", len(txs), "events", b.events, "took", time.Since(start))
	}
	return nil
}

type ancestor struct{ id, share uint64 }
type holder struct {
	addr   string
	shares uint64
}

// cache keeps each asset's lineage (fixed at registration) and shareholders (changed by
// transfers) in memory, so a payment reads neither from the database. It only ever holds what
// committed blocks wrote, plus the block being applied; a failed block resets it.
type cache struct {
	mu      sync.Mutex
	lineage map[uint64][]ancestor
	holders map[uint64][]holder
	totals  map[string]*big.Int // running totals (earnings, spending, revenue) as last written
}

// maxTotals bounds the totals cache; past it the cache starts over (a miss costs one read).
const maxTotals = 1 << 20

func (c *cache) reset() {
	c.mu.Lock()
	c.lineage, c.holders, c.totals = map[uint64][]ancestor{}, map[uint64][]holder{}, map[string]*big.Int{}
	c.mu.Unlock()
}

func (c *cache) total(k string) (*big.Int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.totals[k]
	return v, ok
}

func (c *cache) setTotal(k string, v *big.Int) {
	c.mu.Lock()
	if len(c.totals) >= maxTotals {
		c.totals = map[string]*big.Int{}
	}
	c.totals[k] = v
	c.mu.Unlock()
}
func (c *cache) lineageOf(id uint64) ([]ancestor, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.lineage[id]
	return l, ok
}
func (c *cache) holdersOf(id uint64) ([]holder, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.holders[id]
	return h, ok
}
func (c *cache) setLineage(id uint64, l []ancestor) { c.mu.Lock(); c.lineage[id] = l; c.mu.Unlock() }
func (c *cache) setHolders(id uint64, h []holder)   { c.mu.Lock(); c.holders[id] = h; c.mu.Unlock() }

// Apply applies one block given directly rather than read from the node (benchmarks feed
// synthetic blocks through the same code). Blocks must come in height order.
func (ix *Indexer) Apply(ctx context.Context, m Meta, txs []TxResult) error {
	return ix.applyBlock(ctx, m, txs)
}
