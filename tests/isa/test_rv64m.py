"""RV64M: multiplication and division edge cases, and a Python model."""
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from .harness import M64, alu

MIN = 1 << 63
MIN32 = 0xFFFFFFFF80000000  # INT32_MIN sign-extended
NEG1 = M64


def neg(v: int) -> int:
    return -v & M64


CASES = [
    # multiplication: wrap-around and the high halves
    ("mul", MIN, 2, 0),
    ("mul", NEG1, NEG1, 1),
    ("mul", 0x100000001, 0x100000001, 0x200000001),
    ("mulh", NEG1, NEG1, 0),
    ("mulh", MIN, MIN, 1 << 62),
    ("mulh", MIN, 1, NEG1),
    ("mulhu", NEG1, NEG1, M64 - 1),
    ("mulhu", MIN, 2, 1),
    ("mulhsu", NEG1, NEG1, NEG1),
    ("mulhsu", MIN, 2, NEG1),
    ("mulhsu", 2, NEG1, 1),
    ("mulw", 0x7FFFFFFF, 2, neg(2)),
    ("mulw", 0xFFFFFFFF00000003, 0x1234500000003, 9),
    # signed division truncates towards zero
    ("div", 7, neg(2), neg(3)),
    ("div", neg(7), 2, neg(3)),
    ("rem", 7, neg(2), 1),
    ("rem", neg(7), 2, neg(1)),
    ("divu", NEG1, 2, M64 >> 1),
    ("remu", NEG1, 10, M64 % 10),
    # division by zero: quotient all ones, remainder the dividend
    ("div", 5, 0, NEG1),
    ("divu", 5, 0, NEG1),
    ("rem", neg(5), 0, neg(5)),
    ("remu", 5, 0, 5),
    ("divw", 5, 0, NEG1),
    ("divuw", 5, 0, NEG1),
    ("remw", 0x1_80000000, 0, MIN32),
    ("remuw", 0x80000000, 0, MIN32),
    ("remuw", 0x1_00000007, 0, 7),
    # signed overflow: INT_MIN / -1 = INT_MIN, remainder 0
    ("div", MIN, NEG1, MIN),
    ("rem", MIN, NEG1, 0),
    ("divw", MIN32, NEG1, MIN32),
    ("divw", 0x80000000, 0xFFFFFFFF, MIN32),  # only the low words count
    ("remw", MIN32, NEG1, 0),
    # W forms: upper halves ignored, results sign-extended
    ("divw", 0x1_00000004, 2, 2),
    ("divuw", 0xFFFFFFFF, 1, NEG1),
    ("divuw", 0x1_00000004, 0x1_00000002, 2),
    ("remw", neg(7), 2, neg(1)),
    ("remuw", 0xFFFFFFFF, 0x10, 15),
]


@pytest.mark.parametrize("name,a,b,expected", CASES)
def test_edge_cases(engine, name, a, b, expected):
    assert alu(engine, name, a, b) == expected


def _s(v, bits=64):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def _tdiv(a, b):
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _model(name: str, a: int, b: int) -> int:
    """An independent model from the spec's table of division results."""
    w = name.endswith("w")
    bits = 32 if w else 64
    sa, sb = _s(a, bits), _s(b, bits)
    ua, ub = a & ((1 << bits) - 1), b & ((1 << bits) - 1)
    base = name[:-1] if w else name
    if base == "mul":
        r = sa * sb
    elif base == "mulh":
        r = (sa * sb) >> 64
    elif base == "mulhu":
        r = (ua * ub) >> 64
    elif base == "mulhsu":
        r = (sa * ub) >> 64
    elif base == "div":
        r = -1 if sb == 0 else _tdiv(sa, sb)
    elif base == "divu":
        r = -1 if ub == 0 else ua // ub
    elif base == "rem":
        r = sa if sb == 0 else sa - sb * _tdiv(sa, sb)
    else:  # remu
        r = ua if ub == 0 else ua % ub
    return _s(r, bits) & M64


NAMES = ["mul", "mulh", "mulhu", "mulhsu", "div", "divu", "rem", "remu",
         "mulw", "divw", "divuw", "remw", "remuw"]
# Values that stress the special cases more often than uniform draws would.
OPERANDS = st.one_of(
    st.integers(0, M64),
    st.sampled_from([0, 1, 2, NEG1, MIN, MIN - 1, MIN32, 0x80000000, 0xFFFFFFFF, 0x7FFFFFFF]),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(NAMES), a=OPERANDS, b=OPERANDS)
def test_against_model(engine, name, a, b):
    assert alu(engine, name, a, b) == _model(name, a, b)
