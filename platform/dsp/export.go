package dsp

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Exported is one finished item as exports write it.
type Exported struct {
	ID         string            `json:"id"`
	Data       map[string]string `json:"data"`
	Answer     json.RawMessage   `json:"answer"`
	Confidence float64           `json:"confidence"`
	Answers    int               `json:"answers"`
	Reviewed   bool              `json:"reviewed,omitempty"`
}

// Finished lists a project's finished items (not control items), in id order.
func (s *Service) Finished(ctx context.Context, projectID int64) ([]Exported, error) {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT ext_id, data, final, confidence, answers, reviewed_by FROM dsp_items
		WHERE project_id = ? AND is_control = 0 AND status = 'done' AND final IS NOT NULL ORDER BY id`), projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Exported
	for rows.Next() {
		var e Exported
		var data, final string
		var reviewed *string
		if err := rows.Scan(&e.ID, &data, &final, &e.Confidence, &e.Answers, &reviewed); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(data), &e.Data)
		e.Answer, e.Reviewed = json.RawMessage(final), reviewed != nil
		out = append(out, e)
	}
	return out, rows.Err()
}

// Export formats.
var ExportFormats = []string{"jsonl", "csv", "hf"}

// Export writes a project's finished items: jsonl (one object per item), csv (id, the item's
// fields, answer as JSON, confidence) or hf (a zip of a Hugging Face-style dataset folder:
// README.md with the dataset card, data/train.jsonl with flat rows).
func (s *Service) Export(ctx context.Context, projectID int64, format string, w io.Writer) error {
	p, err := s.Project(ctx, projectID)
	if err != nil {
		return err
	}
	items, err := s.Finished(ctx, projectID)
	if err != nil {
		return err
	}
	switch format {
	case "jsonl":
		bw := bufio.NewWriter(w)
		enc := json.NewEncoder(bw)
		for _, e := range items {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return bw.Flush()
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(append(append([]string{"id"}, dataFields...), "answer", "confidence", "answers"))
		for _, e := range items {
			row := []string{e.ID}
			for _, f := range dataFields {
				row = append(row, e.Data[f])
			}
			row = append(row, string(e.Answer), fmt.Sprintf("%.4f", e.Confidence), fmt.Sprint(e.Answers))
			cw.Write(row)
		}
		cw.Flush()
		return cw.Error()
	case "hf":
		zw := zip.NewWriter(w)
		card, err := zw.Create("README.md")
		if err != nil {
			return err
		}
		fmt.Fprintf(card, "---\npretty_name: %q\ntask_categories:\n- %s\nsize_categories:\n- %s\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train.jsonl\n---\n\n",
			p.Name, hfTask(p.TaskType), hfSize(len(items)))
		fmt.Fprintf(card, "# %s\n\n%s\n\nLabelled on Sahara's data platform (project %d, %s task).", p.Name, p.Instructions, p.ID, p.TaskType)
		if len(p.Spec.Labels) > 0 {
			fmt.Fprintf(card, " Labels: %s.", strings.Join(p.Spec.Labels, ", "))
		}
		fmt.Fprintf(card, " Each answer is the consensus of %d or more contributors (or a reviewer's decision), with its confidence.\n", p.Spec.Overlap)
		data, err := zw.Create("data/train.jsonl")
		if err != nil {
			return err
		}
		enc := json.NewEncoder(data)
		for _, e := range items {
			row := map[string]any{"id": e.ID, "answer": e.Answer, "confidence": e.Confidence}
			for k, v := range e.Data {
				row[k] = v
			}
			if Categorical(p.TaskType) {
				row["label"] = decodeLabel(p, string(e.Answer))
			}
			if err := enc.Encode(row); err != nil {
				return err
			}
		}
		return zw.Close()
	}
	return inputErr("format %q: use jsonl, csv or hf", format)
}

func hfTask(t string) string {
	switch t {
	case Classify, Multi, Pairwise, Rating:
		return "text-classification"
	case Spans:
		return "token-classification"
	case Boxes:
		return "object-detection"
	}
	return "text-generation"
}

func hfSize(n int) string {
	switch {
	case n < 1000:
		return "n<1K"
	case n < 10_000:
		return "1K<n<10K"
	case n < 100_000:
		return "10K<n<100K"
	}
	return "100K<n<1M"
}

// ReadExport reads an export back into item id → canonical answer (what a consumer of the file
// would recover), so tests can prove the round trip.
func ReadExport(format string, r io.ReaderAt, size int64) (map[string]string, error) {
	out := map[string]string{}
	canon := func(raw string) string {
		var a Answer
		json.Unmarshal([]byte(raw), &a)
		bz, _ := json.Marshal(a)
		return string(bz)
	}
	switch format {
	case "jsonl", "hf":
		var rd io.Reader = io.NewSectionReader(r, 0, size)
		if format == "hf" {
			zr, err := zip.NewReader(r, size)
			if err != nil {
				return nil, err
			}
			f, err := zr.Open("data/train.jsonl")
			if err != nil {
				return nil, err
			}
			defer f.Close()
			rd = f
		}
		dec := json.NewDecoder(rd)
		for dec.More() {
			var row struct {
				ID     string          `json:"id"`
				Answer json.RawMessage `json:"answer"`
			}
			if err := dec.Decode(&row); err != nil {
				return nil, err
			}
			out[row.ID] = canon(string(row.Answer))
		}
	case "csv":
		recs, err := csv.NewReader(io.NewSectionReader(r, 0, size)).ReadAll()
		if err != nil {
			return nil, err
		}
		for _, rec := range recs[1:] {
			out[rec[0]] = canon(rec[len(dataFields)+1])
		}
	default:
		return nil, fmt.Errorf("format %q", format)
	}
	return out, nil
}
