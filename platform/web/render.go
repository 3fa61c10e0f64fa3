package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"math/big"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"sahara/platform/indexer"
)

// page is what every template gets: the layout's needs and the page's own data.
type page struct {
	Title   string
	Path    string
	Session *Session
	Dev     bool // dev mode: labelled on every page
	// DevSigner: dev mode and the signed-in address is a dev account, so the server may sign for it.
	DevSigner bool
	DevAccs   []devAcc
	CSRF      string
	Nav       []NavItem
	ChainID   uint64
	Data      any
}

type devAcc struct {
	N       int
	Address string
}

// parseTemplates builds, once, one template set per page (the layout with that page as its
// content) and one set for fragments. Each is cloned before anything executes: html/template
// refuses to clone a set that has run.
func (a *App) parseTemplates() error {
	a.tmplMu.Lock()
	defer a.tmplMu.Unlock()
	if a.tmpl != nil {
		return nil
	}
	base := template.New("").Funcs(funcs(a.cfg.Denom))
	var names []string
	for _, fsys := range a.tfs {
		files, err := fs.Glob(fsys, "templates/*.html")
		if err != nil {
			return err
		}
		for _, f := range files {
			bz, err := fs.ReadFile(fsys, f)
			if err != nil {
				return err
			}
			name := strings.TrimSuffix(path.Base(f), ".html")
			if _, err := base.New(name).Parse(string(bz)); err != nil {
				return fmt.Errorf("template %s: %w", f, err)
			}
			names = append(names, name)
		}
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		if base.Lookup(name) == nil || name == "layout" {
			continue
		}
		t, err := base.Clone()
		if err != nil {
			return err
		}
		if _, err := t.New("content").Parse(`{{template "` + name + `" .}}`); err != nil {
			return err
		}
		pages[name] = t
	}
	parts, err := base.Clone()
	if err != nil {
		return err
	}
	a.pages, a.tmpl = pages, parts
	return nil
}

// render writes a page inside the layout.
func (a *App) render(w http.ResponseWriter, r *http.Request, name, title string, data any) {
	if err := a.parseTemplates(); err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	p := page{Title: title, Path: r.URL.Path, Dev: a.DevMode(), Nav: a.nav, ChainID: a.cfg.ChainID, Data: data}
	if s, ok := a.session(r); ok {
		p.Session = &s
		_, p.DevSigner = a.dev[s.Address]
	}
	if v, ok := r.Context().Value(csrfKey{}).(string); ok {
		p.CSRF = a.csrfToken(v)
	}
	for i, d := range a.cfg.Dev {
		p.DevAccs = append(p.DevAccs, devAcc{i, d.Address})
	}
	t := a.pages[name]
	if t == nil {
		http.Error(w, "no template "+name, 500)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		a.cfg.Log.Error("web: render", "page", name, "err", err)
		http.Error(w, "rendering the page failed: "+err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

var ten18 = new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)

// FormatAmount shows smallest units of an 18-decimal denom as whole tokens, e.g. "1.5".
func FormatAmount(units string) string {
	v, ok := new(big.Int).SetString(units, 10)
	if !ok {
		return units
	}
	neg := v.Sign() < 0
	v.Abs(v)
	q, r := new(big.Int).QuoRem(v, ten18, new(big.Int))
	s := q.String()
	if r.Sign() != 0 {
		frac := strings.TrimRight(fmt.Sprintf("%018s", r.String()), "0")
		s += "." + frac
	}
	if len(q.String()) > 3 { // thousands separators on the whole part
		whole := q.String()
		var b strings.Builder
		for i, c := range whole {
			if i > 0 && (len(whole)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		s = b.String() + strings.TrimPrefix(s, whole)
	}
	if neg {
		s = "-" + s
	}
	return s
}

// ParseAmount reads "1.5" (tokens of 18 decimals) or "1500asah"-style smallest units.
func ParseAmount(s, denom string) (*big.Int, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, ",", ""))
	if s == "" {
		return new(big.Int), nil
	}
	if u, ok := strings.CutSuffix(s, denom); ok {
		v, ok := new(big.Int).SetString(strings.TrimSpace(u), 10)
		if !ok || v.Sign() < 0 {
			return nil, fmt.Errorf("%q is not a whole number of %s", s, denom)
		}
		return v, nil
	}
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(s, "SAH"), "sah"))
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 18 {
		return nil, fmt.Errorf("%q has more than 18 decimals", s)
	}
	v, ok := new(big.Int).SetString(whole+frac+strings.Repeat("0", 18-len(frac)), 10)
	if !ok || v.Sign() < 0 || whole == "" && frac == "" {
		return nil, fmt.Errorf("%q is not an amount: write tokens like 1.5 or units like 1500%s", s, denom)
	}
	return v, nil
}

