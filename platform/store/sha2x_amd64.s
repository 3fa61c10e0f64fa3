#include "textflag.h"

// block2 runs the sha256 compression of two messages of the same number of
// 64-byte blocks at once, with the SHA extensions (Intel's SHA-NI). One
// message's rounds depend each on the last, so a single stream waits on the
// latency of SHA256RNDS2; two independent streams fill those waits.
//
// Registers: X0 message+constants (SHA256RNDS2's implicit operand);
// stream A: X1 = ABEF, X2 = CDGH, X3-X6 the message schedule;
// stream B: X7 = ABEF, X8 = CDGH, X9-X12 the message schedule;
// X13 scratch, X14 the byte-swap mask. The state before each block is kept
// on the stack, to be added back after its 64 rounds.

// Four rounds of one stream: X0 = K[4q..4q+3] + W, two SHA256RNDS2.
#define ROUNDS(koff, w, abef, cdgh) \
	MOVOU koff(AX), X0; \
	PADDD w, X0; \
	SHA256RNDS2 X0, abef, cdgh; \
	PSHUFD $0x0e, X0, X0; \
	SHA256RNDS2 X0, cdgh, abef

// The next four schedule words into t, from t = W[i-16..i-13],
// s = W[i-12..i-9], u = W[i-8..i-5], v = W[i-4..i-1].
#define SCHED(t, s, u, v) \
	SHA256MSG1 s, t; \
	MOVO v, X13; \
	PALIGNR $4, u, X13; \
	PADDD X13, t; \
	SHA256MSG2 v, t

// h[0..7] = a..h into abef = (A,B,E,F) and cdgh = (C,D,G,H), dword 3 first.
// Rounds 0-15 four at a time: the block's words, byte-swapped, then the rounds.
#define FIRST(off, wa, wb) \
	LOADW(off, wa, SI); \
	LOADW(off, wb, R9); \
	ROUNDS(off, wa, X1, X2); \
	ROUNDS(off, wb, X7, X8)

// Rounds 16-63 four at a time: both streams' next schedule words, then
// their rounds (registers rotate: ta holds W[i-16..i-13] and becomes W[i..i+3]).
#define QUAD(koff, ta, sa, ua, va, tb, sb, ub, vb) \
	SCHED(ta, sa, ua, va); \
	SCHED(tb, sb, ub, vb); \
	ROUNDS(koff, ta, X1, X2); \
	ROUNDS(koff, tb, X7, X8)

#define LOADSTATE(ptr, abef, cdgh) \
	MOVOU (ptr), abef; \
	MOVOU 16(ptr), cdgh; \
	PSHUFD $0xb1, abef, abef; \
	PSHUFD $0x1b, cdgh, cdgh; \
	MOVO abef, X13; \
	PALIGNR $8, cdgh, abef; \
	PBLENDW $0xf0, X13, cdgh

#define STORESTATE(ptr, abef, cdgh) \
	PSHUFD $0x1b, abef, abef; \
	PSHUFD $0xb1, cdgh, cdgh; \
	MOVO abef, X13; \
	PBLENDW $0xf0, cdgh, abef; \
	PALIGNR $8, X13, cdgh; \
	MOVOU abef, (ptr); \
	MOVOU cdgh, 16(ptr)

#define LOADW(off, w, src) \
	MOVOU off(src), w; \
	PSHUFB X14, w

// func block2(ha, hb *[8]uint32, a, b []byte): len(a) == len(b), a multiple of 64.
TEXT ·block2(SB), NOSPLIT, $64-64
	MOVQ ha+0(FP), DI
	MOVQ hb+8(FP), R8
	MOVQ a_base+16(FP), SI
	MOVQ a_len+24(FP), DX
	MOVQ b_base+40(FP), R9
	SHRQ $6, DX
	JZ   done
	MOVOU flip<>(SB), X14
	LEAQ k256<>(SB), AX
	LOADSTATE(DI, X1, X2)
	LOADSTATE(R8, X7, X8)

loop:
	MOVOU X1, 0(SP)
	MOVOU X2, 16(SP)
	MOVOU X7, 32(SP)
	MOVOU X8, 48(SP)

	FIRST(0, X3, X9)
	FIRST(16, X4, X10)
	FIRST(32, X5, X11)
	FIRST(48, X6, X12)
	QUAD(64, X3, X4, X5, X6, X9, X10, X11, X12)
	QUAD(80, X4, X5, X6, X3, X10, X11, X12, X9)
	QUAD(96, X5, X6, X3, X4, X11, X12, X9, X10)
	QUAD(112, X6, X3, X4, X5, X12, X9, X10, X11)
	QUAD(128, X3, X4, X5, X6, X9, X10, X11, X12)
	QUAD(144, X4, X5, X6, X3, X10, X11, X12, X9)
	QUAD(160, X5, X6, X3, X4, X11, X12, X9, X10)
	QUAD(176, X6, X3, X4, X5, X12, X9, X10, X11)
	QUAD(192, X3, X4, X5, X6, X9, X10, X11, X12)
	QUAD(208, X4, X5, X6, X3, X10, X11, X12, X9)
	QUAD(224, X5, X6, X3, X4, X11, X12, X9, X10)
	QUAD(240, X6, X3, X4, X5, X12, X9, X10, X11)

	MOVOU 0(SP), X13
	PADDD X13, X1
	MOVOU 16(SP), X13
	PADDD X13, X2
	MOVOU 32(SP), X13
	PADDD X13, X7
	MOVOU 48(SP), X13
	PADDD X13, X8
	ADDQ $64, SI
	ADDQ $64, R9
	DECQ DX
	JNZ  loop

	STORESTATE(DI, X1, X2)
	STORESTATE(R8, X7, X8)

