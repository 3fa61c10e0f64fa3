package dsp

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"
)

// Spec is a project's labelling schema and its quality and reward rules.
type Spec struct {
	Labels []string `json:"labels,omitempty"` // classify, multi, spans, boxes

	RatingMin       int `json:"rating_min,omitempty"`
	RatingMax       int `json:"rating_max,omitempty"`
	RatingTolerance int `json:"rating_tolerance,omitempty"` // off by this much still agrees

	// Overlap is the answers each item gets; with Dynamic, items stop early once the aggregate's
	// confidence reaches Confidence (after MinOverlap answers) and Overlap is the most they get.
	Overlap    int     `json:"overlap"`
	Dynamic    bool    `json:"dynamic,omitempty"`
	MinOverlap int     `json:"min_overlap,omitempty"`
	Confidence float64 `json:"confidence,omitempty"`
	// ReviewBelow sends a finished item whose confidence is below it to the review queue.
	ReviewBelow float64 `json:"review_below,omitempty"`

	ControlRate   float64 `json:"control_rate"`  // share of tasks that are control items
	Qualification int     `json:"qualification"` // control tasks a newcomer answers first
	MinAccuracy   float64 `json:"min_accuracy"`  // control accuracy under which a contributor is banned
	MinControls   int     `json:"min_controls"`  // control answers before the accuracy rule applies
	MinSeconds    float64 `json:"min_seconds"`   // answers faster than this are too fast
	MaxFast       int     `json:"max_fast"`      // too-fast answers before a ban
	LeaseSeconds  int     `json:"lease_seconds"` // how long a task stays with a contributor
	Method        string  `json:"method"`        // truth method for categorical types

	// Rates pays per accepted answer, per denom (smallest units); BonusBps more to contributors
	// whose control accuracy is at least BonusSkill.
	Rates      map[string]string `json:"rates,omitempty"`
	BonusBps   int               `json:"bonus_bps,omitempty"`
	BonusSkill float64           `json:"bonus_skill,omitempty"`
	// RequesterShare is the requester's part of the minted dataset, in percent.
	RequesterShare float64 `json:"requester_share,omitempty"`
	// Reviewers may decide review items, besides the owner (0x addresses).
	Reviewers []string `json:"reviewers,omitempty"`
	// Prelabel: the built-in text classifier suggests labels and orders work by its uncertainty.
	Prelabel bool `json:"prelabel,omitempty"`
}

// Project is one labelling project.
type Project struct {
	ID           int64  `json:"id"`
	Owner        string `json:"owner"` // the requester's 0x address
	Name         string `json:"name"`
	Instructions string `json:"instructions"`
	TaskType     string `json:"task_type"`
	Spec         Spec   `json:"spec"`
	Status       string `json:"status"` // open or closed
	PoolID       uint64 `json:"pool_id"`
	DatasetID    uint64 `json:"dataset_id"`
	NextBatch    uint64 `json:"next_batch"`
	CreatedAt    int64  `json:"created_at"`
}

// MayReview reports whether addr (0x) may decide the project's review items.
func (p *Project) MayReview(addr string) bool {
	if strings.EqualFold(addr, p.Owner) {
		return true
	}
	for _, r := range p.Spec.Reviewers {
		if strings.EqualFold(r, addr) {
			return true
		}
	}
	return false
}

// Denoms are the project's reward denoms, sorted.
func (p *Project) Denoms() []string {
	var ds []string
	for d := range p.Spec.Rates {
		ds = append(ds, d)
	}
	sort.Strings(ds)
	return ds
}

// InputError is a refusal of the caller's input (HTTP 400), with what to fix.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErr(format string, a ...any) error { return &InputError{fmt.Sprintf(format, a...)} }

// ErrNotFound: no such project, item or lease.
var ErrNotFound = errors.New("not found")

