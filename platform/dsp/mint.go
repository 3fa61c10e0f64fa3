package dsp

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
)

// Authority is the QA authority address pools must name for this service to pay them.
func (s *Service) Authority() common.Address {
	if s.chain == nil {
		return common.Address{}
	}
	return s.chain.Authority()
}

// WorkerStanding is a contributor's record in a project.
func (s *Service) WorkerStanding(ctx context.Context, projectID int64, addr string) (*Worker, error) {
	return s.worker(ctx, s.db, projectID, addr)
}

// MintDataset exports the finished items (JSONL) into the blob store and registers them on chain
// as a DATASET asset through the project's pool: its shares go to the contributors by
// quality-weighted accepted work (what the payouts recorded), the requester keeps their share.
// Settle the payouts first: only paid work counts.
func (s *Service) MintDataset(ctx context.Context, projectID int64, name string) (uint64, error) {
	if s.chain == nil || s.store == nil {
		return 0, errors.New("minting needs a chain connection and a blob store")
	}
	p, err := s.Project(ctx, projectID)
	if err != nil {
		return 0, err
	}
	if p.PoolID == 0 {
		return 0, inputErr("project %d has no pool: fund it and pay out first", projectID)
	}
	if p.DatasetID != 0 {
		return 0, inputErr("project %d already minted dataset asset %d", projectID, p.DatasetID)
	}
	if pending, err := s.Batches(ctx, projectID, true); err != nil {
		return 0, err
	} else if len(pending) > 0 {
		return 0, inputErr("%d payout batches are not settled yet: pay out first, so the shares count all the work", len(pending))
	}
	if name == "" {
		name = p.Name
	}
	var buf bytes.Buffer
	if err := s.Export(ctx, projectID, "jsonl", &buf); err != nil {
		return 0, err
	}
	if buf.Len() == 0 {
		return 0, inputErr("project %d has no finished items to mint", projectID)
	}
	m, _, err := s.store.Put(bytes.NewReader(buf.Bytes()), fmt.Sprintf("project-%d.jsonl", projectID))
	if err != nil {
		return 0, err
	}
	id, err := s.chain.MintDataset(ctx, p.PoolID, name, "", m.Root, uint64(buf.Len()))
	if err != nil {
		return 0, err
	}
	_, err = s.db.ExecContext(ctx, s.db.Rebind(`UPDATE dsp_projects SET dataset_id = ? WHERE id = ?`), id, projectID)
	return id, err
}
