package dsp

import (
	"context"
	"fmt"
	"sync"
)

// Group commit. On SQLite every answer is a write transaction and the database takes one writer
// at a time; committing each answer alone writes its ~10 changed pages to the WAL every time. The
// answers that arrive while one transaction runs are instead applied together in the next one,
// each inside its own savepoint: a refused answer rolls back to its savepoint and leaves the
// others alone, and a failed commit fails them all (nothing is half-written). On PostgreSQL each
// answer keeps its own transaction: the server runs them side by side.

type job struct {
	ctx  context.Context
	fn   func(tx *txn) error
	done chan error
}

// maxGroup bounds the answers committed together.
const maxGroup = 64

type committer struct {
	once sync.Once
	jobs chan *job
}

// write runs fn in a write transaction and commits it (grouped with others on SQLite).
func (s *Service) write(ctx context.Context, fn func(tx *txn) error) error {
	if s.db.Postgres() {
		tx, end, err := s.begin(ctx)
		if err != nil {
			return err
		}
		defer end()
		if err := fn(tx); err != nil {
			return err
		}
		return tx.Commit()
	}
	s.group.once.Do(func() {
		s.group.jobs = make(chan *job, 4096)
		go s.commitLoop()
	})
	// The job runs to its end even if the caller goes away: an interrupted statement would roll
	// back the whole group's transaction.
	j := &job{ctx: context.WithoutCancel(ctx), fn: fn, done: make(chan error, 1)}
	select {
	case s.group.jobs <- j:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-j.done
}

func (s *Service) commitLoop() {
	for j := range s.group.jobs {
		group := []*job{j}
	more:
		for len(group) < maxGroup {
			select {
			case j2 := <-s.group.jobs:
				group = append(group, j2)
			default:
				break more
			}
		}
		s.runGroup(group)
	}
}

func (s *Service) runGroup(group []*job) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(context.Background(), nil)
	if err != nil {
		for _, j := range group {
			j.done <- err
		}
		return
	}
	t := &txn{Tx: tx, db: s.db}
	errs := make([]error, len(group))
	for i, j := range group {
		if _, err := tx.ExecContext(j.ctx, "SAVEPOINT answer"); err != nil {
			errs[i] = err
			continue
		}
		if err := runJob(j, t); err != nil {
			errs[i] = err
			tx.ExecContext(j.ctx, "ROLLBACK TO answer")
		}
		tx.ExecContext(j.ctx, "RELEASE answer")
	}
	cerr := tx.Commit()
	for i, j := range group {
		if errs[i] == nil {
			errs[i] = cerr
		}
		j.done <- errs[i]
	}
}

// runJob runs one job's work; a panic in it fails that job alone (its savepoint is rolled back)
// instead of stopping the goroutine every SQLite write waits on.
func runJob(j *job, t *txn) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error applying the answer: %v", r)
		}
	}()
	return j.fn(t)
}
