// Package dspweb adds the data platform's pages and API to the web app: requesters create
// projects, import items, fund the reward pool and watch progress; contributors label with the
// keyboard and see their earnings; reviewers decide low-confidence items. Every page has a JSON
// twin under /api/tasks.
package dspweb

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"sahara/platform/dsp"
	"sahara/platform/store"
	"sahara/platform/web"
	"sahara/sdk/protocol"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var static embed.FS

// Handler serves the data platform inside the web app.
type Handler struct {
	app       *web.App
	svc       *dsp.Service
	maxImport int64
}

// Register adds the pages, the API, the navigation link and the "dsp-fund" chain action.
// maxImport bounds an imported file (0: 64 MiB).
func Register(app *web.App, svc *dsp.Service, maxImport int64) *Handler {
	if maxImport == 0 {
		maxImport = 64 << 20
	}
	h := &Handler{app: app, svc: svc, maxImport: maxImport}
	app.AddTemplates(templates)
	app.AddNav("Data tasks", "/tasks")
	app.AddAction("dsp-fund", web.Action{Build: h.buildFund, Done: h.funded})
	m := func(pattern string, f http.HandlerFunc) { app.Handle(pattern, f) }
	m("GET /dsp/static/", http.StripPrefix("/dsp", http.FileServerFS(static)).ServeHTTP)
	m("GET /tasks", h.list)
	m("GET /api/tasks", h.list)
	m("GET /tasks/new", h.newPage)
	m("POST /tasks/new", h.create)
	m("POST /api/tasks", h.create)
	m("GET /tasks/earnings", h.earnings)
	m("GET /api/tasks/earnings", h.earnings)
	m("GET /tasks/{id}", h.project)
	m("GET /api/tasks/{id}", h.project)
	m("POST /api/tasks/{id}/items", h.importItems)
	m("POST /api/tasks/{id}/images", h.importImages)
	m("GET /tasks/{id}/work", h.workPage)
	m("POST /api/tasks/{id}/next", h.next)
	m("POST /api/tasks/{id}/submit", h.submit)
	m("GET /tasks/{id}/review", h.reviewPage)
	m("GET /api/tasks/{id}/review", h.reviewPage)
	m("POST /api/tasks/{id}/review/{item}", h.review)
	m("POST /api/tasks/{id}/epoch", h.epoch)
	m("POST /api/tasks/{id}/mint", h.mint)
	m("GET /tasks/{id}/export", h.export)
	m("GET /api/tasks/{id}/export", h.export)
	m("GET /tasks/{id}/items/{item}/image", h.image)
	return h
}

// fail maps service errors to statuses: bad input 400, not found 404, banned/forbidden 403.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var in *dsp.InputError
	switch {
	case errors.As(err, &in):
		h.app.Fail(w, r, http.StatusBadRequest, "%s", in.Msg)
	case errors.Is(err, dsp.ErrNotFound):
		h.app.Fail(w, r, http.StatusNotFound, "%v", err)
	case errors.Is(err, dsp.ErrBanned), errors.Is(err, dsp.ErrForbidden):
		h.app.Fail(w, r, http.StatusForbidden, "%v", err)
	case errors.Is(err, dsp.ErrNoWork):
		h.app.Fail(w, r, http.StatusConflict, "%v", err)
	default:
		h.app.Fail(w, r, http.StatusInternalServerError, "%v", err)
	}
}

func addr(s web.Session) string { return strings.ToLower(s.Address.Hex()) }

func (h *Handler) projectOf(w http.ResponseWriter, r *http.Request) (*dsp.Project, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.app.Fail(w, r, http.StatusNotFound, "no project %q", r.PathValue("id"))
		return nil, false
	}
	p, err := h.svc.Project(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	return p, true
}

// owned: the project, if the signed-in address owns it.
// signedIn: the signed-in address and the project of the path.
func (h *Handler) signedIn(w http.ResponseWriter, r *http.Request) (*dsp.Project, web.Session, bool) {
	s, ok := h.app.RequireSession(w, r)
	if !ok {
		return nil, s, false
	}
	p, ok := h.projectOf(w, r)
	return p, s, ok
}

