package truth

import "fmt"

// Incremental keeps an aggregation up to date while answers arrive. It has
// two ways in:
//
//   - Add records answers and Update folds them in: it rebuilds the
//     item-grouped layout (O(answers)) and runs a few EM passes warm-started
//     from the previous estimate, which converge in one or two passes when
//     the new answers are a small share.
//   - Observe folds one answer in at once, in time that depends on the
//     answered item alone (its answers and their workers), not on the size
//     of the set: an incremental EM step (Neal and Hinton 1998) that takes
//     the item's old share out of the expected counts, recomputes its
//     posterior with the new answer, puts the new share back and redoes the
//     M-step of the workers who answered it. The data platform uses it for
//     dynamic overlap: after each answer, stop asking for the item once its
//     confidence is high enough.
//
// Observe leaves the other items' posteriors where the last full fit put
// them, so an Update now and then (after every few percent of new answers;
// ObservedSinceUpdate counts them) lets the whole set catch up; Update
// starts from Observe's estimates. Run dynamic overlap with ds and control
// items from the start: without them, early fits on a few answers per
// worker can call a whole set one class with high confidence (bench/truth,
// "Dynamic overlap"). An Incremental is not safe for concurrent use.
type Incremental struct {
	method  string
	opts    Options
	b       *Builder
	control map[string]string
	live    *liveEM // the last fit, kept up to date by Observe; nil before the first Update
}

// ItemEstimate is one item's current answer.
type ItemEstimate struct {
	Item       string
	Label      string  // the most probable class
	Confidence float64 // its posterior probability
	Answers    int     // answers to the item so far
}

// NewIncremental starts an empty incremental aggregation with an EM method
// (ds, onecoin, mace or ibcc).
func NewIncremental(method string, o Options) (*Incremental, error) {
	if emModel(method) == nil {
		return nil, fmt.Errorf("incremental mode needs an EM method (ds, onecoin, mace, ibcc), not %q", method)
	}
	return &Incremental{method: method, opts: o, b: NewBuilder(false), control: map[string]string{}}, nil
}

// emModel is the confusion model of an EM method, or nil.
func emModel(method string) confusionModel {
	switch method {
	case "ds":
		return fullConfusion{}
	case "onecoin":
		return oneCoin{}
	case "mace":
		return &mace{}
	case "ibcc":
		return ibcc{}
	}
	return nil
}

// Add records one answer; it takes effect at the next Update (or Observe).
func (x *Incremental) Add(item, worker, label string) error { return x.b.Add(item, worker, label) }

// ObservedSinceUpdate is the number of answers Observe has folded in since
// the last full Update: call Update when it grows past a few percent of
// the answers.
func (x *Incremental) ObservedSinceUpdate() int {
	if x.live == nil {
		return 0
	}
	return x.live.rows - x.live.fitted
}

// SetControl marks an item's known answer.
func (x *Incremental) SetControl(item, label string) { x.control[item] = label }

// Update folds in the answers added since the last update with at most
// maxPasses EM passes (0: run to convergence) and returns the new estimate.
func (x *Incremental) Update(maxPasses int) (*Result, error) {
	d := x.b.Build()
	if d.NumLabels() == 0 {
		return nil, fmt.Errorf("no answers yet: Add or Observe some before Update")
	}
	o := x.opts.withDefaults()
	if maxPasses > 0 {
		o.MaxIter = maxPasses
	}
	classes := classIndexes(d)
	if len(x.control) > 0 {
		items := d.ItemIndexes()
		g := &Gold{Class: map[int]int32{}}
		for it, lbl := range x.control {
			i, ok1 := items[it]
			c, ok2 := classes[lbl]
			if ok1 && ok2 {
				g.Class[i] = c
			}
		}
		o.Control = g
	}
	if err := checkControl(d, o.Control); err != nil {
		return nil, err
	}
	// Classes are re-sorted on every build; a new class changes the
	// indices, so the warm start is only valid when the classes are the
	// same. It starts from Observe's estimates, the newest there are, and
	// from MACE's per-worker parameters (knows / spams) too.
	m := emModel(x.method)
	if x.live != nil && sameStrings(x.live.base.Classes, d.Classes) {
		o.Warm, m = &Result{K: x.live.K, Posterior: x.live.T}, x.live.m
	}
	r, s := fitEM(d, m, o)
	x.live = newLiveEM(m, s, d, classes, x.b.Len())
	return r, nil
}

// Observe records one answer and folds it in at once (see Incremental);
// it returns the answered item's new estimate. The first answers, answers
// added with Add since the last update, and a label never seen before (the
// classes change) take a full Update instead.
func (x *Incremental) Observe(item, worker, label string) (ItemEstimate, error) {
	stale := x.live == nil || x.b.Len() != x.live.rows
	if err := x.Add(item, worker, label); err != nil {
		return ItemEstimate{}, err
	}
	n := x.b.Len() - 1
	it, w := x.b.rowItem[n], x.b.rowWorker[n]
	cls, known := int32(-1), false
	if !stale {
		cls, known = x.live.classes[label]
	}
	if stale || !known {
		if _, err := x.Update(0); err != nil {
			return ItemEstimate{}, err
		}
		return x.estimate(it), nil
	}
	clamp := int32(-1)
	if c, ok := x.control[item]; ok {
		if k, ok := x.live.classes[c]; ok {
			clamp = k
		}
	}
	x.live.observe(it, w, cls, clamp)
	x.live.rows++
	return x.estimate(it), nil
}

