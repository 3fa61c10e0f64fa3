// Package truth aggregates crowd labels into one answer per item: majority
// vote, Wawa, Dawid–Skene (MAP EM), one-coin, MACE, GLAD, IBCC (variational
// Bayes), BWA and EBCC (worker correlation through class subtypes) for
// categorical labels; mean, median and trimmed mean for
// numeric ones; plus an automatic method choice on control items, an
// incremental mode and agreement metrics.
//
// Labels are stored grouped by item (a CSR layout) so every EM pass streams
// through memory once; the per-worker tables are small enough to stay in cache.
package truth

import (
	"fmt"
	"sort"
	"strconv"
)

// Dataset is a set of answers: Items × Workers with labels from Classes.
// Answers are grouped by item: the answers of item i are the indices
// ItemStart[i] .. ItemStart[i+1]-1 of Worker and Label (or Value).
type Dataset struct {
	Items   []string
	Workers []string
	Classes []string // categorical only, sorted (numerically when all are numbers)

	ItemStart []int32
	Worker    []int32
	Label     []int32   // categorical: class index
	Value     []float64 // numeric: the value

	Numeric bool
}

// NumItems, NumWorkers, NumClasses and NumLabels are the sizes of the set.
func (d *Dataset) NumItems() int   { return len(d.Items) }
func (d *Dataset) NumWorkers() int { return len(d.Workers) }
func (d *Dataset) NumClasses() int { return len(d.Classes) }
func (d *Dataset) NumLabels() int  { return len(d.Worker) }

// ItemIndexes maps item ids to indices (built on demand: most callers never need it).
func (d *Dataset) ItemIndexes() map[string]int {
	m := make(map[string]int, len(d.Items))
	for i, s := range d.Items {
		m[s] = i
	}
	return m
}

// Builder collects answers one at a time (in any order) and produces a Dataset.
type Builder struct {
	items, workers, classes keyTable // ids in order of first appearance
	rowItem                 []int32
	rowWorker               []int32
	rowLabel                []int32
	rowValue                []float64
	numeric                 bool
}

// NewBuilder starts an empty dataset; numeric selects numeric labels.
func NewBuilder(numeric bool) *Builder { return &Builder{numeric: numeric} }

// keyTable interns byte keys into int32 ids; small tables (classes) are
// scanned, which beats hashing for a handful of short keys.
type keyTable struct {
	idx  map[string]int32
	keys []string
	scan bool
}

func (t *keyTable) id(k []byte) int32 {
	if t.scan && len(t.keys) <= 16 {
		for i, s := range t.keys {
			if string(k) == s {
				return int32(i)
			}
		}
		if len(t.keys) < 16 {
			return t.add(string(k))
		}
	}
	if v, ok := t.idx[string(k)]; ok { // no allocation on lookup
		return v
	}
	return t.add(string(k))
}

// idOf is id for a key already held as a string (kept, not copied, when new).
func (t *keyTable) idOf(s string) int32 {
	if v, ok := t.idx[s]; ok {
		return v
	}
	return t.add(s)
}

func (t *keyTable) add(s string) int32 {
	if t.idx == nil {
		t.idx = map[string]int32{}
	}
	v := int32(len(t.keys))
	t.idx[s] = v
	t.keys = append(t.keys, s)
	return v
}

func (t *keyTable) reset() {
	clear(t.idx)
	t.keys = t.keys[:0]
}

// Add records one answer. Every field must be non-empty, as in an answers
// file; for a numeric builder the label must parse as a number.
func (b *Builder) Add(item, worker, label string) error {
	for _, f := range [][2]string{{"item", item}, {"worker", worker}, {"label", label}} {
		if f[1] == "" {
			return fmt.Errorf("answer (item %q, worker %q, label %q): empty %s; every answer needs an item, a worker and a label", item, worker, label, f[0])
		}
	}
	return b.addBytes([]byte(item), []byte(worker), []byte(label))
}

// classIndexes maps a dataset's class names to their indices.
func classIndexes(d *Dataset) map[string]int32 {
	m := make(map[string]int32, len(d.Classes))
	for i, c := range d.Classes {
		m[c] = int32(i)
	}
	return m
}

func (b *Builder) addBytes(item, worker, label []byte) error {
	if b.numeric {
		v, err := strconv.ParseFloat(string(label), 64)
		if err != nil {
			return fmt.Errorf("label %q is not a number", label)
		}
		b.rowValue = append(b.rowValue, v)
	} else {
		b.rowLabel = append(b.rowLabel, b.classes.id(label))
	}
	b.rowItem = append(b.rowItem, b.items.id(item))
	b.rowWorker = append(b.rowWorker, b.workers.id(worker))
	return nil
}

// Len is the number of answers added so far.
func (b *Builder) Len() int { return len(b.rowItem) }

// Build sorts the answers by item (a stable counting sort, O(n)) and returns
// the dataset. Item and worker indices keep their order of first appearance,
// so a later Build of a grown Builder keeps every earlier index valid.
func (b *Builder) Build() *Dataset {
	d := &Dataset{
		Items:   append([]string(nil), b.items.keys...),
		Workers: append([]string(nil), b.workers.keys...),
		Numeric: b.numeric,
	}
	n := len(b.rowItem)
	I := len(b.items.keys)
	start := make([]int32, I+1)
	for _, it := range b.rowItem {
		start[it+1]++
	}
	for i := 0; i < I; i++ {
		start[i+1] += start[i]
	}
	pos := make([]int32, I)
	copy(pos, start[:I])
	d.ItemStart = start
	d.Worker = make([]int32, n)
	var remap []int32
	if b.numeric {
		d.Value = make([]float64, n)
	} else {
		d.Classes, remap = sortedClasses(b.classes.keys)
		d.Label = make([]int32, n)
	}
	for r := 0; r < n; r++ {
		it := b.rowItem[r]
		p := pos[it]
		pos[it]++
		d.Worker[p] = b.rowWorker[r]
		if b.numeric {
			d.Value[p] = b.rowValue[r]
		} else {
			d.Label[p] = remap[b.rowLabel[r]]
		}
	}
	return d
}

// sortedClasses orders class names (numerically when every name is a number)
// and returns the sorted list with a map from old to new index.
func sortedClasses(classes []string) ([]string, []int32) {
	type cls struct {
		name string
		num  float64
		old  int32
	}
	cs := make([]cls, len(classes))
	allNum := true
	for i, c := range classes {
		v, err := strconv.ParseFloat(c, 64)
		if err != nil {
			allNum = false
		}
		cs[i] = cls{c, v, int32(i)}
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if allNum && cs[i].num != cs[j].num {
			return cs[i].num < cs[j].num
		}
		return cs[i].name < cs[j].name
	})
	out := make([]string, len(cs))
	remap := make([]int32, len(cs))
	for i, c := range cs {
		out[i] = c.name
		remap[c.old] = int32(i)
	}
	return out, remap
}

// Gold is known truth for some items: categorical class index or numeric value,
// keyed by item index.
type Gold struct {
	Class map[int]int32
	Value map[int]float64
}

// Len is the number of gold items.
func (g *Gold) Len() int {
	if g == nil {
		return 0
	}
	return len(g.Class) + len(g.Value)
}