func (h *Handler) owned(w http.ResponseWriter, r *http.Request) (*dsp.Project, web.Session, bool) {
	p, s, ok := h.signedIn(w, r)
	if !ok {
		return nil, s, false
	}
	if !strings.EqualFold(p.Owner, s.Address.Hex()) {
		h.app.Fail(w, r, http.StatusForbidden, "only the project's requester (%s) may do this", p.Owner)
		return nil, s, false
	}
	return p, s, true
}

// GET /tasks: open projects to work on, and the signed-in requester's own.
func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	open, err := h.svc.Projects(r.Context(), "")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var mine []*dsp.Project
	if s, ok := h.app.Session(r); ok {
		if mine, err = h.svc.Projects(r.Context(), addr(s)); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if web.WantsJSON(r) {
		web.WriteJSON(w, 200, map[string]any{"open": open, "mine": mine})
		return
	}
	h.app.Render(w, r, "tasks", "Data tasks", map[string]any{"Open": open, "Mine": mine})
}

func (h *Handler) newPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.app.RequireSession(w, r); !ok {
		return
	}
	h.app.Render(w, r, "task_new", "New labelling project", map[string]any{"Types": dsp.TaskTypes})
}

// POST /tasks/new (form) or /api/tasks (JSON dsp.NewProject): create a project.
func (h *Handler) create(w http.ResponseWriter, r *http.Request) {
	s, ok := h.app.RequireSession(w, r)
	if !ok {
		return
	}
	var np dsp.NewProject
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&np); err != nil {
			h.app.Fail(w, r, http.StatusBadRequest, "want a JSON project: %v", err)
			return
		}
	} else {
		var err error
		if np, err = formProject(r, h.app.Denom()); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	p, err := h.svc.CreateProject(r.Context(), addr(s), np)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if web.WantsJSON(r) {
		web.WriteJSON(w, 201, p)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/tasks/%d", p.ID), http.StatusSeeOther)
}

// formProject reads the new-project form.
func formProject(r *http.Request, denom string) (dsp.NewProject, error) {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	num := func(k string, def float64) float64 {
		v, err := strconv.ParseFloat(f(k), 64)
		if err != nil {
			return def
		}
		return v
	}
	np := dsp.NewProject{Name: f("name"), Instructions: f("instructions"), TaskType: f("task_type")}
	for _, l := range strings.Split(f("labels"), ",") {
		if l = strings.TrimSpace(l); l != "" {
			np.Spec.Labels = append(np.Spec.Labels, l)
		}
	}
	sp := &np.Spec
	sp.Overlap = int(num("overlap", 3))
	sp.Dynamic = f("dynamic") != ""
	sp.Confidence = num("confidence", 0) / 100
	sp.ReviewBelow = num("review_below", 0) / 100
	sp.ControlRate = num("control_rate", 10) / 100
	sp.Qualification = int(num("qualification", 0))
	sp.MinAccuracy = num("min_accuracy", 0) / 100
	sp.MinSeconds = num("min_seconds", 0)
	sp.Method = f("method")
	sp.Prelabel = f("prelabel") != ""
	sp.BonusBps = int(num("bonus_pct", 0) * 100)
	sp.RequesterShare = num("requester_share", 0)
	sp.RatingMin, sp.RatingMax = int(num("rating_min", 1)), int(num("rating_max", 5))
	sp.Rates = map[string]string{}
	if v := f("rate"); v != "" {
		amt, err := web.ParseAmount(v, denom)
		if err != nil || amt.Sign() <= 0 {
			return np, &dsp.InputError{Msg: fmt.Sprintf("rate %q: the SAH paid per accepted answer, e.g. 0.5", v)}
		}
		sp.Rates[denom] = amt.String()
	}
	if d, v := f("partner_denom"), f("partner_rate"); d != "" && v != "" {
		amt, err := web.ParseAmount(v, d)
		if err != nil || amt.Sign() <= 0 {
			return np, &dsp.InputError{Msg: fmt.Sprintf("partner rate %q: tokens per accepted answer", v)}
		}
		sp.Rates[d] = amt.String()
	}
	return np, nil
}

// GET /tasks/{id}: the requester's dashboard, or the project's card for everyone else.
func (h *Handler) project(w http.ResponseWriter, r *http.Request) {
	p, ok := h.projectOf(w, r)
	if !ok {
		return
	}
	s, signed := h.app.Session(r)
	owner := signed && strings.EqualFold(p.Owner, s.Address.Hex())
	data := map[string]any{"P": p, "Owner": owner, "Categorical": dsp.Categorical(p.TaskType), "Formats": dsp.ExportFormats}
	if owner || web.WantsJSON(r) {
		pr, err := h.svc.Progress(r.Context(), p.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		data["Progress"] = pr
		series := map[string]any{"t": pr.Buckets, "answers": pr.Throughput, "control_acc": pr.ControlAcc}
		data["Series"] = series
	}
	if signed {
		if w2, err := h.svc.WorkerStanding(r.Context(), p.ID, addr(s)); err == nil {
			data["Me"] = w2
		}
	}
	if web.WantsJSON(r) {
		web.WriteJSON(w, 200, data)
		return
	}
	h.app.Render(w, r, "task_project", p.Name, data)
}

// POST /api/tasks/{id}/items?format=csv|jsonl: the body is the file.
func (h *Handler) importItems(w http.ResponseWriter, r *http.Request) {
	p, _, ok := h.owned(w, r)
	if !ok {
		return
	}
	format := r.URL.Query().Get("format")
	body := http.MaxBytesReader(w, r.Body, h.maxImport)
	res, err := h.svc.Import(r.Context(), p.ID, format, body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		h.app.Fail(w, r, http.StatusRequestEntityTooLarge, "the file is larger than %d MiB: split it into several imports", h.maxImport>>20)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	web.WriteJSON(w, 200, res)
}

// POST /api/tasks/{id}/images (multipart "file" fields): each image goes to the blob store and
// becomes an item (its id the file name).
func (h *Handler) importImages(w http.ResponseWriter, r *http.Request) {
	p, _, ok := h.owned(w, r)
	if !ok {
		return
	}
	st := h.svc.Store()
	if st == nil {
		h.app.Fail(w, r, http.StatusServiceUnavailable, "this server has no blob store for images")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.maxImport)
	mr, err := r.MultipartReader()
	if err != nil {
		h.app.Fail(w, r, http.StatusBadRequest, "want multipart/form-data with image files: %v", err)
		return
	}
	var lines bytes.Buffer
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.app.Fail(w, r, http.StatusRequestEntityTooLarge, "the upload is larger than %d MiB: send fewer images at once", h.maxImport>>20)
			return
		}
		if err != nil {
			h.app.Fail(w, r, http.StatusBadRequest, "reading the upload: %v", err)
			return
		}
		if part.FormName() != "file" || part.FileName() == "" {
			continue
		}
		head := make([]byte, 512)
		n, _ := io.ReadFull(part, head)
		ct := http.DetectContentType(head[:n])
		if !strings.HasPrefix(ct, "image/") {
			h.app.Fail(w, r, http.StatusBadRequest, "%s is %s, not an image", part.FileName(), ct)
			return
		}
		m, _, err := st.Put(io.MultiReader(bytes.NewReader(head[:n]), part), part.FileName())
		if err != nil {
			h.fail(w, r, err)
			return
		}
		row, _ := json.Marshal(map[string]string{"id": part.FileName(), "image": m.Root.String()})
		lines.Write(append(row, '\n'))
	}
	res, err := h.svc.Import(r.Context(), p.ID, "jsonl", &lines)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	web.WriteJSON(w, 200, res)
}

// GET /tasks/{id}/items/{item}/image: an item's image from the blob store.
func (h *Handler) image(w http.ResponseWriter, r *http.Request) {
	p, _, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("item"), 10, 64)
	it, err := h.svc.Item(r.Context(), p.ID, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	root, err := store.ParseHash(it.Data["image"])
	if err != nil || h.svc.Store() == nil {
		h.app.Fail(w, r, http.StatusNotFound, "item %d has no stored image", id)
		return
	}
	var buf bytes.Buffer
	if err := h.svc.Store().Get(root, &buf); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", http.DetectContentType(buf.Bytes()))
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Write(buf.Bytes())
}

func (h *Handler) workPage(w http.ResponseWriter, r *http.Request) {
	p, _, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	h.app.Render(w, r, "task_work", "Label · "+p.Name, map[string]any{"P": p})
}

// POST /api/tasks/{id}/next: the contributor's next task.
func (h *Handler) next(w http.ResponseWriter, r *http.Request) {
	p, s, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	t, err := h.svc.Next(r.Context(), p.ID, addr(s))
	if errors.Is(err, dsp.ErrNoWork) {
		web.WriteJSON(w, 200, map[string]any{"done": true, "message": err.Error()})
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	web.WriteJSON(w, 200, t)
}

// POST /api/tasks/{id}/submit {item_id, answer, duration_ms, next}: with next, the answer's
// response carries the contributor's next task (one round trip per answer).
func (h *Handler) submit(w http.ResponseWriter, r *http.Request) {
	p, s, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	var req struct {
		ItemID     int64           `json:"item_id"`
		Answer     json.RawMessage `json:"answer"`
		DurationMs int64           `json:"duration_ms"`
		Next       bool            `json:"next"` // lease the next task in the same transaction
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 256<<10)).Decode(&req); err != nil || req.ItemID == 0 || len(req.Answer) == 0 {
		h.app.Fail(w, r, http.StatusBadRequest, `want {"item_id": N, "answer": {...}, "duration_ms": N}`)
		return
	}
	res, err := h.svc.Submit(r.Context(), p.ID, addr(s), req.ItemID, req.Answer, time.Duration(req.DurationMs)*time.Millisecond, req.Next)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	web.WriteJSON(w, 200, res)
}

func (h *Handler) reviewPage(w http.ResponseWriter, r *http.Request) {
	p, s, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	if !p.MayReview(s.Address.Hex()) {
		h.app.Fail(w, r, http.StatusForbidden, "only the requester and the project's reviewers review its items")
		return
	}
	q, err := h.svc.ReviewQueue(r.Context(), p.ID, 50)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if web.WantsJSON(r) {
		web.WriteJSON(w, 200, map[string]any{"items": q})
		return
	}
	h.app.Render(w, r, "task_review", "Review · "+p.Name, map[string]any{"P": p, "Queue": q})
}

// POST /api/tasks/{id}/review/{item} {answer}.
func (h *Handler) review(w http.ResponseWriter, r *http.Request) {
	p, s, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	var req struct {
		Answer json.RawMessage `json:"answer"`
	}
	item, _ := strconv.ParseInt(r.PathValue("item"), 10, 64)
	if err := json.NewDecoder(io.LimitReader(r.Body, 256<<10)).Decode(&req); err != nil || len(req.Answer) == 0 {
		h.app.Fail(w, r, http.StatusBadRequest, `want {"answer": {...}}`)
		return
	}
	if err := h.svc.Review(r.Context(), p.ID, item, addr(s), req.Answer); err != nil {
		h.fail(w, r, err)
		return
	}
	web.WriteJSON(w, 200, map[string]any{"ok": true})
}

// POST /api/tasks/{id}/epoch: decide pending answers, record payout batches and settle them.
func (h *Handler) epoch(w http.ResponseWriter, r *http.Request) {
	p, _, ok := h.owned(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Minute)
	defer cancel()
	res, err := h.svc.CloseEpoch(ctx, p.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	settled, err := h.svc.Settle(ctx, p.ID)
	if err != nil {
		h.app.Fail(w, r, http.StatusBadGateway, "the epoch is recorded (%d batches) but settling stopped: %v; it resumes on the next payout", len(res.Batches), err)
		return
	}
	web.WriteJSON(w, 200, map[string]any{"epoch": res, "settled": settled})
}

// POST /api/tasks/{id}/mint {name}: register the finished dataset, shared by its contributors.
func (h *Handler) mint(w http.ResponseWriter, r *http.Request) {
	p, _, ok := h.owned(w, r)
	if !ok {
		return
	}
	var req struct {
		Name string `json:"name"`
	}
	json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req)
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Minute)
	defer cancel()
	id, err := h.svc.MintDataset(ctx, p.ID, req.Name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	web.WriteJSON(w, 200, map[string]any{"asset_id": id})
}

// GET /tasks/{id}/export?format=jsonl|csv|hf.
func (h *Handler) export(w http.ResponseWriter, r *http.Request) {
	p, _, ok := h.owned(w, r)
	if !ok {
		return
	}
	format := r.URL.Query().Get("format")
	var buf bytes.Buffer
	if err := h.svc.Export(r.Context(), p.ID, format, &buf); err != nil {
		h.fail(w, r, err)
		return
	}
	ext, ct := format, "application/x-ndjson"
	switch format {
	case "csv":
		ct = "text/csv"
	case "hf":
		ext, ct = "zip", "application/zip"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="project-%d.%s"`, p.ID, ext))
	w.Write(buf.Bytes())
}

// GET /tasks/earnings: the signed-in contributor's earnings.
func (h *Handler) earnings(w http.ResponseWriter, r *http.Request) {
	s, ok := h.app.RequireSession(w, r)
	if !ok {
		return
	}
	es, counts, err := h.svc.Earnings(r.Context(), addr(s))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if web.WantsJSON(r) {
		web.WriteJSON(w, 200, map[string]any{"earnings": es, "answers": counts})
		return
	}
	h.app.Render(w, r, "task_earnings", "Your earnings", map[string]any{"Earnings": es, "Answers": counts})
}

// ---- the dsp-fund chain action: the requester escrows the project's pool ----

type fundParams struct {
	Project       int64  `json:"project"`
	Deposit       string `json:"deposit"`        // SAH
	PartnerAmount string `json:"partner_amount"` // tokens of the project's partner denom
	Days          int64  `json:"days"`
}

func (h *Handler) buildFund(ctx context.Context, raw json.RawMessage, from common.Address) (protocol.Call, error) {
	var fp fundParams
	if err := json.Unmarshal(raw, &fp); err != nil {
		return protocol.Call{}, web.BadInput("want {project, deposit, partner_amount, days}: %v", err)
	}
	p, err := h.svc.Project(ctx, fp.Project)
	if err != nil {
		return protocol.Call{}, web.BadInput("%v", err)
	}
	if !strings.EqualFold(p.Owner, from.Hex()) {
		return protocol.Call{}, web.BadInput("only the project's requester funds its pool")
	}
	if p.PoolID != 0 {
		return protocol.Call{}, web.BadInput("project %d is already funded by pool %d", p.ID, p.PoolID)
	}
	if len(p.Spec.Rates) == 0 {
		return protocol.Call{}, web.BadInput("the project pays nothing (no rates): there is no pool to fund")
	}
	if fp.Days <= 0 {
		fp.Days = 30
	}
	pool := protocol.Pool{Name: p.Name, Authorities: []common.Address{h.svc.Authority()}, MaxBonusBps: uint32(p.Spec.BonusBps),
		Deadline: time.Now().Add(time.Duration(fp.Days) * 24 * time.Hour).Unix(), RequesterShare: uint64(p.Spec.RequesterShare * 1e6)}
	for _, d := range p.Denoms() {
		v := fp.Deposit
		if d != h.app.Denom() {
			v = fp.PartnerAmount
		}
		amt, err := web.ParseAmount(v, d)
		if err != nil || amt.Sign() <= 0 {
			return protocol.Call{}, web.BadInput("deposit in %s %q: give a positive amount", d, v)
		}
		rate, _ := new(big.Int).SetString(p.Spec.Rates[d], 10)
		pool.Denoms = append(pool.Denoms, d)
		pool.Deposits = append(pool.Deposits, amt)
		pool.Rates = append(pool.Rates, rate)
	}
	return protocol.CreatePool(pool)
}

func (h *Handler) funded(ctx context.Context, rc *types.Receipt, raw json.RawMessage, from common.Address) (map[string]any, error) {
	var fp fundParams
	json.Unmarshal(raw, &fp)
	id, ok := protocol.PoolID(rc)
	if !ok {
		return nil, fmt.Errorf("no PoolCreated log in %s", rc.TxHash.Hex())
	}
	if err := h.svc.LinkPool(ctx, fp.Project, id); err != nil {
		return nil, err
	}
	return map[string]any{"pool_id": id}, nil
}
