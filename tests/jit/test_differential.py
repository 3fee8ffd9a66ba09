"""Property tests: random instruction sequences run by the reference
interpreter and by the JIT (every block translated at first sight) leave
the whole architectural state and memory identical."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bt_vmm.isa import REGISTRY, encode

from .common import SYSTEM, USER, assert_same, run_both

REGS = list(range(5, 13))     # t0..a2 (and s0): results feed later instructions
BASE = 9                      # s1: the scratch area's address, never overwritten
SCRATCH = 512

ALU = """add sub sll slt sltu xor srl sra or and addw subw sllw srlw sraw
addi slti sltiu xori ori andi slli srli srai addiw slliw srliw sraiw lui auipc
mul mulh mulhsu mulhu mulw div divu rem remu divw divuw remw remuw""".split()
ZB = "sh1add sh2add sh3add add.uw andn orn xnor clz ctz cpop min maxu rol ror rori sext.b zext.h rev8 bset bclri".split()
MEM = "lb lh lw ld lbu lhu lwu sb sh sw sd".split()
AMO = "amoadd.w amoswap.d amomaxu.d amoor.w".split()
FP = """fadd.d fsub.s fmul.d fdiv.s fsqrt.d fmadd.d fmin.s fmax.d feq.d flt.s fclass.d
fcvt.w.d fcvt.d.l fcvt.s.d fsgnjn.d fmv.x.d fmv.d.x fld fsd flw""".split()
CSR = "csrrw csrrs csrrc csrrwi csrrsi".split()
BRANCH = "beq bne blt bge bltu bgeu".split()
CSRS = [0x340, 0x001, 0x002, 0x003]   # mscratch, fflags, frm, fcsr
VALUES = st.one_of(st.integers(0, (1 << 64) - 1), st.sampled_from([0, 1, (1 << 63), (1 << 64) - 1, 0x7FFFFFFF]))


def _available(names: list[str]) -> list[str]:
    return [n for n in names if n in REGISTRY.insns]


def _field(draw, name: str, field, insn: str) -> int:
    memory = insn in MEM or insn in ("fld", "fsd", "flw")
    if name == "rs1" and (memory or insn in AMO):
        return BASE
    if name in ("rd", "rs1", "rs2", "rs3"):
        return draw(st.sampled_from(REGS))
    if name == "imm" and memory:
        return draw(st.integers(0, SCRATCH - 8))
    if name == "rm":
        return draw(st.sampled_from([0, 1, 2, 3, 4, 7, 7, 5]))
    if name == "csr":
        return draw(st.sampled_from(CSRS))
    if name in ("aq", "rl"):
        return 0
    lo, hi = (-(1 << (field.width - 1)), (1 << (field.width - 1)) - 1) if field.signed else (0, (1 << field.width) - 1)
    step = 1 << field.low_zero_bits()
    return draw(st.integers(lo // step, hi // step)) * step


@st.composite
def programs(draw, pools: list[list[str]]):
    names = [n for pool in pools for n in _available(pool)]
    n = draw(st.integers(1, 24))
    words = []
    for i in range(n):
        insn = draw(st.sampled_from(names))
        if insn in BRANCH:   # forward, inside the program or just past it
            skip = draw(st.integers(1, n - i))
            words.append(encode(insn, rs1=draw(st.sampled_from(REGS)), rs2=draw(st.sampled_from(REGS)), off=4 * skip))
            continue
        spec = REGISTRY.insns[insn]
        fields = {p: _field(draw, p, spec.encoding.fields[p], insn) for p in spec.params
                  if p in spec.encoding.fields}
        words.append(encode(insn, **fields))
    return words


def _check(layout, words, regs, fregs, scratch):
    base = layout.data
    regs = dict(zip(REGS, regs)) | {BASE: base}
    ref, jit, engine = run_both(layout, words, regs=regs, fregs=dict(zip(REGS, fregs)),
                                mem={base: scratch}, ranges=[(base, SCRATCH)], limit=len(words) + 4)
    assert_same(ref, jit)
    assert engine.stats.regions >= 1 and engine.stats.dispatches >= 1   # it ran generated code


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("layout", [SYSTEM, USER], ids=["system", "user"])
@SETTINGS
@given(words=programs([ALU, ZB, MEM, BRANCH, AMO]),
       regs=st.lists(VALUES, min_size=len(REGS), max_size=len(REGS)),
       scratch=st.binary(min_size=SCRATCH, max_size=SCRATCH))
def test_integer_sequences(layout, words, regs, scratch):
    _check(layout, words, regs, [0] * len(REGS), scratch)


@pytest.mark.parametrize("layout", [SYSTEM, USER], ids=["system", "user"])
@SETTINGS
@given(words=programs([ALU, MEM, FP, CSR, BRANCH]),
       regs=st.lists(VALUES, min_size=len(REGS), max_size=len(REGS)),
       fregs=st.lists(VALUES, min_size=len(REGS), max_size=len(REGS)),
       scratch=st.binary(min_size=SCRATCH, max_size=SCRATCH))
def test_fp_and_csr_sequences(layout, words, regs, fregs, scratch):
    _check(layout, words, regs, fregs, scratch)
