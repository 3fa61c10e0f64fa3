package dsp

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Task types. Classification and pairwise preference are categorical: their answers are
// aggregated by the truth library (Dawid–Skene and friends). The others carry structure, and an
// answer is accepted by its agreement with the item's aggregate (see kind.agree).
const (
	Classify = "classify" // one label of Labels
	Multi    = "multi"    // any subset of Labels
	Spans    = "spans"    // labelled character ranges of the item's text (NER)
	Boxes    = "boxes"    // labelled boxes on the item's image, coordinates in 0..1
	Text     = "text"     // free text: prompt writing, transcription, translation
	Pairwise = "pairwise" // which of two responses is better: A, B or tie
	Rating   = "rating"   // a whole number from RatingMin to RatingMax
)

// TaskTypes are the types in the order forms list them.
var TaskTypes = []string{Classify, Multi, Spans, Boxes, Text, Pairwise, Rating}

// Answer is one answer's fields, by type; the stored form is its canonical JSON.
type Answer struct {
	Label  string   `json:"label,omitempty"`  // classify
	Labels []string `json:"labels,omitempty"` // multi
	Spans  []Span   `json:"spans,omitempty"`
	Boxes  []Box    `json:"boxes,omitempty"`
	Text   string   `json:"text,omitempty"`
	Choice string   `json:"choice,omitempty"` // pairwise: A, B or tie
	Rating *int     `json:"rating,omitempty"`
}

// Span is a labelled range [Start, End) of the item's text, in UTF-16 code units (as browsers count).
type Span struct {
	Start int    `json:"start"`
	End   int    `json:"end"`
	Label string `json:"label"`
}

// Box is a labelled rectangle on the item's image, as fractions of its width and height.
type Box struct {
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
	W     float64 `json:"w"`
	H     float64 `json:"h"`
	Label string  `json:"label"`
}

// MaxTextAnswer bounds a free-text answer.
const MaxTextAnswer = 20_000

// Categorical reports whether answers of a type are single labels the truth library aggregates.
func Categorical(taskType string) bool { return taskType == Classify || taskType == Pairwise }

// parseAnswer checks an answer against the project and the item, and returns its canonical JSON
// and, for categorical types, its label.
func parseAnswer(p *Project, it *Item, raw []byte) (canon, label string, err error) {
	var a Answer
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return "", "", fmt.Errorf("answer: %v", err)
	}
	has := func(l string) bool {
		for _, x := range p.Spec.Labels {
			if x == l {
				return true
			}
		}
		return false
	}
	var c Answer
	switch p.TaskType {
	case Classify:
		if !has(a.Label) {
			return "", "", fmt.Errorf("answer: label %q is not one of %s", a.Label, strings.Join(p.Spec.Labels, ", "))
		}
		c.Label, label = a.Label, a.Label
	case Multi:
		seen := map[string]bool{}
		for _, l := range a.Labels {
			if !has(l) {
				return "", "", fmt.Errorf("answer: label %q is not one of %s", l, strings.Join(p.Spec.Labels, ", "))
			}
			if !seen[l] {
				seen[l] = true
				c.Labels = append(c.Labels, l)
			}
		}
		sort.Strings(c.Labels)
		if c.Labels == nil {
			c.Labels = []string{} // "none of these" is an answer
		}
	case Spans:
		n := len(utf16.Encode([]rune(it.Text())))
		for i, s := range a.Spans {
			if !has(s.Label) {
				return "", "", fmt.Errorf("answer: spans[%d]: label %q is not one of %s", i, s.Label, strings.Join(p.Spec.Labels, ", "))
			}
			if s.Start < 0 || s.End <= s.Start || s.End > n {
				return "", "", fmt.Errorf("answer: spans[%d]: range %d..%d is not inside the text (0..%d)", i, s.Start, s.End, n)
			}
			c.Spans = append(c.Spans, s)
		}
		sort.Slice(c.Spans, func(i, j int) bool {
			if c.Spans[i].Start != c.Spans[j].Start {
				return c.Spans[i].Start < c.Spans[j].Start
			}
			return c.Spans[i].End < c.Spans[j].End
		})
		for i := 1; i < len(c.Spans); i++ {
			if c.Spans[i].Start < c.Spans[i-1].End {
				return "", "", fmt.Errorf("answer: spans %d..%d and %d..%d overlap", c.Spans[i-1].Start, c.Spans[i-1].End, c.Spans[i].Start, c.Spans[i].End)
			}
		}
		if c.Spans == nil {
			c.Spans = []Span{}
		}
	case Boxes:
		for i, b := range a.Boxes {
			if !has(b.Label) {
				return "", "", fmt.Errorf("answer: boxes[%d]: label %q is not one of %s", i, b.Label, strings.Join(p.Spec.Labels, ", "))
			}
			if b.X < 0 || b.Y < 0 || b.W <= 0 || b.H <= 0 || b.X+b.W > 1.0001 || b.Y+b.H > 1.0001 {
				return "", "", fmt.Errorf("answer: boxes[%d]: x, y, w, h must be fractions of the image with the box inside it", i)
			}
			r := func(v float64) float64 { return math.Round(v*10000) / 10000 }
			c.Boxes = append(c.Boxes, Box{X: r(b.X), Y: r(b.Y), W: r(b.W), H: r(b.H), Label: b.Label})
		}
		if c.Boxes == nil {
			c.Boxes = []Box{}
		}
	case Text:
		t := strings.TrimSpace(a.Text)
		if t == "" {
			return "", "", fmt.Errorf("answer: text is empty")
		}
		if len(t) > MaxTextAnswer {
			return "", "", fmt.Errorf("answer: text is %d bytes; at most %d", len(t), MaxTextAnswer)
		}
		c.Text = t
	case Pairwise:
		switch a.Choice {
		case "A", "B", "tie":
		default:
			return "", "", fmt.Errorf(`answer: choice %q: use "A", "B" or "tie"`, a.Choice)
		}
		c.Choice, label = a.Choice, a.Choice
	case Rating:
		if a.Rating == nil || *a.Rating < p.Spec.RatingMin || *a.Rating > p.Spec.RatingMax {
			return "", "", fmt.Errorf("answer: rating must be a whole number from %d to %d", p.Spec.RatingMin, p.Spec.RatingMax)
		}
		c.Rating = a.Rating
	default:
		return "", "", fmt.Errorf("project type %q has no answers", p.TaskType)
	}
	bz, _ := json.Marshal(c)
	return string(bz), label, nil
}