func funcs(denom string) template.FuncMap {
	return template.FuncMap{
		"sah": func(units string) string { return FormatAmount(units) + " SAH" },
		// coin shows a coin string ("1000asah") in tokens; other denoms as they are.
		"coin": func(c string) string {
			if c == "" {
				return "free"
			}
			var out []string
			for _, part := range strings.Split(c, ",") {
				if u, ok := strings.CutSuffix(part, denom); ok {
					out = append(out, FormatAmount(u)+" SAH")
				} else {
					out = append(out, part)
				}
			}
			return strings.Join(out, " + ")
		},
		"short": func(addr string) string {
			if len(addr) < 12 {
				return addr
			}
			return addr[:6] + "…" + addr[len(addr)-4:]
		},
		"when": func(unix int64) string {
			if unix == 0 {
				return "—"
			}
			return time.Unix(unix, 0).UTC().Format("2006-01-02 15:04 UTC")
		},
		"pct": func(shares any) string {
			var v float64
			switch x := shares.(type) {
			case uint64:
				v = float64(x)
			case int64:
				v = float64(x)
			}
			return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.4f", v/1e6), "0"), ".") + "%"
		},
		"bps": func(b int) string {
			return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", float64(b)/100), "0"), ".") + "%"
		},
		// amount shows smallest units of an 18-decimal denom with its name (SAH for the native one).
		"amount": func(units, d string) string {
			if d == denom {
				return FormatAmount(units) + " SAH"
			}
			if len(d) > 16 {
				d = d[:12] + "…" + d[len(d)-4:]
			}
			return FormatAmount(units) + " " + d
		},
		// denomName is a denom as a label: SAH for the native one, long ones shortened.
		"denomName": func(d string) string {
			if d == denom {
				return "SAH"
			}
			if len(d) > 16 {
				return d[:12] + "…" + d[len(d)-4:]
			}
			return d
		},
		"percent":   func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) },
		"bytes":     humanBytes,
		"kind":      kindLabel,
		"role":      roleLabel,
		"terms":     termsWords,
		"linkable":  linkable,
		"truncate":  truncate,
		"lower":     strings.ToLower,
		"add":       func(a, b int) int { return a + b },
		"hasPrefix": strings.HasPrefix,
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func kindLabel(k string) string {
	switch k {
	case "DATASET":
		return "Dataset"
	case "MODEL":
		return "Model"
	case "AGENT":
		return "Agent"
	case "KNOWLEDGE_BASE":
		return "Knowledge base"
	}
	return k
}

func roleLabel(r string) string {
	switch r {
	case indexer.RoleShareholder:
		return "Payments (shareholder)"
	case indexer.RoleAncestor:
		return "Royalties from derivatives (ancestor)"
	case indexer.RoleLicenseFee:
		return "License fees (from licensees)"
	}
	return r
}

func truncate(n int, s string) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// linkable returns the URI when it is safe to make a link of (http, https, ipfs), else "".
// Anything else (javascript:, data:, …) is shown as text only.
func linkable(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	switch u.Scheme {
	case "http", "https", "ipfs":
		return u.String()
	}
	return ""
}

// termsWords says what license terms allow, in plain words.
func termsWords(t indexer.Terms) []string {
	var out []string
	if t.Commercial {
		out = append(out, "Commercial use is allowed.")
	} else {
		out = append(out, "Non-commercial use only.")
	}
	if t.Derivatives {
		if t.RevShareBps > 0 {
			out = append(out, fmt.Sprintf("You may build derivatives (train, fine-tune, derive); %s of every payment into them flows back to this asset.", strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", float64(t.RevShareBps)/100), "0"), ".")+"%"))
		} else {
			out = append(out, "You may build derivatives, with no revenue share.")
		}
	} else {
		out = append(out, "No derivatives.")
	}
	if t.Duration > 0 {
		out = append(out, fmt.Sprintf("The license lasts %s from minting.", (time.Duration(t.Duration)*time.Second).String()))
	} else {
		out = append(out, "The license never expires.")
	}
	if t.Transferable {
		out = append(out, "It can be transferred.")
	}
	if t.Revocable {
		out = append(out, "The owner may revoke it.")
	}
	if t.SupplyCap > 0 {
		out = append(out, fmt.Sprintf("At most %d licenses are minted.", t.SupplyCap))
	}
	return out
}

// renderPart writes one named template without the layout (htmx fragments).
func (a *App) renderPart(w http.ResponseWriter, r *http.Request, name string, data any) {
	if err := a.parseTemplates(); err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	var buf bytes.Buffer
	if err := a.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "rendering failed: "+err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}
