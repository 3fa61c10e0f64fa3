package dsp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Task is an item leased to a contributor: what they see, never the gold or anyone's answers.
type Task struct {
	ProjectID  int64             `json:"project_id"`
	ItemID     int64             `json:"item_id"`
	Data       map[string]string `json:"data"`
	Suggestion string            `json:"suggestion,omitempty"` // the built-in model's proposal
	Expires    int64             `json:"lease_expires"`        // unix ms
}

var (
	// ErrNoWork: nothing left for this contributor in the project now.
	ErrNoWork = errors.New("no task for you right now: every open item has its answers or is leased")
	// ErrBanned: the contributor may no longer work on the project.
	ErrBanned = errors.New("banned from this project")
)

// Worker is a contributor's standing in one project.
type Worker struct {
	Address         string  `json:"address"`
	Answers         int64   `json:"answers"`
	Controls        int64   `json:"controls"`
	ControlsCorrect int64   `json:"controls_correct"`
	Fast            int64   `json:"fast"`
	Banned          string  `json:"banned,omitempty"` // why, when banned
	Skill           float64 `json:"skill"`            // control accuracy, smoothed: (correct+1)/(controls+2)
}

func skill(correct, controls int64) float64 { return float64(correct+1) / float64(controls+2) }

func (s *Service) worker(ctx context.Context, q querier, project int64, addr string) (*Worker, error) {
	w := &Worker{Address: addr}
	err := q.QueryRowContext(ctx, s.db.Rebind(`SELECT answers, controls, controls_correct, fast, banned FROM dsp_workers WHERE project_id = ? AND worker = ?`),
		project, addr).Scan(&w.Answers, &w.Controls, &w.ControlsCorrect, &w.Fast, &w.Banned)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	w.Skill = skill(w.ControlsCorrect, w.Controls)
	return w, err
}

