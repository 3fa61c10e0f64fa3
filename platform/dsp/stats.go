package dsp

import (
	"context"
	"math/big"
	"sort"
)

// Progress is a project's state for its requester: counts, series for charts, contributors.
type Progress struct {
	Items, Controls, Done, Review, Open int64
	Answers                             int64
	Accepted, Rejected, Pending         int64
	// Series per bucket of BucketMs: answers, control answers and correct ones.
	BucketMs   int64
	Buckets    []int64 // bucket start, unix ms
	Throughput []int64
	ControlAcc []float64 // correct share of control answers in the bucket (-1: none)
	// Cost: what settled and recorded batches pay, per denom, and per accepted answer.
	Paid       map[string]string
	Recorded   map[string]string
	Workers    []Worker
	Batches    []Batch
	Denoms     []string
	ReviewWait int64
}

// Progress reads a project's numbers.
func (s *Service) Progress(ctx context.Context, projectID int64) (*Progress, error) {
	pr := &Progress{Paid: map[string]string{}, Recorded: map[string]string{}}
	row := s.db.QueryRowContext(ctx, s.db.Rebind(`SELECT COUNT(*),
		COALESCE(SUM(is_control), 0),
		COALESCE(SUM(CASE WHEN is_control = 0 AND status = 'done' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'review' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN is_control = 0 AND status IN ('open', 'full') THEN 1 ELSE 0 END), 0)
		FROM dsp_items WHERE project_id = ?`), projectID)
	if err := row.Scan(&pr.Items, &pr.Controls, &pr.Done, &pr.Review, &pr.Open); err != nil {
		return nil, err
	}
	pr.Items -= pr.Controls
	pr.ReviewWait = pr.Review
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT status, COUNT(*) FROM dsp_answers WHERE project_id = ? GROUP BY status`), projectID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var st string
		var n int64
		rows.Scan(&st, &n)
		pr.Answers += n
		switch st {
		case "accepted":
			pr.Accepted = n
		case "rejected":
			pr.Rejected = n
		default:
			pr.Pending = n
		}
	}
	rows.Close()

	var first, last int64
	s.db.QueryRowContext(ctx, s.db.Rebind(`SELECT COALESCE(MIN(created_at), 0), COALESCE(MAX(created_at), 0) FROM dsp_answers WHERE project_id = ?`), projectID).Scan(&first, &last)
	if last > 0 {
		// About 60 buckets over the project's life, at least a minute each.
		pr.BucketMs = max(60_000, (last-first)/60+1)
		rows, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT b, COUNT(*), COALESCE(SUM(is_control), 0), COALESCE(SUM(CASE WHEN correct = 1 THEN 1 ELSE 0 END), 0)
			FROM (SELECT (created_at - ?) / ? AS b, is_control, correct FROM dsp_answers WHERE project_id = ?) x GROUP BY b ORDER BY b`), first, pr.BucketMs, projectID)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var b, n, ctl, ok int64
			rows.Scan(&b, &n, &ctl, &ok)
			pr.Buckets = append(pr.Buckets, first+b*pr.BucketMs)
			pr.Throughput = append(pr.Throughput, n)
			acc := -1.0
			if ctl > 0 {
				acc = float64(ok) / float64(ctl)
			}
			pr.ControlAcc = append(pr.ControlAcc, acc)
		}
		rows.Close()
	}

	rows, err = s.db.QueryContext(ctx, s.db.Rebind(`SELECT worker, answers, controls, controls_correct, fast, banned FROM dsp_workers WHERE project_id = ? ORDER BY answers DESC LIMIT 500`), projectID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var w Worker
		rows.Scan(&w.Address, &w.Answers, &w.Controls, &w.ControlsCorrect, &w.Fast, &w.Banned)
		w.Skill = skill(w.ControlsCorrect, w.Controls)
		pr.Workers = append(pr.Workers, w)
	}
	rows.Close()
	if pr.Batches, err = s.Batches(ctx, projectID, false); err != nil {
		return nil, err
	}
	paid, rec := map[string]*big.Int{}, map[string]*big.Int{}
	for _, b := range pr.Batches {
		for _, e := range b.Entries {
			for i, a := range e.Amounts {
				v, _ := new(big.Int).SetString(a, 10)
				d := b.Denoms[i]
				if rec[d] == nil {
					rec[d], paid[d] = new(big.Int), new(big.Int)
				}
				rec[d].Add(rec[d], v)
				if b.Status == "settled" {
					paid[d].Add(paid[d], v)
				}
			}
		}
	}
	for d := range rec {
		pr.Denoms = append(pr.Denoms, d)
		pr.Paid[d], pr.Recorded[d] = paid[d].String(), rec[d].String()
	}
	sort.Strings(pr.Denoms)
	return pr, nil
}

// Earning is what a contributor earned in one project and denom.
type Earning struct {
	ProjectID int64  `json:"project_id"`
	Project   string `json:"project"`
	Denom     string `json:"denom"`
	Paid      string `json:"paid"`    // in settled batches (on chain)
	Pending   string `json:"pending"` // in batches not yet on chain
	Labels    int64  `json:"labels"`
}

// Earnings lists a contributor's earnings by project and denom, and their answers by status.
func (s *Service) Earnings(ctx context.Context, worker string) ([]Earning, map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT p.id, p.name, o.denom, o.amount, o.labels, b.status FROM dsp_payouts o
		JOIN dsp_batches b ON b.project_id = o.project_id AND b.batch_id = o.batch_id
		JOIN dsp_projects p ON p.id = o.project_id
		WHERE o.worker = ? ORDER BY p.id, o.denom`), worker)
	if err != nil {
		return nil, nil, err
	}
	type key struct {
		id    int64
		denom string
	}
	acc := map[key]*Earning{}
	var order []key
	for rows.Next() {
		var e Earning
		var amount, status string
		var labels int64
		if err := rows.Scan(&e.ProjectID, &e.Project, &e.Denom, &amount, &labels, &status); err != nil {
			rows.Close()
			return nil, nil, err
		}
		k := key{e.ProjectID, e.Denom}
		if acc[k] == nil {
			e.Paid, e.Pending = "0", "0"
			acc[k] = &e
			order = append(order, k)
		}
		cur := acc[k]
		v, _ := new(big.Int).SetString(amount, 10)
		target := &cur.Pending
		if status == "settled" {
			target = &cur.Paid
		}
		t, _ := new(big.Int).SetString(*target, 10)
		*target = t.Add(t, v).String()
		cur.Labels += labels
	}
	rows.Close()
	var out []Earning
	for _, k := range order {
		out = append(out, *acc[k])
	}
	counts := map[string]int64{}
	rs, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT status, COUNT(*) FROM dsp_answers WHERE worker = ? GROUP BY status`), worker)
	if err != nil {
		return nil, nil, err
	}
	for rs.Next() {
		var st string
		var n int64
		rs.Scan(&st, &n)
		counts[st] = n
	}
	rs.Close()
	return out, counts, nil
}