func decodeAnswer(s string) Answer {
	var a Answer
	json.Unmarshal([]byte(s), &a)
	return a
}

// aggregate is the consensus of a non-categorical item's answers (canonical JSON), with each
// answer's agreement with it (0..1). Multi: labels most answers chose; spans and boxes: elements
// most answers drew; rating: the median; text: the answer closest to all the others.
func aggregate(p *Project, answers []string) (string, []float64) {
	if len(answers) == 0 {
		return "", nil
	}
	as := make([]Answer, len(answers))
	for i, s := range answers {
		as[i] = decodeAnswer(s)
	}
	var c Answer
	half := func(n int) bool { return 2*n > len(as) }
	switch p.TaskType {
	case Multi:
		count := map[string]int{}
		for _, a := range as {
			for _, l := range a.Labels {
				count[l]++
			}
		}
		c.Labels = []string{}
		for l, n := range count {
			if half(n) {
				c.Labels = append(c.Labels, l)
			}
		}
		sort.Strings(c.Labels)
	case Spans:
		count := map[Span]int{}
		for _, a := range as {
			for _, s := range a.Spans {
				count[s]++
			}
		}
		c.Spans = []Span{}
		for s, n := range count {
			if half(n) {
				c.Spans = append(c.Spans, s)
			}
		}
		sort.Slice(c.Spans, func(i, j int) bool { return c.Spans[i].Start < c.Spans[j].Start })
	case Boxes:
		// Each drawn box votes for the boxes of the same label it overlaps (IoU >= 0.5); a box that
		// more than half the answers match is kept, averaged over its matches.
		c.Boxes = []Box{}
		for ai, a := range as {
			for _, b := range a.Boxes {
				var sum Box
				n := 0
				for _, o := range as {
					if m, ok := bestMatch(b, o.Boxes); ok {
						sum.X, sum.Y, sum.W, sum.H = sum.X+m.X, sum.Y+m.Y, sum.W+m.W, sum.H+m.H
						n++
					}
				}
				if !half(n) {
					continue
				}
				avg := Box{X: sum.X / float64(n), Y: sum.Y / float64(n), W: sum.W / float64(n), H: sum.H / float64(n), Label: b.Label}
				if _, dup := bestMatch(avg, c.Boxes); !dup {
					c.Boxes = append(c.Boxes, avg)
				}
			}
			_ = ai
		}
	case Rating:
		vs := make([]int, 0, len(as))
		for _, a := range as {
			if a.Rating != nil {
				vs = append(vs, *a.Rating)
			}
		}
		sort.Ints(vs)
		m := vs[(len(vs)-1)/2]
		c.Rating = &m
	case Text:
		best, bestScore := 0, -1.0
		for i := range as {
			s := 0.0
			for j := range as {
				if i != j {
					s += tokenF1(as[i].Text, as[j].Text)
				}
			}
			if s > bestScore {
				best, bestScore = i, s
			}
		}
		c.Text = as[best].Text
	}
	bz, _ := json.Marshal(c)
	final := string(bz)
	agree := make([]float64, len(answers))
	for i, s := range answers {
		agree[i] = agreement(p, final, s)
	}
	return final, agree
}

