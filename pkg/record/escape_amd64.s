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

// func escapeBlocks(dst *byte, room int, src *byte, n int, table *[256][16]byte) (consumed, written int)
//
// Registers: SI, DI the input and output cursors; CX the input left, DX
// the room left; R10 the table. X8 quotes, X9 backslashes, X10 0x20s,
// X11 the table of '\t' '\n' '\r', X12 the table of their letters' deltas,
// X13-X15 0xc0s, 0xc1s, 0xe0s.
TEXT ·escapeBlocks(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ room+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), CX
	MOVQ table+32(FP), R10
	MOVOU escconst<>+0x00(SB), X8
	MOVOU escconst<>+0x20(SB), X9
	MOVOU escconst<>+0x40(SB), X10
	MOVOU escconst<>+0x60(SB), X11
	MOVOU escconst<>+0x80(SB), X12
	MOVOU escconst<>+0xa0(SB), X13
	MOVOU escconst<>+0xc0(SB), X14
	MOVOU escconst<>+0xe0(SB), X15

loop:
	// A block is 16 bytes read and at most 32 written.
	CMPQ CX, $16
	JLT  done
	CMPQ DX, $32
	JLT  done
	MOVOU   (SI), X0
	MOVO    X0, X1
	PCMPEQB X8, X1     // X1: '"'
	MOVO    X0, X2
	PCMPEQB X9, X2     // X2: '\\'
	POR     X1, X2
	MOVO    X10, X3
	PCMPGTB X0, X3     // X3: below 0x20 as a signed byte: a control byte or 0x80 and up
	POR     X3, X2     // X2: every byte that is not plain ASCII
	PMOVMSKB X2, AX
	TESTL   AX, AX
	JNZ     escapes
	MOVOU   X0, (DI)
	ADDQ    $16, SI
	ADDQ    $16, DI
	SUBQ    $16, CX
	SUBQ    $16, DX
	JMP     loop

escapes:
	MOVO     X11, X4
	PSHUFB   X0, X4    // the byte itself where it is '\t', '\n' or '\r' (0 from 0x80 up)
	PCMPEQB  X0, X4    // X4: '\t', '\n', '\r'
	MOVO     X4, X5
	PANDN    X3, X5    // X5: the bytes this function leaves to the caller
	PMOVMSKB X5, BX
	TESTL    BX, BX
	JZ       letters
	// Characters of two and three bytes are copied as they are (a JSON
	// string holds them so), not left to the caller; one cut by the
	// block's end is left.
	// C (R8): 0x80-0xbf, the bytes that continue a character
	MOVO X13, X1
	PCMPGTB X0, X1
	PMOVMSKB X1, R8
	// R9: 0xc2-0xdf followed by a continuation, U+0085 (0xc2 0x85) excepted
	MOVO X0, X1
	PCMPGTB X14, X1
	MOVO X15, X2
	PCMPGTB X0, X2
	PAND X1, X2
	PMOVMSKB X2, R9
	MOVL R8, R13
	SHRL $1, R13
	ANDL R13, R9
	MOVO X0, X1
	MOVOU escconst<>+0x100(SB), X3
	PCMPEQB X3, X1
	PMOVMSKB X1, R11
	MOVO X0, X1
	MOVOU escconst<>+0x120(SB), X3
	PCMPEQB X3, X1
	PMOVMSKB X1, R12
	SHRL $1, R12
	ANDL R12, R11
	NOTL R11
	ANDL R11, R9
	// R11: 0xe1-0xef but 0xed followed by a continuation; 0xe0 by 0xa0-0xbf;
	// 0xed by 0x80-0x9f (no surrogates); then a second continuation
	MOVO X0, X1
	MOVOU escconst<>+0x140(SB), X3
	PCMPGTB X3, X1
	MOVOU escconst<>+0x160(SB), X2
	PCMPGTB X0, X2
	PAND X1, X2
	PMOVMSKB X2, R11
	MOVO X0, X1
	PCMPEQB X15, X1
	PMOVMSKB X1, R12
	MOVO X0, X1
	MOVOU escconst<>+0x180(SB), X3
	PCMPEQB X3, X1
	PMOVMSKB X1, R14
	MOVL R12, R13
	ORL R14, R13
	NOTL R13
	ANDL R13, R11
	MOVL R8, R13
	SHRL $1, R13
	ANDL R13, R11
	MOVO X13, X1
	PCMPGTB X0, X1
	MOVO X0, X2
	MOVOU escconst<>+0x1a0(SB), X3
	PCMPGTB X3, X2
	PAND X1, X2
	PMOVMSKB X2, R13
	SHRL $1, R13
	ANDL R13, R12
	ORL R12, R11
	MOVOU escconst<>+0x1c0(SB), X1
	PCMPGTB X0, X1
	PMOVMSKB X1, R13
	SHRL $1, R13
	ANDL R13, R14
	ORL R14, R11
	MOVL R8, R13
	SHRL $2, R13
	ANDL R13, R11
	// U+2028 and U+2029 (0xe2 0x80 0xa8, 0xa9) excepted
	MOVO X0, X1
	MOVOU escconst<>+0x1e0(SB), X3
	PCMPEQB X3, X1
	PMOVMSKB X1, R12
	MOVO X0, X1
	MOVOU escconst<>+0x200(SB), X3
	PCMPEQB X3, X1
	PMOVMSKB X1, R13
	SHRL $1, R13
	ANDL R13, R12
	MOVO X0, X1
	MOVOU escconst<>+0x220(SB), X3
	POR X3, X1
	MOVOU escconst<>+0x240(SB), X3
	PCMPEQB X3, X1
	PMOVMSKB X1, R13
	SHRL $2, R13
	ANDL R13, R12
	NOTL R12
	ANDL R12, R11
	// Every byte of those characters is copied as it is.
	LEAL (R9)(R9*1), R8
	ORL R9, R8
	ORL R11, R8
	LEAL (R11)(R11*1), R12
	ORL R12, R8
	SHLL $2, R11
	ORL R11, R8
	NOTL R8
	ANDL R8, BX
	ANDL R8, AX

