package dsp

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Item is one unit of work. Data holds what contributors see: text, image (a content root in the
// blob store), a and b (pairwise), prompt.
type Item struct {
	ID         int64             `json:"id"`
	ProjectID  int64             `json:"project_id"`
	ExtID      string            `json:"ext_id"`
	Data       map[string]string `json:"data"`
	Gold       string            `json:"-"` // a control item's known answer (never sent to contributors)
	IsControl  bool              `json:"-"`
	Status     string            `json:"status"` // open, review, done
	Needed     int               `json:"needed"`
	Answers    int               `json:"answers"`
	Final      string            `json:"final,omitempty"`
	Confidence float64           `json:"confidence"`
	Suggestion string            `json:"suggestion,omitempty"`
}

// Text is the item's text (spans are offsets into it).
func (it *Item) Text() string { return it.Data["text"] }

// Item fields an import may carry, besides id and gold.
var dataFields = []string{"text", "image", "prompt", "a", "b"}

const (
	maxFieldBytes = 100 << 10
	maxExtID      = 200
)

// ImportResult is what an import added.
type ImportResult struct {
	Items    int `json:"items"`
	Controls int `json:"controls"`
}

// Import adds items from CSV (a header naming id, text, image, prompt, a, b, gold) or JSONL
// (objects with the same keys), all or nothing: any bad line refuses the whole file, with its
// line number. A gold value makes the item a control item: a label for classify and pairwise, a
// number for rating, a string for text, or the JSON answer object for the other types.
func (s *Service) Import(ctx context.Context, projectID int64, format string, r io.Reader) (ImportResult, error) {
	p, err := s.Project(ctx, projectID)
	if err != nil {
		return ImportResult{}, err
	}
	var rows []rawItem
	switch format {
	case "csv":
		rows, err = readCSV(r)
	case "jsonl":
		rows, err = readJSONL(r)
	default:
		return ImportResult{}, inputErr("format %q: use csv or jsonl", format)
	}
	if err != nil {
		return ImportResult{}, err
	}
	if len(rows) == 0 {
		return ImportResult{}, inputErr("the file has no items")
	}
	items := make([]Item, 0, len(rows))
	seen := map[string]int{}
	for _, row := range rows {
		it, err := s.checkItem(p, row)
		if err != nil {
			return ImportResult{}, inputErr("line %d: %v", row.line, err)
		}
		if prev, dup := seen[it.ExtID]; dup {
			return ImportResult{}, inputErr("line %d: id %q is already on line %d", row.line, it.ExtID, prev)
		}
		seen[it.ExtID] = row.line
		items = append(items, it)
	}
	res, err := s.insertItems(ctx, p, items)
	if err == nil && p.Spec.Prelabel {
		pl := s.prelabeller(p.ID)
		pl.mu.Lock()
		pl.loaded, pl.scored = false, -rescoreEvery // new items (and controls): retrain and score them at the next answer
		pl.mu.Unlock()
	}
	return res, err
}

type rawItem struct {
	line   int
	fields map[string]string
	gold   json.RawMessage // JSONL: the gold value as written
}

func readCSV(r io.Reader) ([]rawItem, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	head, err := cr.Read()
	if err != nil {
		return nil, inputErr("line 1: %v (want a CSV header such as id,text,gold)", err)
	}
	known := map[string]bool{"id": true, "gold": true}
	for _, f := range dataFields {
		known[f] = true
	}
	for i, h := range head {
		head[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !known[head[i]] {
			return nil, inputErr("line 1: unknown column %q (columns: id, %s, gold)", h, strings.Join(dataFields, ", "))
		}
	}
	var out []rawItem
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && (pe.Err == csv.ErrQuote || pe.Err == csv.ErrBareQuote || pe.Err == csv.ErrFieldCount) {
				return nil, inputErr("line %d: %v", pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("reading line %d: %w", line, err) // the reader failed (too large, cut off)
		}
		m := map[string]string{}
		for i, v := range rec {
			m[head[i]] = v
		}
		out = append(out, rawItem{line: line, fields: m})
	}
}

func readJSONL(r io.Reader) ([]rawItem, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var out []rawItem
	for line := 1; sc.Scan(); line++ {
		b := strings.TrimSpace(sc.Text())
		if b == "" {
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(b), &obj); err != nil {
			return nil, inputErr("line %d: not a JSON object: %v", line, err)
		}
		ri := rawItem{line: line, fields: map[string]string{}}
		for k, v := range obj {
			switch {
			case k == "gold":
				ri.gold = v
			case k == "id" || contains(dataFields, k):
				var s string
				if err := json.Unmarshal(v, &s); err != nil {
					var n json.Number
					if err2 := json.Unmarshal(v, &n); err2 != nil || k != "id" {
						return nil, inputErr("line %d: %q must be a string", line, k)
					}
					s = n.String()
				}
				ri.fields[k] = s
			default:
				return nil, inputErr("line %d: unknown key %q (keys: id, %s, gold)", line, k, strings.Join(dataFields, ", "))
			}
		}
		out = append(out, ri)
	}
	if err := sc.Err(); err == bufio.ErrTooLong {
		return nil, inputErr("a line is longer than 4 MiB")
	} else if err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	return out, nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// checkItem validates one row against the project's type and turns gold into a canonical answer.
func (s *Service) checkItem(p *Project, row rawItem) (Item, error) {
	it := Item{ProjectID: p.ID, ExtID: strings.TrimSpace(row.fields["id"]), Data: map[string]string{}, Status: "open", Needed: firstNeed(p)}
	if it.ExtID == "" {
		return it, errors.New("id is empty: every item needs an id")
	}
	if len(it.ExtID) > maxExtID {
		return it, fmt.Errorf("id is %d bytes; at most %d", len(it.ExtID), maxExtID)
	}
	for _, f := range dataFields {
		v, ok := row.fields[f]
		if !ok || v == "" {
			continue
		}
		if !utf8.ValidString(v) {
			return it, fmt.Errorf("%s is not valid UTF-8", f)
		}
		if len(v) > maxFieldBytes {
			return it, fmt.Errorf("%s is %d bytes; at most %d", f, len(v), maxFieldBytes)
		}
		it.Data[f] = v
	}
	switch p.TaskType {
	case Boxes:
		if it.Data["image"] == "" {
			return it, errors.New("image is empty: a boxes item needs the content root of an uploaded image")
		}
	case Pairwise:
		if it.Data["a"] == "" || it.Data["b"] == "" {
			return it, errors.New("a and b are required: the two responses to compare")
		}
	default:
		if it.Data["text"] == "" && it.Data["image"] == "" && it.Data["prompt"] == "" {
			return it, errors.New("the item is empty: give text, image or prompt")
		}
	}
	gold, err := goldAnswer(p, row)
	if err != nil {
		return it, err
	}
	if gold != "" {
		canon, _, err := parseAnswer(p, &it, []byte(gold))
		if err != nil {
			return it, fmt.Errorf("gold: %v", strings.TrimPrefix(err.Error(), "answer: "))
		}
		it.Gold, it.IsControl = canon, true
	}
	return it, nil
}

// goldAnswer turns the written gold into an answer object's JSON ("" when there is none).
func goldAnswer(p *Project, row rawItem) (string, error) {
	raw := string(row.gold)
	if row.gold == nil {
		v := strings.TrimSpace(row.fields["gold"])
		if v == "" {
			return "", nil
		}
		raw = v
		if !strings.HasPrefix(v, "{") {
			bz, _ := json.Marshal(v)
			raw = string(bz)
		}
	}
	if raw == "null" {
		return "", nil
	}
	if strings.HasPrefix(strings.TrimSpace(raw), "{") {
		return raw, nil
	}
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return "", fmt.Errorf("gold: %v", err)
	}
	var a Answer
	switch p.TaskType {
	case Classify:
		a.Label = fmt.Sprint(v)
	case Pairwise:
		a.Choice = fmt.Sprint(v)
	case Text:
		a.Text = fmt.Sprint(v)
	case Rating:
		var n int
		if _, err := fmt.Sscan(fmt.Sprint(v), &n); err != nil {
			return "", fmt.Errorf("gold %v: a rating is a whole number", v)
		}
		a.Rating = &n
	case Multi:
		a.Labels = strings.Split(fmt.Sprint(v), "|")
	default:
		return "", fmt.Errorf("gold: a %s item's gold is an answer object, e.g. {\"spans\": [...]}", p.TaskType)
	}
	bz, _ := json.Marshal(a)
	return string(bz), nil
}

// firstNeed is the answers an item needs before anything is decided.
func firstNeed(p *Project) int {
	if p.Spec.Dynamic {
		return p.Spec.MinOverlap
	}
	return p.Spec.Overlap
}

// insertItems adds the items in one transaction, several rows per statement.
func (s *Service) insertItems(ctx context.Context, p *Project, items []Item) (ImportResult, error) {
	tx, end, err := s.begin(ctx)
	if err != nil {
		return ImportResult{}, err
	}
	defer end()
	var res ImportResult
	const per = 200
	for start := 0; start < len(items); start += per {
		chunk := items[start:min(start+per, len(items))]
		var b strings.Builder
		b.WriteString(`INSERT INTO dsp_items (project_id, ext_id, data, gold, is_control, status, needed) VALUES `)
		args := make([]any, 0, 7*len(chunk))
		for i, it := range chunk {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			data, _ := json.Marshal(it.Data)
			var gold any
			if it.IsControl {
				gold = it.Gold
				res.Controls++
			}
			args = append(args, p.ID, it.ExtID, string(data), gold, boolInt(it.IsControl), it.Status, it.Needed)
		}
		if _, err := tx.Tx.ExecContext(ctx, s.db.Rebind(b.String()), args...); err != nil { // a one-off statement: not cached
			if strings.Contains(strings.ToLower(err.Error()), "unique") {
				return ImportResult{}, inputErr("an item id of this file is already in the project: ids must be new (%v)", err)
			}
			return ImportResult{}, err
		}
		res.Items += len(chunk)
	}
	return res, tx.Commit()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

const itemCols = `id, project_id, ext_id, data, gold, is_control, status, needed, answers, final, confidence, suggestion`

func scanItem(sc interface{ Scan(...any) error }) (*Item, error) {
	var it Item
	var data string
	var gold, final, sugg sql.NullString
	var ctl int
	if err := sc.Scan(&it.ID, &it.ProjectID, &it.ExtID, &data, &gold, &ctl, &it.Status, &it.Needed, &it.Answers, &final, &it.Confidence, &sugg); err != nil {
		return nil, err
	}
	json.Unmarshal([]byte(data), &it.Data)
	it.Gold, it.IsControl, it.Final, it.Suggestion = gold.String, ctl == 1, final.String, sugg.String
	return &it, nil
}

// Item loads one item of a project.
func (s *Service) Item(ctx context.Context, projectID, id int64) (*Item, error) {
	it, err := scanItem(s.db.QueryRowStmt(ctx, `SELECT `+itemCols+` FROM dsp_items WHERE id = ? AND project_id = ?`, id, projectID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("item %d of project %d: %w", id, projectID, ErrNotFound)
	}
	return it, err
}
