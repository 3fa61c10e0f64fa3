package indexer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Source reads blocks from a node's CometBFT RPC (JSON over HTTP): the head, block times and
// transaction counts (/blockchain, 20 blocks a call) and the events of a block (/block_results).
type Source struct {
	Base string // e.g. http://127.0.0.1:26657
	HTTP *http.Client
}

// NewSource returns a source for a CometBFT RPC address (host:port or a URL).
func NewSource(addr string) *Source {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	addr = strings.Replace(addr, "tcp://", "http://", 1)
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	return &Source{Base: strings.TrimSuffix(addr, "/"), HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

func (s *Source) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, "GET", s.Base+path, nil)
	if err != nil {
		return err
	}
	res, err := s.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Message string `json:"message"`
			Data    string `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("%s: %d %s", path, res.StatusCode, strings.TrimSpace(string(body)))
	}
	if env.Error != nil {
		return fmt.Errorf("%s: %s %s", path, env.Error.Message, env.Error.Data)
	}
	return json.Unmarshal(env.Result, out)
}

// Head is the node's latest executed height: the application's last committed block
// (/abci_info). CometBFT's /status reports a block as soon as it is stored, before the
// application has executed it, when its events do not exist yet; with blocks of a thousand
// transactions that is seconds earlier.
func (s *Source) Head(ctx context.Context) (int64, error) {
	var info struct {
		Response struct {
			Height string `json:"last_block_height"`
		} `json:"response"`
	}
	if err := s.get(ctx, "/abci_info", &info); err != nil {
		return 0, err
	}
	if info.Response.Height == "" {
		return 0, nil // nothing executed yet
	}
	return strconv.ParseInt(info.Response.Height, 10, 64)
}

// Meta is what the indexer needs of a block header.
type Meta struct {
	Height int64
	Time   time.Time
	NumTxs int
}

// Metas returns the headers of min..max (at most 20), lowest first.
func (s *Source) Metas(ctx context.Context, min, max int64) ([]Meta, error) {
	var r struct {
		BlockMetas []struct {
			Header struct {
				Height string    `json:"height"`
				Time   time.Time `json:"time"`
			} `json:"header"`
			NumTxs string `json:"num_txs"`
		} `json:"block_metas"`
	}
	if err := s.get(ctx, fmt.Sprintf("/blockchain?minHeight=%d&maxHeight=%d", min, max), &r); err != nil {
		return nil, err
	}
	out := make([]Meta, 0, len(r.BlockMetas))
	for i := len(r.BlockMetas) - 1; i >= 0; i-- { // the node lists newest first
		m := r.BlockMetas[i]
		h, _ := strconv.ParseInt(m.Header.Height, 10, 64)
		n, _ := strconv.Atoi(m.NumTxs)
		out = append(out, Meta{Height: h, Time: m.Header.Time, NumTxs: n})
	}
	return out, nil
}

// Event is one ABCI event with its attributes in order.
type Event struct {
	Type  string
	Attrs []Attr
}

type Attr struct{ Key, Value string }

// Get returns an attribute's value ("" when absent).
func (e Event) Get(key string) string {
	for _, a := range e.Attrs {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

// TxResult is one transaction's outcome in a block.
type TxResult struct {
	Code   uint32
	Events []Event
}

// BlockResults returns the transactions' results of a block.
func (s *Source) BlockResults(ctx context.Context, height int64) ([]TxResult, error) {
	var r struct {
		TxsResults []struct {
			Code   uint32 `json:"code"`
			Events []struct {
				Type       string `json:"type"`
				Attributes []struct {
					Key   string `json:"key"`
					Value string `json:"value"`
				} `json:"attributes"`
			} `json:"events"`
		} `json:"txs_results"`
	}
	if err := s.get(ctx, fmt.Sprintf("/block_results?height=%d", height), &r); err != nil {
		return nil, err
	}
	out := make([]TxResult, len(r.TxsResults))
	for i, t := range r.TxsResults {
		out[i].Code = t.Code
		for _, e := range t.Events {
			ev := Event{Type: e.Type, Attrs: make([]Attr, len(e.Attributes))}
			for j, a := range e.Attributes {
				ev.Attrs[j] = Attr{a.Key, a.Value}
			}
			out[i].Events = append(out[i].Events, ev)
		}
	}
	return out, nil
}
