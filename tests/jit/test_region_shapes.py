"""What a region holds: each instruction once (a block that runs into a
branch target ends there), and not the loops that regions translated
before it hold (it enters them through their loop header).  Whatever the
shape, the hart ends as the reference interpreter leaves it."""
from __future__ import annotations

from bt_vmm.cpu.hart import Hart
from bt_vmm.engines.jit import JitEngine
from bt_vmm.engines.reference import ReferenceInterpreter
from bt_vmm.isa import DECODER, encode
from bt_vmm.isa.effects import ControlFlow, control_flow

from .common import USER, assert_same, make_hart, ran_cold, snapshot, translate_now

A0, A1, A2, A5, T0, RA = 10, 11, 12, 15, 5, 1


def loop_entered_in_its_middle() -> list[int]:
    """A rotated loop, as compilers lay them out: the code before it jumps
    to the loop's test; the back edge goes to the top of the body."""
    return [
        encode("addi", rd=T0, rs1=0, imm=50),
        encode("jal", rd=0, off=0x10 - 0x04),
        encode("addi", rd=A0, rs1=A0, imm=1),       # 0x08 top of the body
        encode("addi", rd=A1, rs1=A1, imm=2),
        encode("addi", rd=A2, rs1=A2, imm=3),       # 0x10 where the loop is entered
        encode("addi", rd=T0, rs1=T0, imm=-1),
        encode("bne", rs1=T0, rs2=0, off=0x08 - 0x18),
        encode("jal", rd=0, off=0),
    ]


def _run_again(h: Hart, eng: JitEngine, words: list[int], limit: int) -> None:
    """Run ``words`` from the start (translated now): the same state as the
    reference interpreter's."""
    for r in range(32):
        h.ptr.x[r] = 0
    h.ptr.pc, h.ptr.minstret, h.ptr.insn_limit = USER.code, 0, limit
    eng.run()
    ref = make_hart(USER, words, limit=limit)
    ReferenceInterpreter(ref).run()
    assert_same(snapshot(ref, []), snapshot(h, []))


def test_a_region_holds_each_instruction_once():
    words = loop_entered_in_its_middle()
    h, eng = ran_cold(words)
    info = translate_now(eng, USER.code)
    assert info.starts == {USER.code, USER.code + 0x08, USER.code + 0x10}
    pcs = [paddr for paddr, _ in info.code]
    assert sorted(pcs) == sorted(set(pcs))
    _run_again(h, eng, words, 1000)
    assert h.ptr.x[A2] == 150


def loop_after_some_code() -> list[int]:
    """Code at 0x00 that falls into a loop at 0x08."""
    return [
        encode("addi", rd=T0, rs1=0, imm=400),
        encode("addi", rd=A1, rs1=A1, imm=7),
        encode("addi", rd=A0, rs1=A0, imm=1),       # 0x08 loop
        encode("addi", rd=T0, rs1=T0, imm=-1),
        encode("bne", rs1=T0, rs2=0, off=0x08 - 0x10),
        encode("jal", rd=0, off=0),
    ]


def test_a_region_enters_a_loop_translated_before_it_instead_of_copying_it():
    words = loop_after_some_code()
    h, eng = ran_cold(words)
    assert translate_now(eng, USER.code + 0x08).loops == {USER.code + 0x08}
    before = translate_now(eng, USER.code)
    assert before.starts == {USER.code} and before.chains == [USER.code + 0x08]
    _run_again(h, eng, words, 2000)
    assert h.ptr.x[A0] == 400 and eng.stats.chain_hits >= 1


def loop_dividing_by_a_constant() -> list[int]:
    """A loop that divides by a register set to a constant before it."""
    return [
        encode("addi", rd=A5, rs1=0, imm=10),
        encode("addi", rd=T0, rs1=0, imm=300),
        encode("divu", rd=A1, rs1=T0, rs2=A5),      # 0x08 loop
        encode("add", rd=A0, rs1=A0, rs2=A1),
        encode("addi", rd=T0, rs1=T0, imm=-1),
        encode("bne", rs1=T0, rs2=0, off=0x08 - 0x14),
        encode("jal", rd=0, off=0),
    ]


def _state_at_the_loop(h: Hart, divisor: int) -> None:
    for r in range(32):
        h.ptr.x[r] = 0
    h.ptr.x[A5], h.ptr.x[T0] = divisor, 200
    h.ptr.pc, h.ptr.minstret, h.ptr.insn_limit = USER.code + 0x08, 0, 2000


def test_constants_set_before_a_loop_are_known_inside_it():
    """The loop header is an entry of the region, but the region's own
    branches always bring a5 = 10 there: entering there checks a5 and then
    compiles with it (the division becomes a multiplication); a run that
    enters with another a5 stops before the loop and goes on in the cold
    tier, as the interpreter would."""
    words = loop_dividing_by_a_constant()
    h, eng = ran_cold(words)
    info = translate_now(eng, USER.code)
    assert USER.code + 0x08 in info.entry_points
    _run_again(h, eng, words, 2000)
    assert h.ptr.x[A0] == sum(t // 10 for t in range(1, 301))
    for divisor, entered in ((10, range(1, 3)), (7, range(200, 202))):
        _state_at_the_loop(h, divisor)
        before = eng.stats.dispatches
        eng.run()
        ref = make_hart(USER, words, limit=2000)
        _state_at_the_loop(ref, divisor)
        ReferenceInterpreter(ref).run()
        assert_same(snapshot(ref, []), snapshot(h, []))
        assert h.ptr.x[A0] == sum(t // divisor for t in range(1, 201))
        # a5 = 10: the loop runs in the region; a5 = 7: the region stops at
        # each pass's entry (the cold tier runs the pass and comes back)
        assert eng.stats.dispatches - before in entered


def test_the_control_flow_of_an_instruction():
    def flow(name, **fields):
        return control_flow(encode(name, **fields))

    assert flow("add", rd=A0, rs1=A1, rs2=A2) == ControlFlow((), True, False)
    assert flow("bne", rs1=A0, rs2=0, off=-8) == ControlFlow((-8,), True, False)
    assert flow("jal", rd=RA, off=0x40) == ControlFlow((0x40,), False, False)
    assert flow("jalr", rd=0, rs1=RA, imm=0) == ControlFlow((), False, True)
    assert flow("ecall") == ControlFlow((), True, False)   # (the translator ends the block)
    assert DECODER.decode(0xb7d9).length == 2 and control_flow(0xb7d9) == ControlFlow((-58,), False, False)   # c.j
    assert control_flow(0) is None   # illegal
