package dsp

import (
	"context"
	"errors"
	"fmt"
)

// ReviewItem is an item waiting for a reviewer, with the answers it got (reviewers see them;
// contributors never do).
type ReviewItem struct {
	Item    *Item         `json:"item"`
	Answers []ShownAnswer `json:"answers"`
}

// ShownAnswer is one answer as a reviewer sees it.
type ShownAnswer struct {
	Worker string `json:"worker"`
	Value  string `json:"value"`
}

// ReviewQueue lists a project's items waiting for review, lowest confidence first.
func (s *Service) ReviewQueue(ctx context.Context, projectID int64, limit int) ([]ReviewItem, error) {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT `+itemCols+` FROM dsp_items WHERE project_id = ? AND status = 'review' ORDER BY confidence, id LIMIT ?`), projectID, limit)
	if err != nil {
		return nil, err
	}
	var out []ReviewItem
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, ReviewItem{Item: it})
	}
	rows.Close()
	for i := range out {
		rs, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT worker, value FROM dsp_answers WHERE item_id = ? ORDER BY id`), out[i].Item.ID)
		if err != nil {
			return nil, err
		}
		for rs.Next() {
			var a ShownAnswer
			rs.Scan(&a.Worker, &a.Value)
			out[i].Answers = append(out[i].Answers, a)
		}
		rs.Close()
	}
	return out, nil
}

// Review decides an item: the reviewer's answer becomes its final answer and ground truth. The
// contributors who answered it are scored against it as on a control item, so their skill (and
// bans) follow reviewer decisions too.
func (s *Service) Review(ctx context.Context, projectID, itemID int64, reviewer string, raw []byte) error {
	p, err := s.Project(ctx, projectID)
	if err != nil {
		return err
	}
	if !p.MayReview(reviewer) {
		return fmt.Errorf("%w: %s may not review project %d (its owner and listed reviewers may)", ErrForbidden, reviewer, projectID)
	}
	it, err := s.Item(ctx, projectID, itemID)
	if err != nil {
		return err
	}
	if it.Status != "review" {
		return inputErr("item %d is not waiting for review (it is %s)", itemID, it.Status)
	}
	final, _, err := parseAnswer(p, it, raw)
	if err != nil {
		return &InputError{err.Error()}
	}
	tx, end, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer end()
	res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE dsp_items SET status = 'done', final = ?, confidence = 1, reviewed_by = ?, done_at = ? WHERE id = ? AND status = 'review'`),
		final, reviewer, s.now().UnixMilli(), itemID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return inputErr("item %d was decided by someone else just now", itemID)
	}
	rows, err := tx.QueryContext(ctx, s.db.Rebind(`SELECT worker, value FROM dsp_answers WHERE item_id = ?`), itemID)
	if err != nil {
		return err
	}
	type score struct {
		worker string
		ok     bool
	}
	var scores []score
	for rows.Next() {
		var w, v string
		rows.Scan(&w, &v)
		scores = append(scores, score{w, agreement(p, final, v) >= AcceptAgreement})
	}
	rows.Close()
	for _, sc := range scores {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE dsp_workers SET controls = controls + 1, controls_correct = controls_correct + ? WHERE project_id = ? AND worker = ?`),
			boolInt(sc.ok), projectID, sc.worker); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.invalidateModel(projectID)
	return nil
}

// ErrForbidden: the signed-in address may not do this.
var ErrForbidden = errors.New("forbidden")
