// Package cli is the `sahara truth` command: aggregate crowd labels from CSV,
// run the accuracy table over a folder of datasets, make synthetic crowds.
package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"sahara/platform/truth"
)

// Command returns `truth` with its subcommands.
func Command() *cobra.Command {
	c := &cobra.Command{
		Use:   "truth",
		Short: "Aggregate crowd labels (truth inference)",
		Long: `Aggregate crowd labels into one answer per item with a per-item confidence
and a per-worker quality estimate.

Categorical methods: ` + strings.Join(truth.CategoricalMethods, ", ") + `, auto.
Numeric methods:     ` + strings.Join(truth.NumericMethods, ", ") + `.`,
	}
	c.AddCommand(aggregateCmd(), benchCmd(), synthCmd())
	return c
}

type summary struct {
	Method            string             `json:"method"`
	Chosen            string             `json:"chosen,omitempty"`
	Items             int                `json:"items"`
	Workers           int                `json:"workers"`
	Labels            int                `json:"labels"`
	Classes           int                `json:"classes,omitempty"`
	Control           int                `json:"control_items,omitempty"`
	Accuracy          *float64           `json:"accuracy,omitempty"`
	AccuracyItems     int                `json:"accuracy_items,omitempty"`
	MAE               *float64           `json:"mae,omitempty"`
	Iterations        int                `json:"iterations"`
	Converged         bool               `json:"converged"`
	FleissKappa       *float64           `json:"fleiss_kappa,omitempty"`
	KrippendorffAlpha *float64           `json:"krippendorff_alpha,omitempty"`
	CV                map[string]float64 `json:"cv_accuracy,omitempty"`
	LoadSeconds       float64            `json:"load_seconds"`
	Seconds           float64            `json:"seconds"`
	Warnings          []string           `json:"warnings,omitempty"`
}

func num(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	return &v
}

