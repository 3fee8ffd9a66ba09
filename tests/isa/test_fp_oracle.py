"""F and D arithmetic on random operands against an exact oracle.

The oracle computes each result exactly (Python's Fraction; math.isqrt for
square roots, made round-to-odd far below the target precision) and rounds it
once by IEEE 754's definitions: all five rounding modes, subnormals, overflow
per mode, tininess detected after rounding, canonical NaNs and the RISC-V
invalid cases.  It shares no code or method with csrc/fpu.c (hardware rounding
modes plus a round-to-odd wider format for RMM).

Operands are drawn so that ties, exact results, cancellation, subnormals and
overflow come up often, not only random bit patterns.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .harness import trap_cause
from .test_fp import BOX, DZ, NV, NX, OF, RDN, RMM, RNE, RTZ, RUP, UF, run_fp

MODES = [RNE, RTZ, RDN, RUP, RMM]


@dataclass(frozen=True)
class Fmt:
    width: int
    prec: int
    emax: int
    suffix: str

    @property
    def emin(self) -> int:
        return 1 - self.emax

    @property
    def mant_bits(self) -> int:
        return self.prec - 1

    @property
    def exp_bits(self) -> int:
        return self.width - self.prec

    @property
    def inf(self) -> int:
        return ((1 << self.exp_bits) - 1) << self.mant_bits

    @property
    def qnan(self) -> int:
        return self.inf | 1 << (self.mant_bits - 1)


F32 = Fmt(32, 24, 127, "s")
F64 = Fmt(64, 53, 1023, "d")


# --- bits <-> values ---

@dataclass(frozen=True)
class Val:
    """A decoded operand: kind is 'num', 'inf', 'qnan' or 'snan'."""

    kind: str
    neg: bool = False
    mag: Fraction = Fraction(0)

    def value(self) -> Fraction:
        return -self.mag if self.neg else self.mag


def decode(f: Fmt, bits: int) -> Val:
    neg = bool(bits >> (f.width - 1) & 1)
    exp = bits >> f.mant_bits & ((1 << f.exp_bits) - 1)
    mant = bits & ((1 << f.mant_bits) - 1)
    if exp == (1 << f.exp_bits) - 1:
        if mant == 0:
            return Val("inf", neg)
        return Val("qnan" if mant >> (f.mant_bits - 1) else "snan", neg)
    if exp == 0:
        return Val("num", neg, Fraction(mant) * Fraction(2) ** (f.emin - f.mant_bits))
    return Val("num", neg, Fraction(mant | 1 << f.mant_bits) * Fraction(2) ** (exp - f.emax - f.mant_bits))


def _exponent(x: Fraction) -> int:
    """floor(log2(x)) for x > 0."""
    e = x.numerator.bit_length() - x.denominator.bit_length()
    return e if Fraction(2) ** e <= x else e - 1


def _round_mag(x: Fraction, neg: bool, f: Fmt, mode: int, unbounded: bool) -> tuple[Fraction, bool]:
    """x > 0 rounded to the format's precision (subnormal spacing unless unbounded)."""
    e = _exponent(x)
    if not unbounded:
        e = max(e, f.emin)
    ulp = Fraction(2) ** (e - f.mant_bits)
    q, r = divmod(x, ulp)
    if r == 0:
        return q * ulp, False
    half = ulp / 2
    up = {
        RNE: r > half or (r == half and q % 2 == 1),
        RTZ: False,
        RDN: neg,
        RUP: not neg,
        RMM: r >= half,
    }[mode]
    return (q + up) * ulp, True


def encode_num(f: Fmt, neg: bool, mag: Fraction) -> int:
    sign = int(neg) << (f.width - 1)
    if mag == 0:
        return sign
    if mag < Fraction(2) ** f.emin:
        return sign | int(mag / Fraction(2) ** (f.emin - f.mant_bits))
    e = _exponent(mag)
    mant = int(mag / Fraction(2) ** (e - f.mant_bits)) - (1 << f.mant_bits)
    return sign | (e + f.emax) << f.mant_bits | mant


def round_value(f: Fmt, x: Fraction, mode: int) -> tuple[int, int]:
    """Nonzero exact x rounded once: (bits, flags)."""
    neg, mag = x < 0, abs(x)
    rounded, inexact = _round_mag(mag, neg, f, mode, unbounded=False)
    if rounded >= Fraction(2) ** (f.emax + 1):
        to_inf = mode in (RNE, RMM) or (mode == RUP and not neg) or (mode == RDN and neg)
        sign = int(neg) << (f.width - 1)
        return sign | (f.inf if to_inf else f.inf - 1), OF | NX
    tiny = _round_mag(mag, neg, f, mode, unbounded=True)[0] < Fraction(2) ** f.emin
    flags = (NX | (UF if tiny else 0)) if inexact else 0
    return encode_num(f, neg, rounded), flags


