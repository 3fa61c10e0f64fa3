package dsp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"sahara/internal/spamcorpus"
	"sahara/platform/db/dbtest"
)

func newService(t *testing.T, kind string) *Service {
	t.Helper()
	s, err := New(context.Background(), Config{DB: dbtest.Open(t, kind)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func forEachDB(t *testing.T, fn func(t *testing.T, s *Service)) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { fn(t, newService(t, kind)) })
	}
}

func label(l string) []byte { return []byte(`{"label":"` + l + `"}`) }

// classifyCSV: n items whose true label is spam for even ids; the first controls carry gold.
func classifyCSV(n, controls int) (string, map[string]string) {
	var b strings.Builder
	truth := map[string]string{}
	b.WriteString("id,text,gold\n")
	for i := 0; i < n; i++ {
		l := "ham"
		if i%2 == 0 {
			l = "spam"
		}
		id := fmt.Sprintf("m%d", i)
		truth[id] = l
		gold := ""
		if i < controls {
			gold = l
		}
		fmt.Fprintf(&b, "%s,\"message %d, about %s\",%s\n", id, i, l, gold)
	}
	return b.String(), truth
}

// Three contributors label a classification project with controls: two answer well, one at
// random. The random one is banned by the control rule; every item is finished with the right
// label; the epoch accepts the good answers, rejects the spammer's, and puts every accepted
// answer in exactly one batch with the right amounts.
func TestLabellingFlow(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *Service) {
		ctx := context.Background()
		p, err := s.CreateProject(ctx, "0xreq", NewProject{Name: "spam", TaskType: Classify, Spec: Spec{
			Labels: []string{"spam", "ham"}, Overlap: 2, ControlRate: 0.2, Qualification: 8, MinAccuracy: 0.9, MinControls: 8,
			Rates: map[string]string{"asah": "1000", "erc20:0xP": "7"}, BonusBps: 1000}})
		if err != nil {
			t.Fatal(err)
		}
		csv, truthOf := classifyCSV(44, 12)
		res, err := s.Import(ctx, p.ID, "csv", strings.NewReader(csv))
		if err != nil || res.Items != 44 || res.Controls != 12 {
			t.Fatalf("import: %+v %v", res, err)
		}
		s.LinkPool(ctx, p.ID, 9)
		rng := rand.New(rand.NewSource(1))
		workers := []string{"0xgood1", "0xgood2", "0xspam"}
		answered := map[string]int{}
		banned := ""
		for round := 0; round < 200; round++ {
			progressed := false
			for _, w := range workers {
				task, err := s.Next(ctx, p.ID, w)
				if errors.Is(err, ErrNoWork) || errors.Is(err, ErrBanned) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				it, _ := s.Item(ctx, p.ID, task.ItemID)
				l := truthOf[it.ExtID]
				if w == "0xspam" {
					l = []string{"spam", "ham"}[rng.Intn(2)]
				}
				r, err := s.Submit(ctx, p.ID, w, task.ItemID, label(l), 5*time.Second, false)
				if err != nil {
					t.Fatal(err)
				}
				if r.Banned != "" {
					banned = w + ": " + r.Banned
				}
				answered[w]++
				progressed = true
			}
			if !progressed {
				break
			}
		}
		if !strings.HasPrefix(banned, "0xspam: control accuracy") {
			t.Fatalf("the random labeller was not banned (%q); answers %v", banned, answered)
		}
		if _, err := s.Next(ctx, p.ID, "0xspam"); !errors.Is(err, ErrBanned) {
			t.Fatalf("a banned contributor got work: %v", err)
		}
		var open int
		s.db.QueryRow(`SELECT COUNT(*) FROM dsp_items WHERE project_id = 1 AND is_control = 0 AND status <> 'done'`).Scan(&open)
		if open != 0 {
			t.Fatalf("%d items unfinished; answers %v", open, answered)
		}
		ep, err := s.CloseEpoch(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := s.db.Query(`SELECT ext_id, final FROM dsp_items WHERE is_control = 0`)
		for rows.Next() {
			var id, final string
			rows.Scan(&id, &final)
			if decodeLabel(p, final) != truthOf[id] {
				t.Fatalf("item %s finished as %s, truth %s", id, final, truthOf[id])
			}
		}
		rows.Close()
		var spamAccepted, unbatched int
		s.db.QueryRow(`SELECT COUNT(*) FROM dsp_answers WHERE worker = '0xspam' AND status = 'accepted'`).Scan(&spamAccepted)
		s.db.QueryRow(`SELECT COUNT(*) FROM dsp_answers WHERE status = 'accepted' AND batch_id = 0`).Scan(&unbatched)
		if spamAccepted != 0 || unbatched != 0 || ep.Accepted == 0 || len(ep.Batches) != 1 {
			t.Fatalf("epoch %+v: spammer accepted %d, unbatched %d", ep, spamAccepted, unbatched)
		}
		bs, _ := s.Batches(ctx, p.ID, true)
		if len(bs) != 1 || len(bs[0].Entries) != 2 {
			t.Fatalf("batches %+v", bs)
		}
		for _, e := range bs[0].Entries {
			var n int64
			s.db.QueryRow(s.db.Rebind(`SELECT COUNT(*) FROM dsp_answers WHERE worker = ? AND status = 'accepted' AND batch_id = 1`), e.Worker).Scan(&n)
			// Perfect controls: the 10% bonus applies.
			if e.Units != uint64(n) || e.Amounts[0] != fmt.Sprint(n*1100) || e.Amounts[1] != fmt.Sprint(n*7+n*7/10) {
				t.Fatalf("entry %+v for %d accepted answers", e, n)
			}
		}
		pr, err := s.Progress(ctx, p.ID)
		if err != nil || pr.Done != 32 || pr.Accepted != int64(ep.Accepted) || len(pr.Throughput) == 0 || len(pr.Workers) != 3 {
			t.Fatalf("progress %+v: %v", pr, err)
		}
		es, counts, err := s.Earnings(ctx, "0xgood1")
		if err != nil || len(es) != 2 || es[0].Pending == "0" || counts["accepted"] == 0 {
			t.Fatalf("earnings %+v %v: %v", es, counts, err)
		}
		// Exports read back to the items' final answers, in every format.
		finals := map[string]string{}
		rows, _ = s.db.Query(`SELECT ext_id, final FROM dsp_items WHERE is_control = 0`)
		for rows.Next() {
			var id, final string
			rows.Scan(&id, &final)
			finals[id] = final
		}
		rows.Close()
		for _, f := range ExportFormats {
			var buf bytes.Buffer
			if err := s.Export(ctx, p.ID, f, &buf); err != nil {
				t.Fatal(err)
			}
			got, err := ReadExport(f, bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil || !reflect.DeepEqual(got, finals) {
				t.Fatalf("%s export reads back %d answers (%v), want %d", f, len(got), err, len(finals))
			}
		}
		// A second epoch finds nothing new to pay.
		ep2, err := s.CloseEpoch(ctx, p.ID)
		if err != nil || len(ep2.Batches) != 0 {
			t.Fatalf("second epoch %+v %v", ep2, err)
		}
	})
}

