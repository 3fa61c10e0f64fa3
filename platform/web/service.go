package web

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"sahara/sdk/protocol"
)

// What other services (the data platform, agents, the gateway) use to add their pages to the one
// app: the session, the layout, errors and JSON in the app's style, and chain actions that go
// through the same signing path as the marketplace's (dev-mode signing or the browser wallet).

// Session returns the request's signed-in address, if any.
func (a *App) Session(r *http.Request) (Session, bool) { return a.session(r) }

// RequireSession returns the session, or answers 401 (API) / sends the browser to sign in.
func (a *App) RequireSession(w http.ResponseWriter, r *http.Request) (Session, bool) {
	return a.requireSession(w, r)
}

// Render writes a page (a template added with AddTemplates) inside the layout.
func (a *App) Render(w http.ResponseWriter, r *http.Request, name, title string, data any) {
	a.render(w, r, name, title, data)
}

// RenderPart writes one template without the layout (htmx fragments).
func (a *App) RenderPart(w http.ResponseWriter, r *http.Request, name string, data any) {
	a.renderPart(w, r, name, data)
}

// Fail answers an error: JSON {"error": …} to scripts, an error page to people.
func (a *App) Fail(w http.ResponseWriter, r *http.Request, status int, format string, args ...any) {
	a.fail(w, r, status, format, args...)
}

// WriteJSON answers v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

// WantsJSON reports whether the request is an API call or asks for JSON.
func WantsJSON(r *http.Request) bool { return wantsJSON(r) }

// BadInput is a refusal of the user's input (400) for an Action's Build.
func BadInput(format string, args ...any) error { return bad(format, args...) }

// Action is a chain action a service adds to POST /api/tx/{name}: Build turns the request's JSON
// into a precompile call by from (it may refuse with BadInput); Done, optional, reads the result
// from the receipt once the transaction is in a block (and may record it).
type Action struct {
	Build func(ctx context.Context, params json.RawMessage, from common.Address) (protocol.Call, error)
	Done  func(ctx context.Context, r *types.Receipt, params json.RawMessage, from common.Address) (map[string]any, error)
}

// AddAction adds a chain action under name (which must not be one of the marketplace's).
func (a *App) AddAction(name string, act Action) {
	if a.actions == nil {
		a.actions = map[string]Action{}
	}
	a.actions[name] = act
}

// Denom is the chain's native denom.
func (a *App) Denom() string { return a.cfg.Denom }