func aggregateCmd() *cobra.Command {
	var answers, gold, control, method, format, out, workersOut string
	var controlFrac float64
	var threads, maxIter int
	var seed int64
	var agreement bool
	c := &cobra.Command{
		Use:   "aggregate --answers A.csv [--gold G.csv] --method M [--format json|csv] [--out labels.csv]",
		Short: "Aggregate the answers of a CSV file (item,worker,label)",
		Example: `  sahara truth aggregate --answers answers.csv --gold gold.csv --method ds
  sahara truth aggregate --answers answers.csv --gold gold.csv --control-fraction 0.2 --method auto
  sahara truth aggregate --answers answers.csv --method ibcc --format csv > labels.csv
  sahara truth aggregate --answers ratings.csv --method median`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if answers == "" {
				return fmt.Errorf("--answers is required: a CSV file with columns item,worker,label")
			}
			if format != "json" && format != "csv" {
				return fmt.Errorf("--format %q: use json or csv", format)
			}
			if controlFrac < 0 || controlFrac >= 1 {
				return fmt.Errorf("--control-fraction %v: use a fraction in [0, 1)", controlFrac)
			}
			if controlFrac > 0 && gold == "" {
				return fmt.Errorf("--control-fraction needs --gold: the control items are drawn from the gold items")
			}
			numeric := false
			for _, m := range truth.NumericMethods {
				numeric = numeric || m == method
			}
			t0 := time.Now()
			d, warns, err := truth.LoadAnswersFile(answers, numeric)
			if err != nil {
				return err
			}
			s := summary{Method: method, Items: d.NumItems(), Workers: d.NumWorkers(), Labels: d.NumLabels(), Classes: d.NumClasses()}
			var g, ctl *truth.Gold
			if gold != "" {
				var w []truth.Warning
				if g, w, err = truth.LoadGoldFile(gold, d); err != nil {
					return err
				}
				warns = append(warns, w...)
			}
			if control != "" {
				if numeric {
					return fmt.Errorf("--control is for categorical labels")
				}
				var w []truth.Warning
				if ctl, w, err = truth.LoadGoldFile(control, d); err != nil {
					return err
				}
				warns = append(warns, w...)
				for it, c := range ctl.Class {
					if c < 0 {
						delete(ctl.Class, it)
					}
				}
			}
			eval := g
			if controlFrac > 0 {
				var extra *truth.Gold
				extra, eval = truth.SplitControl(g, controlFrac, seed)
				if ctl == nil {
					ctl = extra
				} else {
					for it, c := range extra.Class {
						ctl.Class[it] = c
					}
				}
			}
			if ctl != nil && eval != nil && eval.Class != nil {
				// Accuracy on control items would be 100% by construction.
				for it := range ctl.Class {
					delete(eval.Class, it)
				}
			}
			s.Control = ctl.Len()
			if method == "auto" && ctl.Len() < truth.AutoMinControl {
				warns = append(warns, truth.Warning{File: "auto", Msg: fmt.Sprintf("%d control items, fewer than the %d it chooses by "+
					"(--control, or --control-fraction with --gold): running its default, the %s of eight methods "+
					"(at 10M answers about 100 s, where --method ds takes under a second)", ctl.Len(), truth.AutoMinControl, truth.AutoDefault)})
			}
			// Warnings first: a long run should not hide them until it ends.
			for _, w := range warns {
				s.Warnings = append(s.Warnings, w.String())
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			s.LoadSeconds = time.Since(t0).Seconds()
			r, err := truth.Aggregate(d, method, truth.Options{Control: ctl, Threads: threads, MaxIter: maxIter, Seed: seed})
			if err != nil {
				return err
			}
			s.Seconds = time.Since(t0).Seconds()
			s.Chosen, s.CV, s.Iterations, s.Converged = r.Chosen, r.CV, r.Iterations, r.Converged
			if eval != nil {
				if numeric {
					v, n := truth.MAE(r, eval)
					s.MAE, s.AccuracyItems = num(v), n
				} else {
					v, n := truth.Accuracy(r, eval, nil)
					s.Accuracy, s.AccuracyItems = num(v), n
				}
			}
			if agreement {
				if !numeric {
					s.FleissKappa = num(truth.FleissKappa(d))
				}
				s.KrippendorffAlpha = num(truth.KrippendorffAlpha(d))
			}
			if workersOut != "" {
				if err := writeFile(workersOut, func(w io.Writer) error { return writeWorkers(w, d, r) }); err != nil {
					return err
				}
			}
			stdout := cmd.OutOrStdout()
			if format == "csv" {
				if out == "" {
					return writeLabels(stdout, d, r)
				}
				if err := writeFile(out, func(w io.Writer) error { return writeLabels(w, d, r) }); err != nil {
					return err
				}
				b, _ := json.Marshal(s)
				fmt.Fprintln(cmd.ErrOrStderr(), string(b))
				return nil
			}
			if out != "" {
				if err := writeFile(out, func(w io.Writer) error { return writeLabels(w, d, r) }); err != nil {
					return err
				}
			}
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(s)
		},
	}
	f := c.Flags()
	f.StringVar(&answers, "answers", "", "answers CSV: item,worker,label (header optional)")
	f.StringVar(&gold, "gold", "", "gold CSV: item,label — used to report accuracy (or MAE for numeric labels)")
	f.StringVar(&control, "control", "", "control-items CSV: item,label — known answers the methods learn from (clamped)")
	f.Float64Var(&controlFrac, "control-fraction", 0, "use this seeded share of the gold items as control items; accuracy is then reported on the rest")
	f.StringVar(&method, "method", "auto", "aggregation method: "+strings.Join(truth.CategoricalMethods, ", ")+", auto; numeric: "+strings.Join(truth.NumericMethods, ", "))
	f.StringVar(&format, "format", "json", "json: a summary object on stdout; csv: per-item labels (item,label,confidence) on stdout, or in --out with the summary on stderr")
	f.StringVar(&out, "out", "", "write per-item labels (item,label,confidence) to this CSV file")
	f.StringVar(&workersOut, "workers-out", "", "write per-worker quality estimates (worker,answers,quality) to this CSV file")
	f.IntVar(&threads, "threads", 0, "worker goroutines (default: all cores)")
	f.IntVar(&maxIter, "max-iter", 0, "EM passes at most (default 100)")
	f.Int64Var(&seed, "seed", 1, "seed for the control split and auto's folds")
	f.BoolVar(&agreement, "agreement", true, "report Fleiss' kappa and Krippendorff's alpha")
	return c
}

func writeFile(path string, fn func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path) // never a half-written output file
}