// withDefaults fills the rules a requester left out with sensible values.
func (s Spec) withDefaults(taskType string) Spec {
	if s.Overlap == 0 {
		s.Overlap = 3
	}
	if s.Dynamic && s.MinOverlap == 0 {
		s.MinOverlap = 2
	}
	if s.Dynamic && s.Confidence == 0 {
		s.Confidence = 0.9
	}
	if s.MinControls == 0 {
		s.MinControls = max(s.Qualification, 3)
	}
	if s.MaxFast == 0 {
		s.MaxFast = 3
	}
	if s.LeaseSeconds == 0 {
		s.LeaseSeconds = 600
	}
	if s.Method == "" {
		s.Method = "ds"
	}
	if s.BonusBps > 0 && s.BonusSkill == 0 {
		s.BonusSkill = 0.9
	}
	if taskType == Rating && s.RatingMax == 0 {
		s.RatingMin, s.RatingMax = 1, 5
	}
	return s
}

func (s Spec) validate(taskType string) error {
	found := false
	for _, t := range TaskTypes {
		found = found || t == taskType
	}
	if !found {
		return inputErr("task_type %q: use one of %s", taskType, strings.Join(TaskTypes, ", "))
	}
	switch taskType {
	case Classify, Multi, Spans, Boxes:
		if len(s.Labels) < 1 || (taskType == Classify && len(s.Labels) < 2) {
			return inputErr("labels: a %s project needs labels to choose from (classify: at least two)", taskType)
		}
		seen := map[string]bool{}
		for _, l := range s.Labels {
			if strings.TrimSpace(l) == "" || len(l) > 64 || seen[l] {
				return inputErr("labels: %q must be 1 to 64 characters and listed once", l)
			}
			seen[l] = true
		}
		if len(s.Labels) > 50 {
			return inputErr("labels: at most 50")
		}
	case Rating:
		if s.RatingMax <= s.RatingMin || s.RatingMax-s.RatingMin > 100 {
			return inputErr("rating_min %d and rating_max %d: want min < max, at most 100 apart", s.RatingMin, s.RatingMax)
		}
	}
	switch {
	case s.Overlap < 1 || s.Overlap > 50:
		return inputErr("overlap %d: give 1 to 50 answers per item", s.Overlap)
	case s.Dynamic && (s.MinOverlap < 1 || s.MinOverlap > s.Overlap):
		return inputErr("min_overlap %d: with dynamic overlap give 1 to overlap (%d)", s.MinOverlap, s.Overlap)
	case s.Dynamic && !Categorical(taskType):
		return inputErr("dynamic overlap needs a categorical type (classify or pairwise): the others have no confidence")
	case s.Confidence < 0 || s.Confidence >= 1 || s.ReviewBelow < 0 || s.ReviewBelow >= 1:
		return inputErr("confidence and review_below are probabilities below 1")
	case s.ControlRate < 0 || s.ControlRate > 0.5:
		return inputErr("control_rate %.2f: give 0 to 0.5 of the tasks", s.ControlRate)
	case s.MinAccuracy < 0 || s.MinAccuracy > 1:
		return inputErr("min_accuracy %.2f: give 0 to 1", s.MinAccuracy)
	case s.Qualification < 0 || s.Qualification > 50:
		return inputErr("qualification %d: give 0 to 50 control tasks", s.Qualification)
	case s.LeaseSeconds < 10 || s.LeaseSeconds > 86400:
		return inputErr("lease_seconds %d: give 10 to 86400", s.LeaseSeconds)
	case s.BonusBps < 0 || s.BonusBps > 100_000:
		return inputErr("bonus_bps %d: give 0 to 100000", s.BonusBps)
	case s.RequesterShare < 0 || s.RequesterShare > 100:
		return inputErr("requester_share %.2f: a percentage from 0 to 100", s.RequesterShare)
	}
	for d, v := range s.Rates {
		n, ok := new(big.Int).SetString(v, 10)
		if !ok || n.Sign() <= 0 {
			return inputErr("rates[%s] %q: a positive whole number of the smallest unit", d, v)
		}
	}
	if len(s.Rates) > 4 {
		return inputErr("rates: at most 4 denoms")
	}
	return nil
}

