/* F and D extensions: IEEE 754 arithmetic with RISC-V's rules.
 *
 * RNE, RTZ, RDN and RUP run natively on the host (SSE) in that rounding mode,
 * and the host's exception flags become fflags; x86 detects tininess after
 * rounding, as RISC-V does.  That path drives MXCSR directly (libc's fenv
 * calls also touch the x87 unit and cost far more than the operation); a
 * fused multiply-add without FMA hardware goes through libm and fenv.
 * RMM has no host mode: the operation runs toward zero in a wider format
 * (x87 extended, 64-bit significand; __float128 for the fused multiply-add,
 * whose product is then exact), the inexact flag is folded into the last bit
 * (round to odd, exact for any later rounding to 62 bits or fewer), and
 * round_rmm rounds that once to the target format.
 * Every NaN result is the canonical NaN.
 */
#define _GNU_SOURCE
#include <fenv.h>
#include <math.h>
#include <string.h>
#include <xmmintrin.h>
#include <emmintrin.h>
#include "priv.h"
#include "fpu.h"

typedef struct {
    int prec;       /* significand bits, hidden bit included */
    int emin;       /* exponent of the smallest normal */
    int bias;
    int width;      /* 32 or 64 */
    uint64_t qnan;  /* the canonical NaN */
} fmt_t;

static const fmt_t F32 = {24, -126, 127, 32, 0x7fc00000};
static const fmt_t F64 = {53, -1022, 1023, 64, 0x7ff8000000000000ULL};

/* OP_CVT converts between the formats; OP_FROM_INT and OP_FROM_UINT convert
 * a signed or unsigned 64-bit integer (the `a` operand) to `out`. */
typedef enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_SQRT, OP_FMA, OP_CVT, OP_FROM_INT, OP_FROM_UINT } fop_t;

/* Host rounding mode per RISC-V mode; RMM computes toward zero (see above). */
static const int HOST_MODE[5] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO};

/* --- fflags, rounding modes, the host environment --- */

static void accrue(hart_t *h, int flags)
{
    if ((h->fflags | (uint64_t)flags) != h->fflags) {
        h->fflags |= (uint64_t)flags;
        h->mstatus |= MSTATUS_FS | MSTATUS_SD;
    }
}

/* The effective rounding mode, or -1 after raising illegal instruction. */
static int rounding_mode(hart_t *h, uint64_t rm)
{
    if (rm == RM_DYN)
        rm = h->frm;
    if (rm > RM_RMM) {
        bt_raise(h, EXC_ILLEGAL_INSN, h->insn_bits);
        return -1;
    }
    return (int)rm;
}

/* Enter the host rounding mode for `mode` with clear flags; returns the mode to restore. */
static int env_enter(int mode)
{
    int saved = fegetround();
    if (saved != HOST_MODE[mode])
        fesetround(HOST_MODE[mode]);
    feclearexcept(FE_ALL_EXCEPT);
    return saved;
}

/* Leave the host environment; returns the raised flags as fflags bits. */
static int env_leave(int saved)
{
    int host = fetestexcept(FE_ALL_EXCEPT);
    if (fegetround() != saved)
        fesetround(saved);
    return (host & FE_INVALID ? FFLAG_NV : 0) | (host & FE_DIVBYZERO ? FFLAG_DZ : 0) |
           (host & FE_OVERFLOW ? FFLAG_OF : 0) | (host & FE_UNDERFLOW ? FFLAG_UF : 0) |
           (host & FE_INEXACT ? FFLAG_NX : 0);
}

/* --- the SSE unit's control and status register --- */

#define MXCSR_FLAGS 0x3f     /* IE DE ZE OE UE PE */
#define MXCSR_CONTROL 0xffc0 /* DAZ, exception masks, rounding control, FTZ */
#define MXCSR_MASKS MXCSR_GUEST   /* every exception masked (and rounding control 0: to nearest) */

/* Control bits per RISC-V mode: masked, DAZ and FTZ off, rounding control. */
static const uint32_t MXCSR_MODE[4] = {
    [RM_RNE] = MXCSR_MASKS, [RM_RTZ] = MXCSR_MASKS | 0x6000,
    [RM_RDN] = MXCSR_MASKS | 0x2000, [RM_RUP] = MXCSR_MASKS | 0x4000,
};

