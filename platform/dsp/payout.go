package dsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"sahara/platform/truth"
	"sahara/sdk/protocol"
)

// Chain is what settlement needs from the chain: the service's QA authority posting batches to
// x/datatask, and a way to ask whether a batch was applied.
type Chain interface {
	Authority() common.Address
	// BatchApplied reports whether x/datatask applied this batch of the pool.
	BatchApplied(ctx context.Context, pool, batch uint64) (bool, error)
	// PostPayouts sends the batch and waits until a block includes it; an error if it reverted.
	PostPayouts(ctx context.Context, pool, batch uint64, denoms []string, entries []protocol.Payout) (txHash string, err error)
	// MintDataset registers the pool's dataset and returns its asset id.
	MintDataset(ctx context.Context, pool uint64, name, uri string, root [32]byte, size uint64) (uint64, error)
}

// Entry is one contributor's line in a payout batch.
type Entry struct {
	Worker  string   `json:"worker"`
	Amounts []string `json:"amounts"` // per denom of the batch, in order
	Units   uint64   `json:"units"`   // accepted answers paid
	Weight  uint64   `json:"weight"`  // units × skill in thousandths: the dataset shares
}

// Batch is a payout batch as the database keeps it.
type Batch struct {
	ProjectID int64    `json:"project_id"`
	BatchID   uint64   `json:"batch_id"`
	PoolID    uint64   `json:"pool_id"`
	Status    string   `json:"status"` // pending (recorded, not yet on chain) or settled
	Denoms    []string `json:"denoms"`
	Entries   []Entry  `json:"entries"`
	Labels    int64    `json:"labels"`
	TxHash    string   `json:"tx_hash,omitempty"`
}

// EpochResult is what closing an epoch decided.
type EpochResult struct {
	Accepted int      `json:"accepted"`
	Rejected int      `json:"rejected"`
	Batches  []uint64 `json:"batches"`
	Paid     int      `json:"contributors"`
}

// CloseEpoch decides the pending answers of finished items and records payout batches for the
// accepted ones not yet paid, all in one transaction: an answer is put in exactly one batch, and
// a batch is recorded before anything is sent (Settle sends it). Categorical projects are first
// re-aggregated with the project's method over every answer, with control items and reviewed
// items as ground truth. Answers of banned contributors are rejected.
func (s *Service) CloseEpoch(ctx context.Context, projectID int64) (*EpochResult, error) {
	p, err := s.Project(ctx, projectID)
	if err != nil {
		return nil, err
	}
	if p.PoolID == 0 && len(p.Spec.Rates) > 0 {
		return nil, inputErr("project %d has no funded pool yet: fund it before paying out", projectID)
	}
	var finals map[int64]string
	if Categorical(p.TaskType) {
		if finals, err = s.reaggregate(ctx, p); err != nil {
			return nil, err
		}
	}
	tx, end, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	for id, f := range finals {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE dsp_items SET final = ? WHERE id = ? AND status = 'done' AND reviewed_by IS NULL`), f, id); err != nil {
			return nil, err
		}
	}
	// Pending answers whose fate is known: control answers, and answers to finished items.
	rows, err := tx.QueryContext(ctx, s.db.Rebind(`SELECT a.id, a.worker, a.value, a.is_control, a.correct, i.final, w.banned
		FROM dsp_answers a JOIN dsp_items i ON i.id = a.item_id
		JOIN dsp_workers w ON w.project_id = a.project_id AND w.worker = a.worker
		WHERE a.project_id = ? AND a.status = 'pending' AND (a.is_control = 1 OR i.status = 'done')`), projectID)
	if err != nil {
		return nil, err
	}
	var accept, reject []int64
	for rows.Next() {
		var id int64
		var worker, value, banned string
		var ctl int
		var correct *int
		var final *string
		if err := rows.Scan(&id, &worker, &value, &ctl, &correct, &final, &banned); err != nil {
			rows.Close()
			return nil, err
		}
		ok := banned == ""
		if ctl == 1 {
			ok = ok && correct != nil && *correct == 1
		} else {
			ok = ok && final != nil && agreement(p, *final, value) >= AcceptAgreement
		}
		if ok {
			accept = append(accept, id)
		} else {
			reject = append(reject, id)
		}
	}
	rows.Close()
	if err := s.setStatus(ctx, tx, "accepted", accept); err != nil {
		return nil, err
	}
	if err := s.setStatus(ctx, tx, "rejected", reject); err != nil {
		return nil, err
	}
	res := &EpochResult{Accepted: len(accept), Rejected: len(reject)}
	if len(p.Spec.Rates) > 0 {
		if err := s.recordBatches(ctx, tx, p, res); err != nil {
			return nil, err
		}
	}
	return res, tx.Commit()
}

func (s *Service) setStatus(ctx context.Context, tx *txn, status string, ids []int64) error {
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := []any{status}
		for _, id := range chunk {
			args = append(args, id)
		}
		q := `UPDATE dsp_answers SET status = ? WHERE id IN (?` + strings.Repeat(",?", len(chunk)-1) + `)`
		if _, err := tx.Tx.ExecContext(ctx, s.db.Rebind(q), args...); err != nil { // sized by the chunk: not cached
			return err
		}
	}
	return nil
}

// reaggregate runs the project's truth method over all answers of contributors in good standing
// and returns the canonical final answer of every item it labels.
func (s *Service) reaggregate(ctx context.Context, p *Project) (map[int64]string, error) {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT a.item_id, a.worker, a.label, i.gold, i.final, i.reviewed_by FROM dsp_answers a
		JOIN dsp_items i ON i.id = a.item_id
		WHERE a.project_id = ? AND NOT EXISTS (SELECT 1 FROM dsp_workers w WHERE w.project_id = a.project_id AND w.worker = a.worker AND w.banned <> '')`), p.ID)
	if err != nil {
		return nil, err
	}
	b := truth.NewBuilder(false)
	known := map[string]string{}
	for rows.Next() {
		var item int64
		var worker, label string
		var gold, final, reviewed *string
		if err := rows.Scan(&item, &worker, &label, &gold, &final, &reviewed); err != nil {
			rows.Close()
			return nil, err
		}
		b.Add(itoa(item), worker, label)
		switch {
		case gold != nil && *gold != "":
			known[itoa(item)] = decodeLabel(p, *gold)
		case reviewed != nil && final != nil:
			known[itoa(item)] = decodeLabel(p, *final)
		}
	}
	rows.Close()
	d := b.Build()
	if d.NumLabels() == 0 {
		return nil, nil
	}
	classes := map[string]int32{}
	for i, c := range d.Classes {
		classes[c] = int32(i)
	}
	g := &truth.Gold{Class: map[int]int32{}}
	for i, it := range d.Items {
		if l, ok := known[it]; ok {
			if c, ok := classes[l]; ok {
				g.Class[i] = c
			}
		}
	}
	method := p.Spec.Method
	if method == "auto" && len(g.Class) < 10 {
		method = "ds" // auto picks by control accuracy; with a handful of controls it cannot choose
	}
	r, err := truth.Aggregate(d, method, truth.Options{Control: g})
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(d.Items))
	for i, it := range d.Items {
		if r.Label[i] < 0 {
			continue
		}
		var id int64
		fmt.Sscan(it, &id)
		out[id] = labelAnswer(p, d.Classes[r.Label[i]])
	}
	return out, nil
}

