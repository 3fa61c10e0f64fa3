package dsp

import (
	"hash/fnv"
	"math"
	"strings"
	"unicode"
)

// Classifier is the built-in pre-labeller: multinomial naive Bayes over hashed words and word
// pairs, trained one example at a time. It is small, fast and needs no hub: it learns each
// project's labels from the project's own accepted answers. Its uncertainty orders the work
// (active learning: people label what the model is least sure of) and its guess is shown as a
// suggestion.
type Classifier struct {
	classes []string
	index   map[string]int
	docs    []float64   // examples per class
	counts  [][]float64 // per class, per feature bucket
	totals  []float64   // feature occurrences per class
	n       int
}

const classifierBuckets = 1 << 16

// NewClassifier starts an untrained classifier over the labels.
func NewClassifier(labels []string) *Classifier {
	c := &Classifier{classes: labels, index: map[string]int{}}
	for i, l := range labels {
		c.index[l] = i
		c.docs = append(c.docs, 0)
		c.counts = append(c.counts, make([]float64, classifierBuckets))
		c.totals = append(c.totals, 0)
	}
	return c
}

// features are the hashed lower-cased words of a text and its adjacent word pairs.
func features(text string) []uint32 {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '$' && r != '!' })
	out := make([]uint32, 0, 2*len(words))
	h := func(parts ...string) uint32 {
		f := fnv.New32a()
		for _, p := range parts {
			f.Write([]byte(p))
			f.Write([]byte{0})
		}
		return f.Sum32() % classifierBuckets
	}
	for i, w := range words {
		out = append(out, h(w))
		if i > 0 {
			out = append(out, h(words[i-1], w))
		}
	}
	return out
}

// Train adds one labelled example.
func (c *Classifier) Train(text, label string) {
	k, ok := c.index[label]
	if !ok {
		return
	}
	c.docs[k]++
	for _, f := range features(text) {
		c.counts[k][f]++
		c.totals[k]++
	}
	c.n++
}

// Trained is the number of examples seen.
func (c *Classifier) Trained() int { return c.n }

// logScores are the unnormalised log posteriors of the classes (all 0 before any training).
func (c *Classifier) logScores(text string) []float64 {
	p := make([]float64, len(c.classes))
	if c.n == 0 {
		return p
	}
	fs := features(text)
	for k := range p {
		lp := math.Log((c.docs[k] + 1) / (float64(c.n) + float64(len(c.classes))))
		den := math.Log(c.totals[k] + classifierBuckets*0.1)
		for _, f := range fs {
			lp += math.Log(c.counts[k][f]+0.1) - den
		}
		p[k] = lp
	}
	return p
}

// Predict returns the class probabilities of a text (uniform before any training).
func (c *Classifier) Predict(text string) []float64 {
	p := c.logScores(text)
	m := p[0]
	for _, v := range p {
		m = math.Max(m, v)
	}
	sum := 0.0
	for k := range p {
		p[k] = math.Exp(p[k] - m)
		sum += p[k]
	}
	for k := range p {
		p[k] /= sum
	}
	return p
}

// Guess is the most probable label and its probability.
func (c *Classifier) Guess(text string) (string, float64) {
	p := c.Predict(text)
	best := 0
	for k := range p {
		if p[k] > p[best] {
			best = k
		}
	}
	return c.classes[best], p[best]
}

// Margin is the log-odds between the two most probable classes: 0 when torn between them.
// Naive Bayes probabilities saturate at 1 on long texts, its log-odds do not, so work is ordered
// by margin (smallest first) rather than by probability.
func (c *Classifier) Margin(text string) float64 {
	p := c.logScores(text)
	a, b := math.Inf(-1), math.Inf(-1)
	for _, v := range p {
		if v > a {
			a, b = v, a
		} else if v > b {
			b = v
		}
	}
	if math.IsInf(b, -1) {
		return 0
	}
	return a - b
}
