//go:build !purego

#include "textflag.h"

// Constants of escapeBlocks, 32 bytes each (the tables twice, once for
// each 16-byte lane of PSHUFB): the quote, the backslash and 0x20 in every
// byte; then, indexed by a byte's low four bits, the byte itself for
// '\t', '\n' and '\r' and 0xff for the others (never equal to a byte with
// that low nibble that PSHUFB looks up); then, in the same places, what
// turns '\t', '\n', '\r' into 't', 'n', 'r' when added; then the bytes
// that tell characters of two and three bytes (named by their offsets'
// uses below) in every byte.
DATA escconst<>+0x00(SB)/8, $0x2222222222222222
DATA escconst<>+0x08(SB)/8, $0x2222222222222222
DATA escconst<>+0x10(SB)/8, $0x2222222222222222
DATA escconst<>+0x18(SB)/8, $0x2222222222222222
DATA escconst<>+0x20(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA escconst<>+0x28(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA escconst<>+0x30(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA escconst<>+0x38(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA escconst<>+0x40(SB)/8, $0x2020202020202020
DATA escconst<>+0x48(SB)/8, $0x2020202020202020
DATA escconst<>+0x50(SB)/8, $0x2020202020202020
DATA escconst<>+0x58(SB)/8, $0x2020202020202020
DATA escconst<>+0x60(SB)/8, $0xffffffffffffffff
DATA escconst<>+0x68(SB)/8, $0xffff0dffff0a09ff
DATA escconst<>+0x70(SB)/8, $0xffffffffffffffff
DATA escconst<>+0x78(SB)/8, $0xffff0dffff0a09ff
DATA escconst<>+0x80(SB)/8, $0x0000000000000000
DATA escconst<>+0x88(SB)/8, $0x0000650000646b00
DATA escconst<>+0x90(SB)/8, $0x0000000000000000
DATA escconst<>+0x98(SB)/8, $0x0000650000646b00
DATA escconst<>+0xa0(SB)/8, $0xc0c0c0c0c0c0c0c0
DATA escconst<>+0xa8(SB)/8, $0xc0c0c0c0c0c0c0c0
DATA escconst<>+0xb0(SB)/8, $0xc0c0c0c0c0c0c0c0
DATA escconst<>+0xb8(SB)/8, $0xc0c0c0c0c0c0c0c0
DATA escconst<>+0xc0(SB)/8, $0xc1c1c1c1c1c1c1c1
DATA escconst<>+0xc8(SB)/8, $0xc1c1c1c1c1c1c1c1
DATA escconst<>+0xd0(SB)/8, $0xc1c1c1c1c1c1c1c1
DATA escconst<>+0xd8(SB)/8, $0xc1c1c1c1c1c1c1c1
DATA escconst<>+0xe0(SB)/8, $0xe0e0e0e0e0e0e0e0
DATA escconst<>+0xe8(SB)/8, $0xe0e0e0e0e0e0e0e0
DATA escconst<>+0xf0(SB)/8, $0xe0e0e0e0e0e0e0e0
DATA escconst<>+0xf8(SB)/8, $0xe0e0e0e0e0e0e0e0
DATA escconst<>+0x100(SB)/8, $0xc2c2c2c2c2c2c2c2
DATA escconst<>+0x108(SB)/8, $0xc2c2c2c2c2c2c2c2
DATA escconst<>+0x110(SB)/8, $0xc2c2c2c2c2c2c2c2
DATA escconst<>+0x118(SB)/8, $0xc2c2c2c2c2c2c2c2
DATA escconst<>+0x120(SB)/8, $0x8585858585858585
DATA escconst<>+0x128(SB)/8, $0x8585858585858585
DATA escconst<>+0x130(SB)/8, $0x8585858585858585
DATA escconst<>+0x138(SB)/8, $0x8585858585858585
DATA escconst<>+0x140(SB)/8, $0xdfdfdfdfdfdfdfdf
DATA escconst<>+0x148(SB)/8, $0xdfdfdfdfdfdfdfdf
DATA escconst<>+0x150(SB)/8, $0xdfdfdfdfdfdfdfdf
DATA escconst<>+0x158(SB)/8, $0xdfdfdfdfdfdfdfdf
DATA escconst<>+0x160(SB)/8, $0xf0f0f0f0f0f0f0f0
DATA escconst<>+0x168(SB)/8, $0xf0f0f0f0f0f0f0f0
DATA escconst<>+0x170(SB)/8, $0xf0f0f0f0f0f0f0f0
DATA escconst<>+0x178(SB)/8, $0xf0f0f0f0f0f0f0f0
DATA escconst<>+0x180(SB)/8, $0xedededededededed
DATA escconst<>+0x188(SB)/8, $0xedededededededed
DATA escconst<>+0x190(SB)/8, $0xedededededededed
DATA escconst<>+0x198(SB)/8, $0xedededededededed
DATA escconst<>+0x1a0(SB)/8, $0x9f9f9f9f9f9f9f9f
DATA escconst<>+0x1a8(SB)/8, $0x9f9f9f9f9f9f9f9f
DATA escconst<>+0x1b0(SB)/8, $0x9f9f9f9f9f9f9f9f
DATA escconst<>+0x1b8(SB)/8, $0x9f9f9f9f9f9f9f9f
DATA escconst<>+0x1c0(SB)/8, $0xa0a0a0a0a0a0a0a0
DATA escconst<>+0x1c8(SB)/8, $0xa0a0a0a0a0a0a0a0
DATA escconst<>+0x1d0(SB)/8, $0xa0a0a0a0a0a0a0a0
DATA escconst<>+0x1d8(SB)/8, $0xa0a0a0a0a0a0a0a0
DATA escconst<>+0x1e0(SB)/8, $0xe2e2e2e2e2e2e2e2
DATA escconst<>+0x1e8(SB)/8, $0xe2e2e2e2e2e2e2e2
DATA escconst<>+0x1f0(SB)/8, $0xe2e2e2e2e2e2e2e2
DATA escconst<>+0x1f8(SB)/8, $0xe2e2e2e2e2e2e2e2
DATA escconst<>+0x200(SB)/8, $0x8080808080808080
DATA escconst<>+0x208(SB)/8, $0x8080808080808080
DATA escconst<>+0x210(SB)/8, $0x8080808080808080
DATA escconst<>+0x218(SB)/8, $0x8080808080808080
DATA escconst<>+0x220(SB)/8, $0x0101010101010101
DATA escconst<>+0x228(SB)/8, $0x0101010101010101
DATA escconst<>+0x230(SB)/8, $0x0101010101010101
DATA escconst<>+0x238(SB)/8, $0x0101010101010101
DATA escconst<>+0x240(SB)/8, $0xa9a9a9a9a9a9a9a9
DATA escconst<>+0x248(SB)/8, $0xa9a9a9a9a9a9a9a9
DATA escconst<>+0x250(SB)/8, $0xa9a9a9a9a9a9a9a9
DATA escconst<>+0x258(SB)/8, $0xa9a9a9a9a9a9a9a9
GLOBL escconst<>(SB), RODATA|NOPTR, $608

// The steps of a block are written once, as macros, for the three paths:
// escapeBlocks (SSSE3, 16 bytes a block) and escapeBlocksAVX2's blocks of
// 32 and of 16 bytes. A step takes the vector registers it uses as
// arguments, vN standing for register N at the block's width (YN for 32
// bytes, XN for 16), and its labels, as each path has its own.
//
// Its vector instructions are the V macros, defined before each function:
// for escapeBlocks in SSE's two-operand forms, which overwrite their
// destination (hence a copy first) and take a constant from memory only
// once loaded into a register (escconst is not aligned to 16 bytes); for
// escapeBlocksAVX2 in the three-operand forms of VEX. Their operands are
// in VEX's order: b the second source (m where it is a constant), a the
// first, d the destination; t a register they may overwrite. Those named
// with a 2 work in place (d is also the first source).
//
// The registers' roles in every path: SI, DI the input and output
// cursors; CX the input left, DX the room left; R10 the table; v8 quotes,
// v9 backslashes, v10 0x20s, v11 the table of '\t' '\n' '\r', v12 the
// table of their letters' deltas, v13-v15 0xc0s, 0xc1s, 0xe0s.

// CONSTS loads the constants of the registers v8-v15.
#define CONSTS(v8, v9, v10, v11, v12, v13, v14, v15) \
	VMOVU escconst<>+0x00(SB), v8 \
	VMOVU escconst<>+0x20(SB), v9 \
	VMOVU escconst<>+0x40(SB), v10 \
	VMOVU escconst<>+0x60(SB), v11 \
	VMOVU escconst<>+0x80(SB), v12 \
	VMOVU escconst<>+0xa0(SB), v13 \
	VMOVU escconst<>+0xc0(SB), v14 \
	VMOVU escconst<>+0xe0(SB), v15

// CLASSIFY loads a block into v0; v1 has its '"', v2 its '\\', v3 those
// below 0x20 as a signed byte: a control byte or 0x80 and up; AX a bit for
// every byte that is not plain ASCII.
#define CLASSIFY(v0, v1, v2, v3, v8, v9, v10) \
	VMOVU (SI), v0 \
	VEQ(v8, v0, v1) \
	VEQ(v9, v0, v2) \
	VOR2(v1, v2) \
	VGT(v0, v10, v3) \
	VOR2(v3, v2) \
	VMASK v2, AX

// PLAIN takes a block of n bytes that needs no escape, already stored.
#define PLAIN(n, loop) \
	ADDQ $n, SI \
	ADDQ $n, DI \
	SUBQ $n, CX \
	SUBQ $n, DX \
	JMP  loop

// TOCALLER: v4 has '\t', '\n', '\r' (PSHUFB finds the byte itself where it
// is one of them, 0 from 0x80 up); BX a bit for the bytes this function
// leaves to the caller, those of v3 but these.
#define TOCALLER(v0, v3, v4, v5, v11) \
	VSHUF(v0, v11, v4) \
	VEQ2(v0, v4) \
	VANDN(v3, v4, v5) \
	VMASK v5, BX

// CONT: C (R8): 0x80-0xbf, the bytes that continue a character.
#define CONT(v0, v1, v13) \
	VGT(v0, v13, v1) \
	VMASK v1, R8

// TWOBYTE: R9: 0xc2-0xdf followed by a continuation, U+0085 (0xc2 0x85)
// excepted.
#define TWOBYTE(v0, v1, v2, v3, v14, v15) \
	VGT(v14, v0, v1) \
	VGT(v0, v15, v2) \
	VAND2(v1, v2) \
	VMASK v2, R9 \
	MOVL R8, R13 \
	SHRL $1, R13 \
	ANDL R13, R9 \
	VEQM(escconst<>+0x100(SB), v0, v1, v3) \
	VMASK v1, R11 \
	VEQM(escconst<>+0x120(SB), v0, v1, v3) \
	VMASK v1, R12 \
	SHRL $1, R12 \
	ANDL R12, R11 \
	NOTL R11 \
	ANDL R11, R9

// THREEBYTE: R11: 0xe1-0xef but 0xed followed by a continuation; 0xe0 by
// 0xa0-0xbf; 0xed by 0x80-0x9f (no surrogates); then a second
// continuation.
#define THREEBYTE(v0, v1, v2, v3, v13, v15) \
	VGTM(escconst<>+0x140(SB), v0, v1, v3) \
	VMGT(escconst<>+0x160(SB), v0, v2, v3) \
	VAND2(v1, v2) \
	VMASK v2, R11 \
	VEQ(v15, v0, v1) \
	VMASK v1, R12 \
	VEQM(escconst<>+0x180(SB), v0, v1, v3) \
	VMASK v1, R14 \
	MOVL R12, R13 \
	ORL R14, R13 \
	NOTL R13 \
	ANDL R13, R11 \
	MOVL R8, R13 \
	SHRL $1, R13 \
	ANDL R13, R11 \
	VGT(v0, v13, v1) \
	VGTM(escconst<>+0x1a0(SB), v0, v2, v3) \
	VAND2(v1, v2) \
	VMASK v2, R13 \
	SHRL $1, R13 \
	ANDL R13, R12 \
	ORL R12, R11 \
	VMGT(escconst<>+0x1c0(SB), v0, v1, v3) \
	VMASK v1, R13 \
	SHRL $1, R13 \
	ANDL R13, R14 \
	ORL R14, R11 \
	MOVL R8, R13 \
	SHRL $2, R13 \
	ANDL R13, R11

// LSPS: U+2028 and U+2029 (0xe2 0x80 0xa8, 0xa9) excepted from R11.
#define LSPS(v0, v1, v3) \
	VEQM(escconst<>+0x1e0(SB), v0, v1, v3) \
	VMASK v1, R12 \
	VEQM(escconst<>+0x200(SB), v0, v1, v3) \
	VMASK v1, R13 \
	SHRL $1, R13 \
	ANDL R13, R12 \
	VORM(escconst<>+0x220(SB), v0, v1, v3) \
	VEQ2M(escconst<>+0x240(SB), v1, v3) \
	VMASK v1, R13 \
	SHRL $2, R13 \
	ANDL R13, R12 \
	NOTL R12 \
	ANDL R12, R11

// KEEPCHARS: every byte of the characters of two (R9) and three (R11)
// bytes found is copied as it is.
#define KEEPCHARS \
	LEAL (R9)(R9*1), R8 \
	ORL R9, R8 \
	ORL R11, R8 \
	LEAL (R11)(R11*1), R12 \
	ORL R12, R8 \
	SHLL $2, R11 \
	ORL R11, R8 \
	NOTL R8 \
	ANDL R8, BX \
	ANDL R8, AX

// CHARS: characters of two and three bytes are copied as they are (a JSON
// string holds them so), not left to the caller; one cut by the block's
// end is left.
#define CHARS(v0, v1, v2, v3, v13, v14, v15) \
	CONT(v0, v1, v13) \
	TWOBYTE(v0, v1, v2, v3, v14, v15) \
	THREEBYTE(v0, v1, v2, v3, v13, v15) \
	LSPS(v0, v1, v3) \
	KEEPCHARS

// LETTERS: v0 with '\t', '\n', '\r' (v4) turned into their letters.
#define LETTERS(v0, v4, v6, v12) \
	VSHUF(v0, v12, v6) \
	VAND2(v4, v6) \
	VADD2(v6, v0)

// TAKEN sets R13 to the bytes of the block of n taken: all of them, or
// those up to the first byte left to the caller. R14 then has the bits
// below it, which are its index in number; at index 0 the block ends the
// call (at done).
#define TAKEN(n, expand, done) \
	MOVQ     $n, R13 \
	TESTL    BX, BX \
	JZ       expand \
	MOVL     BX, R14 \
	NEGL     R14 \
	ANDL     BX, R14 \
	DECL     R14 \
	JZ       done \
	ANDL     R14, AX \
	POPCNTL  R14, R13

// STEP: a block of n bytes is read while n are left and room (at most
// 2n written) bytes of room, else the loop goes on at short. A block
// without escapes is copied; else its bytes are sorted (TOCALLER, CHARS
// where some is left to the caller, LETTERS) and the bytes taken counted,
// for the path's own expand, which writes them.
#define STEP(n, room, short, loop, escapes, letters, expand, done, v0, v1, v2, v3, v4, v5, v6, v8, v9, v10, v11, v12, v13, v14, v15) \
loop: \
	CMPQ CX, $n \
	JLT  short \
	CMPQ DX, $room \
	JLT  short \
	CLASSIFY(v0, v1, v2, v3, v8, v9, v10) \
	TESTL AX, AX \
	JNZ   escapes \
	VMOVU v0, (DI) \
	PLAIN(n, loop) \
escapes: \
	TOCALLER(v0, v3, v4, v5, v11) \
	TESTL BX, BX \
	JZ    letters \
	CHARS(v0, v1, v2, v3, v13, v14, v15) \
letters: \
	LETTERS(v0, v4, v6, v12) \
	TAKEN(n, expand, done)

// ADVANCE moves the cursors past the R13 bytes taken and the AX written
// for them (one more for each escape). Taken up to a byte in the last
// three (below cut, the block's size less three): most likely a
// character cut by the block's end; the next block starts with it, and
// the loop stops.
#define ADVANCE(cut, loop) \
	POPCNTL AX, AX \
	ADDQ    R13, AX \
	ADDQ    R13, SI \
	SUBQ    R13, CX \
	ADDQ    AX, DI \
	SUBQ    AX, DX \
	CMPQ    R13, $cut \
	JAE     loop

// The V macros in SSE.
#define VMOVU MOVOU
#define VMASK PMOVMSKB
#define VEQ(b, a, d) MOVO a, d; PCMPEQB b, d
#define VGT(b, a, d) MOVO a, d; PCMPGTB b, d
#define VSHUF(b, a, d) MOVO a, d; PSHUFB b, d
#define VANDN(b, a, d) MOVO a, d; PANDN b, d
#define VEQM(m, a, d, t) MOVO a, d; MOVOU m, t; PCMPEQB t, d
#define VGTM(m, a, d, t) MOVO a, d; MOVOU m, t; PCMPGTB t, d
#define VORM(m, a, d, t) MOVO a, d; MOVOU m, t; POR t, d
#define VMGT(m, b, d, t) MOVOU m, d; PCMPGTB b, d
#define VEQ2(b, d) PCMPEQB b, d
#define VEQ2M(m, d, t) MOVOU m, t; PCMPEQB t, d
#define VOR2(b, d) POR b, d
#define VAND2(b, d) PAND b, d
#define VADD2(b, d) PADDB b, d

// func escapeBlocks(dst *byte, room int, src *byte, n int, table *[256][16]byte) (consumed, written int)
//
// A block is 16 bytes read and at most 32 written. The arguments are read
// and the results written here, not in a macro, so that vet checks their
// offsets.
TEXT ·escapeBlocks(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ room+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), CX
	MOVQ table+32(FP), R10
	CONSTS(X8, X9, X10, X11, X12, X13, X14, X15)

	STEP(16, 32, done, loop, escapes, letters, expand, done, X0, X1, X2, X3, X4, X5, X6, X8, X9, X10, X11, X12, X13, X14, X15)

expand:
	// Each half of the block, eight bytes, is spread by its mask's entry
	// in the table into up to 16: a backslash (lane 8 on) before each
	// byte to escape.
	MOVO       X0, X7
	PUNPCKLQDQ X9, X7  // X7: the low half, then backslashes
	PUNPCKHQDQ X9, X0  // X0: the high half, then backslashes
	MOVL       AX, BX
	ANDL       $0xff, BX
	POPCNTL    BX, R14
	SHLL       $4, BX
	MOVOU      (R10)(BX*1), X1
	PSHUFB     X1, X7
	MOVOU      X7, (DI)
	MOVL       AX, BX
	SHRL       $8, BX
	SHLL       $4, BX
	MOVOU      (R10)(BX*1), X2
	PSHUFB     X2, X0
	MOVOU      X0, 8(DI)(R14*1)
	ADVANCE(13, loop)

done:
	SUBQ src+16(FP), SI
	SUBQ dst+0(FP), DI
	MOVQ SI, consumed+40(FP)
	MOVQ DI, written+48(FP)
	RET

// The V macros in VEX.
#undef VMOVU
#undef VMASK
#undef VEQ
#undef VGT
#undef VSHUF
#undef VANDN
#undef VEQM
#undef VGTM
#undef VORM
#undef VMGT
#undef VEQ2
#undef VEQ2M
#undef VOR2
#undef VAND2
#undef VADD2
#define VMOVU VMOVDQU
#define VMASK VPMOVMSKB
#define VEQ(b, a, d) VPCMPEQB b, a, d
#define VGT(b, a, d) VPCMPGTB b, a, d
#define VSHUF(b, a, d) VPSHUFB b, a, d
#define VANDN(b, a, d) VPANDN b, a, d
#define VEQM(m, a, d, t) VPCMPEQB m, a, d
#define VGTM(m, a, d, t) VPCMPGTB m, a, d
#define VORM(m, a, d, t) VPOR m, a, d
#define VMGT(m, b, d, t) VMOVDQU m, t; VPCMPGTB b, t, d
#define VEQ2(b, d) VPCMPEQB b, d, d
#define VEQ2M(m, d, t) VPCMPEQB m, d, d
#define VOR2(b, d) VPOR b, d, d
#define VAND2(b, d) VPAND b, d, d
#define VADD2(b, d) VPADDB b, d, d

// EXPAND8 writes the eight bytes of the block whose mask is AX's bits
// from shift on, spread by the mask's entry in the table, at R14 and
// moves R14 past them (eight and a backslash for each escape).
#define EXPAND8(shift, src, tmp) \
	MOVL         AX, BX \
	SHRL         $shift, BX \
	ANDL         $0xff, BX \
	POPCNTL      BX, R8 \
	SHLL         $4, BX \
	VPSHUFB      (R10)(BX*1), src, tmp \
	VMOVDQU      tmp, (R14) \
	LEAQ         8(R14)(R8*1), R14

// func escapeBlocksAVX2(dst *byte, room int, src *byte, n int, table *[256][16]byte) (consumed, written int)
//
// escapeBlocks with AVX2: 32 bytes a step while 32 are left to read and
// 64 bytes of room to write, then 16 as escapeBlocks does, with the same
// registers (and characters of several bytes found the same way).
TEXT ·escapeBlocksAVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ room+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), CX
	MOVQ table+32(FP), R10
	CONSTS(Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15)

	STEP(32, 64, loop16, loop32, escapes32, letters32, expand32, done, Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15)

expand32:
	// Lane by lane: Y7 has bytes 0-7 then 16-23, Y0 bytes 8-15 then 24-31,
	// each followed by backslashes.
	VPUNPCKLQDQ  Y9, Y0, Y7
	VPUNPCKHQDQ  Y9, Y0, Y0
	MOVL         AX, BX
	ANDL         $0xff, BX
	POPCNTL      BX, R8
	SHLL         $4, BX
	VPSHUFB      (R10)(BX*1), X7, X1
	VMOVDQU      X1, (DI)
	LEAQ         8(DI)(R8*1), R14
	EXPAND8(8, X0, X2)
	VEXTRACTI128 $1, Y7, X7
	EXPAND8(16, X7, X3)
	VEXTRACTI128 $1, Y0, X0
	MOVL         AX, BX
	SHRL         $24, BX
	SHLL         $4, BX
	VPSHUFB      (R10)(BX*1), X0, X4
	VMOVDQU      X4, (R14)
	ADVANCE(29, loop32)
	JMP          done

	STEP(16, 32, done, loop16, escapes16, letters16, expand16, done, X0, X1, X2, X3, X4, X5, X6, X8, X9, X10, X11, X12, X13, X14, X15)

expand16:
	VPUNPCKLQDQ X9, X0, X7
	VPUNPCKHQDQ X9, X0, X0
	MOVL        AX, BX
	ANDL        $0xff, BX
	POPCNTL     BX, R8
	SHLL        $4, BX
	VPSHUFB     (R10)(BX*1), X7, X1
	VMOVDQU     X1, (DI)
	MOVL        AX, BX
	SHRL        $8, BX
	SHLL        $4, BX
	VPSHUFB     (R10)(BX*1), X0, X2
	VMOVDQU     X2, 8(DI)(R8*1)
	ADVANCE(13, loop16)

done:
	VZEROUPPER
	SUBQ src+16(FP), SI
	SUBQ dst+0(FP), DI
	MOVQ SI, consumed+40(FP)
	MOVQ DI, written+48(FP)
	RET
