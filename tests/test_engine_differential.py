"""Property tests: random instruction sequences (compressed ones included)
run by the reference interpreter and by each faster engine (the JIT
translating every block at first sight) leave the whole architectural state
and memory identical."""
from __future__ import annotations

from functools import partial

import pytest
from enginetest import LAYOUTS, assert_same, code_bytes, run_against_reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bt_vmm.engines.fast import FastInterpreter
from bt_vmm.engines.jit import JitEngine
from bt_vmm.isa import DECODER, REGISTRY, IllegalInstruction, encode

REGS = list(range(5, 13))     # t0..a2 (and s0): results feed later instructions
BASE = 9                      # s1: the scratch area's address, never overwritten
SCRATCH = 512

ALU = """add sub sll slt sltu xor srl sra or and addw subw sllw srlw sraw
addi slti sltiu xori ori andi slli srli srai addiw slliw srliw sraiw lui auipc
mul mulh mulhsu mulhu mulw div divu rem remu divw divuw remw remuw""".split()
ZB = "sh1add sh2add sh3add add.uw andn orn xnor clz ctz cpop min maxu rol ror rori sext.b zext.h rev8 bset bclri".split()
MEM = "lb lh lw ld lbu lhu lwu sb sh sw sd".split()
ATOMIC = "amoadd.w amoswap.d amomaxu.d amoor.w amomin.w lr.d sc.d lr.w sc.w".split()
FP = """fadd.d fsub.s fmul.d fdiv.s fsqrt.d fmadd.d fnmsub.s fmin.s fmax.d feq.d flt.s fclass.d
fcvt.w.d fcvt.d.l fcvt.s.d fsgnjn.d fmv.x.d fmv.d.x fld fsd flw fsw""".split()
CSR = "csrrw csrrs csrrc csrrwi csrrsi csrrci".split()
BRANCH = "beq bne blt bge bltu bgeu".split()
CSRS = [0x340, 0x001, 0x002, 0x003, 0xC02]   # mscratch, fflags, frm, fcsr, instret
MEMORY_INSNS = set(MEM) | set(ATOMIC) | {"fld", "fsd", "flw", "fsw"}
VALUES = st.one_of(st.integers(0, (1 << 64) - 1), st.sampled_from([0, 1, (1 << 63), (1 << 64) - 1, 0x7FFFFFFF]))

POOLS = {
    "integer": [ALU, ZB, BRANCH],
    "memory": [ALU, ZB, MEM, ATOMIC, BRANCH],
    "fp": [FP, ALU[:8], MEM[:4]],
    "csr": [CSR, ALU[:8], FP[:4]],
    "mixed": [ALU, MEM, FP, CSR, BRANCH],
}

# Each engine under test, and what shows it ran its own code rather than deferring.
ENGINES = {
    "fast": (FastInterpreter, lambda e: e.stats.decoded >= 1),
    "jit": (partial(JitEngine, hot=1, disk_cache=None, background=False), lambda e: e.stats.regions >= 1 and e.stats.dispatches >= 1),
}


def _field(draw, name: str, field, insn: str) -> int:
    if name == "rs1" and insn in MEMORY_INSNS:
        return BASE
    if name in ("rd", "rs1", "rs2", "rs3"):
        return draw(st.sampled_from(REGS + [0]))
    if name == "imm" and insn in MEMORY_INSNS:
        return draw(st.integers(0, SCRATCH - 8))
    if name == "rm":
        return draw(st.sampled_from([0, 1, 2, 3, 4, 7, 7, 5]))   # 5: reserved, an illegal instruction
    if name == "csr":
        return draw(st.sampled_from(CSRS))
    if name in ("aq", "rl"):
        return 0
    lo, hi = (-(1 << (field.width - 1)), (1 << (field.width - 1)) - 1) if field.signed else (0, (1 << field.width) - 1)
    step = 1 << field.low_zero_bits()
    return draw(st.integers(lo // step, hi // step)) * step


def _safe_compressed(word: int) -> bool:
    """A 16-bit parcel that decodes to straight-line code touching only the
    scratch area (memory accesses based on s1, small offsets)."""
    try:
        d = DECODER.decode(word)
    except IllegalInstruction:
        return False
    f = d.fields
    if d.spec.name in ALU or d.spec.name in ZB:
        return True
    return d.spec.name in MEMORY_INSNS and f.get("rs1") == BASE and 0 <= f["imm"] <= SCRATCH - 8


@st.composite
def programs(draw, pools: list[list[str]]):
    names = [n for pool in pools for n in pool if n in REGISTRY.insns]
    n = draw(st.integers(1, 24))
    words: list[int | tuple[str, int, int, int]] = []
    for i in range(n):
        if draw(st.sampled_from(["c", "w", "w", "w"])) == "c":
            words.append(draw(st.integers(0, 0xFFFF).filter(lambda w: w & 3 != 3 and _safe_compressed(w))))
            continue
        insn = draw(st.sampled_from(names))
        if insn in BRANCH:   # forward, to a later instruction or just past the end
            words.append((insn, draw(st.sampled_from(REGS)), draw(st.sampled_from(REGS)), draw(st.integers(1, n - i))))
            continue
        spec = REGISTRY.insns[insn]
        words.append(encode(insn, **{p: _field(draw, p, spec.encoding.fields[p], insn) for p in spec.params}))
    return _resolve_branches(words)


def _resolve_branches(words: list) -> list[int]:
    """Branch placeholders (name, rs1, rs2, skip) become branches to the
    instruction ``skip`` ahead, whatever the lengths in between."""
    offsets = [0]
    for w in words:
        offsets.append(offsets[-1] + (4 if isinstance(w, tuple) or w & 3 == 3 else 2))
    return [encode(w[0], rs1=w[1], rs2=w[2], off=offsets[i + w[3]] - offsets[i]) if isinstance(w, tuple) else w
            for i, w in enumerate(words)]


@pytest.mark.parametrize("engine", list(ENGINES))
@LAYOUTS
@pytest.mark.parametrize("pool", list(POOLS))
@settings(max_examples=24, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_random_sequences_match_the_reference(engine, layout, pool, data):
    words = data.draw(programs(POOLS[pool]))
    regs = data.draw(st.lists(VALUES, min_size=len(REGS), max_size=len(REGS)))
    fregs = data.draw(st.lists(VALUES, min_size=len(REGS), max_size=len(REGS)))
    scratch = data.draw(st.binary(min_size=SCRATCH, max_size=SCRATCH))
    assert len(code_bytes(words)) < 0x8000
    make_engine, ran_its_own_code = ENGINES[engine]
    base = layout.data
    ref, other, eng = run_against_reference(
        make_engine, layout, words, regs=dict(zip(REGS, regs)) | {BASE: base}, fregs=dict(zip(REGS, fregs)),
        mem={base: scratch}, ranges=[(base, SCRATCH)], limit=len(words) + 4)
    assert_same(ref, other)
    assert ran_its_own_code(eng) or other["minstret"] == 0   # an illegal first instruction ends a process