type querier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// Next leases the contributor's next item: the one they already hold, else a control item
// (during qualification, and then at the project's control rate), else the open item that most
// needs an answer (highest priority: the pre-labeller's uncertainty when it runs).
func (s *Service) Next(ctx context.Context, projectID int64, worker string) (*Task, error) {
	p, err := s.hotProject(ctx, projectID)
	if err != nil {
		return nil, err
	}
	if p.Status != "open" {
		return nil, inputErr("project %d is closed", projectID)
	}
	s.sweep(ctx, projectID)
	var t *Task
	err = s.write(ctx, func(tx *txn) error {
		ctx := context.WithoutCancel(ctx) // an interrupted statement would roll back the group (see write)
		w, err := s.worker(ctx, tx, projectID, worker)
		if err != nil {
			return err
		}
		if w.Banned != "" {
			return fmt.Errorf("%w: %s", ErrBanned, w.Banned)
		}
		t, err = s.lease(ctx, tx, p, w, s.now().UnixMilli())
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// lease finds and leases the contributor's next item inside tx.
func (s *Service) lease(ctx context.Context, tx querier, p *Project, w *Worker, now int64) (*Task, error) {
	var item, expires int64
	err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT item_id, expires_at FROM dsp_leases WHERE project_id = ? AND worker = ? AND expires_at > ? ORDER BY expires_at LIMIT 1`),
		p.ID, w.Address, now).Scan(&item, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		item, expires, err = 0, now+int64(p.Spec.LeaseSeconds)*1000, nil
		control := w.Controls < int64(p.Spec.Qualification) || (p.Spec.ControlRate > 0 && rand.Float64() < p.Spec.ControlRate)
		if control {
			item, err = s.pickControl(ctx, tx, p.ID, w.Address)
		}
		regular := false
		if err == nil && item == 0 {
			item, err = s.pickOpen(ctx, tx, p.ID, w.Address)
			regular = item != 0
		}
		if err == nil && item == 0 && !control {
			item, err = s.pickControl(ctx, tx, p.ID, w.Address) // nothing open: keep control items coming
		}
		if err != nil {
			return nil, err
		}
		if item == 0 {
			return nil, ErrNoWork
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO dsp_leases (item_id, worker, project_id, expires_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (item_id, worker) DO UPDATE SET expires_at = excluded.expires_at`), item, w.Address, p.ID, expires); err != nil {
			return nil, err
		}
		if regular { // the slot is taken: an item whose slots are all taken leaves the open queue
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE dsp_items SET assigned = assigned + 1,
				status = CASE WHEN assigned + 1 >= needed THEN 'full' ELSE status END WHERE id = ?`), item); err != nil {
				return nil, err
			}
		}
	} else if err != nil {
		return nil, err
	}
	it, err := scanItem(tx.QueryRowContext(ctx, s.db.Rebind(`SELECT `+itemCols+` FROM dsp_items WHERE id = ?`), item))
	if err != nil {
		return nil, err
	}
	t := &Task{ProjectID: p.ID, ItemID: it.ID, Data: it.Data, Expires: expires}
	if p.Spec.Prelabel && !it.IsControl { // a suggestion on a control item would give the answer away
		t.Suggestion = it.Suggestion
	}
	return t, nil
}

// sweep releases a project's expired leases (at most once a second): each gives its slot back,
// so the item returns to the open queue for someone else.
func (s *Service) sweep(ctx context.Context, projectID int64) {
	now := s.now().UnixMilli()
	s.sweptMu.Lock()
	if now-s.swept[projectID] < 1000 {
		s.sweptMu.Unlock()
		return
	}
	s.swept[projectID] = now
	s.sweptMu.Unlock()
	var n int
	if err := s.db.QueryRowStmt(ctx, `SELECT COUNT(*) FROM dsp_leases WHERE project_id = ? AND expires_at <= ?`, projectID, now).Scan(&n); err != nil || n == 0 {
		return
	}
	tx, end, err := s.begin(ctx)
	if err != nil {
		return
	}
	defer end()
	rows, err := tx.QueryContext(ctx, s.db.Rebind(`SELECT item_id, worker FROM dsp_leases WHERE project_id = ? AND expires_at <= ?`), projectID, now)
	if err != nil {
		return
	}
	type lease struct {
		item   int64
		worker string
	}
	var ls []lease
	for rows.Next() {
		var l lease
		rows.Scan(&l.item, &l.worker)
		ls = append(ls, l)
	}
	rows.Close()
	for _, l := range ls {
		if err := s.release(ctx, tx, l.item, l.worker); err != nil {
			return
		}
	}
	if err := tx.Commit(); err != nil {
		s.log.Warn("releasing expired leases", "project", projectID, "err", err)
	}
}

// release ends a lease without an answer: a regular item gets its slot back.
func (s *Service) release(ctx context.Context, tx querier, item int64, worker string) error {
	if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM dsp_leases WHERE item_id = ? AND worker = ?`), item, worker); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE dsp_items SET assigned = assigned - 1,
		status = CASE WHEN status = 'full' THEN 'open' ELSE status END WHERE id = ? AND is_control = 0 AND assigned > 0`), item)
	return err
}

// pickControl is a control item the contributor has not answered: the first at or after a random
// point of the project's control items (wrapping around), so contributors meet them in different
// orders without sorting them all.
func (s *Service) pickControl(ctx context.Context, tx querier, project int64, worker string) (int64, error) {
	var lo, hi sql.NullInt64
	if err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT MIN(id), MAX(id) FROM dsp_items WHERE project_id = ? AND is_control = 1`), project).Scan(&lo, &hi); err != nil || !lo.Valid {
		return 0, err
	}
	from := lo.Int64 + rand.Int64N(hi.Int64-lo.Int64+1)
	q := s.db.Rebind(`SELECT i.id FROM dsp_items i WHERE i.project_id = ? AND i.is_control = 1 AND i.id >= ?
		AND NOT EXISTS (SELECT 1 FROM dsp_answers a WHERE a.item_id = i.id AND a.worker = ?) ORDER BY i.id LIMIT 1`)
	var id int64
	err := tx.QueryRowContext(ctx, q, project, from, worker).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) && from > lo.Int64 {
		err = tx.QueryRowContext(ctx, q, project, lo.Int64, worker).Scan(&id)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// pickOpen is the open item (one with a free slot) that needs an answer most, that the
// contributor has not answered. Items whose slots are all taken are 'full', not 'open', so the
// scan starts at an item it can give.
func (s *Service) pickOpen(ctx context.Context, tx querier, project int64, worker string) (int64, error) {
	q := `SELECT i.id FROM dsp_items i WHERE i.project_id = ? AND i.is_control = 0 AND i.status = 'open'
		AND NOT EXISTS (SELECT 1 FROM dsp_answers a WHERE a.item_id = i.id AND a.worker = ?)
		ORDER BY i.priority DESC, i.id LIMIT 1`
	if s.db.Postgres() {
		q += ` FOR UPDATE SKIP LOCKED` // two contributors do not race for an item's last slot
	}
	var id int64
	err := tx.QueryRowContext(ctx, s.db.Rebind(q), project, worker).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// SubmitResult tells the contributor what happened to their answer, without revealing whether it
// was a control item or what others said; Next is their next task when they asked for it.
type SubmitResult struct {
	AnswerID int64  `json:"answer_id"`
	Banned   string `json:"banned,omitempty"` // set when this answer got the contributor banned
	Next     *Task  `json:"next,omitempty"`
	NoWork   bool   `json:"no_work,omitempty"` // asked for the next task, and there is none now
}

// Submit records an answer to an item leased to the contributor. It refuses an item not leased
// to them, an expired lease, a second answer and an answer that does not fit the project; on
// success the lease ends, the contributor's record and the item's progress move in the same
// transaction. With next, the contributor's next task is leased in that same transaction (one
// round trip per answer).
func (s *Service) Submit(ctx context.Context, projectID int64, worker string, itemID int64, raw []byte, duration time.Duration, next bool) (*SubmitResult, error) {
	p, err := s.hotProject(ctx, projectID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if next {
		s.sweep(ctx, projectID)
	}
	var m *model
	if Categorical(p.TaskType) {
		// Built (or rebuilt) before the transaction: a rebuild reads the database, and waiting for
		// a connection while holding one could exhaust the pool.
		if m, err = s.model(ctx, p); err != nil {
			return nil, err
		}
	}
	res := &SubmitResult{}
	var w *Worker
	var it *Item
	var observed *model
	var expired error // the lease had expired: its release is committed, the answer refused
	err = s.write(ctx, func(tx *txn) error {
		ctx := context.WithoutCancel(ctx) // an interrupted statement would roll back the group (see write)
		var expires int64
		err = tx.QueryRowContext(ctx, s.db.Rebind(`SELECT expires_at FROM dsp_leases WHERE item_id = ? AND worker = ? AND project_id = ?`),
			itemID, worker, projectID).Scan(&expires)
		if errors.Is(err, sql.ErrNoRows) {
			var n int
			tx.QueryRowContext(ctx, s.db.Rebind(`SELECT COUNT(*) FROM dsp_answers WHERE item_id = ? AND worker = ?`), itemID, worker).Scan(&n)
			if n > 0 {
				return inputErr("you already answered item %d: each item takes one answer from each contributor", itemID)
			}
			return inputErr("item %d is not leased to you: ask for your next task (POST /api/tasks/%d/next)", itemID, projectID)
		}
		if err != nil {
			return err
		}
		if expires <= now.UnixMilli() {
			expired = inputErr("your lease on item %d expired at %s; it may go to someone else: ask for your next task",
				itemID, time.UnixMilli(expires).UTC().Format(time.RFC3339))
			return s.release(ctx, tx, itemID, worker)
		}
		var err error
		it, err = scanItem(tx.QueryRowContext(ctx, s.db.Rebind(`SELECT `+itemCols+` FROM dsp_items WHERE id = ?`), itemID))
		if err != nil {
			return err
		}
		canon, label, err := parseAnswer(p, it, raw)
		if err != nil {
			return &InputError{err.Error()}
		}
		w, err = s.worker(ctx, tx, projectID, worker)
		if err != nil {
			return err
		}
		if w.Banned != "" {
			return fmt.Errorf("%w: %s", ErrBanned, w.Banned)
		}
		var correct any
		if it.IsControl {
			ok := agreement(p, it.Gold, canon) >= AcceptAgreement
			correct = boolInt(ok)
			w.Controls++
			if ok {
				w.ControlsCorrect++
			}
		}
		w.Answers++
		fast := duration.Seconds() < p.Spec.MinSeconds
		if fast {
			w.Fast++
		}
		switch {
		case p.Spec.MinAccuracy > 0 && w.Controls >= int64(p.Spec.MinControls) && float64(w.ControlsCorrect)/float64(w.Controls) < p.Spec.MinAccuracy:
			w.Banned = fmt.Sprintf("control accuracy %d/%d is below the project's %.0f%%", w.ControlsCorrect, w.Controls, 100*p.Spec.MinAccuracy)
		case p.Spec.MinSeconds > 0 && w.Fast >= int64(p.Spec.MaxFast):
			w.Banned = fmt.Sprintf("%d answers faster than the project's floor of %.1f s", w.Fast, p.Spec.MinSeconds)
		}
		res.Banned = w.Banned
		err = tx.QueryRowContext(ctx, s.db.Rebind(`INSERT INTO dsp_answers (project_id, item_id, worker, value, label, duration_ms, created_at, is_control, correct, status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending') RETURNING id`),
			projectID, itemID, worker, canon, label, duration.Milliseconds(), now.UnixMilli(), boolInt(it.IsControl), correct).Scan(&res.AnswerID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM dsp_leases WHERE item_id = ? AND worker = ?`), itemID, worker); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO dsp_workers (project_id, worker, answers, controls, controls_correct, fast, banned, first_at, last_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, worker) DO UPDATE SET answers = excluded.answers,
		controls = excluded.controls, controls_correct = excluded.controls_correct, fast = excluded.fast, banned = excluded.banned, last_at = excluded.last_at`),
			projectID, worker, w.Answers, w.Controls, w.ControlsCorrect, w.Fast, w.Banned, now.UnixMilli(), now.UnixMilli()); err != nil {
			return err
		}
		if w.Banned != "" {
			// A banned contributor's answers no longer count: their items need someone else's answer,
			// and finished ones open again (the epoch decides them afresh).
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE dsp_items SET answers = answers - 1, assigned = assigned - 1, status = 'open', done_at = 0
			WHERE project_id = ? AND is_control = 0 AND id <> ? AND id IN (SELECT item_id FROM dsp_answers WHERE project_id = ? AND worker = ?)`),
				projectID, itemID, projectID, worker); err != nil {
				return err
			}
			if !it.IsControl { // this answer's slot, too, goes back
				if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE dsp_items SET assigned = assigned - 1, status = CASE WHEN status = 'full' THEN 'open' ELSE status END WHERE id = ?`), itemID); err != nil {
					return err
				}
			}
		}
		if !it.IsControl && w.Banned == "" {
			if observed, err = s.progress(ctx, tx, p, m, it, worker, canon, label, now); err != nil {
				return err
			}
		}
		if next && w.Banned == "" {
			t, err := s.lease(ctx, tx, p, w, now.UnixMilli())
			switch {
			case errors.Is(err, ErrNoWork):
				res.NoWork = true
			case err != nil:
				return err
			default:
				res.Next = t
			}
		}
		return nil
	})
	if err != nil {
		if observed != nil {
			observed.invalidate() // the model saw an answer the database does not have
		}
		return nil, err
	}
	if expired != nil {
		return nil, expired
	}
	if w.Banned != "" {
		s.invalidateModel(projectID) // a banned contributor's answers leave the estimates
	}
	if p.Spec.Prelabel && !it.IsControl && Categorical(p.TaskType) {
		var status string
		var final *string
		if err := s.db.QueryRowStmt(ctx, `SELECT status, final FROM dsp_items WHERE id = ?`, itemID).Scan(&status, &final); err == nil && status == "done" && final != nil {
			if err := s.learn(ctx, p, it.Data["prompt"]+" "+it.Text()+" "+it.Data["a"]+" "+it.Data["b"], decodeLabel(p, *final)); err != nil {
				s.log.Warn("pre-labeller", "project", projectID, "err", err)
			}
		}
	}
	return res, nil
}

