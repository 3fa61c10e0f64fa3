//go:build !amd64

package store

var hasSHA2x = false

func block2(ha, hb *[8]uint32, a, b []byte) { panic("store: block2 is amd64 only") }
