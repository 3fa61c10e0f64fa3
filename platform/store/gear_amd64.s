#include "textflag.h"

// Four bytes at off from SI+DI rolled into the hash AX, each tested against
// the mask R8 (a hit jumps to hit with AX the hash before the group):
// s_k = s_{k-1}<<1 + g_k and h_k = h<<(k+1) + s_k, so the loop-carried
// chain is one shift and one add per four bytes.
#define FOUR(off) \
	MOVBQZX off+0(SI)(DI*1), R9; \
	MOVBQZX off+1(SI)(DI*1), R10; \
	MOVBQZX off+2(SI)(DI*1), R11; \
	MOVBQZX off+3(SI)(DI*1), R12; \
	MOVQ (R15)(R9*8), R9; \
	LEAQ (R9)(AX*2), BX; \
	TESTQ R8, BX; \
	JEQ hit; \
	LEAQ (R9)(R9*1), R9; \
	ADDQ (R15)(R10*8), R9; \
	LEAQ (R9)(AX*4), BX; \
	TESTQ R8, BX; \
	JEQ hit; \
	LEAQ (R9)(R9*1), R9; \
	ADDQ (R15)(R11*8), R9; \
	LEAQ (R9)(AX*8), BX; \
	TESTQ R8, BX; \
	JEQ hit; \
	LEAQ (R9)(R9*1), R9; \
	ADDQ (R15)(R12*8), R9; \
	MOVQ AX, BX; \
	SHLQ $4, BX; \
	ADDQ R9, BX; \
	TESTQ R8, BX; \
	JEQ hit; \
	MOVQ BX, AX

// func gearGroups(b *byte, i, n int, h, mask uint64, table *[256]uint64) (int, uint64)
TEXT ·gearGroups(SB), NOSPLIT, $0-64
	MOVQ b+0(FP), SI
	MOVQ i+8(FP), DI
	MOVQ n+16(FP), DX
	MOVQ h+24(FP), AX
	MOVQ mask+32(FP), R8
	MOVQ table+40(FP), R15
	SUBQ $8, DX
	MOVQ AX, CX // the hash before the group

loop:
	CMPQ DI, DX
	JGT done
	MOVQ AX, CX
	FOUR(0)
	FOUR(4)
	ADDQ $8, DI
	JMP loop

hit:
	MOVQ CX, AX

done:
	MOVQ DI, ret+48(FP)
	MOVQ AX, ret1+56(FP)
	RET
