package main

import (
	"bytes"
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"sahara/platform/store"
	"sahara/platform/store/fingerprint"
)

// startS3 runs the S3 server the tests use (build/tools/versitygw) over a
// folder beside the local store, so both backends share the disk.
func startS3(root string) (*store.Store, func()) {
	bin := filepath.Join("build", "tools", "versitygw")
	if _, err := os.Stat(bin); err != nil {
		return nil, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	addr := l.Addr().String()
	l.Close()
	dir := filepath.Join(root, "s3")
	check(os.MkdirAll(dir, 0o700))
	cmd := exec.Command(bin, "--access", "bench", "--secret", "bench-secret", "--port", addr, "--quiet", "posix", dir)
	check(cmd.Start())
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, err := store.OpenS3(store.S3Config{Endpoint: "http://" + addr, Bucket: "bench", AccessKey: "bench", SecretKey: "bench-secret"})
	check(err)
	k, err := store.LoadNodeKey(filepath.Join(root, "s3.key"))
	check(err)
	return store.New(b, k), func() { cmd.Process.Kill(); cmd.Wait() }
}

// fingerprintTable: how often the right licensee is named from a
// shuffled random subset of their copy, against the share of rows leaked.
func fingerprintTable() {
	const rows, licensees, guilty, trials = 100_000, 50, 8, 40
	r := rand.New(rand.NewSource(1))
	var csv, jsonl strings.Builder
	csv.WriteString("id,text,label,score\n")
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&csv, "%d,review %d of item %d,%s,%.3f\n", i, r.Intn(1e6), r.Intn(500), []string{"pos", "neg", "neu"}[r.Intn(3)], r.Float64())
		fmt.Fprintf(&jsonl, `{"id":%d,"prompt":"question %d","answer":"answer %d","rating":%d}`+"\n", i, r.Intn(1e6), r.Intn(1e6), r.Intn(5))
	}
	secret := []byte("bench node secret")
	var cands []fingerprint.Candidate
	for i := 0; i < licensees; i++ {
		who := fmt.Sprintf("0x%040x", i+1)
		cands = append(cands, fingerprint.Candidate{Licensee: who, Key: fingerprint.LicenseeKey(secret, 1, who)})
	}
	fmt.Printf("\nfingerprint: %d-row dataset, %d licensees, %d trials per cell (a random licensee's copy, a random shuffled subset)\n\n", rows, licensees, trials)
	fmt.Println("| format | rows leaked | share | named correctly | wrong licensee named | mean z of the guilty | unmarked subsets accused |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	for _, f := range []struct {
		format fingerprint.Format
		data   string
		header bool
	}{{fingerprint.CSV, csv.String(), true}, {fingerprint.JSONL, jsonl.String(), false}} {
		var copies [][]string
		for g := 0; g < guilty; g++ {
			var out bytes.Buffer
			_, err := fingerprint.Mark(f.format, strings.NewReader(f.data), &out, cands[g].Key)
			check(err)
			copies = append(copies, lines(out.String(), f.header))
		}
		orig := lines(f.data, f.header)
		for _, n := range []int{5, 10, 20, 50, 100, 1000} {
			right, wrong, falsePos := 0, 0, 0
			var zsum float64
			for t := 0; t < trials; t++ {
				g := r.Intn(guilty)
				v, err := fingerprint.Trace(f.format, strings.NewReader(subset(copies[g], n, r)), cands)
				check(err)
				switch v.Licensee {
				case cands[g].Licensee:
					right++
				case "":
				default:
					wrong++
				}
				for _, s := range v.Scores {
					if s.Licensee == cands[g].Licensee {
						zsum += s.Z
					}
				}
				if v, _ := fingerprint.Trace(f.format, strings.NewReader(subset(orig, n, r)), cands); v.Licensee != "" {
					falsePos++
				}
			}
			fmt.Printf("| %s | %d | %.3f%% | %d/%d | %d | %.1f | %d/%d |\n", f.format, n, 100*float64(n)/rows, right, trials, wrong, zsum/trials, falsePos, trials)
		}
	}
}

func lines(s string, header bool) []string {
	ls := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if header {
		ls = ls[1:]
	}
	return ls
}

func subset(ls []string, n int, r *rand.Rand) string {
	idx := r.Perm(len(ls))[:n]
	var b strings.Builder
	for _, i := range idx {
		b.WriteString(ls[i] + "\n")
	}
	return b.String()
}