# --- the operations, with IEEE 754's special cases ---

def _zero_sum_sign(a_neg: bool, b_neg: bool, mode: int) -> bool:
    return a_neg if a_neg == b_neg else mode == RDN


def _add(f: Fmt, a: Val, b: Val, mode: int) -> tuple[int, int]:
    if a.kind == "inf" and b.kind == "inf" and a.neg != b.neg:
        return f.qnan, NV
    if a.kind == "inf" or b.kind == "inf":
        return encode_special_inf(f, a.neg if a.kind == "inf" else b.neg), 0
    total = a.value() + b.value()
    if total == 0:
        neg = _zero_sum_sign(a.neg, b.neg, mode) if a.mag == 0 and b.mag == 0 else mode == RDN
        return encode_num(f, neg, Fraction(0)), 0
    return round_value(f, total, mode)


def encode_special_inf(f: Fmt, neg: bool) -> int:
    return int(neg) << (f.width - 1) | f.inf


def _negate(v: Val) -> Val:
    return Val(v.kind, not v.neg, v.mag)


def _inf_times_zero(a: Val, b: Val) -> bool:
    def zero(v: Val) -> bool:
        return v.kind == "num" and v.mag == 0

    return (a.kind == "inf" and zero(b)) or (b.kind == "inf" and zero(a))


def _mul(f: Fmt, a: Val, b: Val, mode: int) -> tuple[int, int]:
    neg = a.neg != b.neg
    if _inf_times_zero(a, b):
        return f.qnan, NV
    if a.kind == "inf" or b.kind == "inf":
        return encode_special_inf(f, neg), 0
    p = a.mag * b.mag
    return (encode_num(f, neg, p), 0) if p == 0 else round_value(f, -p if neg else p, mode)


def _div(f: Fmt, a: Val, b: Val, mode: int) -> tuple[int, int]:
    neg = a.neg != b.neg
    if a.kind == "inf" and b.kind == "inf":
        return f.qnan, NV
    if a.kind == "inf":
        return encode_special_inf(f, neg), 0
    if b.kind == "inf":
        return encode_num(f, neg, Fraction(0)), 0
    if b.mag == 0:
        return (f.qnan, NV) if a.mag == 0 else (encode_special_inf(f, neg), DZ)
    q = a.mag / b.mag
    return (encode_num(f, neg, q), 0) if q == 0 else round_value(f, -q if neg else q, mode)


def _sqrt(f: Fmt, a: Val, mode: int) -> tuple[int, int]:
    if a.mag == 0 and a.kind == "num":
        return encode_num(f, a.neg, Fraction(0)), 0
    if a.neg:
        return f.qnan, NV
    if a.kind == "inf":
        return f.inf, 0
    # sqrt(a) = sqrt(a * 4^k) / 2^k with a * 4^k an integer of about 300 bits
    k = (300 - _exponent(a.mag)) // 2
    scaled = a.mag * Fraction(4) ** k
    n = scaled.numerator // scaled.denominator
    root = math.isqrt(n)
    exact = root * root == n and scaled.denominator == 1
    # round to odd far below the target precision: the same rounding as the true root
    x = Fraction(root) if exact else Fraction(2 * root + 1, 2)
    return round_value(f, x / Fraction(2) ** k, mode)


def _fma(f: Fmt, a: Val, b: Val, c: Val, mode: int) -> tuple[int, int]:
    p_neg = a.neg != b.neg
    if a.kind == "inf" or b.kind == "inf":
        if c.kind == "inf" and c.neg != p_neg:
            return f.qnan, NV
        return encode_special_inf(f, p_neg), 0
    if c.kind == "inf":
        return encode_special_inf(f, c.neg), 0
    p = a.mag * b.mag
    total = (-p if p_neg else p) + c.value()
    if total == 0:
        neg = _zero_sum_sign(p_neg, c.neg, mode) if p == 0 and c.mag == 0 else mode == RDN
        return encode_num(f, neg, Fraction(0)), 0
    return round_value(f, total, mode)


def oracle(f: Fmt, op: str, operands: list[int], mode: int) -> tuple[int, int]:
    """The correctly rounded result bits and fflags of ``op`` in ``mode``."""
    vals = [decode(f, v) for v in operands]
    if op == "fmadd" and _inf_times_zero(vals[0], vals[1]):
        return f.qnan, NV  # even when the addend is a quiet NaN
    if any(v.kind in ("qnan", "snan") for v in vals):
        return f.qnan, NV if any(v.kind == "snan" for v in vals) else 0
    if op == "fsub":
        return _add(f, vals[0], _negate(vals[1]), mode)
    ops = {"fadd": _add, "fmul": _mul, "fdiv": _div, "fsqrt": _sqrt, "fmadd": _fma}
    return ops[op](f, *vals, mode)