letters:
	MOVO     X12, X6
	PSHUFB   X0, X6
	PAND     X4, X6
	PADDB    X6, X0    // X0: '\t', '\n', '\r' turned into their letters
	MOVQ     $16, R13  // the bytes of the block taken
	TESTL    BX, BX
	JZ       expand
	// Take the block up to the first byte left to the caller: R14 has
	// the bits below it, which are its index in number.
	MOVL     BX, R14
	NEGL     R14
	ANDL     BX, R14
	DECL     R14
	JZ       done
	ANDL     R14, AX
	POPCNTL  R14, R13

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
	POPCNTL    AX, AX
	ADDQ       R13, AX  // the bytes written
	ADDQ       R13, SI
	SUBQ       R13, CX
	ADDQ       AX, DI
	SUBQ       AX, DX
	// Taken up to a byte in the last three: most likely a character
	// cut by the block's end; the next block starts with it.
	CMPQ R13, $13
	JAE  loop

done:
	SUBQ src+16(FP), SI
	SUBQ dst+0(FP), DI
	MOVQ SI, consumed+40(FP)
	MOVQ DI, written+48(FP)
	RET

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
	VMOVDQU escconst<>+0x00(SB), Y8
	VMOVDQU escconst<>+0x20(SB), Y9
	VMOVDQU escconst<>+0x40(SB), Y10
	VMOVDQU escconst<>+0x60(SB), Y11
	VMOVDQU escconst<>+0x80(SB), Y12
	VMOVDQU escconst<>+0xa0(SB), Y13
	VMOVDQU escconst<>+0xc0(SB), Y14
	VMOVDQU escconst<>+0xe0(SB), Y15

loop32:
	CMPQ CX, $32
	JLT  loop16
	CMPQ DX, $64
	JLT  loop16
	VMOVDQU   (SI), Y0
	VPCMPEQB  Y8, Y0, Y1
	VPCMPEQB  Y9, Y0, Y2
	VPOR      Y1, Y2, Y2
	VPCMPGTB  Y0, Y10, Y3
	VPOR      Y3, Y2, Y2
	VPMOVMSKB Y2, AX
	TESTL     AX, AX
	JNZ       escapes32
	VMOVDQU   Y0, (DI)
	ADDQ      $32, SI
	ADDQ      $32, DI
	SUBQ      $32, CX
	SUBQ      $32, DX
	JMP       loop32

