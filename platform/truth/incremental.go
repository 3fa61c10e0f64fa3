package truth

import "fmt"

// Incremental keeps an aggregation up to date while answers arrive: each
// Update rebuilds the item-grouped layout (O(answers)) and runs a few EM
// passes warm-started from the previous estimate, which converges in one or
// two passes when the new answers are a small share. The data platform uses
// it for dynamic overlap: stop asking for an item once Confidence is high.
type Incremental struct {
	method  string
	opts    Options
	b       *Builder
	control map[string]string
	d       *Dataset
	res     *Result
}

// NewIncremental starts an empty incremental aggregation with an EM method
// (ds, onecoin, mace or ibcc).
func NewIncremental(method string, o Options) (*Incremental, error) {
	switch method {
	case "ds", "onecoin", "mace", "ibcc":
	default:
		return nil, fmt.Errorf("incremental mode needs an EM method (ds, onecoin, mace, ibcc), not %q", method)
	}
	return &Incremental{method: method, opts: o, b: NewBuilder(false), control: map[string]string{}}, nil
}

// Add records one answer; it takes effect at the next Update.
func (x *Incremental) Add(item, worker, label string) error { return x.b.Add(item, worker, label) }

// SetControl marks an item's known answer.
func (x *Incremental) SetControl(item, label string) { x.control[item] = label }

// Update folds in the answers added since the last update with at most
// maxPasses EM passes (0: run to convergence) and returns the new estimate.
func (x *Incremental) Update(maxPasses int) (*Result, error) {
	d := x.b.Build()
	o := x.opts
	if maxPasses > 0 {
		o.MaxIter = maxPasses
	}
	if len(x.control) > 0 {
		items := d.ItemIndexes()
		classes := map[string]int32{}
		for i, c := range d.Classes {
			classes[c] = int32(i)
		}
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
	// Classes are re-sorted on every build; a new class changes the
	// indices, so the warm start is only valid when the classes are the same.
	if x.res != nil && x.d != nil && sameStrings(x.d.Classes, d.Classes) {
		o.Warm = x.res
	}
	r, err := Aggregate(d, x.method, o)
	if err != nil {
		return nil, err
	}
	x.d, x.res = d, r
	return r, nil
}

// Dataset is the dataset as of the last Update.
func (x *Incremental) Dataset() *Dataset { return x.d }

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
