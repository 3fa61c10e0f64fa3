package store

// block2 compresses two messages of the same whole number of 64-byte blocks
// into ha and hb at once (sha2x_amd64.s).
//
//go:noescape
func block2(ha, hb *[8]uint32, a, b []byte)

func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// hasSHA2x: the CPU has the SHA extensions, SSSE3 and SSE4.1 that block2 uses.
var hasSHA2x = func() bool {
	if max, _, _, _ := cpuid(0, 0); max < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	_, ebx7, _, _ := cpuid(7, 0)
	return ecx1&(1<<9) != 0 && ecx1&(1<<19) != 0 && ebx7&(1<<29) != 0 // SSSE3, SSE4.1, SHA
}()