// agreement of an answer with a reference (the aggregate, a control's gold, a reviewer's
// decision), 0..1; an answer with agreement >= AcceptAgreement is accepted.
func agreement(p *Project, ref, ans string) float64 {
	if Categorical(p.TaskType) {
		if decodeLabel(p, ref) == decodeLabel(p, ans) {
			return 1
		}
		return 0
	}
	r, a := decodeAnswer(ref), decodeAnswer(ans)
	switch p.TaskType {
	case Multi:
		return jaccard(r.Labels, a.Labels)
	case Spans:
		rs := make([]string, len(r.Spans))
		for i, s := range r.Spans {
			rs[i] = fmt.Sprint(s)
		}
		as := make([]string, len(a.Spans))
		for i, s := range a.Spans {
			as[i] = fmt.Sprint(s)
		}
		return f1(rs, as)
	case Boxes:
		if len(r.Boxes) == 0 && len(a.Boxes) == 0 {
			return 1
		}
		hit := 0
		for _, b := range a.Boxes {
			if _, ok := bestMatch(b, r.Boxes); ok {
				hit++
			}
		}
		return 2 * float64(hit) / float64(len(r.Boxes)+len(a.Boxes))
	case Rating:
		if r.Rating == nil || a.Rating == nil {
			return 0
		}
		d := math.Abs(float64(*r.Rating - *a.Rating))
		return math.Max(0, 1-d/float64(p.Spec.RatingTolerance+1))
	case Text:
		return tokenF1(r.Text, a.Text)
	}
	return 0
}

// AcceptAgreement is the agreement with the consensus an answer needs to be accepted (and paid).
const AcceptAgreement = 0.5

// decodeLabel is a categorical answer's label.
func decodeLabel(p *Project, s string) string {
	a := decodeAnswer(s)
	if p.TaskType == Pairwise {
		return a.Choice
	}
	return a.Label
}

// labelAnswer is the canonical answer of a categorical label.
func labelAnswer(p *Project, label string) string {
	var a Answer
	if p.TaskType == Pairwise {
		a.Choice = label
	} else {
		a.Label = label
	}
	bz, _ := json.Marshal(a)
	return string(bz)
}

func iou(a, b Box) float64 {
	x1, y1 := math.Max(a.X, b.X), math.Max(a.Y, b.Y)
	x2, y2 := math.Min(a.X+a.W, b.X+b.W), math.Min(a.Y+a.H, b.Y+b.H)
	if x2 <= x1 || y2 <= y1 {
		return 0
	}
	in := (x2 - x1) * (y2 - y1)
	return in / (a.W*a.H + b.W*b.H - in)
}

// bestMatch is the box of bs with b's label that overlaps b most, if its IoU is at least 0.5.
func bestMatch(b Box, bs []Box) (Box, bool) {
	best, bestIoU := Box{}, 0.5
	ok := false
	for _, o := range bs {
		if o.Label != b.Label {
			continue
		}
		if v := iou(b, o); v >= bestIoU {
			best, bestIoU, ok = o, v, true
		}
	}
	return best, ok
}

func jaccard(a, b []string) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	set := map[string]int{}
	for _, x := range a {
		set[x] |= 1
	}
	for _, x := range b {
		set[x] |= 2
	}
	both := 0
	for _, v := range set {
		if v == 3 {
			both++
		}
	}
	return float64(both) / float64(len(set))
}

// f1 of two sets of elements (1 when both are empty).
func f1(a, b []string) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	set := map[string]bool{}
	for _, x := range a {
		set[x] = true
	}
	hit := 0
	for _, x := range b {
		if set[x] {
			hit++
		}
	}
	return 2 * float64(hit) / float64(len(a)+len(b))
}

// tokenF1 compares two texts by their lower-cased words (as SQuAD scores answers).
func tokenF1(a, b string) float64 {
	ta, tb := strings.Fields(strings.ToLower(a)), strings.Fields(strings.ToLower(b))
	if len(ta) == 0 && len(tb) == 0 {
		return 1
	}
	count := map[string]int{}
	for _, w := range ta {
		count[w]++
	}
	hit := 0
	for _, w := range tb {
		if count[w] > 0 {
			count[w]--
			hit++
		}
	}
	return 2 * float64(hit) / float64(len(ta)+len(tb))
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func jsonUnmarshal(s string, v any) { json.Unmarshal([]byte(s), v) }
