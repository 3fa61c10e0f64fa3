package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"sahara/platform/dsp"
)

// Every task type labelled in the browser with the keyboard (and the mouse where a person would
// draw: text selection for spans, dragging for boxes), then exported in each format and read back
// to the same answers. Then bad input over the HTTP API: a malformed import names its line, an
// oversized file is refused, an unleased item and a second answer are refused, nothing is stored.
func TestDataTaskTypes(t *testing.T) {
	n := startNode(t, "sqlite", "--dsp-max-import", "200000")
	shots := newShots(t)
	req := newUser(t, "requester", n.Web, shots)
	req.devLogin(0)
	worker := newUser(t, "worker", n.Web, shots)
	worker.devLogin(1)

	text := "Ada Lovelace wrote to Charles Babbage from London."
	type tc struct {
		typ   string
		spec  string
		items string // JSONL
		label func(u *user)
		want  []string // canonical answers of the two items, in order ("" = checked apart)
	}
	cases := []tc{
		{dsp.Multi, `{"labels":["news","sport","tech"],"overlap":1}`,
			`{"id":"m1","text":"Chip makers sponsor the league"}` + "\n" + `{"id":"m2","text":"Election results"}`,
			func(u *user) { u.keys("2", "3", "\r"); u.waitNext(1); u.keys("1", "\r") },
			[]string{`{"labels":["sport","tech"]}`, `{"labels":["news"]}`}},
		{dsp.Spans, `{"labels":["PER","LOC"],"overlap":1}`,
			`{"id":"s1","text":"` + text + `"}` + "\n" + `{"id":"s2","text":"Grace Hopper lived in Arlington."}`,
			func(u *user) {
				u.selectText(0, 12)
				u.keys("1")
				u.selectText(43, 49)
				u.keys("2")
				u.snap("spans-tagged")
				u.keys("\r")
				u.waitNext(1)
				u.selectText(0, 12)
				u.keys("1", "\r")
			},
			[]string{`{"spans":[{"start":0,"end":12,"label":"PER"},{"start":43,"end":49,"label":"LOC"}]}`, `{"spans":[{"start":0,"end":12,"label":"PER"}]}`}},
		{dsp.Boxes, `{"labels":["car","person"],"overlap":1}`, "",
			func(u *user) {
				u.drag(0.1, 0.2, 0.5, 0.6)
				u.keys("1")
				u.snap("box-drawn")
				u.keys("\r")
				u.waitNext(1)
				u.drag(0.6, 0.1, 0.9, 0.4)
				u.keys("2", "\r")
			},
			[]string{"", ""}},
		{dsp.Text, `{"overlap":1}`,
			`{"id":"t1","prompt":"Translate to English: bonjour le monde"}` + "\n" + `{"id":"t2","prompt":"Transcribe: 'see you soon'"}`,
			func(u *user) {
				u.typeText("hello world")
				u.ctrlEnter()
				u.waitNext(1)
				u.typeText("see you soon")
				u.ctrlEnter()
			},
			[]string{`{"text":"hello world"}`, `{"text":"see you soon"}`}},
		{dsp.Pairwise, `{"overlap":1}`,
			`{"id":"p1","prompt":"Explain gravity","a":"Mass attracts mass.","b":"It is magic."}` + "\n" + `{"id":"p2","prompt":"Say hi","a":"hi","b":"hello"}`,
			func(u *user) { u.keys("1"); u.waitNext(1); u.keys("3") },
			[]string{`{"choice":"A"}`, `{"choice":"tie"}`}},
		{dsp.Rating, `{"rating_min":1,"rating_max":5,"overlap":1}`,
			`{"id":"r1","text":"The answer was helpful."}` + "\n" + `{"id":"r2","text":"The answer was rude."}`,
			func(u *user) { u.keys("4", "\r"); u.waitNext(1); u.keys("1", "\r") },
			[]string{`{"rating":4}`, `{"rating":1}`}},
	}
	for _, c := range cases {
		var p dsp.Project
		status, body := req.fetch("POST", "/api/tasks", fmt.Sprintf(`{"name":"%s test","task_type":"%s","spec":%s}`, c.typ, c.typ, c.spec))
		if status != 201 || json.Unmarshal([]byte(body), &p) != nil {
			t.Fatalf("create %s: %d %s", c.typ, status, body)
		}
		if c.typ == dsp.Boxes {
			dir := t.TempDir()
			var files []string
			for i, col := range []color.RGBA{{200, 40, 40, 255}, {40, 40, 200, 255}} {
				img := image.NewRGBA(image.Rect(0, 0, 320, 200))
				for x := 0; x < 320; x++ {
					for y := 0; y < 200; y++ {
						img.Set(x, y, col)
					}
				}
				var b bytes.Buffer
				png.Encode(&b, img)
				f := filepath.Join(dir, fmt.Sprintf("b%d.png", i+1))
				os.WriteFile(f, b.Bytes(), 0o644)
				files = append(files, f)
			}
			req.open(fmt.Sprintf("/tasks/%d", p.ID))
			req.do(chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="import-images"] input[type=file]`), files),
				chromedp.Click(chromedp.CSS(`[data-testid="import-images"] button`)))
			req.waitText(`[data-testid="import-images"] output`, "Added 2 images")
		} else if status, body := req.fetch("POST", fmt.Sprintf("/api/tasks/%d/items?format=jsonl", p.ID), c.items); status != 200 {
			t.Fatalf("import %s: %d %s", c.typ, status, body)
		}
		worker.open(fmt.Sprintf("/tasks/%d/work", p.ID))
		worker.waitTask()
		worker.snap(c.typ)
		c.label(worker)
		worker.waitNext(2)
		if worker.waitTask() != "no-work" {
			t.Fatalf("%s: work left after labelling both items", c.typ)
		}

		// Every export format reads back to the same answers.
		var first map[string]string
		for _, f := range dsp.ExportFormats {
			status, b64 := req.fetchBase64(fmt.Sprintf("/tasks/%d/export?format=%s", p.ID, f))
			raw, _ := base64.StdEncoding.DecodeString(b64)
			if status != 200 {
				t.Fatalf("%s export %s: %d %s", c.typ, f, status, raw)
			}
			got, err := dsp.ReadExport(f, bytes.NewReader(raw), int64(len(raw)))
			if err != nil || len(got) != 2 {
				t.Fatalf("%s export %s: %v %v", c.typ, f, got, err)
			}
			if first == nil {
				first = got
			} else if fmt.Sprint(got) != fmt.Sprint(first) {
				t.Fatalf("%s: %s export %v differs from jsonl %v", c.typ, f, got, first)
			}
		}
		for i, id := range sortedIDs(first) {
			want := c.want[i]
			if want == "" { // boxes: the label, and where the drag went (within a few pixels)
				var a dsp.Answer
				json.Unmarshal([]byte(first[id]), &a)
				wantLabel, x := "car", 0.1
				if i == 1 {
					wantLabel, x = "person", 0.6
				}
				if len(a.Boxes) != 1 || a.Boxes[0].Label != wantLabel || a.Boxes[0].X < x-0.03 || a.Boxes[0].X > x+0.03 || a.Boxes[0].W < 0.35 && i == 0 {
					t.Fatalf("boxes %s: %s", id, first[id])
				}
				continue
			}
			if first[id] != want {
				t.Fatalf("%s item %s exported %s, want %s", c.typ, id, first[id], want)
			}
		}
	}

	// Bad input over HTTP.
	var p dsp.Project
	_, body := req.fetch("POST", "/api/tasks", `{"name":"bad input","task_type":"classify","spec":{"labels":["a","b"],"overlap":2}}`)
	json.Unmarshal([]byte(body), &p)
	items := fmt.Sprintf("/api/tasks/%d/items?format=csv", p.ID)
	for _, c := range []struct {
		body   string
		status int
		want   string
	}{
		{"id,text,gold\n1,fine,a\n2,\"broken\n", 400, "line 3"},
		{"id,text,gold\n1,fine,z\n", 400, `line 2: gold: label "z" is not one of a, b`},
		{"id,text\n" + strings.Repeat("1,"+strings.Repeat("x", 1000)+"\n", 250), 413, "larger than"},
	} {
		status, body := req.fetch("POST", items, c.body)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Fatalf("import %.40q: %d %s, want %d %q", c.body, status, body, c.status, c.want)
		}
	}
	if status, body := req.fetch("POST", fmt.Sprintf("/api/tasks/%d/items?format=xml", p.ID), "<a/>"); status != 400 || !strings.Contains(body, "use csv or jsonl") {
		t.Fatalf("unknown format: %d %s", status, body)
	}
	if status, body := worker.fetch("POST", items, "id,text\n1,x\n"); status != 403 || !strings.Contains(body, "only the project's requester") {
		t.Fatalf("a contributor imported: %d %s", status, body)
	}
	if status, body := req.fetch("POST", items, "id,text\n1,one\n2,two\n"); status != 200 {
		t.Fatalf("import: %d %s", status, body)
	}
	submit := fmt.Sprintf("/api/tasks/%d/submit", p.ID)
	_, body = worker.fetch("POST", fmt.Sprintf("/api/tasks/%d/next", p.ID), `{}`)
	var task dsp.Task
	json.Unmarshal([]byte(body), &task)
	// The first task is the import's first item; the second item is not leased to this worker.
	if status, body := worker.fetch("POST", submit, fmt.Sprintf(`{"item_id":%d,"answer":{"label":"a"},"duration_ms":3000}`, task.ItemID+1)); status != 400 || !strings.Contains(body, "not leased to you") {
		t.Fatalf("unleased answer: %d %s", status, body)
	}
	ans := fmt.Sprintf(`{"item_id":%d,"answer":{"label":"a"},"duration_ms":3000}`, task.ItemID)
	if status, body := worker.fetch("POST", submit, strings.Replace(ans, `"a"`, `"c"`, 1)); status != 400 || !strings.Contains(body, `label "c" is not one of a, b`) {
		t.Fatalf("bad label: %d %s", status, body)
	}
	if status, body := worker.fetch("POST", submit, ans); status != 200 {
		t.Fatalf("answer: %d %s", status, body)
	}
	if status, body := worker.fetch("POST", submit, ans); status != 400 || !strings.Contains(body, "already answered") {
		t.Fatalf("double submission: %d %s", status, body)
	}
	var info struct {
		Progress struct{ Answers, Items int64 }
	}
	_, body = req.fetch("GET", fmt.Sprintf("/api/tasks/%d", p.ID), "")
	json.Unmarshal([]byte(body), &info)
	if info.Progress.Answers != 1 || info.Progress.Items != 2 {
		t.Fatalf("after the refusals: %s", body)
	}
}

func sortedIDs(m map[string]string) []string {
	var ids []string
	for id := range m {
		ids = append(ids, id)
	}
	// b1.png < b2.png, m1 < m2, …: the item order of the import
	for i := range ids {
		for j := i + 1; j < len(ids); j++ {
			if ids[j] < ids[i] {
				ids[i], ids[j] = ids[j], ids[i]
			}
		}
	}
	return ids
}

// fetch runs a same-origin request from the page, with the CSRF token; it returns status and body.
func (u *user) fetch(method, path, body string) (int, string) {
	u.t.Helper()
	js := fmt.Sprintf(`(async () => {
		const csrf = document.querySelector('meta[name="csrf-token"]').content;
		const init = {method: %q, credentials: "same-origin", headers: {"X-CSRF-Token": csrf, "Accept": "application/json", "Content-Type": %q}};
		if (%q !== "GET") init.body = %q;
		const r = await fetch(%q, init);
		return JSON.stringify([r.status, await r.text()]);
	})()`, method, contentType(body), method, body, path)
	s, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		u.t.Fatalf("%s %s: %v", method, path, err)
	}
	var out []any
	json.Unmarshal([]byte(s), &out)
	body = out[1].(string)
	var e struct{ Error string }
	if json.Unmarshal([]byte(body), &e) == nil && e.Error != "" {
		body = "error: " + e.Error // the message as people read it
	}
	return int(out[0].(float64)), body
}

func contentType(body string) string {
	if strings.HasPrefix(strings.TrimSpace(body), "{") && !strings.Contains(body, "\n{") {
		return "application/json"
	}
	return "text/plain"
}

// fetchBase64 GETs a path and returns the status and the body in base64 (for binary downloads).
func (u *user) fetchBase64(path string) (int, string) {
	u.t.Helper()
	js := fmt.Sprintf(`(async () => {
		const r = await fetch(%q, {credentials: "same-origin"});
		const b = new Uint8Array(await r.arrayBuffer());
		let s = ""; for (const x of b) s += String.fromCharCode(x);
		return JSON.stringify([r.status, btoa(s)]);
	})()`, path)
	s, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		u.t.Fatal(err)
	}
	var out []any
	json.Unmarshal([]byte(s), &out)
	return int(out[0].(float64)), out[1].(string)
}

func (u *user) keys(keys ...string) {
	u.t.Helper()
	for _, k := range keys {
		u.do(chromedp.KeyEvent(k))
		time.Sleep(30 * time.Millisecond)
	}
}

func (u *user) ctrlEnter() {
	u.t.Helper()
	u.do(chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
}

func (u *user) typeText(s string) {
	u.t.Helper()
	u.do(chromedp.Click(chromedp.CSS("#answer-text")), chromedp.SendKeys(chromedp.CSS("#answer-text"), s))
}

// waitNext waits until the page counted n answers (the next task is then on screen).
func (u *user) waitNext(n int) {
	u.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		f := strings.Fields(u.eval(`document.querySelector("#work-count").textContent`))
		if c, _ := strconv.Atoi(f[0]); c >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	u.snap("failed")
	u.t.Fatalf("%s: answer %d was not taken: %s", u.name, n, u.text("#work-status"))
}

// selectText selects [start, end) of the item's plain text (spans' labels excluded), as a mouse would.
func (u *user) selectText(start, end int) {
	u.t.Helper()
	u.eval(fmt.Sprintf(`(() => {
		const root = document.querySelector("#item-text");
		const at = (off) => { const w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT); let n = 0;
			while (w.nextNode()) { const t = w.currentNode; if (t.parentNode.tagName === "SUP") continue;
				if (off <= n + t.length) return [t, off - n]; n += t.length; } };
		const [a, ao] = at(%d), [b, bo] = at(%d);
		const r = document.createRange(); r.setStart(a, ao); r.setEnd(b, bo);
		const s = getSelection(); s.removeAllRanges(); s.addRange(r); return "ok"; })()`, start, end))
}

// drag draws with the mouse on the item's image, from (x0, y0) to (x1, y1) in fractions of it.
func (u *user) drag(x0, y0, x1, y1 float64) {
	u.t.Helper()
	u.do(chromedp.WaitVisible(chromedp.CSS("#item-img")))
	var rect []float64
	s := u.eval(`(() => { const r = document.querySelector("#imgwrap").getBoundingClientRect(); return JSON.stringify([r.left, r.top, r.width, r.height]); })()`)
	json.Unmarshal([]byte(s), &rect)
	at := func(fx, fy float64) (float64, float64) { return rect[0] + fx*rect[2], rect[1] + fy*rect[3] }
	ax, ay := at(x0, y0)
	bx, by := at(x1, y1)
	mx, my := at((x0+x1)/2, (y0+y1)/2)
	u.do(chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, ax, ay, chromedp.ButtonType(input.MouseButtonLeft), chromedp.ClickCount(1)),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, mx, my, chromedp.ButtonType(input.MouseButtonLeft)),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, bx, by, chromedp.ButtonType(input.MouseButtonLeft)),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, bx, by, chromedp.ButtonType(input.MouseButtonLeft), chromedp.ClickCount(1)))
}