# --- the oracle checked against itself on known values ---

def test_oracle_known_values():
    assert oracle(F64, "fdiv", [0x3FF0000000000000, 0x4008000000000000], RNE) == (0x3FD5555555555555, NX)
    assert oracle(F32, "fadd", [0x3F800000, 0x33800000], RMM) == (0x3F800001, NX)
    assert oracle(F32, "fadd", [0x3F800000, 0x33800000], RNE) == (0x3F800000, NX)
    assert oracle(F64, "fsqrt", [0x4010000000000000], RNE) == (0x4000000000000000, 0)
    assert oracle(F32, "fmul", [0x3F7FFFFE, 0x00800001], RNE) == (0x00800000, NX)
    assert oracle(F32, "fmul", [0x3F7FFFFE, 0x00800001], RTZ) == (0x007FFFFF, UF | NX)


# --- random operands ---

def operand(f: Fmt) -> st.SearchStrategy[int]:
    """Register bits of a value near 1, near the subnormal range or the top, or special."""
    exps = st.one_of(
        st.integers(f.emax - 3, f.emax + 3),                      # around 1.0 (biased)
        st.integers(0, 3),                                       # subnormal and tiny normal
        st.integers(2 * f.emax - 3, 2 * f.emax),                 # near overflow
        st.integers(1, 2 * f.emax),                              # anywhere
    )
    # significands with few low set bits make ties and exact results likely
    low_zeros = st.integers(0, f.mant_bits)
    mants = st.builds(lambda m, z: (m >> z) << z, st.integers(0, (1 << f.mant_bits) - 1), low_zeros)
    finite = st.builds(lambda sgn, e, m: sgn << (f.width - 1) | e << f.mant_bits | m, st.integers(0, 1), exps, mants)
    special = st.sampled_from([f.inf, f.inf | 1 << (f.width - 1), f.qnan, f.inf | 1, 0, 1 << (f.width - 1)])
    return st.one_of(finite, finite, finite, special)


OPS = {"fadd": 2, "fsub": 2, "fmul": 2, "fdiv": 2, "fsqrt": 1, "fmadd": 3}


def run_one(engine: str, f: Fmt, op: str, operands: list[int], mode: int) -> tuple[int, int]:
    boxed = [v | BOX if f.width == 32 else v for v in operands]
    h = run_fp(engine, f"{op}.{f.suffix}", fregs={11 + i: v for i, v in enumerate(boxed)}, rm=mode)
    assert trap_cause(h) is None
    result = h.ptr.f[10]
    if f.width == 32:
        assert result >> 32 == 0xFFFFFFFF, "single results are NaN-boxed"
        result &= 0xFFFFFFFF
    return result, h.ptr.fflags