// Estimate is an item's current answer: after the last Update, and every
// Observe since.
func (x *Incremental) Estimate(item string) (ItemEstimate, bool) {
	it, ok := x.b.items.idx[item]
	if !ok || x.live == nil || int(it) >= len(x.live.T)/x.live.K {
		return ItemEstimate{}, false
	}
	return x.estimate(it), true
}

func (x *Incremental) estimate(it int32) ItemEstimate {
	l := x.live
	p := l.T[int(it)*l.K : int(it)*l.K+l.K]
	best := 0
	for k := 1; k < l.K; k++ {
		if p[k] > p[best] {
			best = k
		}
	}
	return ItemEstimate{Item: x.b.items.keys[it], Label: l.base.Classes[best], Confidence: p[best], Answers: l.numAnswers(it)}
}

// Dataset is the dataset as of the last Update.
func (x *Incremental) Dataset() *Dataset {
	if x.live == nil {
		return nil
	}
	return x.live.base
}

// liveEM is an EM fit kept open for single answers: the posterior T, the
// expected counts C and cc it gives, and the tables L and prior that the
// M-step makes of them; base holds the answers of the fit, extra the codes
// (worker·K + label) of the answers observed since, by item.
type liveEM struct {
	m         confusionModel
	K, W      int
	T         []float64
	C, L      []float64
	cc, prior []float64
	base      *Dataset
	classes   map[string]int32
	extra     map[int32][]int32
	rows      int // the Builder's answers this state accounts for
	fitted    int // of which the full fit had
	codes     []int32
	acc       []float64
}

func newLiveEM(m confusionModel, s *emState, d *Dataset, classes map[string]int32, rows int) *liveEM {
	K, W := s.K, s.W
	l := &liveEM{m: m, K: K, W: W, base: d, classes: classes, extra: map[int32][]int32{}, rows: rows,
		fitted: rows, acc: make([]float64, K)}
	l.T = append([]float64(nil), s.T...) // the Result keeps its own
	l.C, l.cc = s.C[0], s.cc[0]
	// The fit's last pass made T from s.L and the counts from T; one more
	// M-step makes the tables of those counts, as the next pass would.
	l.L = make([]float64, W*K*K)
	l.prior = make([]float64, K)
	mstep(m, l.C, l.cc, W, K, l.L, l.prior)
	return l
}

// itemCodes lists an item's answers as codes (worker·K + label) into l.codes.
func (l *liveEM) itemCodes(it int32) []int32 {
	l.codes = l.codes[:0]
	if d := l.base; int(it) < d.NumItems() {
		for n := d.ItemStart[it]; n < d.ItemStart[it+1]; n++ {
			l.codes = append(l.codes, d.Worker[n]*int32(l.K)+d.Label[n])
		}
	}
	l.codes = append(l.codes, l.extra[it]...)
	return l.codes
}

func (l *liveEM) numAnswers(it int32) int {
	n := len(l.extra[it])
	if d := l.base; int(it) < d.NumItems() {
		n += int(d.ItemStart[it+1] - d.ItemStart[it])
	}
	return n
}

// observe folds in worker w's answer cls to item it (clamp: the item's
// known class, or -1).
func (l *liveEM) observe(it, w, cls, clamp int32) {
	K := l.K
	for int(it) >= len(l.T)/K { // a new item: no share in the counts yet
		l.T = append(l.T, make([]float64, K)...)
	}
	for int(w) >= l.W { // a new worker: rows from the prior alone
		l.C = append(l.C, make([]float64, K*K)...)
		l.L = append(l.L, make([]float64, K*K)...)
		l.m.workerRows(l.C, K, l.L, l.W)
		l.W++
	}
	post := l.T[int(it)*K : int(it)*K+K]
	codes := l.itemCodes(it)
	l.share(codes, post, -1)
	l.extra[it] = append(l.extra[it], w*int32(K)+cls)
	codes = append(codes, w*int32(K)+cls)
	if clamp >= 0 {
		clear(post)
		post[clamp] = 1
	} else {
		copy(l.acc, l.prior)
		for _, c := range codes {
			addRow(l.acc, l.L[int(c)*K:int(c)*K+K])
		}
		normalizeLog(l.acc, post)
	}
	l.share(codes, post, 1)
	l.m.classPrior(l.cc, l.prior)
	for q, c := range codes { // each worker once: a repeat would be a second M-step
		wq := c / int32(K)
		seen := false
		for _, e := range codes[:q] {
			if e/int32(K) == wq {
				seen = true
				break
			}
		}
		if !seen {
			l.m.workerRows(l.C, K, l.L, int(wq))
		}
	}
}

// share adds sign × an item's posterior to the counts of its answers and
// to the class totals.
func (l *liveEM) share(codes []int32, post []float64, sign float64) {
	K := l.K
	for _, c := range codes {
		row := l.C[int(c)*K : int(c)*K+K]
		for t, p := range post {
			row[t] += sign * p
		}
	}
	for t, p := range post {
		l.cc[t] += sign * p
	}
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