// Bad input is refused with what to fix, and nothing is half-written.
func TestBadInput(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *Service) {
		ctx := context.Background()
		if _, err := s.CreateProject(ctx, "0xr", NewProject{Name: "x", TaskType: "poem"}); err == nil || !strings.Contains(err.Error(), "task_type") {
			t.Fatalf("unknown type: %v", err)
		}
		if _, err := s.CreateProject(ctx, "0xr", NewProject{Name: "x", TaskType: Classify, Spec: Spec{Labels: []string{"a"}}}); err == nil {
			t.Fatal("a classify project with one label was accepted")
		}
		p, err := s.CreateProject(ctx, "0xr", NewProject{Name: "x", TaskType: Classify, Spec: Spec{Labels: []string{"a", "b"}, Overlap: 1, LeaseSeconds: 10}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ format, body, want string }{
			{"csv", "id,text,colour\n1,x,red\n", `unknown column "colour"`},
			{"csv", "id,text\n1,hello\n2,\"broken\n", "line 3"},
			{"csv", "id,text,gold\n1,hi,\n2,there,c\n", `line 3: gold: label "c" is not one of a, b`},
			{"csv", "id,text\n1,hi\n1,again\n", `line 3: id "1" is already on line 2`},
			{"jsonl", "{\"id\":\"1\",\"text\":\"a\"}\n{\"id\":2,\"text\":\"b\"\n", "line 2: not a JSON object"},
			{"jsonl", "{\"id\":\"1\",\"txt\":\"a\"}\n", `line 1: unknown key "txt"`},
			{"jsonl", "{\"id\":\"1\"}\n", "line 1: the item is empty"},
		} {
			if _, err := s.Import(ctx, p.ID, c.format, strings.NewReader(c.body)); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("import %q: %v, want %q", c.body, err, c.want)
			}
		}
		var n int
		s.db.QueryRow(`SELECT COUNT(*) FROM dsp_items`).Scan(&n)
		if n != 0 {
			t.Fatalf("refused imports left %d items", n)
		}
		if _, err := s.Import(ctx, p.ID, "csv", strings.NewReader("id,text\n1,one\n2,two\n")); err != nil {
			t.Fatal(err)
		}
		// Not leased, wrong label, double submission, expired lease.
		if _, err := s.Submit(ctx, p.ID, "0xw", 1, label("a"), time.Second, false); err == nil || !strings.Contains(err.Error(), "not leased to you") {
			t.Fatalf("unleased: %v", err)
		}
		task, err := s.Next(ctx, p.ID, "0xw")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Submit(ctx, p.ID, "0xw", task.ItemID, label("c"), time.Second, false); err == nil || !strings.Contains(err.Error(), `label "c" is not one of a, b`) {
			t.Fatalf("bad label: %v", err)
		}
		if _, err := s.Submit(ctx, p.ID, "0xw", task.ItemID, []byte(`{"label":"a","extra":1}`), time.Second, false); err == nil || !strings.Contains(err.Error(), "unknown field") {
			t.Fatalf("unknown field: %v", err)
		}
		if _, err := s.Submit(ctx, p.ID, "0xw", task.ItemID, label("a"), time.Second, false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Submit(ctx, p.ID, "0xw", task.ItemID, label("b"), time.Second, false); err == nil || !strings.Contains(err.Error(), "already answered") {
			t.Fatalf("double submission: %v", err)
		}
		clock := time.Now()
		s.clock = func() time.Time { return clock }
		task, err = s.Next(ctx, p.ID, "0xw")
		if err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(11 * time.Second)
		if _, err := s.Submit(ctx, p.ID, "0xw", task.ItemID, label("a"), time.Second, false); err == nil || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("expired lease: %v", err)
		}
		// The expired item goes to someone else.
		t2, err := s.Next(ctx, p.ID, "0xother")
		if err != nil || t2.ItemID != task.ItemID {
			t.Fatalf("expired item not reassigned: %+v %v", t2, err)
		}
		var answers int
		s.db.QueryRow(`SELECT COUNT(*) FROM dsp_answers`).Scan(&answers)
		if answers != 1 {
			t.Fatalf("%d answers stored, want 1", answers)
		}
	})
}