// recordBatches puts every accepted, unpaid answer into payout batches of at most maxBatch
// contributors: units × rate per denom, plus the bonus for skilled contributors.
func (s *Service) recordBatches(ctx context.Context, tx *txn, p *Project, res *EpochResult) error {
	rows, err := tx.QueryContext(ctx, s.db.Rebind(`SELECT a.worker, COUNT(*), w.controls, w.controls_correct FROM dsp_answers a
		JOIN dsp_workers w ON w.project_id = a.project_id AND w.worker = a.worker
		WHERE a.project_id = ? AND a.status = 'accepted' AND a.batch_id = 0
		GROUP BY a.worker, w.controls, w.controls_correct ORDER BY a.worker`), p.ID)
	if err != nil {
		return err
	}
	type due struct {
		worker             string
		n, ctl, ctlCorrect int64
	}
	var dues []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.worker, &d.n, &d.ctl, &d.ctlCorrect); err != nil {
			rows.Close()
			return err
		}
		dues = append(dues, d)
	}
	rows.Close()
	if len(dues) == 0 {
		return nil
	}
	denoms := p.Denoms()
	rates := make([]*big.Int, len(denoms))
	for i, d := range denoms {
		rates[i], _ = new(big.Int).SetString(p.Spec.Rates[d], 10)
	}
	// A batch is one transaction: its call data must stay under the mempool's 128 KiB limit, and
	// an entry takes 160 bytes of ABI encoding plus 32 per denom.
	per := min(s.maxBatch, 120_000/(160+32*len(denoms)))
	batch := p.NextBatch
	for start := 0; start < len(dues); start += per {
		chunk := dues[start:min(start+per, len(dues))]
		b := Batch{ProjectID: p.ID, BatchID: batch, PoolID: p.PoolID, Status: "pending", Denoms: denoms}
		totals := make([]*big.Int, len(denoms))
		for i := range totals {
			totals[i] = new(big.Int)
		}
		var workers []any
		for _, d := range chunk {
			sk := skill(d.ctlCorrect, d.ctl)
			e := Entry{Worker: d.worker, Units: uint64(d.n), Weight: uint64(d.n) * uint64(math.Round(sk*1000))}
			if e.Weight == 0 {
				e.Weight = 1
			}
			for i, r := range rates {
				amt := new(big.Int).Mul(r, big.NewInt(d.n))
				if p.Spec.BonusBps > 0 && d.ctl > 0 && float64(d.ctlCorrect)/float64(d.ctl) >= p.Spec.BonusSkill {
					bonus := new(big.Int).Mul(amt, big.NewInt(int64(p.Spec.BonusBps)))
					amt.Add(amt, bonus.Quo(bonus, big.NewInt(10_000)))
				}
				e.Amounts = append(e.Amounts, amt.String())
				totals[i].Add(totals[i], amt)
				if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO dsp_payouts (project_id, batch_id, worker, denom, amount, labels) VALUES (?, ?, ?, ?, ?, ?)`),
					p.ID, batch, d.worker, denoms[i], amt.String(), d.n); err != nil {
					return err
				}
			}
			b.Entries = append(b.Entries, e)
			b.Labels += d.n
			workers = append(workers, d.worker)
		}
		entries, _ := json.Marshal(struct {
			Denoms  []string `json:"denoms"`
			Entries []Entry  `json:"entries"`
		}{denoms, b.Entries})
		var total []string
		for i, t := range totals {
			total = append(total, t.String()+denoms[i])
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO dsp_batches (project_id, batch_id, pool_id, status, entries, total, labels, created_at)
			VALUES (?, ?, ?, 'pending', ?, ?, ?, ?)`), p.ID, batch, p.PoolID, string(entries), strings.Join(total, ","), b.Labels, s.now().UnixMilli()); err != nil {
			return err
		}
		args := append([]any{batch, p.ID}, workers...)
		if _, err := tx.Tx.ExecContext(ctx, s.db.Rebind(`UPDATE dsp_answers SET batch_id = ? WHERE project_id = ? AND status = 'accepted' AND batch_id = 0
			AND worker IN (?`+strings.Repeat(",?", len(workers)-1)+`)`), args...); err != nil {
			return err
		}
		res.Batches = append(res.Batches, batch)
		res.Paid += len(chunk)
		batch++
	}
	_, err = tx.ExecContext(ctx, s.db.Rebind(`UPDATE dsp_projects SET next_batch = ? WHERE id = ?`), batch, p.ID)
	return err
}