escapes32:
	VPSHUFB   Y0, Y11, Y4
	VPCMPEQB  Y0, Y4, Y4
	VPANDN    Y3, Y4, Y5
	VPMOVMSKB Y5, BX
	TESTL    BX, BX
	JZ       letters32
	// Characters of two and three bytes are copied as they are (a JSON
	// string holds them so), not left to the caller; one cut by the
	// block's end is left.
	// C (R8): 0x80-0xbf, the bytes that continue a character
	VPCMPGTB Y0, Y13, Y1
	VPMOVMSKB Y1, R8
	// R9: 0xc2-0xdf followed by a continuation, U+0085 (0xc2 0x85) excepted
	VPCMPGTB Y14, Y0, Y1
	VPCMPGTB Y0, Y15, Y2
	VPAND Y1, Y2, Y2
	VPMOVMSKB Y2, R9
	MOVL R8, R13
	SHRL $1, R13
	ANDL R13, R9
	VPCMPEQB escconst<>+0x100(SB), Y0, Y1
	VPMOVMSKB Y1, R11
	VPCMPEQB escconst<>+0x120(SB), Y0, Y1
	VPMOVMSKB Y1, R12
	SHRL $1, R12
	ANDL R12, R11
	NOTL R11
	ANDL R11, R9
	// R11: 0xe1-0xef but 0xed followed by a continuation; 0xe0 by 0xa0-0xbf;
	// 0xed by 0x80-0x9f (no surrogates); then a second continuation
	VPCMPGTB escconst<>+0x140(SB), Y0, Y1
	VMOVDQU escconst<>+0x160(SB), Y3
	VPCMPGTB Y0, Y3, Y2
	VPAND Y1, Y2, Y2
	VPMOVMSKB Y2, R11
	VPCMPEQB Y15, Y0, Y1
	VPMOVMSKB Y1, R12
	VPCMPEQB escconst<>+0x180(SB), Y0, Y1
	VPMOVMSKB Y1, R14
	MOVL R12, R13
	ORL R14, R13
	NOTL R13
	ANDL R13, R11
	MOVL R8, R13
	SHRL $1, R13
	ANDL R13, R11
	VPCMPGTB Y0, Y13, Y1
	VPCMPGTB escconst<>+0x1a0(SB), Y0, Y2
	VPAND Y1, Y2, Y2
	VPMOVMSKB Y2, R13
	SHRL $1, R13
	ANDL R13, R12
	ORL R12, R11
	VMOVDQU escconst<>+0x1c0(SB), Y3
	VPCMPGTB Y0, Y3, Y1
	VPMOVMSKB Y1, R13
	SHRL $1, R13
	ANDL R13, R14
	ORL R14, R11
	MOVL R8, R13
	SHRL $2, R13
	ANDL R13, R11
	// U+2028 and U+2029 (0xe2 0x80 0xa8, 0xa9) excepted
	VPCMPEQB escconst<>+0x1e0(SB), Y0, Y1
	VPMOVMSKB Y1, R12
	VPCMPEQB escconst<>+0x200(SB), Y0, Y1
	VPMOVMSKB Y1, R13
	SHRL $1, R13
	ANDL R13, R12
	VPOR escconst<>+0x220(SB), Y0, Y1
	VPCMPEQB escconst<>+0x240(SB), Y1, Y1
	VPMOVMSKB Y1, R13
	SHRL $2, R13
	ANDL R13, R12
	NOTL R12
	ANDL R12, R11
	// Every byte of those characters is copied as it is.
	LEAL (R9)(R9*1), R8
	ORL R9, R8
	ORL R11, R8
	LEAL (R11)(R11*1), R12
	ORL R12, R8
	SHLL $2, R11
	ORL R11, R8
	NOTL R8
	ANDL R8, BX
	ANDL R8, AX

letters32:
	VPSHUFB   Y0, Y12, Y6
	VPAND     Y4, Y6, Y6
	VPADDB    Y6, Y0, Y0
	MOVQ      $32, R13
	TESTL     BX, BX
	JZ        expand32
	MOVL      BX, R14
	NEGL      R14
	ANDL      BX, R14
	DECL      R14
	JZ        done
	ANDL      R14, AX
	POPCNTL   R14, R13

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
	MOVL         AX, BX
	SHRL         $8, BX
	ANDL         $0xff, BX
	POPCNTL      BX, R8
	SHLL         $4, BX
	VPSHUFB      (R10)(BX*1), X0, X2
	VMOVDQU      X2, (R14)
	LEAQ         8(R14)(R8*1), R14
	VEXTRACTI128 $1, Y7, X7
	MOVL         AX, BX
	SHRL         $16, BX
	ANDL         $0xff, BX
	POPCNTL      BX, R8
	SHLL         $4, BX
	VPSHUFB      (R10)(BX*1), X7, X3
	VMOVDQU      X3, (R14)
	LEAQ         8(R14)(R8*1), R14
	VEXTRACTI128 $1, Y0, X0
	MOVL         AX, BX
	SHRL         $24, BX
	SHLL         $4, BX
	VPSHUFB      (R10)(BX*1), X0, X4
	VMOVDQU      X4, (R14)
	POPCNTL      AX, AX
	ADDQ         R13, AX
	ADDQ         R13, SI
	SUBQ         R13, CX
	ADDQ         AX, DI
	SUBQ         AX, DX
	// Taken up to a byte in the last three: most likely a character
	// cut by the block's end; the next block starts with it.
	CMPQ R13, $29
	JAE  loop32
	JMP          done

loop16:
	CMPQ CX, $16
	JLT  done
	CMPQ DX, $32
	JLT  done
	VMOVDQU   (SI), X0
	VPCMPEQB  X8, X0, X1
	VPCMPEQB  X9, X0, X2
	VPOR      X1, X2, X2
	VPCMPGTB  X0, X10, X3
	VPOR      X3, X2, X2
	VPMOVMSKB X2, AX
	TESTL     AX, AX
	JNZ       escapes16
	VMOVDQU   X0, (DI)
	ADDQ      $16, SI
	ADDQ      $16, DI
	SUBQ      $16, CX
	SUBQ      $16, DX
	JMP       loop16

