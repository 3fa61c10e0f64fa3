package truth

import (
	"math"
	"os"
	"strings"
	"testing"
)

// crowdDir holds the 14 real label sets with ground truth beside the checkout.
const crowdDir = "../../../shared/datasets/crowd"

// On the real sets, by nested cross-validation (every method gets the same
// control items; auto chooses by an inner cross-validation on them alone):
// auto stays with majority vote or above and near the best method.
//
// Measured (bench/truth/README.md, seed 1): auto (the best method averaged
// with those McNemar's test cannot tell from it on the controls) is within
// 0.5 point of the best method on 9 of 14 sets, 0.57–0.67 behind on CF,
// CF_amt, MS, SP_amt and TEMP, and at or above majority vote everywhere but
// CrowdScale_fact (half an item of 576 below). On five splits, the table to
// compare by, it is within 0.5 point on 12–13 of 14; one split moves sets in
// and out by a point. The bar (never below MV, within 0.5 point
// everywhere) is NOT met; this test guards the measured level so a
// regression shows: no set where majority vote is ahead of auto by more
// than chance (McNemar, one-sided 5%: the largest z is 0), and auto's mean
// accuracy over the 14 sets the highest of all the columns (88.75% against
// ebcc's 88.32%). Against each set's best method the same test is logged,
// not asserted: on this split mace is ahead on TREC, 15 items to 3 of
// 2,275 (z 2.59, the best picked afterwards from ten columns); on five
// splits that gap is 5.4 items a split (z 0.91).
func TestRealDatasetsAutoVersusMethods(t *testing.T) {
	if _, err := os.Stat(crowdDir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the shared data sets are missing: %v", err)
		}
		t.Skip("shared/datasets/crowd not beside the checkout")
	}
	if testing.Short() {
		t.Skip("takes a few minutes")
	}
	rows, err := BenchDir(crowdDir, BenchConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 14 {
		t.Fatalf("%d data sets, want 14", len(rows))
	}
	var sb strings.Builder
	WriteBenchTable(&sb, rows, nil)
	t.Log("\n" + sb.String())
	within := 0
	for _, r := range rows {
		best := 0.0
		for _, m := range CategoricalMethods {
			best = max(best, r.Accuracy[m])
		}
		gap := 100 * (best - r.Accuracy["auto"])
		vsMV := 100 * (r.Accuracy["auto"] - r.Accuracy["mv"])
		if gap <= 0.5 {
			within++
		}
		// One item of the smallest gold set (300) is 0.33 point.
		if vsMV < -0.34 {
			t.Errorf("%s: auto %.2f%% below majority vote %.2f%%", r.Dataset, 100*r.Accuracy["auto"], 100*r.Accuracy["mv"])
		}
		if gap > 1.0 {
			t.Errorf("%s: auto %.2f points behind the best method", r.Dataset, gap)
		}
	}
	if within < 9 {
		t.Errorf("auto within 0.5 point of the best method on %d of 14 sets, measured 9", within)
	}
	var sig strings.Builder
	WriteAutoSignificance(&sig, rows, nil)
	t.Log("\n" + sig.String())
	for _, r := range rows {
		c, ok := r.AutoVersus("mv")
		if !ok {
			t.Fatalf("%s: no item hits for auto and mv", r.Dataset)
		}
		if c.Z > SignificantZ {
			t.Errorf("%s: majority vote ahead of auto by %.1f items (%.1f to %.1f), McNemar z %.2f > %.3f", r.Dataset,
				c.Gap, c.OtherOnly, c.AutoOnly, c.Z, SignificantZ)
		}
	}
	mean := MeanAccuracy(rows)
	for _, m := range CategoricalMethods {
		if mean[m] > mean["auto"] {
			t.Errorf("mean accuracy over the sets: %s %.2f%%, above auto's %.2f%%", m, 100*mean[m], 100*mean["auto"])
		}
	}
}

// Repeats averages whole cross-validations on consecutive seeds: two repeats
// from seed 3 are the mean of single runs on seeds 3 and 4.
func TestBenchRepeatsAverageTheSplits(t *testing.T) {
	dir := crowdDir + "/CF"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("shared/datasets/crowd not beside the checkout")
	}
	one := func(seed int64, repeats int) BenchRow {
		r, err := BenchOne("CF", dir+"/answers.csv", dir+"/gold.csv", BenchConfig{Methods: []string{"mv", "ds", "glad"}, Seed: seed, Repeats: repeats})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b, both := one(3, 1), one(4, 1), one(3, 2)
	for _, m := range []string{"mv", "ds", "glad", "auto"} {
		if want := (a.Accuracy[m] + b.Accuracy[m]) / 2; math.Abs(both.Accuracy[m]-want) > 1e-12 {
			t.Errorf("%s: two repeats %.6f, mean of the two runs %.6f", m, both.Accuracy[m], want)
		}
	}
	if a.Accuracy["ds"] == b.Accuracy["ds"] && a.Accuracy["glad"] == b.Accuracy["glad"] && a.Accuracy["auto"] == b.Accuracy["auto"] {
		t.Fatal("seeds 3 and 4 gave the same accuracies, so this test cannot tell an average from either run")
	}
}
