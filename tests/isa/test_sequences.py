"""Random straight-line integer code against a tiny independent model."""
from hypothesis import HealthCheck, given, settings, strategies as st

from bt_vmm.isa import encode

from .harness import M64, run_insns, x

REGS = range(5, 13)  # t0..a2: few registers, so results feed later instructions


def _s(v):
    return v - (1 << 64) if v >> 63 else v


def _w(v):
    v &= 0xFFFFFFFF
    return (v - (1 << 32)) & M64 if v >> 31 else v


MODEL = {
    "add": lambda a, b: (a + b) & M64,
    "sub": lambda a, b: (a - b) & M64,
    "xor": lambda a, b: a ^ b,
    "or": lambda a, b: a | b,
    "and": lambda a, b: a & b,
    "sll": lambda a, b: (a << (b & 63)) & M64,
    "srl": lambda a, b: a >> (b & 63),
    "sra": lambda a, b: (_s(a) >> (b & 63)) & M64,
    "slt": lambda a, b: int(_s(a) < _s(b)),
    "sltu": lambda a, b: int(a < b),
    "mul": lambda a, b: (a * b) & M64,
    "addw": lambda a, b: _w(a + b),
    "subw": lambda a, b: _w(a - b),
}

INSN = st.tuples(st.sampled_from(sorted(MODEL)), st.sampled_from(REGS), st.sampled_from(REGS),
                 st.sampled_from(REGS))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prog=st.lists(INSN, min_size=1, max_size=30),
       init=st.lists(st.integers(0, M64), min_size=len(REGS), max_size=len(REGS)))
def test_straight_line_code(engine, prog, init):
    regs = dict(zip(REGS, init))
    h = run_insns(engine, [encode(op, rd=rd, rs1=a, rs2=b) for op, rd, a, b in prog], regs=regs)
    for op, rd, a, b in prog:
        regs[rd] = MODEL[op](regs[a], regs[b])
    assert {r: x(h, r) for r in REGS} == regs
