package store

// gearGroups rolls the gear hash h over b[i:n] eight bytes at a time and
// stops at the first group of eight holding a byte whose hash has no bit
// of mask set: it returns where that group starts and the hash before it
// (or where it stopped short of n, and the hash there). gearScan finishes
// byte by byte. (gear_amd64.s)
//
//go:noescape
func gearGroups(b *byte, i, n int, h, mask uint64, table *[256]uint64) (int, uint64)