// Batches lists a project's payout batches, oldest first.
func (s *Service) Batches(ctx context.Context, projectID int64, pendingOnly bool) ([]Batch, error) {
	q := `SELECT project_id, batch_id, pool_id, status, entries, labels, tx_hash FROM dsp_batches WHERE project_id = ? ORDER BY batch_id`
	if pendingOnly {
		q = `SELECT project_id, batch_id, pool_id, status, entries, labels, tx_hash FROM dsp_batches WHERE project_id = ? AND status = 'pending' ORDER BY batch_id`
	}
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(q), projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Batch
	for rows.Next() {
		var b Batch
		var entries string
		if err := rows.Scan(&b.ProjectID, &b.BatchID, &b.PoolID, &b.Status, &entries, &b.Labels, &b.TxHash); err != nil {
			return nil, err
		}
		var e struct {
			Denoms  []string `json:"denoms"`
			Entries []Entry  `json:"entries"`
		}
		if err := json.Unmarshal([]byte(entries), &e); err != nil {
			return nil, err
		}
		b.Denoms, b.Entries = e.Denoms, e.Entries
		out = append(out, b)
	}
	return out, rows.Err()
}

// Settle sends a project's pending batches in order. Before sending, it asks the chain whether
// the batch is already applied (the service may have died after sending and before recording):
// then it only records it. A batch is marked settled only once the chain has it, so a crash at
// any point neither pays twice (the chain refuses a batch id twice) nor misses anyone (the batch
// stays pending until it is on chain).
func (s *Service) Settle(ctx context.Context, projectID int64) (int, error) {
	if s.chain == nil {
		return 0, errors.New("no chain connection: payouts cannot be settled")
	}
	s.settleMu.Lock()
	defer s.settleMu.Unlock()
	batches, err := s.Batches(ctx, projectID, true)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, b := range batches {
		applied, err := s.chain.BatchApplied(ctx, b.PoolID, b.BatchID)
		if err != nil {
			return done, err
		}
		hash := "applied before this run"
		if !applied {
			entries := make([]protocol.Payout, len(b.Entries))
			for i, e := range b.Entries {
				if !common.IsHexAddress(e.Worker) {
					return done, fmt.Errorf("batch %d: worker %q is not an address", b.BatchID, e.Worker)
				}
				entries[i] = protocol.Payout{To: common.HexToAddress(e.Worker), Units: e.Units, Weight: e.Weight}
				for _, a := range e.Amounts {
					v, _ := new(big.Int).SetString(a, 10)
					entries[i].Amounts = append(entries[i].Amounts, v)
				}
			}
			if hash, err = s.chain.PostPayouts(ctx, b.PoolID, b.BatchID, b.Denoms, entries); err != nil {
				// Refused because an earlier send (of a killed run, still in the mempool) got in first?
				if ok, err2 := s.chain.BatchApplied(ctx, b.PoolID, b.BatchID); err2 != nil || !ok {
					return done, fmt.Errorf("batch %d of pool %d: %w", b.BatchID, b.PoolID, err)
				}
				hash = "applied by an earlier send"
			}
		}
		if _, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE dsp_batches SET status = 'settled', tx_hash = ?, settled_at = ? WHERE project_id = ? AND batch_id = ?`),
			hash, s.now().UnixMilli(), projectID, b.BatchID); err != nil {
			return done, err
		}
		if s.onSettled != nil {
			s.onSettled(b, hash)
		}
		done++
	}
	return done, nil
}
