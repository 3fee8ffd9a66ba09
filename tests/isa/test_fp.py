"""F and D extensions on chosen values: rounding modes, flags, NaN rules,
NaN-boxing, subnormals, fcvt saturation, fmin/fmax, fused multiply-add.

Random operands against an exact oracle are in test_fp_oracle.py.
"""
from __future__ import annotations

import struct

import pytest

from bt_vmm.isa import REGISTRY, encode

from .harness import CODE, DATA, FS_INITIAL, read_mem, run_insns, trap_cause, x

RNE, RTZ, RDN, RUP, RMM, DYN = 0, 1, 2, 3, 4, 7
NX, UF, OF, DZ, NV = 1, 2, 4, 8, 16
BOX = 0xFFFFFFFF00000000
QNAN_S, QNAN_D = 0x7FC00000, 0x7FF8000000000000
SNAN_S, SNAN_D = 0x7F800001, 0x7FF0000000000001
INF_S, INF_D = 0x7F800000, 0x7FF0000000000000
SIGN_S, SIGN_D = 0x80000000, 1 << 63
MSTATUS_FS = 3 << 13
MSTATUS_SD = 1 << 63
ILLEGAL = 2


def s(v: float) -> int:
    """Bits of a single (unboxed)."""
    return struct.unpack("<I", struct.pack("<f", v))[0]