done:
	RET

// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// PSHUFB mask: big-endian message words.
DATA flip<>+0(SB)/8, $0x0405060700010203
DATA flip<>+8(SB)/8, $0x0c0d0e0f08090a0b
GLOBL flip<>(SB), RODATA|NOPTR, $16

// The 64 round constants (FIPS 180-4, 4.2.2).
DATA k256<>+0(SB)/4, $0x428a2f98
DATA k256<>+4(SB)/4, $0x71374491
DATA k256<>+8(SB)/4, $0xb5c0fbcf
DATA k256<>+12(SB)/4, $0xe9b5dba5
DATA k256<>+16(SB)/4, $0x3956c25b
DATA k256<>+20(SB)/4, $0x59f111f1
DATA k256<>+24(SB)/4, $0x923f82a4
DATA k256<>+28(SB)/4, $0xab1c5ed5
DATA k256<>+32(SB)/4, $0xd807aa98
DATA k256<>+36(SB)/4, $0x12835b01
DATA k256<>+40(SB)/4, $0x243185be
DATA k256<>+44(SB)/4, $0x550c7dc3
DATA k256<>+48(SB)/4, $0x72be5d74
DATA k256<>+52(SB)/4, $0x80deb1fe
DATA k256<>+56(SB)/4, $0x9bdc06a7
DATA k256<>+60(SB)/4, $0xc19bf174
DATA k256<>+64(SB)/4, $0xe49b69c1
DATA k256<>+68(SB)/4, $0xefbe4786
DATA k256<>+72(SB)/4, $0x0fc19dc6
DATA k256<>+76(SB)/4, $0x240ca1cc
DATA k256<>+80(SB)/4, $0x2de92c6f
DATA k256<>+84(SB)/4, $0x4a7484aa
DATA k256<>+88(SB)/4, $0x5cb0a9dc
DATA k256<>+92(SB)/4, $0x76f988da
DATA k256<>+96(SB)/4, $0x983e5152
DATA k256<>+100(SB)/4, $0xa831c66d
DATA k256<>+104(SB)/4, $0xb00327c8
DATA k256<>+108(SB)/4, $0xbf597fc7
DATA k256<>+112(SB)/4, $0xc6e00bf3
DATA k256<>+116(SB)/4, $0xd5a79147
DATA k256<>+120(SB)/4, $0x06ca6351
DATA k256<>+124(SB)/4, $0x14292967
DATA k256<>+128(SB)/4, $0x27b70a85
DATA k256<>+132(SB)/4, $0x2e1b2138
DATA k256<>+136(SB)/4, $0x4d2c6dfc
DATA k256<>+140(SB)/4, $0x53380d13
DATA k256<>+144(SB)/4, $0x650a7354
DATA k256<>+148(SB)/4, $0x766a0abb
DATA k256<>+152(SB)/4, $0x81c2c92e
DATA k256<>+156(SB)/4, $0x92722c85
DATA k256<>+160(SB)/4, $0xa2bfe8a1
DATA k256<>+164(SB)/4, $0xa81a664b
DATA k256<>+168(SB)/4, $0xc24b8b70
DATA k256<>+172(SB)/4, $0xc76c51a3
DATA k256<>+176(SB)/4, $0xd192e819
DATA k256<>+180(SB)/4, $0xd6990624
DATA k256<>+184(SB)/4, $0xf40e3585
DATA k256<>+188(SB)/4, $0x106aa070
DATA k256<>+192(SB)/4, $0x19a4c116
DATA k256<>+196(SB)/4, $0x1e376c08
DATA k256<>+200(SB)/4, $0x2748774c
DATA k256<>+204(SB)/4, $0x34b0bcb5
DATA k256<>+208(SB)/4, $0x391c0cb3
DATA k256<>+212(SB)/4, $0x4ed8aa4a
DATA k256<>+216(SB)/4, $0x5b9cca4f
DATA k256<>+220(SB)/4, $0x682e6ff3
DATA k256<>+224(SB)/4, $0x748f82ee
DATA k256<>+228(SB)/4, $0x78a5636f
DATA k256<>+232(SB)/4, $0x84c87814
DATA k256<>+236(SB)/4, $0x8cc70208
DATA k256<>+240(SB)/4, $0x90befffa
DATA k256<>+244(SB)/4, $0xa4506ceb
DATA k256<>+248(SB)/4, $0xbef9a3f7
DATA k256<>+252(SB)/4, $0xc67178f2
GLOBL k256<>(SB), RODATA|NOPTR, $256
