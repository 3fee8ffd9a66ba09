/* F and D extensions: the IEEE 754 helpers both engines call (fpu.c).
 * Parsed by cffi as well: integer #defines and declarations only.
 *
 * Register values are the raw 64-bit f-register contents: singles are
 * NaN-boxed (an improperly boxed input reads as the canonical NaN, single
 * results come back boxed).  `rm` is the instruction's rounding-mode field;
 * 7 (dynamic) selects frm, and a reserved mode raises illegal instruction
 * with no other effect.  Exception flags accrue into fflags. */
#ifndef BT_FPU_H
#define BT_FPU_H

#include "bt.h"

/* fflags bits */
#define FFLAG_NX 1
#define FFLAG_UF 2
#define FFLAG_OF 4
#define FFLAG_DZ 8
#define FFLAG_NV 16

/* rounding modes (rm field, frm) */
#define RM_RNE 0
#define RM_RTZ 1
#define RM_RDN 2
#define RM_RUP 3
#define RM_RMM 4
#define RM_DYN 7

/* integer kinds of fcvt, as encoded in its rs2 field */
#define FCVT_W 0
#define FCVT_WU 1
#define FCVT_L 2
#define FCVT_LU 3

/* While the JIT runs a hart, the guest owns the SSE control register
 * (round to nearest, exceptions masked), so that generated code may compute
 * in place (see bt_vmm/engines/jit/fastfp.py).  bt_fp_enter returns the
 * host's MXCSR for bt_fp_leave. */
uint64_t bt_fp_enter(void);
void bt_fp_leave(uint64_t host);
uint64_t bt_fp_mxcsr_fflags(uint64_t mxcsr);   /* the fflags bits of MXCSR's flag bits */
#define MXCSR_GUEST 0x1f80   /* all exceptions masked, round to nearest, no flags */

/* arithmetic, correctly rounded in rm */
uint64_t bt_fadd_s(hart_t *h, uint64_t a, uint64_t b, uint64_t rm);
uint64_t bt_fsub_s(hart_t *h, uint64_t a, uint64_t b, uint64_t rm);
uint64_t bt_fmul_s(hart_t *h, uint64_t a, uint64_t b, uint64_t rm);
uint64_t bt_fdiv_s(hart_t *h, uint64_t a, uint64_t b, uint64_t rm);
uint64_t bt_fsqrt_s(hart_t *h, uint64_t a, uint64_t rm);
uint64_t bt_fmadd_s(hart_t *h, uint64_t a, uint64_t b, uint64_t c, uint64_t rm); /* a*b+c, one rounding */
uint64_t bt_fadd_d(hart_t *h, uint64_t a, uint64_t b, uint64_t rm);
uint64_t bt_fsub_d(hart_t *h, uint64_t a, uint64_t b, uint64_t rm);
uint64_t bt_fmul_d(hart_t *h, uint64_t a, uint64_t b, uint64_t rm);
uint64_t bt_fdiv_d(hart_t *h, uint64_t a, uint64_t b, uint64_t rm);
uint64_t bt_fsqrt_d(hart_t *h, uint64_t a, uint64_t rm);
uint64_t bt_fmadd_d(hart_t *h, uint64_t a, uint64_t b, uint64_t c, uint64_t rm);

/* minimumNumber / maximumNumber (IEEE 754-2019): -0 < +0, a NaN loses */
uint64_t bt_fmin_s(hart_t *h, uint64_t a, uint64_t b);
uint64_t bt_fmax_s(hart_t *h, uint64_t a, uint64_t b);
uint64_t bt_fmin_d(hart_t *h, uint64_t a, uint64_t b);
uint64_t bt_fmax_d(hart_t *h, uint64_t a, uint64_t b);

/* comparisons: 1 or 0; feq is quiet, flt/fle signal on any NaN */
uint64_t bt_feq_s(hart_t *h, uint64_t a, uint64_t b);
uint64_t bt_flt_s(hart_t *h, uint64_t a, uint64_t b);
uint64_t bt_fle_s(hart_t *h, uint64_t a, uint64_t b);
uint64_t bt_feq_d(hart_t *h, uint64_t a, uint64_t b);
uint64_t bt_flt_d(hart_t *h, uint64_t a, uint64_t b);
uint64_t bt_fle_d(hart_t *h, uint64_t a, uint64_t b);

/* the 10-bit class mask of fclass */
uint64_t bt_fclass_s(hart_t *h, uint64_t a);
uint64_t bt_fclass_d(hart_t *h, uint64_t a);

/* conversions between the formats */
uint64_t bt_fcvt_s_d(hart_t *h, uint64_t a, uint64_t rm);
uint64_t bt_fcvt_d_s(hart_t *h, uint64_t a, uint64_t rm);

/* float -> integer with RISC-V saturation (kind FCVT_*; 32-bit results
 * sign-extended), and integer register value -> float */
uint64_t bt_fcvt_to_int_s(hart_t *h, uint64_t a, uint64_t rm, uint64_t kind);
uint64_t bt_fcvt_to_int_d(hart_t *h, uint64_t a, uint64_t rm, uint64_t kind);
uint64_t bt_fcvt_from_int_s(hart_t *h, uint64_t x, uint64_t rm, uint64_t kind);
uint64_t bt_fcvt_from_int_d(hart_t *h, uint64_t x, uint64_t rm, uint64_t kind);

#endif
