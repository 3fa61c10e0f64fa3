package store

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestKilledMidPutKeepsEveryCommittedObject kills a process that puts objects on two goroutines
// (kill -9, at a random moment: inside chunking, pack writes, pack rolls or a commit's two syncs)
// and reopens its store, over several rounds on the same folder. Every put that returned must read
// back byte for byte, every object the index lists must verify (nothing torn is ever listed), and
// the reopened store must take new puts. A process crash keeps the page cache, so this checks the
// store's own bookkeeping after an unclean stop: pack ends, allocation ahead, the open marker and
// the unclean-open check; TestUncleanShutdownDropsTheTornObject covers bytes lost with the machine.
func TestKilledMidPutKeepsEveryCommittedObject(t *testing.T) {
	if dir := os.Getenv("STORE_CRASH_CHILD"); dir != "" {
		crashChild(dir)
		return
	}
	dir := t.TempDir()
	committed := map[Hash]crashObject{}
	rng := rand.New(rand.NewSource(7))
	for round := 1; round <= 6; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKilledMidPutKeepsEveryCommittedObject$")
		cmd.Env = append(os.Environ(), "STORE_CRASH_CHILD="+dir, fmt.Sprintf("STORE_CRASH_ROUND=%d", round))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after a few puts returned and a random moment more.
		lines := make(chan string)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		n, want := 0, 3+rng.Intn(6)
		var kill <-chan time.Time
		deadline := time.After(60 * time.Second)
	read:
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					break read
				}
				o, err := parseCrashLine(line)
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				committed[o.root] = o
				if n++; n == want {
					kill = time.After(time.Duration(rng.Intn(40)) * time.Millisecond)
				}
			case <-kill:
				cmd.Process.Kill()
				kill = nil
			case <-deadline:
				cmd.Process.Kill()
				t.Fatalf("round %d: the child stopped putting (%d puts returned)", round, n)
			}
		}
		cmd.Wait()
		if n < want {
			t.Fatalf("round %d: the child ended after %d puts, before it was killed", round, n)
		}

		s, err := Open(dir)
		if err != nil {
			t.Fatalf("round %d: opening the store after the kill: %v", round, err)
		}
		for root, o := range committed {
			var got bytes.Buffer
			if err := s.Get(root, &got); err != nil {
				t.Fatalf("round %d: object %s (round %d, put %d, %d bytes) returned before the kill: %v", round, root, o.round, o.i, o.size, err)
			}
			if !bytes.Equal(got.Bytes(), crashBytes(o.round, o.i)) {
				t.Fatalf("round %d: object %s reads back other bytes", round, root)
			}
		}
		ms, err := s.List()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if err := s.Verify(m.Root); err != nil {
				t.Fatalf("round %d: the index lists %s, which does not verify: %v", round, m.Root, err)
			}
		}
		if len(ms) < len(committed) {
			t.Fatalf("round %d: %d objects listed, %d puts returned", round, len(ms), len(committed))
		}
		extra := randomBytes(300<<10, int64(1000+round))
		m, _, err := s.Put(bytes.NewReader(extra), "after")
		if err != nil {
			t.Fatalf("round %d: a put after reopening: %v", round, err)
		}
		committed[m.Root] = crashObject{root: m.Root, round: 0, i: round, size: len(extra)}
		if round%2 == 0 { // every other round closes cleanly; the others leave the store marked open
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		} else {
			s.b.(*Local).db.Close()
		}
		t.Logf("round %d: %d puts returned before the kill; %d objects listed, all verified", round, n, len(ms))
	}
}

type crashObject struct {
	root     Hash
	round, i int
	size     int
}

// crashBytes is the object a round's i-th put stores: sizes from inline to several packs' worth
// of chunks, and every third one a small edit of the one before it (so puts dedupe against
// objects that may or may not have been committed). Round 0 is the parent's own puts.
func crashBytes(round, i int) []byte {
	if round == 0 {
		return randomBytes(300<<10, int64(1000+i))
	}
	sizes := []int{40 << 10, 1 << 20, 3 << 20, 9 << 20, 200 << 10}
	seed := int64(round*1000 + i)
	if i%3 == 2 {
		b := crashBytes(round, i-1)
		copy(b[len(b)/2:], randomBytes(1024, seed))
		return b
	}
	return randomBytes(sizes[i%len(sizes)], seed)
}

func parseCrashLine(line string) (crashObject, error) {
	f := strings.Fields(line)
	if len(f) != 4 {
		return crashObject{}, fmt.Errorf("child printed %q", line)
	}
	r, err1 := strconv.Atoi(f[0])
	i, err2 := strconv.Atoi(f[1])
	n, err3 := strconv.Atoi(f[2])
	root, err4 := ParseHash(f[3])
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			return crashObject{}, fmt.Errorf("child printed %q: %v", line, err)
		}
	}
	return crashObject{root: root, round: r, i: i, size: n}, nil
}

// crashChild puts objects until it is killed, printing each one once its put has returned.
func crashChild(dir string) {
	round, _ := strconv.Atoi(os.Getenv("STORE_CRASH_ROUND"))
	s, err := Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: open:", err)
		os.Exit(2)
	}
	s.b.(*Local).packMax = 8 << 20 // roll packs often
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < 1000; i += 2 {
				b := crashBytes(round, i)
				m, _, err := s.PutWith(bytes.NewReader(b), PutOptions{Name: "crash", Private: i%4 == 3})
				if err != nil {
					fmt.Fprintln(os.Stderr, "child: put:", err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Printf("%d %d %d %s\n", round, i, len(b), m.Root)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	os.Exit(0)
}
