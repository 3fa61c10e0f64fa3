package dsp

import (
	"context"
	"sync"
)

// prelabeller is a project's classifier and when it last re-scored the open items.
type prelabeller struct {
	mu     sync.Mutex
	clf    *Classifier
	scored int // examples the classifier had when the open items were last scored
	loaded bool
}

// rescoreEvery is how many new examples make the open items' suggestions and priorities stale.
const rescoreEvery = 20

// rescoreLimit bounds the open items re-scored at once (the next ones to be served).
const rescoreLimit = 5000

func (s *Service) prelabeller(project int64) *prelabeller {
	s.modelsMu.Lock()
	defer s.modelsMu.Unlock()
	if s.pre == nil {
		s.pre = map[int64]*prelabeller{}
	}
	pl := s.pre[project]
	if pl == nil {
		pl = &prelabeller{}
		s.pre[project] = pl
	}
	return pl
}

// learn trains the project's pre-labeller on a finished item (its final label) and re-scores the
// open items when enough was learned: each gets the classifier's guess as its suggestion and minus
// its margin as its priority, so the items it is least sure of are served first.
func (s *Service) learn(ctx context.Context, p *Project, text, label string) error {
	if !p.Spec.Prelabel || !Categorical(p.TaskType) || text == "" {
		return nil
	}
	pl := s.prelabeller(p.ID)
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if err := s.loadPrelabeller(ctx, p, pl); err != nil {
		return err
	}
	pl.clf.Train(text, label)
	if pl.clf.Trained()-pl.scored < rescoreEvery {
		return nil
	}
	return s.rescore(ctx, p, pl)
}

// loadPrelabeller trains a fresh classifier on the project's control items and finished items.
func (s *Service) loadPrelabeller(ctx context.Context, p *Project, pl *prelabeller) error {
	if pl.loaded {
		return nil
	}
	pl.clf = NewClassifier(labelsOf(p))
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT data, COALESCE(gold, final) FROM dsp_items
		WHERE project_id = ? AND (gold IS NOT NULL OR (status = 'done' AND final IS NOT NULL))`), p.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var data, ans string
		if err := rows.Scan(&data, &ans); err != nil {
			return err
		}
		pl.clf.Train(itemText(data), decodeLabel(p, ans))
	}
	pl.loaded = true
	return rows.Err()
}

func (s *Service) rescore(ctx context.Context, p *Project, pl *prelabeller) error {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT id, data FROM dsp_items WHERE project_id = ? AND is_control = 0 AND status = 'open' ORDER BY id LIMIT ?`), p.ID, rescoreLimit)
	if err != nil {
		return err
	}
	type score struct {
		id   int64
		sugg string
		unc  float64
	}
	var scores []score
	for rows.Next() {
		var id int64
		var data string
		if err := rows.Scan(&id, &data); err != nil {
			rows.Close()
			return err
		}
		text := itemText(data)
		label, _ := pl.clf.Guess(text)
		scores = append(scores, score{id, label, -pl.clf.Margin(text)}) // the least sure first
	}
	rows.Close()
	tx, end, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer end()
	st, err := tx.PrepareContext(ctx, s.db.Rebind(`UPDATE dsp_items SET suggestion = ?, priority = ? WHERE id = ?`))
	if err != nil {
		return err
	}
	for _, sc := range scores {
		if _, err := st.ExecContext(ctx, sc.sugg, sc.unc, sc.id); err != nil {
			return err
		}
	}
	st.Close()
	pl.scored = pl.clf.Trained()
	return tx.Commit()
}

func labelsOf(p *Project) []string {
	if p.TaskType == Pairwise {
		return []string{"A", "B", "tie"}
	}
	return p.Spec.Labels
}

// itemText is what the classifier reads of an item (its stored data JSON).
func itemText(data string) string {
	var d map[string]string
	jsonUnmarshal(data, &d)
	return d["prompt"] + " " + d["text"] + " " + d["a"] + " " + d["b"]
}
