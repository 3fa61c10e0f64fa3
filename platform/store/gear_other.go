//go:build !amd64

package store

// gearGroups: elsewhere gearScan's own loop does all the work.
func gearGroups(b *byte, i, n int, h, mask uint64, table *[256]uint64) (int, uint64) { return i, h }