escapes16:
	VPSHUFB   X0, X11, X4
	VPCMPEQB  X0, X4, X4
	VPANDN    X3, X4, X5
	VPMOVMSKB X5, BX
	TESTL    BX, BX
	JZ       letters16
	// Characters of two and three bytes are copied as they are (a JSON
	// string holds them so), not left to the caller; one cut by the
	// block's end is left.
	// C (R8): 0x80-0xbf, the bytes that continue a character
	VPCMPGTB X0, X13, X1
	VPMOVMSKB X1, R8
	// R9: 0xc2-0xdf followed by a continuation, U+0085 (0xc2 0x85) excepted
	VPCMPGTB X14, X0, X1
	VPCMPGTB X0, X15, X2
	VPAND X1, X2, X2
	VPMOVMSKB X2, R9
	MOVL R8, R13
	SHRL $1, R13
	ANDL R13, R9
	VPCMPEQB escconst<>+0x100(SB), X0, X1
	VPMOVMSKB X1, R11
	VPCMPEQB escconst<>+0x120(SB), X0, X1
	VPMOVMSKB X1, R12
	SHRL $1, R12
	ANDL R12, R11
	NOTL R11
	ANDL R11, R9
	// R11: 0xe1-0xef but 0xed followed by a continuation; 0xe0 by 0xa0-0xbf;
	// 0xed by 0x80-0x9f (no surrogates); then a second continuation
	VPCMPGTB escconst<>+0x140(SB), X0, X1
	VMOVDQU escconst<>+0x160(SB), X3
	VPCMPGTB X0, X3, X2
	VPAND X1, X2, X2
	VPMOVMSKB X2, R11
	VPCMPEQB X15, X0, X1
	VPMOVMSKB X1, R12
	VPCMPEQB escconst<>+0x180(SB), X0, X1
	VPMOVMSKB X1, R14
	MOVL R12, R13
	ORL R14, R13
	NOTL R13
	ANDL R13, R11
	MOVL R8, R13
	SHRL $1, R13
	ANDL R13, R11
	VPCMPGTB X0, X13, X1
	VPCMPGTB escconst<>+0x1a0(SB), X0, X2
	VPAND X1, X2, X2
	VPMOVMSKB X2, R13
	SHRL $1, R13
	ANDL R13, R12
	ORL R12, R11
	VMOVDQU escconst<>+0x1c0(SB), X3
	VPCMPGTB X0, X3, X1
	VPMOVMSKB X1, R13
	SHRL $1, R13
	ANDL R13, R14
	ORL R14, R11
	MOVL R8, R13
	SHRL $2, R13
	ANDL R13, R11
	// U+2028 and U+2029 (0xe2 0x80 0xa8, 0xa9) excepted
	VPCMPEQB escconst<>+0x1e0(SB), X0, X1
	VPMOVMSKB X1, R12
	VPCMPEQB escconst<>+0x200(SB), X0, X1
	VPMOVMSKB X1, R13
	SHRL $1, R13
	ANDL R13, R12
	VPOR escconst<>+0x220(SB), X0, X1
	VPCMPEQB escconst<>+0x240(SB), X1, X1
	VPMOVMSKB X1, R13
	SHRL $2, R13
	ANDL R13, R12
	NOTL R12
	ANDL R12, R11
	// Every byte of those characters is copied as it is.
	LEAL (R9)(R9*1), R8
	ORL R9, R8
	ORL R11, R8
	LEAL (R11)(R11*1), R12
	ORL R12, R8
	SHLL $2, R11
	ORL R11, R8
	NOTL R8
	ANDL R8, BX
	ANDL R8, AX

letters16:
	VPSHUFB   X0, X12, X6
	VPAND     X4, X6, X6
	VPADDB    X6, X0, X0
	MOVQ      $16, R13
	TESTL     BX, BX
	JZ        expand16
	MOVL      BX, R14
	NEGL      R14
	ANDL      BX, R14
	DECL      R14
	JZ        done
	ANDL      R14, AX
	POPCNTL   R14, R13

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
	POPCNTL     AX, AX
	ADDQ        R13, AX
	ADDQ        R13, SI
	SUBQ        R13, CX
	ADDQ        AX, DI
	SUBQ        AX, DX
	// Taken up to a byte in the last three: most likely a character
	// cut by the block's end; the next block starts with it.
	CMPQ R13, $13
	JAE  loop16

done:
	VZEROUPPER
	SUBQ src+16(FP), SI
	SUBQ dst+0(FP), DI
	MOVQ SI, consumed+40(FP)
	MOVQ DI, written+48(FP)
	RET