func writeLabels(w io.Writer, d *truth.Dataset, r *truth.Result) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString("item,label,confidence\n")
	cw := csvWriter{bw}
	for i := 0; i < d.NumItems(); i++ {
		cw.field(d.Items[i])
		bw.WriteByte(',')
		switch {
		case d.Numeric:
			if !math.IsNaN(r.Value[i]) {
				bw.WriteString(strconv.FormatFloat(r.Value[i], 'g', -1, 64))
			}
		case r.Label[i] >= 0:
			cw.field(d.Classes[r.Label[i]])
		}
		bw.WriteByte(',')
		bw.WriteString(strconv.FormatFloat(r.Confidence(i), 'f', 6, 64))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

func writeWorkers(w io.Writer, d *truth.Dataset, r *truth.Result) error {
	counts := make([]int, d.NumWorkers())
	for _, wk := range d.Worker {
		counts[wk]++
	}
	bw := bufio.NewWriter(w)
	bw.WriteString("worker,answers,quality\n")
	cw := csvWriter{bw}
	for i, name := range d.Workers {
		cw.field(name)
		fmt.Fprintf(bw, ",%d,%.6f\n", counts[i], r.WorkerQuality[i])
	}
	return bw.Flush()
}

type csvWriter struct{ w *bufio.Writer }

func (c csvWriter) field(s string) {
	if strings.ContainsAny(s, ",\"\n\r") {
		c.w.WriteString(`"` + strings.ReplaceAll(s, `"`, `""`) + `"`)
		return
	}
	c.w.WriteString(s)
}

func benchCmd() *cobra.Command {
	var methods string
	var folds int
	var unsupervised bool
	var seed int64
	var repeats int
	c := &cobra.Command{
		Use:   "bench DIR",
		Short: "Run every method on every dataset folder (answers.csv + gold.csv) under DIR and print the accuracy table",
		Long: `Run every method on every dataset folder under DIR and print a Markdown table:
dataset, items, workers, labels, one accuracy column per method, auto, time,
and a last row with each column's mean over the sets. A second table pairs
auto with each set's best method and with majority vote item by item: how
many items a split auto is behind, and McNemar's z (above 1.645 the other is
ahead by more than chance, one-sided 5%).

Accuracy is measured by nested cross-validation over each set's gold items:
for each of --folds folds, every method gets the other folds as control items
and is scored on the held-out fold; auto picks its method by an inner
cross-validation on the control items alone. --unsupervised gives no control
items (the classic setting; auto then uses its default method). --repeats R
runs the whole cross-validation on R seeded splits (--seed, --seed+1, …) and
averages: one split's luck in which items are controls moves a method by a
point on a small set.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := truth.BenchConfig{Folds: folds, Unsupervised: unsupervised, Seed: seed, Repeats: repeats}
			if methods != "" {
				cfg.Methods = strings.Split(methods, ",")
			}
			rows, err := truth.BenchDir(args[0], cfg)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			truth.WriteBenchTable(out, rows, cfg.Methods)
			fmt.Fprintln(out)
			truth.WriteAutoSignificance(out, rows, cfg.Methods)
			return nil
		},
	}
	c.Flags().StringVar(&methods, "methods", "", "comma-separated methods (default: every categorical method)")
	c.Flags().IntVar(&folds, "folds", 5, "outer cross-validation folds over the gold items")
	c.Flags().BoolVar(&unsupervised, "unsupervised", false, "give the methods no control items")
	c.Flags().Int64Var(&seed, "seed", 1, "seed of the fold split")
	c.Flags().IntVar(&repeats, "repeats", 1, "cross-validations on different splits, averaged")
	return c
}

func synthCmd() *cobra.Command {
	var cfg truth.SynthConfig
	var dir string
	c := &cobra.Command{
		Use:   "synth --out DIR",
		Short: "Write a seeded synthetic crowd (answers.csv + gold.csv) for tests and benchmarks",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return fmt.Errorf("--out DIR is required")
			}
			if cfg.Items <= 0 || cfg.Workers <= 0 || cfg.Classes < 2 || cfg.Labels < cfg.Items {
				return fmt.Errorf("need --items > 0, --workers > 0, --classes >= 2 and --labels >= --items")
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			d, g := truth.Synthesize(cfg)
			if err := writeFile(filepath.Join(dir, "answers.csv"), func(w io.Writer) error { return truth.WriteAnswersCSV(w, d) }); err != nil {
				return err
			}
			return writeFile(filepath.Join(dir, "gold.csv"), func(w io.Writer) error { return truth.WriteGoldCSV(w, d, g) })
		},
	}
	f := c.Flags()
	f.StringVar(&dir, "out", "", "output folder")
	f.IntVar(&cfg.Items, "items", 10000, "items")
	f.IntVar(&cfg.Workers, "workers", 100, "workers")
	f.IntVar(&cfg.Classes, "classes", 2, "classes")
	f.IntVar(&cfg.Labels, "labels", 100000, "answers in all")
	f.Float64Var(&cfg.AccMin, "acc-min", 0.55, "lowest worker accuracy")
	f.Float64Var(&cfg.AccMax, "acc-max", 0.95, "highest worker accuracy")
	f.Float64Var(&cfg.Spammers, "spammers", 0.1, "share of workers answering at random")
	f.Int64Var(&cfg.Seed, "seed", 1, "seed")
	return c
}
