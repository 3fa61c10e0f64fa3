package truth

import (
	"fmt"
	"math"
	"runtime"
	"sort"
)

// Result is the outcome of one aggregation.
type Result struct {
	Method string
	K      int // number of classes (0 for numeric)

	// Categorical: Posterior[i*K+k] = P(true label of item i = class k).
	// Label[i] is the most likely class, -1 for an item with no answers.
	Posterior []float64
	Label     []int32

	// Numeric: the aggregated value per item (NaN for an item with no answers).
	Value []float64

	// WorkerQuality is each worker's estimated probability of a correct answer
	// (categorical) or mean absolute deviation from the aggregate (numeric).
	WorkerQuality []float64
	// Confusion[(w*K+t)*K+o] = P(worker w answers o | truth t), when the method has one.
	Confusion []float64

	Iterations int
	Converged  bool
	// Chosen and CV are set by the auto method: the method it picked and the
	// cross-validated accuracy of every candidate on the control items.
	Chosen string
	CV     map[string]float64
}

// Confidence of item i: the posterior of its label (1 for numeric).
func (r *Result) Confidence(i int) float64 {
	if r.K == 0 {
		return 1
	}
	if r.Label[i] < 0 {
		return 0
	}
	return r.Posterior[i*r.K+int(r.Label[i])]
}

// Options tune an aggregation; the zero value is a good default.
type Options struct {
	MaxIter int     // EM passes at most (default 100)
	Tol     float64 // stop when the relative log-likelihood change is below this (default 1e-7)
	Threads int     // goroutines (default GOMAXPROCS)
	// Control items are clamped to their known class: the methods learn
	// worker quality from them, and their output is the known class.
	Control *Gold
	// Warm starts EM from an earlier result of the same dataset (or of a
	// smaller dataset that this one grew from: items and workers keep their
	// indices, new ones are appended).
	Warm *Result
	// Trim is the fraction cut from each end by the trimmed mean (default 0.1).
	Trim float64
	// Seed for methods that use randomness (auto's fold split).
	Seed int64
}

func (o Options) withDefaults() Options {
	if o.MaxIter <= 0 {
		o.MaxIter = 100
	}
	if o.Tol <= 0 {
		o.Tol = 1e-7
	}
	if o.Threads <= 0 {
		o.Threads = runtime.GOMAXPROCS(0)
	}
	if o.Trim <= 0 || o.Trim >= 0.5 {
		o.Trim = 0.1
	}
	return o
}

// Methods lists every method by name: categorical first, then numeric.
var (
	CategoricalMethods = []string{"mv", "wawa", "ds", "onecoin", "mace", "glad", "ibcc", "bwa", "ebcc", "ensemble"}
	NumericMethods     = []string{"mean", "median", "trimmed"}
)

// Aggregate runs one method ("auto" included) on d.
func Aggregate(d *Dataset, method string, o Options) (*Result, error) {
	o = o.withDefaults()
	if d.NumLabels() == 0 {
		return nil, fmt.Errorf("the dataset has no answers")
	}
	if d.Numeric {
		switch method {
		case "mean", "median", "trimmed":
			return aggregateNumeric(d, method, o), nil
		}
		return nil, fmt.Errorf("method %q is not for numeric labels; use one of %v", method, NumericMethods)
	}
	if err := checkControl(d, o.Control); err != nil {
		return nil, err
	}
	switch method {
	case "mv":
		return majorityVote(d, o), nil
	case "wawa":
		return wawa(d, o), nil
	case "ds":
		return runEM(d, fullConfusion{}, o), nil
	case "onecoin":
		return runEM(d, oneCoin{}, o), nil
	case "mace":
		return runEM(d, &mace{}, o), nil
	case "ibcc":
		return runEM(d, ibcc{}, o), nil
	case "glad":
		return glad(d, o), nil
	case "bwa":
		return bwa(d, o), nil
	case "ebcc":
		return ebcc(d, o), nil
	case "ensemble":
		return ensemble(d, o)
	case "auto":
		return auto(d, o)
	case "mean", "median", "trimmed":
		return nil, fmt.Errorf("method %q needs numeric labels, but the labels are categories", method)
	}
	return nil, fmt.Errorf("unknown method %q; choose one of %v, auto, or for numeric labels %v", method, CategoricalMethods, NumericMethods)
}

func checkControl(d *Dataset, g *Gold) error {
	if g == nil {
		return nil
	}
	for it, c := range g.Class {
		if it < 0 || it >= d.NumItems() {
			return fmt.Errorf("control item index %d out of range", it)
		}
		if c < 0 || int(c) >= d.NumClasses() {
			return fmt.Errorf("control item %q has a class no worker ever gave; it cannot be clamped", d.Items[it])
		}
	}
	return nil
}

// finish fills Label from Posterior (ties go to the lowest class index; the
// accuracy measure splits them) and clamps control items.
func (r *Result) finish(d *Dataset, control *Gold) {
	I, K := d.NumItems(), r.K
	if control != nil {
		for it, c := range control.Class {
			p := r.Posterior[it*K : it*K+K]
			for k := range p {
				p[k] = 0
			}
			p[c] = 1
		}
	}
	if r.Label == nil {
		r.Label = make([]int32, I)
	}
	for i := 0; i < I; i++ {
		if d.ItemStart[i] == d.ItemStart[i+1] {
			if control == nil || control.Class == nil {
				r.Label[i] = -1
				continue
			}
			if _, ok := control.Class[i]; !ok {
				r.Label[i] = -1
				continue
			}
		}
		p := r.Posterior[i*K : i*K+K]
		best := 0
		for k := 1; k < K; k++ {
			if p[k] > p[best] {
				best = k
			}
		}
		r.Label[i] = int32(best)
	}
}

// Accuracy of r on the gold items, leaving out the items in skip (the
// control items a method was given). An item whose top posterior is tied
// between several classes scores 1/(number tied) when gold is among them:
// the expected accuracy of breaking the tie at random.
func Accuracy(r *Result, gold *Gold, skip *Gold) (float64, int) {
	if gold == nil || len(gold.Class) == 0 {
		return math.NaN(), 0
	}
	sum, n := 0.0, 0
	for it, g := range gold.Class {
		if skip != nil {
			if _, ok := skip.Class[it]; ok {
				continue
			}
		}
		n++
		sum += r.hit(it, g)
	}
	if n == 0 {
		return math.NaN(), 0
	}
	return sum / float64(n), n
}

// hit scores item it against its gold class g as rowHit does, and 0 for an
// item with no answers.
func (r *Result) hit(it int, g int32) float64 {
	if r.Label[it] < 0 {
		return 0
	}
	return rowHit(r.Posterior[it*r.K:it*r.K+r.K], g)
}

// MAE is the mean absolute error of a numeric result on the gold items.
func MAE(r *Result, gold *Gold) (float64, int) {
	if gold == nil || len(gold.Value) == 0 {
		return math.NaN(), 0
	}
	sum, n := 0.0, 0
	for it, g := range gold.Value {
		if math.IsNaN(r.Value[it]) {
			continue
		}
		sum += math.Abs(r.Value[it] - g)
		n++
	}
	if n == 0 {
		return math.NaN(), 0
	}
	return sum / float64(n), n
}

// sortedKeys returns the keys of a gold map in order (for deterministic folds).
func sortedKeys(m map[int]int32) []int {
	ks := make([]int, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	return ks
}
