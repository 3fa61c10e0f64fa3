// Package web tests the marketplace web app end to end: the real sahara binary runs `sahara up`
// (chain, blob store, indexer, web app) and Debian's chromium, driven by chromedp, uses the
// pages as people do. Every page a test visits is saved as a screenshot under
// build/screenshots/<test>/ (a CI artifact).
package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sahara/internal/testnode"
	"sahara/platform/db/dbtest"
)

var (
	binPath  string
	tmpRoot  string
	repoRoot string
)

func TestMain(m *testing.M) {
	var err error
	repoRoot, _ = filepath.Abs("../..")
	tmpRoot, err = os.MkdirTemp("", "sahara-web")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = os.Getenv("SAHARA_BIN")
	if binPath == "" {
		if binPath, err = testnode.Build(repoRoot, tmpRoot); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	if code == 0 {
		os.RemoveAll(tmpRoot)
	} else {
		fmt.Fprintln(os.Stderr, "node homes and logs kept in", tmpRoot)
	}
	os.Exit(code)
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// startNode runs `sahara up` with its platform database of a kind (sqlite or postgres).
func startNode(t *testing.T, kind string, extra ...string) *testnode.Node {
	t.Helper()
	home, err := os.MkdirTemp(tmpRoot, strings.ReplaceAll(t.Name(), "/", "-")+"-")
	if err != nil {
		t.Fatal(err)
	}
	if kind == "postgres" {
		extra = append(extra, "--db", dbtest.DSN(t, kind))
	}
	n, err := testnode.StartUp(ctxFor(t, 3*time.Minute), binPath, home, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop() })
	for i := 0; i+1 < len(extra); i++ {
		if extra[i] == "--web-addr" && extra[i+1] == "" {
			return n // no web app
		}
	}
	waitWeb(t, n.Web)
	return n
}

func waitWeb(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if res, err := http.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the web app at %s did not answer", base)
}

// ---- the browser ----

var (
	browserOnce sync.Once
	browserCtx  context.Context
	browserErr  error
)

func chromiumPath() string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// browser returns one headless chromium for the package, with a laptop-sized window.
func browser(t *testing.T) context.Context {
	t.Helper()
	browserOnce.Do(func() {
		path := chromiumPath()
		if path == "" {
			browserErr = fmt.Errorf("no chromium: apt-get install chromium (.ci/run does)")
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1366, 900),
			chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.NoFirstRun,
			chromedp.UserDataDir(filepath.Join(tmpRoot, "chromium")))
		alloc, _ := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, _ := chromedp.NewContext(alloc)
		if _, browserErr = chromedp.Run(ctx, chromedp.Title()); browserErr != nil { // starts the browser
			return
		}
		browserCtx = ctx
	})
	if browserErr != nil {
		t.Fatal(browserErr)
	}
	return browserCtx
}

// user is one person in the browser: a tab in a browser context of its own (own cookies).
type user struct {
	t    *testing.T
	ctx  context.Context
	name string
	base string
	shot *shots
}

type shots struct {
	mu  sync.Mutex
	dir string
	n   int
}

func newShots(t *testing.T) *shots {
	dir := filepath.Join(repoRoot, "build", "screenshots", strings.ReplaceAll(t.Name(), "/", "-"))
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &shots{dir: dir}
}

func newUser(t *testing.T, name, base string, s *shots) *user {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser(t), chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancel2 := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(cancel2)
	return &user{t: t, ctx: ctx, name: name, base: base, shot: s}
}

func (u *user) do(actions ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	if err := chromedp.Do(u.ctx, actions...); err != nil {
		u.t.Fatalf("%s: %v", u.name, err)
	}
}

// open navigates and waits until the page's charts and graph are drawn.
func (u *user) open(path string) {
	u.t.Helper()
	u.do(chromedp.Navigate(u.base+path), chromedp.WaitVisible(chromedp.CSS("main")))
	u.waitReady()
}

func (u *user) waitReady() {
	u.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		v, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](`document.body && document.body.dataset.ready || ""`))
		if err == nil && v == "1" {
			return
		}
		if v == "error" {
			u.t.Fatalf("%s: the page's scripts failed to load", u.name)
		}
		time.Sleep(100 * time.Millisecond)
	}
	u.t.Fatalf("%s: the page never became ready", u.name)
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// snap saves a full-page screenshot.
func (u *user) snap(what string) {
	u.t.Helper()
	var buf []byte
	var err error
	for try := 0; try < 50; try++ { // a page that is (re)loading has no size yet
		ready, _ := chromedp.Run(u.ctx, chromedp.Evaluate[string](`document.readyState === "complete" && document.body && document.body.dataset.ready || ""`))
		if ready == "1" || ready == "error" {
			if buf, err = chromedp.Run(u.ctx, chromedp.FullScreenshot(100)); err == nil {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || buf == nil {
		u.t.Fatalf("screenshot: %v", err)
	}
	u.shot.mu.Lock()
	u.shot.n++
	name := fmt.Sprintf("%02d-%s-%s.png", u.shot.n, u.name, unsafeName.ReplaceAllString(strings.ToLower(what), "-"))
	u.shot.mu.Unlock()
	if err := os.WriteFile(filepath.Join(u.shot.dir, name), buf, 0o644); err != nil {
		u.t.Fatal(err)
	}
}

func (u *user) text(sel string) string {
	u.t.Helper()
	s, err := chromedp.Run(u.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		u.t.Fatalf("%s: text of %s: %v", u.name, sel, err)
	}
	return strings.TrimSpace(s)
}

func (u *user) eval(js string) string {
	u.t.Helper()
	s, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		u.t.Fatalf("%s: %s: %v", u.name, js, err)
	}
	return s
}

// waitText waits until the element's text contains want; it fails with what the page says.
func (u *user) waitText(sel, want string) {
	u.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		got, _ = chromedp.Run(u.ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q)||{}).textContent||""`, sel)))
		if strings.Contains(got, want) {
			return
		}
		if strings.Contains(got, "refuses") || strings.Contains(got, "error") {
			break
		}
		time.Sleep(150 * time.Millisecond)
	}
	u.snap("failed")
	u.t.Fatalf("%s: %s says %q, want %q", u.name, sel, got, want)
}

// waitPath waits for the browser to be at a path matching re.
func (u *user) waitPath(re string) string {
	u.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(90 * time.Second)
	var path string
	for time.Now().Before(deadline) {
		path, _ = chromedp.Run(u.ctx, chromedp.Evaluate[string](`location.pathname`))
		if rx.MatchString(path) {
			u.do(chromedp.WaitVisible(chromedp.CSS("main")))
			u.waitReady()
			return path
		}
		time.Sleep(150 * time.Millisecond)
	}
	status, _ := chromedp.Run(u.ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("output.status")).map(o=>o.textContent).join(" | ")`))
	u.snap("failed")
	u.t.Fatalf("%s: at %s, want %s (status: %s)", u.name, path, re, status)
	return ""
}

// devLogin signs in as dev account n through the login page.
func (u *user) devLogin(n int) {
	u.t.Helper()
	u.open("/login")
	u.snap("login")
	u.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid="dev-login-%d"]`, n))))
	u.waitPath(`^/account$`)
}

// getJSON reads an /api/ endpoint.
func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	bz, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, bz)
	}
	if err := json.Unmarshal(bz, out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func sah(n int64) *big.Int {
	return new(big.Int).Mul(big.NewInt(n), new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil))
}