// NewProject is what a requester sends to create a project.
type NewProject struct {
	Name         string `json:"name"`
	Instructions string `json:"instructions"`
	TaskType     string `json:"task_type"`
	Spec         Spec   `json:"spec"`
}

// CreateProject stores a new project owned by owner (a 0x address).
func (s *Service) CreateProject(ctx context.Context, owner string, np NewProject) (*Project, error) {
	np.Name = strings.TrimSpace(np.Name)
	if np.Name == "" || len(np.Name) > 200 {
		return nil, inputErr("name: give 1 to 200 characters")
	}
	if len(np.Instructions) > 20_000 {
		return nil, inputErr("instructions: at most 20000 characters")
	}
	np.Spec = np.Spec.withDefaults(np.TaskType)
	if err := np.Spec.validate(np.TaskType); err != nil {
		return nil, err
	}
	spec, _ := json.Marshal(np.Spec)
	p := &Project{Owner: owner, Name: np.Name, Instructions: np.Instructions, TaskType: np.TaskType, Spec: np.Spec,
		Status: "open", NextBatch: 1, CreatedAt: s.now().UnixMilli()}
	err := s.db.QueryRowContext(ctx, s.db.Rebind(`INSERT INTO dsp_projects (owner, name, instructions, task_type, spec, status, created_at)
		VALUES (?, ?, ?, ?, ?, 'open', ?) RETURNING id`), owner, p.Name, p.Instructions, p.TaskType, string(spec), p.CreatedAt).Scan(&p.ID)
	if err != nil {
		return nil, err
	}
	return p, nil
}

const projectCols = `id, owner, name, instructions, task_type, spec, status, pool_id, dataset_id, next_batch, created_at`

func scanProject(sc interface{ Scan(...any) error }) (*Project, error) {
	var p Project
	var spec string
	if err := sc.Scan(&p.ID, &p.Owner, &p.Name, &p.Instructions, &p.TaskType, &spec, &p.Status, &p.PoolID, &p.DatasetID, &p.NextBatch, &p.CreatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(spec), &p.Spec); err != nil {
		return nil, fmt.Errorf("project %d spec: %w", p.ID, err)
	}
	return &p, nil
}

// Project loads a project.
func (s *Service) Project(ctx context.Context, id int64) (*Project, error) {
	p, err := scanProject(s.db.QueryRowStmt(ctx, `SELECT `+projectCols+` FROM dsp_projects WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("project %d: %w", id, ErrNotFound)
	}
	return p, err
}

// hotProject is Project for the answer path, from a cache: what that path reads of a project (its
// type, spec, owner and status) does not change after creation.
func (s *Service) hotProject(ctx context.Context, id int64) (*Project, error) {
	if p, ok := s.projects.Load(id); ok {
		return p.(*Project), nil
	}
	p, err := s.Project(ctx, id)
	if err != nil {
		return nil, err
	}
	s.projects.Store(id, p)
	return p, nil
}

// Projects lists projects, newest first: those of owner when owner is set, else the open ones.
func (s *Service) Projects(ctx context.Context, owner string) ([]*Project, error) {
	q, args := `SELECT `+projectCols+` FROM dsp_projects WHERE status = 'open' ORDER BY id DESC LIMIT 200`, []any{}
	if owner != "" {
		q, args = `SELECT `+projectCols+` FROM dsp_projects WHERE owner = ? ORDER BY id DESC LIMIT 200`, []any{owner}
	}
	rows, err := s.db.QueryStmt(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Project
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// LinkPool records the on-chain pool that pays a project (after its creation was confirmed).
func (s *Service) LinkPool(ctx context.Context, project int64, pool uint64) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE dsp_projects SET pool_id = ? WHERE id = ? AND pool_id = 0`), pool, project)
	return err
}

func (s *Service) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}