/* fflags per combination of MXCSR flag bits; DE (denormal operand) has no
 * RISC-V counterpart. */
#define XF(m) (((m) & 1 ? FFLAG_NV : 0) | ((m) & 4 ? FFLAG_DZ : 0) | ((m) & 8 ? FFLAG_OF : 0) | \
               ((m) & 16 ? FFLAG_UF : 0) | ((m) & 32 ? FFLAG_NX : 0))
#define XF4(m) XF(m), XF((m) + 1), XF((m) + 2), XF((m) + 3)
#define XF16(m) XF4(m), XF4((m) + 4), XF4((m) + 8), XF4((m) + 12)
static const uint8_t MXCSR_FFLAGS[64] = {XF16(0), XF16(16), XF16(32), XF16(48)};

/* Volatile asm statements keep their order; the FP operation sits between
 * them through PIN, which the compiler must assume reads and rewrites the
 * value, so it can move neither operands nor result across the window. */
#define PIN(v) __asm__ volatile("" : "+x"(v))
#define PIN_INT(v) __asm__ volatile("" : "+r"(v))

static inline uint32_t mxcsr_get(void)
{
    uint32_t v;
    __asm__ volatile("stmxcsr %0" : "=m"(v) : : "memory");
    return v;
}

static inline void mxcsr_set(uint32_t v)
{
    __asm__ volatile("ldmxcsr %0" : : "m"(v) : "memory");
}

uint64_t bt_fp_enter(void)
{
    uint32_t host = mxcsr_get();
    mxcsr_set(MXCSR_GUEST);
    return host;
}

void bt_fp_leave(uint64_t host)
{
    mxcsr_set((uint32_t)host);
}

uint64_t bt_fp_mxcsr_fflags(uint64_t mxcsr)
{
    return MXCSR_FFLAGS[mxcsr & MXCSR_FLAGS];
}

/* --- register bits <-> values --- */

static uint64_t sign_bit(const fmt_t *f)
{
    return 1ULL << (f->width - 1);
}

static uint64_t inf_bits(const fmt_t *f)
{
    return (uint64_t)(2 * f->bias + 1) << (f->prec - 1);
}

/* A single's bits from a register: the canonical NaN unless NaN-boxed. */
static uint64_t unbox(const fmt_t *f, uint64_t v)
{
    if (f->width == 64)
        return v;
    return (v >> 32) == 0xffffffffULL ? (v & 0xffffffffULL) : F32.qnan;
}

static uint64_t box(const fmt_t *f, uint64_t bits)
{
    return f->width == 64 ? bits : bits | 0xffffffff00000000ULL;
}

static int is_nan(const fmt_t *f, uint64_t bits)
{
    return (bits & ~sign_bit(f)) > inf_bits(f);
}

static int is_snan(const fmt_t *f, uint64_t bits)
{
    return is_nan(f, bits) && !(bits >> (f->prec - 2) & 1);
}

