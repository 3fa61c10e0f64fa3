package dsp

import (
	"context"
	"sync"

	"sahara/platform/truth"
)

// model is a categorical project's live truth model: every answer of contributors in good
// standing, with control items clamped to their gold, folded in one at a time (Observe).
type model struct {
	mu    sync.Mutex
	inc   *truth.Incremental
	stale bool
}

func (m *model) observe(item int64, worker, label string) (truth.ItemEstimate, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.inc.Observe(itoa(item), worker, label)
}

func (m *model) invalidate() {
	m.mu.Lock()
	m.stale = true
	m.mu.Unlock()
}

// incrementalMethod is the EM method of a project's live model (its own method when it is one).
func incrementalMethod(method string) string {
	switch method {
	case "ds", "onecoin", "mace", "ibcc":
		return method
	}
	return "ds"
}

// model returns the project's live model, building it from the database when there is none or it
// went stale (a ban, a review decision, a failed commit).
func (s *Service) model(ctx context.Context, p *Project) (*model, error) {
	s.modelsMu.Lock()
	m := s.models[p.ID]
	if m == nil {
		m = &model{stale: true}
		s.models[p.ID] = m
	}
	s.modelsMu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.stale {
		return m, nil
	}
	inc, err := truth.NewIncremental(incrementalMethod(p.Spec.Method), truth.Options{})
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT a.item_id, a.worker, a.label, i.gold, i.final, i.reviewed_by FROM dsp_answers a
		JOIN dsp_items i ON i.id = a.item_id
		WHERE a.project_id = ? AND NOT EXISTS (SELECT 1 FROM dsp_workers w WHERE w.project_id = a.project_id AND w.worker = a.worker AND w.banned <> '')`), p.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var item int64
		var worker, label string
		var gold, final, reviewed *string
		if err := rows.Scan(&item, &worker, &label, &gold, &final, &reviewed); err != nil {
			return nil, err
		}
		if err := inc.Add(itoa(item), worker, label); err != nil {
			return nil, err
		}
		switch {
		case gold != nil && *gold != "":
			inc.SetControl(itoa(item), decodeLabel(p, *gold))
		case reviewed != nil && final != nil: // a reviewer's decision is ground truth
			inc.SetControl(itoa(item), decodeLabel(p, *final))
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if n > 0 {
		if _, err := inc.Update(0); err != nil {
			return nil, err
		}
	}
	m.inc, m.stale = inc, false
	return m, nil
}

func (s *Service) invalidateModel(project int64) {
	s.modelsMu.Lock()
	m := s.models[project]
	s.modelsMu.Unlock()
	if m != nil {
		m.invalidate()
	}
}