// Every task type: an answer is validated, canonicalised, aggregated and agrees with itself.
func TestTaskTypes(t *testing.T) {
	text := "Ada Lovelace met Charles Babbage in London."
	cases := []struct {
		typ     string
		spec    Spec
		data    map[string]string
		good    []string // three answers; the first two agree
		bad     string
		wantErr string
	}{
		{Multi, Spec{Labels: []string{"a", "b", "c"}}, map[string]string{"text": "x"},
			[]string{`{"labels":["b","a"]}`, `{"labels":["a","b","a"]}`, `{"labels":["c"]}`}, `{"labels":["z"]}`, `label "z"`},
		{Spans, Spec{Labels: []string{"PER", "LOC"}}, map[string]string{"text": text},
			[]string{`{"spans":[{"start":0,"end":12,"label":"PER"},{"start":36,"end":42,"label":"LOC"}]}`,
				`{"spans":[{"start":36,"end":42,"label":"LOC"},{"start":0,"end":12,"label":"PER"}]}`,
				`{"spans":[{"start":17,"end":24,"label":"PER"}]}`}, `{"spans":[{"start":40,"end":60,"label":"LOC"}]}`, "not inside the text"},
		{Boxes, Spec{Labels: []string{"car"}}, map[string]string{"image": "ab"},
			[]string{`{"boxes":[{"x":0.1,"y":0.1,"w":0.3,"h":0.2,"label":"car"}]}`, `{"boxes":[{"x":0.11,"y":0.1,"w":0.3,"h":0.21,"label":"car"}]}`,
				`{"boxes":[{"x":0.6,"y":0.6,"w":0.2,"h":0.2,"label":"car"}]}`}, `{"boxes":[{"x":0.9,"y":0.1,"w":0.3,"h":0.2,"label":"car"}]}`, "inside it"},
		{Text, Spec{}, map[string]string{"prompt": "Translate: bonjour"},
			[]string{`{"text":"hello"}`, `{"text":"  hello "}`, `{"text":"good day to you"}`}, `{"text":"   "}`, "empty"},
		{Pairwise, Spec{}, map[string]string{"a": "x", "b": "y"},
			[]string{`{"choice":"A"}`, `{"choice":"A"}`, `{"choice":"B"}`}, `{"choice":"C"}`, `use "A", "B" or "tie"`},
		{Rating, Spec{RatingMin: 1, RatingMax: 5}, map[string]string{"text": "x"},
			[]string{`{"rating":4}`, `{"rating":4}`, `{"rating":1}`}, `{"rating":9}`, "from 1 to 5"},
	}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			p := &Project{TaskType: c.typ, Spec: c.spec.withDefaults(c.typ)}
			if err := p.Spec.validate(c.typ); err != nil {
				t.Fatal(err)
			}
			it := &Item{Data: c.data}
			var canon []string
			for _, g := range c.good {
				s, _, err := parseAnswer(p, it, []byte(g))
				if err != nil {
					t.Fatalf("%s: %v", g, err)
				}
				canon = append(canon, s)
			}
			if canon[0] != canon[1] && c.typ != Boxes {
				t.Fatalf("equal answers differ once canonical: %s vs %s", canon[0], canon[1])
			}
			if _, _, err := parseAnswer(p, it, []byte(c.bad)); err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("bad answer %s: %v, want %q", c.bad, err, c.wantErr)
			}
			if Categorical(c.typ) {
				return
			}
			final, agree := aggregate(p, canon)
			if agree[0] < AcceptAgreement || agree[1] < AcceptAgreement || agree[2] >= AcceptAgreement {
				t.Fatalf("aggregate %s: agreements %v", final, agree)
			}
			var a Answer
			if err := json.Unmarshal([]byte(final), &a); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The pre-labeller learns the project's labels from its control items and finished items: on