def d(v: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", v))[0]


DEFAULT_FIELDS = {"rd": 10, "rs1": 11, "rs2": 12, "rs3": 13, "rm": DYN, "imm": 0}


def _fields(name: str):
    return REGISTRY.insns[name].encoding.fields


def run_fp(engine, name: str, fregs=None, regs=None, frm: int = 0, fflags: int = 0, csrs=None, **fields):
    """Run one instruction; fields default to DEFAULT_FIELDS (rd=10: fa0/a0, rs1=11...)."""
    operands = {k: v for k, v in {**DEFAULT_FIELDS, **fields}.items() if k in _fields(name)}
    return run_insns(engine, [encode(name, **operands)], regs=regs, fregs=fregs,
                     csrs={"frm": frm, "fflags": fflags, **(csrs or {})})


def op_d(engine, name, *args, rm=DYN, frm=RNE):
    """(f[rd], fflags) after ``name`` on the raw register values ``args`` (fa1, fa2, fa3)."""
    h = run_fp(engine, name, fregs={11 + i: a for i, a in enumerate(args)}, frm=frm, rm=rm)
    assert trap_cause(h) is None
    return h.ptr.f[10], h.ptr.fflags


def op_s(engine, name, *args, rm=DYN, frm=RNE, boxed=True):
    """op_d on single-precision operands, NaN-boxed unless ``boxed`` is False."""
    return op_d(engine, name, *(a | BOX if boxed else a for a in args), rm=rm, frm=frm)


def is_single(v: float) -> bool:
    """v is a single-precision value (or a NaN)."""
    return v != v or struct.unpack("<f", struct.pack("<f", v))[0] == v


# --- rounding modes ---

# 1/3 in every mode: (rm, single bits, double bits)
THIRD = [
    (RNE, 0x3EAAAAAB, 0x3FD5555555555555),
    (RTZ, 0x3EAAAAAA, 0x3FD5555555555555),
    (RDN, 0x3EAAAAAA, 0x3FD5555555555555),
    (RUP, 0x3EAAAAAB, 0x3FD5555555555556),
    (RMM, 0x3EAAAAAB, 0x3FD5555555555555),
]


@pytest.mark.parametrize("rm,single,double", THIRD)
def test_divide_rounds_in_each_mode(engine, rm, single, double):
    assert op_s(engine, "fdiv.s", s(1.0), s(3.0), rm=rm) == (BOX | single, NX)
    assert op_d(engine, "fdiv.d", d(1.0), d(3.0), rm=rm) == (double, NX)
    # negative: RDN and RUP swap roles
    neg = {RDN: RUP, RUP: RDN}.get(rm, rm)
    single_neg = dict((m, b) for m, b, _ in THIRD)[neg]
    assert op_s(engine, "fdiv.s", s(-1.0), s(3.0), rm=rm) == (BOX | SIGN_S | single_neg, NX)


# Exact ties: 1 + half an ulp (even neighbour below) and 1 + 3 half-ulps (even above).
TIES = [
    # rm, 1+2^-24 ->, 1+3*2^-24 ->
    (RNE, 0x3F800000, 0x3F800002),
    (RTZ, 0x3F800000, 0x3F800001),
    (RDN, 0x3F800000, 0x3F800001),
    (RUP, 0x3F800001, 0x3F800002),
    (RMM, 0x3F800001, 0x3F800002),
]


@pytest.mark.parametrize("rm,low_tie,high_tie", TIES)
def test_ties_in_each_mode(engine, rm, low_tie, high_tie):
    assert op_s(engine, "fadd.s", s(1.0), s(2.0**-24), rm=rm) == (BOX | low_tie, NX)
    assert op_s(engine, "fadd.s", s(1.0 + 2.0**-23), s(2.0**-24), rm=rm) == (BOX | high_tie, NX)
    # the same in double precision, through the dynamic mode
    dl = {0x3F800000: d(1.0), 0x3F800001: d(1 + 2.0**-52), 0x3F800002: d(1 + 2.0**-51)}
    assert op_d(engine, "fadd.d", d(1.0), d(2.0**-53), frm=rm) == (dl[low_tie], NX)
    assert op_d(engine, "fadd.d", d(1 + 2.0**-52), d(2.0**-53), frm=rm) == (dl[high_tie], NX)


def test_rmm_tie_below_zero_goes_away(engine):
    assert op_d(engine, "fadd.d", d(-1.0), d(-(2.0**-53)), rm=RMM) == (d(-(1 + 2.0**-52)), NX)


@pytest.mark.parametrize("rm", [RNE, RTZ, RDN, RUP, RMM])
def test_exact_cancellation_sign_of_zero(engine, rm):
    want = d(-0.0) if rm == RDN else d(0.0)
    assert op_d(engine, "fsub.d", d(1.5), d(1.5), rm=rm) == (want, 0)
    assert op_s(engine, "fadd.s", s(1.5), s(-1.5), rm=rm) == (BOX | s(-0.0 if rm == RDN else 0.0), 0)


# --- reserved rounding modes, FS=Off ---

@pytest.mark.parametrize("rm", [5, 6])
def test_reserved_static_rm_is_illegal(engine, rm):
    word = encode("fadd.d", rd=10, rs1=11, rs2=12, rm=rm)
    h = run_insns(engine, [word], fregs={10: 7, 11: d(1.0), 12: d(2.0)})
    assert trap_cause(h) == ILLEGAL
    assert h.ptr.mtval == word
    assert h.ptr.f[10] == 7


@pytest.mark.parametrize("frm", [5, 6, 7])
@pytest.mark.parametrize("name", ["fadd.s", "fmadd.d", "fsqrt.d", "fcvt.w.d", "fcvt.s.l", "fcvt.s.d"])
def test_dynamic_rm_with_reserved_frm_is_illegal(engine, frm, name):
    h = run_fp(engine, name, fregs={10: 7, 11: d(1.0) | BOX, 12: d(3.0), 13: d(0.1)},
               regs={"a0": 5, "a1": 3}, frm=frm, fflags=0, rm=DYN)
    assert trap_cause(h) == ILLEGAL
    assert h.ptr.mtval == read_mem(h, CODE, 4)
    assert (h.ptr.f[10], x(h, "a0"), h.ptr.fflags) == (7, 5, 0)


def test_fs_off_makes_fp_instructions_illegal(engine):
    for name in ("fadd.d", "fmv.x.w", "flw", "fsgnj.s"):
        h = run_fp(engine, name, csrs={"mstatus": 0}, regs={"a1": DATA})
        assert trap_cause(h) == ILLEGAL, name


def test_flag_change_marks_fs_dirty(engine):
    h = run_fp(engine, "flt.d", fregs={11: QNAN_D, 12: d(1.0)})
    assert h.ptr.fflags == NV
    assert h.ptr.mstatus & MSTATUS_FS == MSTATUS_FS and h.ptr.mstatus & MSTATUS_SD
    # a comparison that raises nothing leaves FS as it was
    h = run_fp(engine, "flt.d", fregs={11: d(0.5), 12: d(1.0)})
    assert x(h, "a0") == 1 and h.ptr.mstatus & MSTATUS_FS == FS_INITIAL


def test_flags_accrue(engine):
    h = run_fp(engine, "fdiv.d", fregs={11: d(1.0), 12: d(0.0)}, fflags=NX | UF, rm=DYN)
    assert (h.ptr.f[10], h.ptr.fflags) == (INF_D, NX | UF | DZ)


def test_flags_after_guest_clears_them(engine):
    """Host flags left by earlier operations never reach fflags once the guest clears it."""
    FFLAGS = 0x001
    words = [
        encode("fadd.d", rd=1, rs1=11, rs2=12, rm=DYN),      # inexact, NX already set
        encode("csrrs", rd=10, rs1=0, csr=FFLAGS),
        encode("fmul.d", rd=2, rs1=13, rs2=14, rm=DYN),      # overflow
        encode("csrrs", rd=11, rs1=0, csr=FFLAGS),
        encode("csrrwi", rd=0, uimm=0, csr=FFLAGS),
        encode("fadd.d", rd=3, rs1=11, rs2=11, rm=DYN),      # exact
        encode("csrrs", rd=12, rs1=0, csr=FFLAGS),
        encode("fadd.d", rd=4, rs1=11, rs2=12, rm=DYN),
    ]
    fregs = {11: d(1.0), 12: d(2.0**-60), 13: d(1.7976931348623157e308), 14: d(2.0)}
    h = run_insns(engine, words, fregs=fregs, csrs={"fflags": NX})
    assert trap_cause(h) is None
    assert (x(h, "a0"), x(h, "a1"), x(h, "a2"), h.ptr.fflags) == (NX, NX | OF, 0, NX)
    assert (h.ptr.f[1], h.ptr.f[2], h.ptr.f[3], h.ptr.f[4]) == (d(1.0), INF_D, d(2.0), d(1.0))


# --- exception flags ---

FLAG_CASES = [
    ("fdiv.d", [d(0.0), d(0.0)], RNE, QNAN_D, NV),
    ("fsqrt.d", [d(-1.0)], RNE, QNAN_D, NV),
    ("fsqrt.d", [d(-0.0)], RNE, d(-0.0), 0),
    ("fsub.d", [INF_D, INF_D], RNE, QNAN_D, NV),
    ("fmul.d", [INF_D, d(0.0)], RNE, QNAN_D, NV),
    ("fdiv.d", [d(-1.0), d(0.0)], RNE, d(float("-inf")), DZ),
    ("fdiv.d", [INF_D, d(0.0)], RNE, INF_D, 0),
    ("fmul.d", [d(1.7976931348623157e308), d(2.0)], RNE, INF_D, OF | NX),
    ("fmul.d", [d(1.7976931348623157e308), d(2.0)], RTZ, d(1.7976931348623157e308), OF | NX),
    ("fmul.d", [d(-1.7976931348623157e308), d(2.0)], RUP, d(-1.7976931348623157e308), OF | NX),
    ("fmul.d", [d(-1.7976931348623157e308), d(2.0)], RMM, d(float("-inf")), OF | NX),
    ("fmul.d", [d(2.0**-1022), d(0.5)], RNE, d(2.0**-1023), 0),           # exact subnormal: no UF
    ("fmul.d", [d(2.0**-1022 * (1 + 2.0**-52)), d(0.5)], RNE, d(2.0**-1023), UF | NX),
    ("fmul.d", [d(2.0**-1074), d(0.5)], RNE, d(0.0), UF | NX),
    ("fmul.d", [d(2.0**-1074), d(0.5)], RUP, d(2.0**-1074), UF | NX),
    ("fmul.d", [d(2.0**-1074), d(0.5)], RMM, d(2.0**-1074), UF | NX),    # tie away from zero
    ("fmul.d", [d(2.0**-1074), d(0.25)], RMM, d(0.0), UF | NX),
    ("fadd.d", [d(2.0**-1074), d(2.0**-1073)], RNE, d(3 * 2.0**-1074), 0),  # subnormal sum is exact
    ("fadd.d", [d(1.0), d(2.0**-60)], RNE, d(1.0), NX),
    # tininess is detected after rounding: rounds up to the smallest normal, no UF
    ("fmul.d", [d(1 - 2.0**-52), d(2.0**-1022 * (1 + 2.0**-52))], RNE, d(2.0**-1022), NX),
    ("fmul.d", [d(1 - 2.0**-52), d(2.0**-1022 * (1 + 2.0**-52))], RMM, d(2.0**-1022), NX),
    ("fmul.d", [d(1 - 2.0**-52), d(2.0**-1022 * (1 + 2.0**-52))], RTZ, d(2.0**-1022 - 2.0**-1074), UF | NX),
]


@pytest.mark.parametrize("name,args,rm,result,flags", FLAG_CASES)
def test_exception_flags(engine, name, args, rm, result, flags):
    assert op_d(engine, name, *args, rm=rm) == (result, flags)


SINGLE_FLAG_CASES = [
    ("fmul.s", [0x3F7FFFFE, 0x00800001], RNE, 0x00800000, NX),          # tiny only before rounding
    ("fmul.s", [0x3F7FFFFE, 0x00800001], RMM, 0x00800000, NX),
    ("fmul.s", [0x3F7FFFFE, 0x00800001], RTZ, 0x007FFFFF, UF | NX),
    ("fmul.s", [0x7F7FFFFF, s(2.0)], RDN, 0x7F7FFFFF, OF | NX),
    ("fmul.s", [0x7F7FFFFF, s(2.0)], RMM, INF_S, OF | NX),
    ("fdiv.s", [s(1.0), s(0.0)], RNE, INF_S, DZ),
    ("fsqrt.s", [s(-4.0)], RMM, QNAN_S, NV),
    ("fsqrt.s", [s(2.0)], RMM, 0x3FB504F3, NX),
    ("fcvt.s.d", [d(1 + 2.0**-24)], RNE, s(1.0), NX),
    ("fcvt.s.d", [d(1 + 2.0**-24)], RMM, 0x3F800001, NX),
    ("fcvt.s.d", [d(1e300)], RNE, INF_S, OF | NX),
    ("fcvt.s.d", [d(1e300)], RTZ, 0x7F7FFFFF, OF | NX),
    ("fcvt.s.d", [d(2.0**-149 * 1.5)], RNE, 0x00000002, UF | NX),       # subnormal tie to even
    ("fcvt.s.d", [d(2.0**-149 * 1.5)], RMM, 0x00000002, UF | NX),
    ("fcvt.s.d", [d(2.0**-149 * 2.5)], RMM, 0x00000003, UF | NX),
    ("fcvt.s.d", [d(2.0**-149 * 2.5)], RNE, 0x00000002, UF | NX),
    ("fcvt.s.d", [d(2.0**-130)], RNE, 0x00080000, 0),                    # exact subnormal
    ("fcvt.s.d", [SNAN_D], RNE, QNAN_S, NV),
    ("fcvt.s.d", [0xFFF8000000000123], RNE, QNAN_S, 0),
]


@pytest.mark.parametrize("name,args,rm,result,flags", SINGLE_FLAG_CASES)
def test_single_exception_flags(engine, name, args, rm, result, flags):
    if name == "fcvt.s.d":
        assert op_d(engine, name, *args, rm=rm) == (BOX | result, flags)
    else:
        assert op_s(engine, name, *args, rm=rm) == (BOX | result, flags)


def test_fcvt_d_s_is_exact(engine):
    assert op_s(engine, "fcvt.d.s", 0x00000001, rm=RTZ) == (d(2.0**-149), 0)
    assert op_s(engine, "fcvt.d.s", SNAN_S) == (QNAN_D, NV)
    assert op_s(engine, "fcvt.d.s", 0x00000001, boxed=False) == (QNAN_D, 0)


# --- NaNs: canonical results, boxing ---

def test_nan_results_are_canonical(engine):
    assert op_d(engine, "fadd.d", 0xFFF8000000000123, d(1.0)) == (QNAN_D, 0)
    assert op_d(engine, "fmul.d", SNAN_D, d(1.0)) == (QNAN_D, NV)
    assert op_s(engine, "fadd.s", 0xFFC00123, s(1.0)) == (BOX | QNAN_S, 0)
    assert op_s(engine, "fdiv.s", SNAN_S, s(1.0)) == (BOX | QNAN_S, NV)
    assert op_s(engine, "fsub.s", s(0.0), s(0.0), rm=RMM) == (BOX | s(0.0), 0)


def test_improperly_boxed_single_reads_as_canonical_nan(engine):
    bad = s(1.0)  # upper half zero
    assert op_s(engine, "fadd.s", bad, s(1.0) | BOX, boxed=False) == (BOX | QNAN_S, 0)
    h = run_fp(engine, "fclass.s", fregs={11: bad})
    assert x(h, "a0") == 1 << 9
    h = run_fp(engine, "feq.s", fregs={11: bad, 12: bad})
    assert (x(h, "a0"), h.ptr.fflags) == (0, 0)
    # sign injection reads the canonical NaN too, and writes a boxed result
    h = run_fp(engine, "fsgnjn.s", fregs={11: bad, 12: s(1.0) | BOX})
    assert h.ptr.f[10] == BOX | SIGN_S | QNAN_S


def test_single_moves_and_memory_box(engine):
    h = run_fp(engine, "fmv.w.x", regs={"a1": 0x1234567_BF800000})
    assert h.ptr.f[10] == BOX | 0xBF800000
    h = run_fp(engine, "fmv.x.w", fregs={11: 0x00000000_80000001})  # no box check, sign-extended
    assert x(h, "a0") == 0xFFFFFFFF_80000001
    h = run_fp(engine, "fmv.x.d", fregs={11: SNAN_D})
    assert x(h, "a0") == SNAN_D
    h = run_fp(engine, "fmv.d.x", regs={"a1": SNAN_D})
    assert h.ptr.f[10] == SNAN_D
    h = run_insns(engine, [encode("flw", rd=10, rs1=11, imm=4)], regs={"a1": DATA},
                  mem={DATA + 4: (0x7F800001).to_bytes(4, "little")})
    assert h.ptr.f[10] == BOX | 0x7F800001 and h.ptr.fflags == 0
    h = run_insns(engine, [encode("fsw", rs1=11, rs2=12, imm=-4)], regs={"a1": DATA + 8},
                  fregs={12: 0x12345678_9ABCDEF0})
    assert read_mem(h, DATA + 4, 8) == 0x9ABCDEF0
    h = run_insns(engine, [encode("fsd", rs1=11, rs2=12, imm=8), encode("fld", rd=10, rs1=11, imm=8)],
                  regs={"a1": DATA}, fregs={12: SNAN_D})
    assert read_mem(h, DATA + 8, 8) == SNAN_D and h.ptr.f[10] == SNAN_D


def test_fp_load_fault_leaves_register(engine):
    h = run_insns(engine, [encode("fld", rd=10, rs1=11, imm=0)], regs={"a1": 0x10}, fregs={10: 99})
    assert trap_cause(h) == 5 and h.ptr.f[10] == 99


# --- sign injection: bit operations, no canonicalisation ---

@pytest.mark.parametrize("name,a,b,want", [
    ("fsgnj.d", 0x7FF8000000000123, SIGN_D, 0xFFF8000000000123),
    ("fsgnjn.d", 0x7FF8000000000123, SIGN_D, 0x7FF8000000000123),
    ("fsgnjx.d", d(-2.0), d(-3.0), d(2.0)),
    ("fsgnjx.d", d(2.0), d(-0.0), d(-2.0)),
    ("fsgnjn.d", SNAN_D, d(1.0), SNAN_D | SIGN_D),
])
def test_sign_injection_double(engine, name, a, b, want):
    assert op_d(engine, name, a, b) == (want, 0)


@pytest.mark.parametrize("name,a,b,want", [
    ("fsgnj.s", s(2.0), s(-1.0), s(-2.0)),
    ("fsgnjn.s", s(-2.0), s(-1.0), s(2.0)),
    ("fsgnjx.s", SNAN_S | SIGN_S, s(-1.0), SNAN_S),
])
def test_sign_injection_single(engine, name, a, b, want):
    assert op_s(engine, name, a, b) == (BOX | want, 0)


# --- fmin / fmax ---

MINMAX = [
    # a, b, min, max, flags
    (d(1.0), d(2.0), d(1.0), d(2.0), 0),
    (d(-0.0), d(0.0), d(-0.0), d(0.0), 0),
    (d(0.0), d(-0.0), d(-0.0), d(0.0), 0),
    (QNAN_D, d(2.0), d(2.0), d(2.0), 0),
    (d(-3.0), 0xFFF8000000000001, d(-3.0), d(-3.0), 0),
    (SNAN_D, d(2.0), d(2.0), d(2.0), NV),
    (d(2.0), SNAN_D, d(2.0), d(2.0), NV),
    (SNAN_D, QNAN_D, QNAN_D, QNAN_D, NV),
    (0xFFF0000000000005, 0x7FF8000000000005, QNAN_D, QNAN_D, NV),
    (QNAN_D | 7, QNAN_D | 9, QNAN_D, QNAN_D, 0),
    (d(float("-inf")), INF_D, d(float("-inf")), INF_D, 0),
]


@pytest.mark.parametrize("a,b,lo,hi,flags", MINMAX)
def test_fmin_fmax_double(engine, a, b, lo, hi, flags):
    assert op_d(engine, "fmin.d", a, b) == (lo, flags)
    assert op_d(engine, "fmax.d", a, b) == (hi, flags)


def test_fmin_fmax_single(engine):
    assert op_s(engine, "fmin.s", s(-0.0), s(0.0)) == (BOX | s(-0.0), 0)
    assert op_s(engine, "fmax.s", s(-0.0), s(0.0)) == (BOX | s(0.0), 0)
    assert op_s(engine, "fmax.s", SNAN_S, s(-5.0)) == (BOX | s(-5.0), NV)
    assert op_s(engine, "fmin.s", SNAN_S, QNAN_S) == (BOX | QNAN_S, NV)
    # an improperly boxed operand is a (quiet) NaN, so the other one wins
    assert op_s(engine, "fmin.s", s(1.0) | BOX, s(-3.0), boxed=False) == (BOX | s(1.0), 0)


# --- comparisons ---

COMPARE = [
    # a, b, (feq, flt, fle), flags for (feq, flt, fle)
    (d(1.0), d(2.0), (0, 1, 1), (0, 0, 0)),
    (d(2.0), d(2.0), (1, 0, 1), (0, 0, 0)),
    (d(-0.0), d(0.0), (1, 0, 1), (0, 0, 0)),
    (QNAN_D, d(2.0), (0, 0, 0), (0, NV, NV)),
    (d(2.0), SNAN_D, (0, 0, 0), (NV, NV, NV)),
    (QNAN_D, QNAN_D, (0, 0, 0), (0, NV, NV)),
    (d(float("-inf")), INF_D, (0, 1, 1), (0, 0, 0)),
]


@pytest.mark.parametrize("a,b,results,flags", COMPARE)
def test_comparisons_double(engine, a, b, results, flags):
    for name, want, flag in zip(("feq.d", "flt.d", "fle.d"), results, flags):
        h = run_fp(engine, name, fregs={11: a, 12: b}, regs={"a0": 77})
        assert (x(h, "a0"), h.ptr.fflags) == (want, flag), name


def test_comparisons_single(engine):
    for name, a, b, want, flag in [
        ("feq.s", s(1.0), s(1.0), 1, 0),
        ("feq.s", SNAN_S, s(1.0), 0, NV),
        ("flt.s", QNAN_S, s(1.0), 0, NV),
        ("fle.s", s(-1.0), s(1.0), 1, 0),
    ]:
        h = run_fp(engine, name, fregs={11: a | BOX, 12: b | BOX})
        assert (x(h, "a0"), h.ptr.fflags) == (want, flag), name


# --- fclass ---

CLASSES_D = [d(float("-inf")), d(-1.0), d(-(2.0**-1074)), d(-0.0), d(0.0), d(2.0**-1074),
             d(1.0), INF_D, SNAN_D, QNAN_D]
CLASSES_S = [s(float("-inf")), s(-1.0), 0x80000001, s(-0.0), s(0.0), 0x00000001, s(1.0), INF_S,
             SNAN_S, QNAN_S]


@pytest.mark.parametrize("bit", range(10))
def test_fclass(engine, bit):
    h = run_fp(engine, "fclass.d", fregs={11: CLASSES_D[bit]})
    assert x(h, "a0") == 1 << bit
    h = run_fp(engine, "fclass.s", fregs={11: CLASSES_S[bit] | BOX})
    assert x(h, "a0") == 1 << bit
    assert h.ptr.fflags == 0


# --- conversions to integers: RISC-V saturation ---

W_MIN, W_MAX = 0xFFFFFFFF80000000, 0x7FFFFFFF
L_MIN, L_MAX = 1 << 63, (1 << 63) - 1
U_ALL = (1 << 64) - 1

TO_INT = [
    # value, rm, (w, wu, l, lu), flags for (w, wu, l, lu)
    (float("nan"), RNE, (W_MAX, U_ALL, L_MAX, U_ALL), (NV, NV, NV, NV)),
    (float("inf"), RNE, (W_MAX, U_ALL, L_MAX, U_ALL), (NV, NV, NV, NV)),
    (float("-inf"), RNE, (W_MIN, 0, L_MIN, 0), (NV, NV, NV, NV)),
    (-1.0, RNE, (U_ALL, 0, U_ALL, 0), (0, NV, 0, NV)),
    (-0.5, RTZ, (0, 0, 0, 0), (NX, NX, NX, NX)),
    (-0.5, RDN, (U_ALL, 0, U_ALL, 0), (NX, NV, NX, NV)),
    (-0.5, RMM, (U_ALL, 0, U_ALL, 0), (NX, NV, NX, NV)),
    (-0.5, RNE, (0, 0, 0, 0), (NX, NX, NX, NX)),
    (2.5, RNE, (2, 2, 2, 2), (NX,) * 4),
    (2.5, RMM, (3, 3, 3, 3), (NX,) * 4),
    (2.5, RUP, (3, 3, 3, 3), (NX,) * 4),
    (-2.5, RDN, ((-3) & U_ALL, 0, (-3) & U_ALL, 0), (NX, NV, NX, NV)),
    (2147483647.5, RNE, (W_MAX, W_MIN, 2147483648, 2147483648), (NV, NX, NX, NX)),  # wu sign-extends
    (2147483647.5, RTZ, (W_MAX, W_MAX, W_MAX, W_MAX), (NX,) * 4),
    (-2147483648.5, RTZ, (W_MIN, 0, (-2147483648) & U_ALL, 0), (NX, NV, NX, NV)),
    (-2147483648.5, RDN, (W_MIN, 0, (-2147483649) & U_ALL, 0), (NV, NV, NX, NV)),
    (4294967295.0, RNE, (W_MAX, U_ALL, 4294967295, 4294967295), (NV, 0, 0, 0)),
    (4294967296.0, RNE, (W_MAX, U_ALL, 4294967296, 4294967296), (NV, NV, 0, 0)),
    (2.0**63, RNE, (W_MAX, U_ALL, L_MAX, 1 << 63), (NV, NV, NV, 0)),
    (-(2.0**63), RNE, (W_MIN, 0, L_MIN, 0), (NV, NV, 0, NV)),
    (2.0**64, RNE, (W_MAX, U_ALL, L_MAX, U_ALL), (NV, NV, NV, NV)),
    (-0.0, RNE, (0, 0, 0, 0), (0, 0, 0, 0)),
]


@pytest.mark.parametrize("value,rm,results,flags", TO_INT)
def test_fcvt_to_int_double(engine, value, rm, results, flags):
    for kind, want, flag in zip(("w", "wu", "l", "lu"), results, flags):
        h = run_fp(engine, f"fcvt.{kind}.d", fregs={11: d(value)}, rm=rm)
        assert (x(h, "a0"), h.ptr.fflags) == (want, flag), kind


@pytest.mark.parametrize("value,rm,results,flags", [c for c in TO_INT if is_single(c[0])])
def test_fcvt_to_int_single(engine, value, rm, results, flags):
    for kind, want, flag in zip(("w", "wu", "l", "lu"), results, flags):
        h = run_fp(engine, f"fcvt.{kind}.s", fregs={11: s(value) | BOX}, rm=rm)
        assert (x(h, "a0"), h.ptr.fflags) == (want, flag), kind


def test_fcvt_to_int_single_unboxed_is_nan(engine):
    h = run_fp(engine, "fcvt.w.s", fregs={11: s(-5.0)}, rm=RNE)
    assert (x(h, "a0"), h.ptr.fflags) == (W_MAX, NV)


# --- conversions from integers ---

FROM_INT = [
    # instruction, register value, rm, result, flags
    ("fcvt.s.w", 16777217, RNE, s(16777216.0), NX),
    ("fcvt.s.w", 16777217, RMM, s(16777218.0), NX),
    ("fcvt.s.w", 16777217, RUP, s(16777218.0), NX),
    ("fcvt.s.w", 16777219, RNE, s(16777220.0), NX),
    ("fcvt.s.w", (-16777217) & U_ALL, RDN, s(-16777218.0), NX),
    ("fcvt.s.w", 0x12345678_FFFFFFFF, RNE, s(-1.0), 0),                 # low 32 bits, signed
    ("fcvt.s.wu", 0x12345678_FFFFFFFF, RNE, s(4294967296.0), NX),
    ("fcvt.s.wu", 0x12345678_FFFFFFFF, RTZ, 0x4F7FFFFF, NX),
    ("fcvt.s.lu", U_ALL, RNE, s(2.0**64), NX),
    ("fcvt.s.lu", U_ALL, RTZ, 0x5F7FFFFF, NX),
    ("fcvt.s.lu", U_ALL, RMM, s(2.0**64), NX),
    ("fcvt.s.l", U_ALL, RMM, s(-1.0), 0),
    ("fcvt.s.l", 1 << 63, RNE, s(-(2.0**63)), 0),
    ("fcvt.s.l", 0, RDN, s(0.0), 0),
    ("fcvt.d.l", (1 << 53) + 1, RNE, d(2.0**53), NX),
    ("fcvt.d.l", (1 << 53) + 1, RMM, d(2.0**53 + 2), NX),
    ("fcvt.d.l", (-(1 << 53) - 1) & U_ALL, RMM, d(-(2.0**53) - 2), NX),
    ("fcvt.d.lu", U_ALL, RTZ, d(2.0**64 - 2048), NX),
    ("fcvt.d.lu", U_ALL, RNE, d(2.0**64), NX),
    ("fcvt.d.w", 0xFFFFFFFF_80000000, RNE, d(-(2.0**31)), 0),
    ("fcvt.d.wu", 0xFFFFFFFF_80000000, RNE, d(2.0**31), 0),
]


@pytest.mark.parametrize("name,value,rm,result,flags", FROM_INT)
def test_fcvt_from_int(engine, name, value, rm, result, flags):
    h = run_fp(engine, name, regs={"a1": value}, rm=rm)
    want = result | BOX if name.startswith("fcvt.s") else result
    assert (h.ptr.f[10], h.ptr.fflags) == (want, flags)


# --- fused multiply-add ---

def test_fma_rounds_once(engine):
    a, b = 1 + 2.0**-27, 1 - 2.0**-27   # a*b = 1 - 2^-54: rounds to 1.0 on its own
    assert op_d(engine, "fmadd.d", d(a), d(b), d(-1.0)) == (d(-(2.0**-54)), 0)
    assert op_d(engine, "fmsub.d", d(a), d(b), d(1.0)) == (d(-(2.0**-54)), 0)
    assert op_d(engine, "fnmsub.d", d(a), d(b), d(1.0)) == (d(2.0**-54), 0)
    assert op_d(engine, "fnmadd.d", d(a), d(b), d(-1.0)) == (d(2.0**-54), 0)
    # the unfused sequence gives 0 here
    assert op_d(engine, "fmul.d", d(a), d(b))[0] == d(1.0)
    sa, sb = 1 + 2.0**-12, 1 - 2.0**-12
    assert op_s(engine, "fmadd.s", s(sa), s(sb), s(-1.0)) == (BOX | s(-(2.0**-24)), 0)


@pytest.mark.parametrize("rm", [RNE, RTZ, RDN, RUP, RMM])
def test_fma_sign_of_zero(engine, rm):
    zero = d(-0.0) if rm == RDN else d(0.0)
    assert op_d(engine, "fmadd.d", d(0.0), d(1.0), d(0.0), rm=rm) == (d(0.0), 0)
    assert op_d(engine, "fmsub.d", d(0.0), d(1.0), d(0.0), rm=rm) == (zero, 0)
    assert op_d(engine, "fnmsub.d", d(0.0), d(1.0), d(0.0), rm=rm) == (zero, 0)
    assert op_d(engine, "fnmadd.d", d(0.0), d(1.0), d(0.0), rm=rm) == (d(-0.0), 0)
    assert op_d(engine, "fmadd.d", d(2.0), d(3.0), d(-6.0), rm=rm) == (zero, 0)
    assert op_s(engine, "fnmadd.s", s(0.0), s(1.0), s(0.0), rm=rm) == (BOX | s(-0.0), 0)


def test_fma_invalid_cases(engine):
    assert op_d(engine, "fmadd.d", INF_D, d(0.0), QNAN_D) == (QNAN_D, NV)
    assert op_d(engine, "fmadd.d", d(0.0), INF_D, QNAN_D, rm=RMM) == (QNAN_D, NV)
    assert op_s(engine, "fmadd.s", INF_S, s(0.0), QNAN_S) == (BOX | QNAN_S, NV)
    assert op_d(engine, "fmadd.d", INF_D, d(1.0), d(float("-inf"))) == (QNAN_D, NV)
    assert op_d(engine, "fmadd.d", d(1.0), d(1.0), SNAN_D) == (QNAN_D, NV)
    assert op_d(engine, "fmadd.d", QNAN_D, d(1.0), d(1.0)) == (QNAN_D, 0)
    assert op_d(engine, "fnmadd.d", INF_D, d(1.0), d(1.0)) == (d(float("-inf")), 0)


def test_fma_rmm_tie(engine):
    # (1 + 2^-52)^2 + (2^-53 - 2^-104) = 1 + 2^-51 + 2^-53 exactly: a tie
    a, c = d(1 + 2.0**-52), d(2.0**-53 - 2.0**-104)
    assert op_d(engine, "fmadd.d", a, a, c, rm=RMM) == (d(1 + 2.0**-51 + 2.0**-52), NX)
    assert op_d(engine, "fmadd.d", a, a, c, rm=RNE) == (d(1 + 2.0**-51), NX)