// progress counts the answer on the item and decides whether the item is finished: fixed
// overlap when it has its answers; dynamic overlap when the truth model's confidence reaches the
// target (or at the most answers), otherwise one more answer is asked for. A finished item whose
// confidence is below review_below goes to the review queue. It returns the model it updated.
func (s *Service) progress(ctx context.Context, tx querier, p *Project, m *model, it *Item, worker, canon, label string, now time.Time) (*model, error) {
	it.Answers++
	status, needed := it.Status, it.Needed
	var final string
	var conf float64
	if Categorical(p.TaskType) {
		est, err := m.observe(it.ID, worker, label)
		if err != nil {
			return nil, err
		}
		final, conf = labelAnswer(p, est.Label), est.Confidence
		switch {
		case !p.Spec.Dynamic && it.Answers >= p.Spec.Overlap:
			status = "done"
		case p.Spec.Dynamic && it.Answers >= p.Spec.MinOverlap && conf >= p.Spec.Confidence:
			status = "done"
		case p.Spec.Dynamic && it.Answers >= p.Spec.Overlap:
			status = "done"
		case p.Spec.Dynamic && it.Answers >= needed:
			needed = it.Answers + 1 // one more answer: the item opens a slot
		}
	} else if it.Answers >= it.Needed {
		rows, err := tx.QueryContext(ctx, s.db.Rebind(`SELECT value FROM dsp_answers WHERE item_id = ?`), it.ID)
		if err != nil {
			return nil, err
		}
		var answers []string
		for rows.Next() {
			var v string
			rows.Scan(&v)
			answers = append(answers, v)
		}
		rows.Close()
		var agree []float64
		final, agree = aggregate(p, answers)
		for _, a := range agree {
			conf += a / float64(len(agree))
		}
		status = "done"
	}
	if status == "done" && p.Spec.ReviewBelow > 0 && conf < p.Spec.ReviewBelow {
		status = "review"
	}
	var doneAt int64
	if status == "done" || status == "review" {
		doneAt = now.UnixMilli()
	} else if needed > it.Needed {
		status = "open" // a slot opened (dynamic overlap asks for one more answer)
	}
	_, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE dsp_items SET answers = answers + 1, status = ?, needed = ?, final = ?, confidence = ?, done_at = ? WHERE id = ?`),
		status, needed, nullIfEmpty(final), conf, doneAt, it.ID)
	return m, err
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