// real mail it is right well above chance, its suggestions reach the tasks, and it serves the
// item it is least sure of first.
func TestPrelabel(t *testing.T) {
	msgs, err := spamcorpus.Load(spamcorpus.Dir("../.."), 400, "spam-1", "easy-ham-1")
	if err != nil {
		t.Fatal(err)
	}
	rand.New(rand.NewSource(1)).Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
	train, test := msgs[:600], msgs[600:1000]
	c := NewClassifier([]string{"spam", "ham"})
	for _, m := range train {
		c.Train(m.Text, m.Label)
	}
	right := 0
	for _, m := range test {
		if l, _ := c.Guess(m.Text); l == m.Label {
			right++
		}
	}
	if acc := float64(right) / float64(len(test)); acc < 0.85 {
		t.Fatalf("held-out accuracy %.3f after 600 examples", acc)
	}

	s := newService(t, "sqlite")
	ctx := context.Background()
	p, _ := s.CreateProject(ctx, "0xr", NewProject{Name: "spam", TaskType: Classify, Spec: Spec{Labels: []string{"spam", "ham"}, Overlap: 1, Prelabel: true, Method: "mv"}})
	var b strings.Builder
	b.WriteString("id,text,gold\n")
	for i, m := range msgs[:60] {
		gold := ""
		if i < 20 {
			gold = m.Label
		}
		fmt.Fprintf(&b, "%d,%q,%s\n", i, strings.ReplaceAll(m.Text, `"`, `'`), gold)
	}
	if _, err := s.Import(ctx, p.ID, "csv", strings.NewReader(b.String())); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 25; i++ {
		task, err := s.Next(ctx, p.ID, fmt.Sprintf("0xw%d", i))
		if err != nil {
			t.Fatal(err)
		}
		it, _ := s.Item(ctx, p.ID, task.ItemID)
		n, _ := strconv.Atoi(it.ExtID)
		if _, err := s.Submit(ctx, p.ID, fmt.Sprintf("0xw%d", i), task.ItemID, label(msgs[n].Label), 3*time.Second, false); err != nil {
			t.Fatal(err)
		}
	}
	task, err := s.Next(ctx, p.ID, "0xlate")
	if err != nil {
		t.Fatal(err)
	}
	if task.Suggestion == "" {
		t.Fatal("no suggestion after the pre-labeller learned 20 controls and 25 answers")
	}
	var served, most float64
	s.db.QueryRow(`SELECT priority FROM dsp_items WHERE id = ?`, task.ItemID).Scan(&served)
	s.db.QueryRow(`SELECT MAX(priority) FROM dsp_items WHERE status IN ('open', 'full') AND is_control = 0`).Scan(&most)
	if served != most || most == 0 {
		t.Fatalf("served an item of uncertainty %g while the most uncertain open one is %g", served, most)
	}
}

