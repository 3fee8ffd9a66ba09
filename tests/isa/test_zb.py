"""Zba/Zbb/Zbs: edge cases, and every operation against a Python model."""
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from .harness import M64, alu

MIN = 1 << 63
W = 0xFFFFFFFF


def _sext(v, bits):
    v &= (1 << bits) - 1
    return (v - (1 << bits)) & M64 if v >> (bits - 1) else v


def _signed(v):
    return v - (1 << 64) if v >> 63 else v


def _rotl(v, n, bits):
    mask = (1 << bits) - 1
    v &= mask
    n %= bits
    return ((v << n) | (v >> (bits - n))) & mask


# A plain model of each instruction: (a, b) -> result; b is rs2 or the immediate.
MODEL = {
    "add.uw": lambda a, b: ((a & W) + b) & M64,
    "sh1add": lambda a, b: ((a << 1) + b) & M64,
    "sh2add": lambda a, b: ((a << 2) + b) & M64,
    "sh3add": lambda a, b: ((a << 3) + b) & M64,
    "sh1add.uw": lambda a, b: (((a & W) << 1) + b) & M64,
    "sh2add.uw": lambda a, b: (((a & W) << 2) + b) & M64,
    "sh3add.uw": lambda a, b: (((a & W) << 3) + b) & M64,
    "slli.uw": lambda a, b: ((a & W) << b) & M64,
    "andn": lambda a, b: a & ~b & M64,
    "orn": lambda a, b: (a | ~b) & M64,
    "xnor": lambda a, b: ~(a ^ b) & M64,
    "clz": lambda a, b: 64 - a.bit_length(),
    "clzw": lambda a, b: 32 - (a & W).bit_length(),
    "ctz": lambda a, b: next((i for i in range(64) if a >> i & 1), 64),
    "ctzw": lambda a, b: next((i for i in range(32) if a >> i & 1), 32),
    "cpop": lambda a, b: bin(a).count("1"),
    "cpopw": lambda a, b: bin(a & W).count("1"),
    "max": lambda a, b: max(a, b, key=_signed),
    "maxu": lambda a, b: max(a, b),
    "min": lambda a, b: min(a, b, key=_signed),
    "minu": lambda a, b: min(a, b),
    "sext.b": lambda a, b: _sext(a, 8),
    "sext.h": lambda a, b: _sext(a, 16),
    "zext.h": lambda a, b: a & 0xFFFF,
    "rol": lambda a, b: _rotl(a, b, 64),
    "ror": lambda a, b: _rotl(a, -b, 64),
    "rori": lambda a, b: _rotl(a, -b, 64),
    "rolw": lambda a, b: _sext(_rotl(a, b, 32), 32),
    "rorw": lambda a, b: _sext(_rotl(a, -b, 32), 32),
    "roriw": lambda a, b: _sext(_rotl(a, -b, 32), 32),
    "orc.b": lambda a, b: sum(0xFF << 8 * i for i in range(8) if a >> 8 * i & 0xFF),
    "rev8": lambda a, b: int.from_bytes(a.to_bytes(8, "little"), "big"),
    "bclr": lambda a, b: a & ~(1 << (b & 63)) & M64,
    "bclri": lambda a, b: a & ~(1 << b) & M64,
    "bext": lambda a, b: a >> (b & 63) & 1,
    "bexti": lambda a, b: a >> b & 1,
    "binv": lambda a, b: a ^ (1 << (b & 63)),
    "binvi": lambda a, b: a ^ (1 << b),
    "bset": lambda a, b: a | (1 << (b & 63)),
    "bseti": lambda a, b: a | (1 << b),
}
UNARY = {"clz", "clzw", "ctz", "ctzw", "cpop", "cpopw", "sext.b", "sext.h", "zext.h", "orc.b", "rev8"}
SHAMT = {"slli.uw": 64, "rori": 64, "roriw": 32, "bclri": 64, "bexti": 64, "binvi": 64, "bseti": 64}


def run(engine, name, a, b=0):
    if name in UNARY:
        return alu(engine, name, a)
    if name in SHAMT:
        return alu(engine, name, a, shamt=b)
    return alu(engine, name, a, b)


CASES = [
    ("add.uw", 0xFFFFFFFF_80000000, 1, 0x80000001),
    ("sh3add.uw", 0x1_00000001, 0, 8),
    ("sh1add", MIN | 3, 4, 10),
    ("slli.uw", M64, 63, MIN),
    ("slli.uw", 0x1_80000000, 1, 0x1_00000000),
    ("clz", 0, 0, 64), ("clz", 1, 0, 63), ("clz", M64, 0, 0),
    ("clzw", 0, 0, 32), ("clzw", 0xFFFFFFFF_00000001, 0, 31),
    ("ctz", 0, 0, 64), ("ctz", MIN, 0, 63),
    ("ctzw", 0x1_00000000, 0, 32), ("ctzw", 0x80000000, 0, 31),
    ("cpop", M64, 0, 64), ("cpopw", M64, 0, 32),
    ("max", M64, 1, 1), ("maxu", M64, 1, M64), ("min", M64, 1, M64), ("minu", M64, 1, 1),
    ("sext.b", 0x80, 0, 0xFFFFFFFFFFFFFF80), ("sext.h", 0x1_7FFF, 0, 0x7FFF),
    ("zext.h", M64, 0, 0xFFFF),
    ("rol", MIN | 1, 1, 3), ("rol", 0x1234, 64, 0x1234), ("ror", 1, 1, MIN),
    ("rori", 1, 63, 2), ("rori", 0x1234, 0, 0x1234),
    ("rolw", 0x80000001, 1, 3), ("rorw", 1, 1, 0xFFFFFFFF80000000),
    ("rolw", 0xFFFFFFFF_00000001, 32, 1), ("roriw", 0x1_00000001, 0, 1),
    ("orc.b", 0x0100_0000_8000_0001, 0, 0xFF00_0000_FF00_00FF), ("orc.b", 0, 0, 0),
    ("rev8", 0x0102030405060708, 0, 0x0807060504030201),
    ("bclr", M64, 63, M64 >> 1), ("bclr", M64, 64, M64 - 1),
    ("bext", MIN, 63, 1), ("bext", MIN, 127, 1), ("bexti", 2, 0, 0),
    ("binv", 0, 65, 2), ("binvi", MIN, 63, 0),
    ("bset", 0, 63, MIN), ("bseti", 0, 5, 32),
    ("andn", 0xFF, 0x0F, 0xF0), ("orn", 0, M64, 0), ("xnor", 0xF0, 0xFF, M64 ^ 0x0F),
]


@pytest.mark.parametrize("name,a,b,expected", CASES)
def test_edge_cases(engine, name, a, b, expected):
    assert run(engine, name, a, b) == expected
    assert MODEL[name](a, b) == expected  # the model agrees, so the property test is sound


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), name=st.sampled_from(sorted(MODEL)), a=st.integers(0, M64))
def test_against_model(engine, data, name, a):
    b = data.draw(st.integers(0, SHAMT[name] - 1) if name in SHAMT else st.integers(0, M64))
    assert run(engine, name, a, b) == MODEL[name](a, b)


def test_model_covers_every_instruction():
    from bt_vmm.isa import REGISTRY
    assert {s.name for s in REGISTRY.insns.values() if s.ext in ("Zba", "Zbb", "Zbs")} == set(MODEL)