@pytest.mark.parametrize("f", [F32, F64], ids=["s", "d"])
@pytest.mark.parametrize("op", sorted(OPS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_matches_oracle(engine, f, op, data):
    operands = [data.draw(operand(f)) for _ in range(OPS[op])]
    mode = data.draw(st.sampled_from(MODES))
    want = oracle(f, op, operands, mode)
    got = run_one(engine, f, op, operands, mode)
    assert got == want, f"{op}.{f.suffix} {[hex(v) for v in operands]} rm={mode}: got {hex(got[0])},{got[1]}"


@pytest.mark.parametrize("f", [F32, F64], ids=["s", "d"])
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fma_near_ties_matches_oracle(engine, f, data):
    """c chosen to make a*b + c land on or next to a rounding boundary."""
    a, b = data.draw(operand(f)), data.draw(operand(f))
    mode = data.draw(st.sampled_from(MODES))
    va, vb = decode(f, a), decode(f, b)
    if va.kind != "num" or vb.kind != "num" or va.mag == 0 or vb.mag == 0:
        return
    p = va.value() * vb.value()
    # aim a*b + c at the midpoint between the product's neighbours, or just beside it
    low = round_value(f, p, RTZ)[0]
    if (low + 1) & f.inf == f.inf:
        return  # the product's upper neighbour would be infinity
    mid = (decode(f, low).value() + decode(f, low + 1).value()) / 2
    if mid == p:
        return
    nudge = data.draw(st.sampled_from([0, 1, -1]))
    c_exact = (mid - p) * (1 + Fraction(nudge, 2**40))
    c_bits = round_value(f, c_exact, RNE)[0]
    want = oracle(f, "fmadd", [a, b, c_bits], mode)
    assert run_one(engine, f, "fmadd", [a, b, c_bits], mode) == want


# --- conversions ---

INT_KINDS = {"w": (-(2**31), 2**31 - 1), "wu": (0, 2**32 - 1), "l": (-(2**63), 2**63 - 1), "lu": (0, 2**64 - 1)}
M64 = (1 << 64) - 1


def _round_integral(v: Fraction, mode: int) -> int:
    floor = math.floor(v)
    rest = v - floor
    up = {
        RNE: rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2 == 1),
        RTZ: v < 0 and rest != 0,
        RDN: False,
        RUP: rest != 0,
        RMM: rest > Fraction(1, 2) or (rest == Fraction(1, 2) and v > 0),
    }[mode]
    return floor + up


def to_int_oracle(f: Fmt, bits: int, kind: str, mode: int) -> tuple[int, int]:
    """fcvt.<kind>.<f>: the x register value (32-bit results sign-extended) and fflags."""
    lo, hi = INT_KINDS[kind]
    v = decode(f, bits)
    if v.kind in ("qnan", "snan"):
        r, flags = hi, NV
    elif v.kind == "inf":
        r, flags = (lo if v.neg else hi), NV
    else:
        r = _round_integral(v.value(), mode)
        flags = NX if r != v.value() else 0
        if not lo <= r <= hi:
            r, flags = (lo if r < lo else hi), NV
    if kind in ("w", "wu"):
        r = (r & 0xFFFFFFFF) - ((r & 0x80000000) << 1)
    return r & M64, flags


def from_int_oracle(f: Fmt, x: int, kind: str, mode: int) -> tuple[int, int]:
    if kind in ("w", "wu"):
        x &= 0xFFFFFFFF
        if kind == "w" and x >> 31:
            x -= 1 << 32
    elif kind == "l" and x >> 63:
        x -= 1 << 64
    return (0, 0) if x == 0 else round_value(f, Fraction(x), mode)


def _run_cvt(engine: str, name: str, mode: int, fregs=None, regs=None):
    h = run_fp(engine, name, fregs=fregs, regs=regs, rm=mode)
    assert trap_cause(h) is None
    return h


CVT_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("f", [F32, F64], ids=["s", "d"])
@pytest.mark.parametrize("kind", sorted(INT_KINDS))
@CVT_SETTINGS
@given(data=st.data())
def test_fcvt_to_int_matches_oracle(engine, f, kind, data):
    # values around the integer range's ends as well as small ones with fractions
    big = st.builds(lambda e, m, sgn: (sgn << (f.width - 1)) | ((e + f.emax) << f.mant_bits) | m,
                    st.sampled_from([-2, -1, 0, 1, 2, 30, 31, 32, 62, 63, 64]),
                    st.integers(0, (1 << f.mant_bits) - 1), st.integers(0, 1))
    bits = data.draw(st.one_of(big, operand(f)))
    mode = data.draw(st.sampled_from(MODES))
    h = _run_cvt(engine, f"fcvt.{kind}.{f.suffix}", mode, fregs={11: bits | BOX if f.width == 32 else bits})
    assert (h.ptr.x[10], h.ptr.fflags) == to_int_oracle(f, bits, kind, mode)


@pytest.mark.parametrize("f", [F32, F64], ids=["s", "d"])
@pytest.mark.parametrize("kind", sorted(INT_KINDS))
@CVT_SETTINGS
@given(data=st.data())
def test_fcvt_from_int_matches_oracle(engine, f, kind, data):
    # integers with a run of low zero bits, so ties are common
    x = data.draw(st.builds(lambda v, z: (v >> z) << z, st.integers(0, M64), st.integers(0, 63)))
    mode = data.draw(st.sampled_from(MODES))
    h = _run_cvt(engine, f"fcvt.{f.suffix}.{kind}", mode, regs={"a1": x})
    bits, flags = from_int_oracle(f, x, kind, mode)
    assert (h.ptr.f[10], h.ptr.fflags) == ((bits | BOX) if f.width == 32 else bits, flags)


@CVT_SETTINGS
@given(data=st.data())
def test_fcvt_s_d_matches_oracle(engine, data):
    bits = data.draw(st.one_of(operand(F64), st.builds(
        lambda e, m, sgn: sgn << 63 | (e + 1023) << 52 | m,
        st.integers(-155, 130), st.integers(0, (1 << 52) - 1), st.integers(0, 1))))
    mode = data.draw(st.sampled_from(MODES))
    v = decode(F64, bits)
    if v.kind in ("qnan", "snan"):
        want = (F32.qnan, NV if v.kind == "snan" else 0)
    elif v.kind == "inf":
        want = (encode_special_inf(F32, v.neg), 0)
    elif v.mag == 0:
        want = (encode_num(F32, v.neg, Fraction(0)), 0)
    else:
        want = round_value(F32, v.value(), mode)
    h = _run_cvt(engine, "fcvt.s.d", mode, fregs={11: bits})
    assert (h.ptr.f[10], h.ptr.fflags) == (want[0] | BOX, want[1])
