package store

import "unsafe"

//go:noescape
func ntCopy64(dst, src *byte, n int)

// copyToDisk copies as copy does, for bytes only the disk will read: from
// dst's first 64-byte boundary on, with non-temporal stores, which leave
// the destination out of the caches the cutting and hashing use.
func copyToDisk(dst, src []byte) int {
	n := min(len(dst), len(src))
	if n < ntCopyMin {
		return copy(dst, src)
	}
	head := int(-uintptr(unsafe.Pointer(unsafe.SliceData(dst))) & 63)
	copy(dst[:head], src[:head])
	body := (n - head) &^ 63
	ntCopy64(&dst[head], &src[head], body)
	copy(dst[head+body:n], src[head+body:n])
	return n
}

const ntCopyMin = 4096
