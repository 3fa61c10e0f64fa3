package web

import (
	"container/list"
	"sync"
)

// lru is a small least-recently-used cache of what pages read from the index, keyed with the
// indexer's version: an entry is served only while no block has changed the index since it
// was read, so a cached result is never staler than the index itself. A popular search is then
// run once per change of the index instead of once per request. (Asset pages were cached the
// same way and measured slower: with 100,000 assets few requests repeat within a version, and
// holding thousands of page datasets cost more than it saved; bench/web/README.md.)
type lru[K comparable, V any] struct {
	mu    sync.Mutex
	max   int
	ll    *list.List
	items map[K]*list.Element
	hits  int64
	miss  int64
}

type lruEntry[K comparable, V any] struct {
	key     K
	version int64
	val     V
}

func newLRU[K comparable, V any](max int) *lru[K, V] {
	return &lru[K, V]{max: max, ll: list.New(), items: map[K]*list.Element{}}
}

// get returns the value stored for key at version.
func (c *lru[K, V]) get(key K, version int64) (V, bool) {
	var zero V
	if c == nil || c.max == 0 {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		en := e.Value.(*lruEntry[K, V])
		if en.version == version {
			c.ll.MoveToFront(e)
			c.hits++
			return en.val, true
		}
	}
	c.miss++
	return zero, false
}

func (c *lru[K, V]) put(key K, version int64, v V) {
	if c == nil || c.max == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		e.Value = &lruEntry[K, V]{key, version, v}
		c.ll.MoveToFront(e)
		return
	}
	c.items[key] = c.ll.PushFront(&lruEntry[K, V]{key, version, v})
	if c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*lruEntry[K, V]).key)
	}
}

// ratio is hits / lookups.
func (c *lru[K, V]) ratio() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hits+c.miss == 0 {
		return 0
	}
	return float64(c.hits) / float64(c.hits+c.miss)
}