/* Value of (unboxed) bits; exact, and quiet for a non-signalling input. */
static double to_double(const fmt_t *f, uint64_t bits)
{
    if (f->width == 32) {
        uint32_t b = (uint32_t)bits;
        float v;
        memcpy(&v, &b, sizeof v);
        return v;
    }
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* Bits of v in format f (v already representable there), NaNs canonical. */
static uint64_t from_double(const fmt_t *f, double v)
{
    if (isnan(v))
        return f->qnan;
    if (f->width == 32) {
        float s = (float)v;
        uint32_t b;
        memcpy(&b, &s, sizeof b);
        return b;
    }
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

/* --- round to nearest, ties away (RMM), in software --- */

/* sig >> shift rounded to nearest, ties away; *inexact when bits were lost. */
static uint64_t shift_rmm(uint64_t sig, int shift, int *inexact)
{
    *inexact = 1;
    if (shift > 64)
        return 0; /* below half of the last place */
    uint64_t rest = shift == 64 ? sig : sig & ((1ULL << shift) - 1);
    uint64_t q = shift == 64 ? 0 : sig >> shift;
    *inexact = rest != 0;
    return q + (rest >= 1ULL << (shift - 1));
}

/* Round the finite nonzero v to format f in RMM.  v is exact, or the value
 * truncated to 64 bits with `sticky` set when that lost bits. */
static uint64_t round_rmm(const fmt_t *f, long double v, int sticky, int *flags)
{
    union {
        long double v;
        struct {
            uint64_t sig; /* explicit leading bit: v = sig * 2^(exp - 63) */
            uint16_t sign_exp;
        } p;
    } u = {.v = v};
    uint64_t sign = u.p.sign_exp >> 15 ? sign_bit(f) : 0;
    int exp = (u.p.sign_exp & 0x7fff) - 16383;
    uint64_t sig = u.p.sig | (sticky != 0);
    int shift = 64 - f->prec, inexact;
    /* Tininess is judged after rounding, with an unbounded exponent. */
    uint64_t q = shift_rmm(sig, shift, &inexact);
    int tiny = exp + (int)(q >> f->prec) < f->emin;
    uint64_t bits;
    if (exp > f->bias) {
        bits = inf_bits(f); /* RMM takes every overflow to infinity */
    } else if (exp >= f->emin) {
        /* a carry out of q bumps the exponent, from the largest finite to infinity */
        bits = ((uint64_t)(exp + f->bias - 1) << (f->prec - 1)) + q;
    } else {
        bits = shift_rmm(sig, shift + f->emin - exp, &inexact); /* subnormal; may carry to the smallest normal */
    }
    if (bits == inf_bits(f))
        *flags |= FFLAG_OF | FFLAG_NX;
    else if (inexact)
        *flags |= FFLAG_NX | (tiny ? FFLAG_UF : 0);
    return sign | bits;
}

/* The RMM result from the wider value v computed toward zero. */
static uint64_t finish_rmm(const fmt_t *f, long double v, int *flags)
{
    if (isnan(v))
        return f->qnan;
    uint64_t sign = signbit(v) ? sign_bit(f) : 0;
    if (isinf(v))
        return sign | inf_bits(f);
    if (v == 0)
        return sign; /* exact: the same signed zero in every mode but RDN */
    int sticky = *flags & FFLAG_NX;
    *flags &= ~FFLAG_NX;
    return round_rmm(f, v, sticky, flags);
}

/* --- the arithmetic --- */

static float f32_of(uint64_t bits)
{
    uint32_t b = (uint32_t)bits;
    float v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static double f64_of(uint64_t bits)
{
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* Bits of a host result, NaNs canonical. */
static uint64_t bits_f32(float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    return is_nan(&F32, b) ? F32.qnan : b;
}

static uint64_t bits_f64(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return is_nan(&F64, b) ? F64.qnan : b;
}

/* Whether the host has FMA instructions (their flags land in MXCSR). */
static int HOST_FMA;

__attribute__((constructor)) static void detect_fma(void)
{
    __builtin_cpu_init();
    HOST_FMA = __builtin_cpu_supports("fma");
}

__attribute__((target("fma"))) static float fma_s_hw(float x, float y, float z) { return __builtin_fmaf(x, y, z); }
__attribute__((target("fma"))) static double fma_d_hw(double x, double y, double z) { return __builtin_fma(x, y, z); }

static inline float eval_s(fop_t op, float x, float y, float z)
{
    switch (op) {
    case OP_ADD: return x + y;
    case OP_SUB: return x - y;
    case OP_MUL: return x * y;
    case OP_DIV: return x / y;
    case OP_SQRT: return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(x)));
    case OP_FMA: return fma_s_hw(x, y, z);
    default: break; /* conversions: see native() */
    }
    return x;
}

static inline double eval_d(fop_t op, double x, double y, double z)
{
    switch (op) {
    case OP_ADD: return x + y;
    case OP_SUB: return x - y;
    case OP_MUL: return x * y;
    case OP_DIV: return x / y;
    case OP_SQRT: return _mm_cvtsd_f64(_mm_sqrt_sd(_mm_setzero_pd(), _mm_set_sd(x)));
    case OP_FMA: return fma_d_hw(x, y, z);
    default: break; /* conversions: see native() */
    }
    return x;
}

/* The operation on the SSE unit, pinned between MXCSR accesses (see PIN). */
static inline uint64_t native(fop_t op, const fmt_t *in, const fmt_t *out, uint64_t a, uint64_t b, uint64_t c)
{
    if (op == OP_FROM_INT || op == OP_FROM_UINT) {
        PIN_INT(a);
        if (out->width == 32) {
            float r = op == OP_FROM_INT ? (float)(int64_t)a : (float)a;
            PIN(r);
            return bits_f32(r);
        }
        double r = op == OP_FROM_INT ? (double)(int64_t)a : (double)a;
        PIN(r);
        return bits_f64(r);
    }
    if (op == OP_CVT && in->width == 32) {
        float x = f32_of(a);
        PIN(x);
        double r = x;
        PIN(r);
        return bits_f64(r);
    }
    if (op == OP_CVT) {
        double x = f64_of(a);
        PIN(x);
        float r = (float)x;
        PIN(r);
        return bits_f32(r);
    }
    if (out->width == 32) {
        float x = f32_of(a), y = f32_of(b), z = f32_of(c);
        PIN(x);
        PIN(y);
        if (op == OP_FMA)
            PIN(z);
        float r = eval_s(op, x, y, z);
        PIN(r);
        return bits_f32(r);
    }
    double x = f64_of(a), y = f64_of(b), z = f64_of(c);
    PIN(x);
    PIN(y);
    if (op == OP_FMA)
        PIN(z);
    double r = eval_d(op, x, y, z);
    PIN(r);
    return bits_f64(r);
}

/* The operation toward zero in a format wide enough for round to odd. */
static long double eval_wide(fop_t op, long double a, long double b, long double c)
{
    switch (op) {
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    case OP_MUL: return a * b;
    case OP_DIV: return a / b;
    case OP_SQRT: return sqrtl(a);
    case OP_FMA: return (long double)((__float128)a * (__float128)b + (__float128)c);
    case OP_CVT: return a;
    default: return NAN; /* from_int() rounds integers itself in RMM */
    }
}

/* RMM, or a fused multiply-add by libm on a host without FMA: both may use
 * the x87 unit, so the rounding mode and flags go through libc's fenv. */
static uint64_t arith_fenv(fop_t op, const fmt_t *in, const fmt_t *out, int mode,
                           uint64_t a, uint64_t b, uint64_t c, int *flags)
{
    /* Volatile operands and results keep the arithmetic inside the window
     * where the host rounding mode is set and its flags are read. */
    volatile uint64_t va = a, vb = b, vc = c;
    volatile double native = 0;
    volatile long double wide = 0;
    int saved = env_enter(mode);
    double x = to_double(in, va), y = to_double(in, vb), z = to_double(in, vc);
    if (mode == RM_RMM)
        wide = eval_wide(op, x, y, z);
    else if (out->width == 32)
        native = fmaf((float)x, (float)y, (float)z);
    else
        native = fma(x, y, z);
    *flags = env_leave(saved);
    return mode == RM_RMM ? finish_rmm(out, wide, flags) : from_double(out, native);
}

/* The operation on the SSE unit in `mode`; *flags gets the flags it raised.
 * It runs first on MXCSR as it stands, and that result stands when the
 * control bits were this mode's and every flag raised by now is one fflags
 * holds already (accruing it again changes nothing): the steady state of
 * guest code in RNE, for a single MXCSR access.  Otherwise the (pure)
 * operation runs again with the mode set and the flags clear, and the host's
 * control bits come back.  (The first run uses the host's exception masks,
 * which Python leaves all set.) */
static inline __attribute__((always_inline)) uint64_t sse_arith(hart_t *h, fop_t op, const fmt_t *in, const fmt_t *out,
                                                                uint64_t a, uint64_t b, uint64_t c, int mode, int *flags)
{
    uint64_t bits = native(op, in, out, a, b, c);
    uint32_t host = mxcsr_get();
    *flags = 0;
    if ((host & MXCSR_CONTROL) == MXCSR_MODE[mode] && !(MXCSR_FFLAGS[host & MXCSR_FLAGS] & ~h->fflags))
        return bits;
    mxcsr_set((host & ~(MXCSR_CONTROL | MXCSR_FLAGS)) | MXCSR_MODE[mode]);
    bits = native(op, in, out, a, b, c);
    uint32_t now = mxcsr_get();
    if ((now ^ host) & MXCSR_CONTROL)
        mxcsr_set((now & ~MXCSR_CONTROL) | (host & MXCSR_CONTROL));
    *flags = MXCSR_FFLAGS[now & MXCSR_FLAGS];
    return bits;
}

static int is_inf_times_zero(const fmt_t *f, uint64_t a, uint64_t b)
{
    uint64_t ma = a & ~sign_bit(f), mb = b & ~sign_bit(f);
    return (ma == inf_bits(f) && mb == 0) || (ma == 0 && mb == inf_bits(f));
}

/* One operation from operands in format `in` to a result in format `out`;
 * inlined into each helper so that op and formats are constants. */
static inline __attribute__((always_inline)) uint64_t arith(hart_t *h, fop_t op, const fmt_t *in, const fmt_t *out,
                                                            uint64_t a, uint64_t b, uint64_t c, uint64_t rm)
{
    int mode = rounding_mode(h, rm);
    if (mode < 0)
        return 0;
    a = unbox(in, a), b = unbox(in, b), c = unbox(in, c);
    int flags;
    uint64_t bits;
    if (mode == RM_RMM || (op == OP_FMA && !HOST_FMA))
        bits = arith_fenv(op, in, out, mode, a, b, c, &flags);
    else
        bits = sse_arith(h, op, in, out, a, b, c, mode, &flags);
    if (op == OP_FMA && is_inf_times_zero(in, a, b))
        flags |= FFLAG_NV; /* even when the addend is a quiet NaN */
    accrue(h, flags);
    return box(out, bits);
}

uint64_t bt_fadd_s(hart_t *h, uint64_t a, uint64_t b, uint64_t rm) { return arith(h, OP_ADD, &F32, &F32, a, b, 0, rm); }
uint64_t bt_fsub_s(hart_t *h, uint64_t a, uint64_t b, uint64_t rm) { return arith(h, OP_SUB, &F32, &F32, a, b, 0, rm); }
uint64_t bt_fmul_s(hart_t *h, uint64_t a, uint64_t b, uint64_t rm) { return arith(h, OP_MUL, &F32, &F32, a, b, 0, rm); }
uint64_t bt_fdiv_s(hart_t *h, uint64_t a, uint64_t b, uint64_t rm) { return arith(h, OP_DIV, &F32, &F32, a, b, 0, rm); }
uint64_t bt_fsqrt_s(hart_t *h, uint64_t a, uint64_t rm) { return arith(h, OP_SQRT, &F32, &F32, a, a, a, rm); }
uint64_t bt_fmadd_s(hart_t *h, uint64_t a, uint64_t b, uint64_t c, uint64_t rm) { return arith(h, OP_FMA, &F32, &F32, a, b, c, rm); }
uint64_t bt_fadd_d(hart_t *h, uint64_t a, uint64_t b, uint64_t rm) { return arith(h, OP_ADD, &F64, &F64, a, b, 0, rm); }
uint64_t bt_fsub_d(hart_t *h, uint64_t a, uint64_t b, uint64_t rm) { return arith(h, OP_SUB, &F64, &F64, a, b, 0, rm); }
uint64_t bt_fmul_d(hart_t *h, uint64_t a, uint64_t b, uint64_t rm) { return arith(h, OP_MUL, &F64, &F64, a, b, 0, rm); }
uint64_t bt_fdiv_d(hart_t *h, uint64_t a, uint64_t b, uint64_t rm) { return arith(h, OP_DIV, &F64, &F64, a, b, 0, rm); }
uint64_t bt_fsqrt_d(hart_t *h, uint64_t a, uint64_t rm) { return arith(h, OP_SQRT, &F64, &F64, a, a, a, rm); }
uint64_t bt_fmadd_d(hart_t *h, uint64_t a, uint64_t b, uint64_t c, uint64_t rm) { return arith(h, OP_FMA, &F64, &F64, a, b, c, rm); }
uint64_t bt_fcvt_s_d(hart_t *h, uint64_t a, uint64_t rm) { return arith(h, OP_CVT, &F64, &F32, a, a, a, rm); }
uint64_t bt_fcvt_d_s(hart_t *h, uint64_t a, uint64_t rm) { return arith(h, OP_CVT, &F32, &F64, a, a, a, rm); }

/* --- min/max, comparisons, classification (exact: no rounding) --- */

static uint64_t minmax(hart_t *h, const fmt_t *f, uint64_t a, uint64_t b, int want_max)
{
    a = unbox(f, a), b = unbox(f, b);
    if (is_snan(f, a) || is_snan(f, b))
        accrue(h, FFLAG_NV);
    uint64_t r;
    if (is_nan(f, a) && is_nan(f, b))
        r = f->qnan;
    else if (is_nan(f, a) || is_nan(f, b))
        r = is_nan(f, a) ? b : a;
    else {
        double x = to_double(f, a), y = to_double(f, b);
        int a_less = x < y || (x == y && (a & sign_bit(f))); /* -0 < +0 */
        r = a_less != want_max ? a : b;
    }
    return box(f, r);
}

uint64_t bt_fmin_s(hart_t *h, uint64_t a, uint64_t b) { return minmax(h, &F32, a, b, 0); }
uint64_t bt_fmax_s(hart_t *h, uint64_t a, uint64_t b) { return minmax(h, &F32, a, b, 1); }
uint64_t bt_fmin_d(hart_t *h, uint64_t a, uint64_t b) { return minmax(h, &F64, a, b, 0); }
uint64_t bt_fmax_d(hart_t *h, uint64_t a, uint64_t b) { return minmax(h, &F64, a, b, 1); }

typedef enum { CMP_EQ, CMP_LT, CMP_LE } cmp_t;

static uint64_t compare(hart_t *h, const fmt_t *f, uint64_t a, uint64_t b, cmp_t cmp)
{
    a = unbox(f, a), b = unbox(f, b);
    if (is_nan(f, a) || is_nan(f, b)) {
        /* feq is a quiet comparison; flt and fle signal on any NaN */
        if (cmp != CMP_EQ || is_snan(f, a) || is_snan(f, b))
            accrue(h, FFLAG_NV);
        return 0;
    }
    double x = to_double(f, a), y = to_double(f, b);
    return cmp == CMP_EQ ? x == y : cmp == CMP_LT ? x < y : x <= y;
}

uint64_t bt_feq_s(hart_t *h, uint64_t a, uint64_t b) { return compare(h, &F32, a, b, CMP_EQ); }
uint64_t bt_flt_s(hart_t *h, uint64_t a, uint64_t b) { return compare(h, &F32, a, b, CMP_LT); }
uint64_t bt_fle_s(hart_t *h, uint64_t a, uint64_t b) { return compare(h, &F32, a, b, CMP_LE); }
uint64_t bt_feq_d(hart_t *h, uint64_t a, uint64_t b) { return compare(h, &F64, a, b, CMP_EQ); }
uint64_t bt_flt_d(hart_t *h, uint64_t a, uint64_t b) { return compare(h, &F64, a, b, CMP_LT); }
uint64_t bt_fle_d(hart_t *h, uint64_t a, uint64_t b) { return compare(h, &F64, a, b, CMP_LE); }

static uint64_t fclass(const fmt_t *f, uint64_t a)
{
    a = unbox(f, a);
    int neg = (a & sign_bit(f)) != 0;
    uint64_t mag = a & ~sign_bit(f);
    if (is_nan(f, a))
        return is_snan(f, a) ? 1 << 8 : 1 << 9;
    if (mag == inf_bits(f))
        return neg ? 1 << 0 : 1 << 7;
    if (mag == 0)
        return neg ? 1 << 3 : 1 << 4;
    if (mag >> (f->prec - 1) == 0) /* subnormal */
        return neg ? 1 << 2 : 1 << 5;
    return neg ? 1 << 1 : 1 << 6;
}

uint64_t bt_fclass_s(hart_t *h, uint64_t a) { (void)h; return fclass(&F32, a); }
uint64_t bt_fclass_d(hart_t *h, uint64_t a) { (void)h; return fclass(&F64, a); }

/* --- conversions to and from integers --- */

/* Per FCVT_* kind: the valid range of the rounded value [lo, hi), and the
 * saturated register values (32-bit ones sign-extended). */
static const struct {
    double lo, hi;
    uint64_t min, max;
} INT_RANGE[4] = {
    [FCVT_W] = {-0x1p31, 0x1p31, 0xffffffff80000000ULL, 0x7fffffffULL},
    [FCVT_WU] = {0, 0x1p32, 0, ~0ULL},
    [FCVT_L] = {-0x1p63, 0x1p63, 1ULL << 63, ~0ULL >> 1},
    [FCVT_LU] = {0, 0x1p64, 0, ~0ULL},
};

static double round_integral(double v, int mode)
{
    switch (mode) {
    case RM_RNE: return roundeven(v);
    case RM_RTZ: return trunc(v);
    case RM_RDN: return floor(v);
    case RM_RUP: return ceil(v);
    default: return round(v); /* RMM: halfway cases away from zero */
    }
}

static uint64_t to_int(hart_t *h, const fmt_t *f, uint64_t a, uint64_t rm, uint64_t kind)
{
    int mode = rounding_mode(h, rm);
    if (mode < 0)
        return 0;
    a = unbox(f, a);
    kind &= 3;
    if (is_nan(f, a)) {
        accrue(h, FFLAG_NV);
        return INT_RANGE[kind].max;
    }
    double v = to_double(f, a), r = round_integral(v, mode);
    if (r < INT_RANGE[kind].lo || r >= INT_RANGE[kind].hi) {
        accrue(h, FFLAG_NV);
        return r < 0 ? INT_RANGE[kind].min : INT_RANGE[kind].max;
    }
    if (r != v)
        accrue(h, FFLAG_NX);
    if (kind == FCVT_LU)
        return (uint64_t)r;
    if (kind == FCVT_WU)
        return (uint64_t)(int64_t)(int32_t)(uint32_t)r;
    return (uint64_t)(int64_t)r;
}

uint64_t bt_fcvt_to_int_s(hart_t *h, uint64_t a, uint64_t rm, uint64_t kind) { return to_int(h, &F32, a, rm, kind); }
uint64_t bt_fcvt_to_int_d(hart_t *h, uint64_t a, uint64_t rm, uint64_t kind) { return to_int(h, &F64, a, rm, kind); }

static uint64_t from_int(hart_t *h, const fmt_t *f, uint64_t x, uint64_t rm, uint64_t kind)
{
    int mode = rounding_mode(h, rm);
    if (mode < 0)
        return 0;
    kind &= 3;
    int is_signed = kind == FCVT_W || kind == FCVT_L;
    if (kind == FCVT_W)
        x = (uint64_t)(int64_t)(int32_t)x;
    else if (kind == FCVT_WU)
        x &= 0xffffffffULL;
    int flags = 0;
    uint64_t bits;
    if (mode == RM_RMM) {
        /* a 64-bit integer is exact in the x87 format */
        long double v = is_signed ? (long double)(int64_t)x : (long double)x;
        bits = v == 0 ? 0 : round_rmm(f, v, 0, &flags);
    } else {
        bits = sse_arith(h, is_signed ? OP_FROM_INT : OP_FROM_UINT, f, f, x, 0, 0, mode, &flags);
    }
    accrue(h, flags);
    return box(f, bits);
}

uint64_t bt_fcvt_from_int_s(hart_t *h, uint64_t x, uint64_t rm, uint64_t kind) { return from_int(h, &F32, x, rm, kind); }
uint64_t bt_fcvt_from_int_d(hart_t *h, uint64_t x, uint64_t rm, uint64_t kind) { return from_int(h, &F64, x, rm, kind); }