// Dynamic overlap asks for answers until the truth model is confident: items the first two
// contributors agree on stop at two answers, items they disagree on get a third. Items whose
// final confidence stays under review_below go to the review queue, and a reviewer's decision
// becomes the item's answer and scores the contributors like a control item.
func TestDynamicOverlapAndReview(t *testing.T) {
	forEachDB(t, func(t *testing.T, s *Service) {
		ctx := context.Background()
		p, err := s.CreateProject(ctx, "0xowner", NewProject{Name: "dyn", TaskType: Classify, Spec: Spec{
			Labels: []string{"a", "b"}, Overlap: 3, Dynamic: true, MinOverlap: 2, Confidence: 0.8, ReviewBelow: 0.75}})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString("id,text,gold\n")
		for i := 0; i < 20; i++ {
			gold := ""
			if i < 8 {
				gold = "a"
				if i%2 == 1 {
					gold = "b"
				}
			}
			fmt.Fprintf(&b, "x%d,item %d,%s\n", i, i, gold)
		}
		if _, err := s.Import(ctx, p.ID, "csv", strings.NewReader(b.String())); err != nil {
			t.Fatal(err)
		}
		// w1 and w2 are right on the controls; on the 12 regular items they agree on even ones
		// (both "a") and disagree on odd ones; w3 answers "b" everywhere.
		answer := func(w string, it *Item) string {
			if it.IsControl {
				return decodeLabel(p, it.Gold)
			}
			n, _ := strconv.Atoi(strings.TrimPrefix(it.ExtID, "x"))
			switch {
			case w == "0xw3":
				return "b"
			case n%2 == 0 || w == "0xw1":
				return "a"
			}
			return "b"
		}
		for round := 0; round < 100; round++ {
			moved := false
			for _, w := range []string{"0xw1", "0xw2", "0xw3"} {
				task, err := s.Next(ctx, p.ID, w)
				if errors.Is(err, ErrNoWork) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				it, _ := s.Item(ctx, p.ID, task.ItemID)
				if it.IsControl && w == "0xw3" && round > 30 {
					continue
				}
				if _, err := s.Submit(ctx, p.ID, w, task.ItemID, label(answer(w, it)), 3*time.Second, false); err != nil {
					t.Fatal(err)
				}
				moved = true
			}
			if !moved {
				break
			}
		}
		counts := map[int]int{}
		rows, _ := s.db.Query(`SELECT answers FROM dsp_items WHERE is_control = 0 AND status IN ('done', 'review')`)
		for rows.Next() {
			var n int
			rows.Scan(&n)
			counts[n]++
		}
		rows.Close()
		if counts[2] == 0 || counts[3] == 0 || counts[2]+counts[3] != 12 {
			t.Fatalf("answers per finished item: %v (want some stopped at 2 and some at 3, all 12 finished)", counts)
		}
		q, err := s.ReviewQueue(ctx, p.ID, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(q) == 0 {
			t.Fatal("no item went to review")
		}
		it := q[0].Item
		if err := s.Review(ctx, p.ID, it.ID, "0xstranger", label("a")); !errors.Is(err, ErrForbidden) {
			t.Fatalf("a stranger reviewed: %v", err)
		}
		before, _ := s.WorkerStanding(ctx, p.ID, "0xw1")
		if err := s.Review(ctx, p.ID, it.ID, "0xowner", label("a")); err != nil {
			t.Fatal(err)
		}
		if err := s.Review(ctx, p.ID, it.ID, "0xowner", label("b")); err == nil {
			t.Fatal("an item was decided twice")
		}
		after, _ := s.WorkerStanding(ctx, p.ID, "0xw1")
		got, _ := s.Item(ctx, p.ID, it.ID)
		if got.Status != "done" || decodeLabel(p, got.Final) != "a" || after.Controls != before.Controls+1 || after.ControlsCorrect != before.ControlsCorrect+1 {
			t.Fatalf("after review: item %+v, w1 %+v → %+v", got, before, after)
		}
	})
}

// A job that panics fails alone: the group's other answers commit, and later writes still run.
func TestGroupCommitSurvivesPanic(t *testing.T) {
	s := newService(t, "sqlite")
	ctx := context.Background()
	p, _ := s.CreateProject(ctx, "0xr", NewProject{Name: "g", TaskType: Classify, Spec: Spec{Labels: []string{"a", "b"}, Overlap: 1}})
	err := s.write(ctx, func(tx *txn) error {
		tx.ExecContext(ctx, `UPDATE dsp_projects SET name = 'changed' WHERE id = 1`)
		panic("boom")
	})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("a panicking job: %v", err)
	}
	if err := s.write(ctx, func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `UPDATE dsp_projects SET instructions = 'later' WHERE id = 1`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Project(ctx, p.ID)
	if got.Name != "g" || got.Instructions != "later" {
		t.Fatalf("after the panic: %+v", got)
	}
}
