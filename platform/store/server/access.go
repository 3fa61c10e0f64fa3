package server

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/cosmos/cosmos-sdk/types/bech32"
	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	lt "sahara/chain/x/licensing/types"
	rt "sahara/chain/x/registry/types"
	"sahara/platform/store"
)

// Access decides whether an address may read an object as an asset.
type Access interface {
	// MayAccess answers with a reason either way; err is for failures to
	// ask (the chain unreachable), not for a refusal.
	MayAccess(ctx context.Context, addr common.Address, asset uint64, root store.Hash) (bool, string, error)
}

// ChainAccess asks the chain: the object must be a version of the asset
// (its content root is registered) and the address must own the asset or
// hold an active license of it (x/licensing CheckUse, purpose ACCESS).
type ChainAccess struct {
	conn   *grpc.ClientConn
	prefix string
}

// DialChain connects to a node's gRPC endpoint (lazily: the node may
// start after the store).
func DialChain(grpcAddr, bech32Prefix string) (*ChainAccess, error) {
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("chain gRPC %s: %w", grpcAddr, err)
	}
	return &ChainAccess{conn: conn, prefix: bech32Prefix}, nil
}

func (c *ChainAccess) MayAccess(ctx context.Context, addr common.Address, asset uint64, root store.Hash) (bool, string, error) {
	vs, err := rt.NewQueryClient(c.conn).Versions(ctx, &rt.QueryVersionsRequest{Id: asset})
	if err != nil {
		if st, ok := status.FromError(err); ok && st.Code() != 14 { // 14: unavailable
			return false, fmt.Sprintf("asset %d: %s", asset, st.Message()), nil
		}
		return false, "", fmt.Errorf("asking the chain about asset %d: %w", asset, err)
	}
	found := false
	for _, v := range vs.Versions {
		if bytes.Equal(v.ContentRoot, root[:]) {
			found = true
			break
		}
	}
	if !found {
		return false, fmt.Sprintf("object %s is not a registered version of asset %d", root, asset), nil
	}
	b32, err := bech32.ConvertAndEncode(c.prefix, addr.Bytes())
	if err != nil {
		return false, "", err
	}
	res, err := lt.NewQueryClient(c.conn).CheckUse(ctx, &lt.QueryCheckUseRequest{Address: b32, AssetId: asset, Purpose: lt.PURPOSE_ACCESS})
	if err != nil {
		return false, "", fmt.Errorf("asking the chain for a license of asset %d: %w", asset, err)
	}
	return res.Allowed, res.Reason, nil
}

// StaticAccess is a fixed table of grants, for tests and for running the
// store without a chain. The zero value denies everything.
type StaticAccess struct {
	mu     sync.Mutex
	grants map[string]string // addr|asset|root → "" (granted) or a refusal reason
}

func staticKey(addr common.Address, asset uint64, root store.Hash) string {
	return fmt.Sprintf("%s|%d|%s", addr.Hex(), asset, root)
}

// Set grants (reason "") or denies (with a reason) one address one object.
func (s *StaticAccess) Set(addr common.Address, asset uint64, root store.Hash, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grants == nil {
		s.grants = map[string]string{}
	}
	s.grants[staticKey(addr, asset, root)] = reason
}

func (s *StaticAccess) MayAccess(_ context.Context, addr common.Address, asset uint64, root store.Hash) (bool, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reason, ok := s.grants[staticKey(addr, asset, root)]
	if !ok {
		return false, fmt.Sprintf("no license of asset %d held by this address", asset), nil
	}
	if reason != "" {
		return false, reason, nil
	}
	return true, "granted", nil
}
