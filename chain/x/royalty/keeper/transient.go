package keeper

import (
	"context"

	corestore "cosmossdk.io/core/store"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
)

// TransientService opens a block-scoped store through ctx.TransientStore, so accesses are charged
// with the context's transient gas schedule (the SDK's runtime service goes through ctx.KVStore
// and would charge persistent-store prices for memory that is dropped at commit).
type TransientService struct{ Key *storetypes.TransientStoreKey }

func (s TransientService) OpenKVStore(ctx context.Context) corestore.KVStore {
	return kvAdapter{sdk.UnwrapSDKContext(ctx).TransientStore(s.Key)}
}

type kvAdapter struct{ s storetypes.KVStore }

func (a kvAdapter) Get(key []byte) ([]byte, error) { return a.s.Get(key), nil }
func (a kvAdapter) Has(key []byte) (bool, error)   { return a.s.Has(key), nil }
func (a kvAdapter) Set(key, value []byte) error    { a.s.Set(key, value); return nil }
func (a kvAdapter) Delete(key []byte) error        { a.s.Delete(key); return nil }
func (a kvAdapter) Iterator(start, end []byte) (corestore.Iterator, error) {
	return a.s.Iterator(start, end), nil
}
func (a kvAdapter) ReverseIterator(start, end []byte) (corestore.Iterator, error) {
	return a.s.ReverseIterator(start, end), nil
}
