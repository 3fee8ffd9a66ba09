"""Short forward branches over register-only instructions run as selects in
translated code (the host cannot mispredict them): the hart must still end
exactly as under the reference interpreter, with instret counting only the
instructions the guest ran."""
from __future__ import annotations

import pytest
from bt_vmm._core import lib

from bt_vmm.isa import DECODER, encode
from bt_vmm.isa.effects import register_effects

from .common import LAYOUTS, assert_same, run_both

A0, A1, A2, A3, A4, A5, T0, T1 = 10, 11, 12, 13, 14, 15, 5, 6


def crc16(rounds: int) -> tuple[list[int], dict[int, int]]:
    """(words, registers): crc16's bit loop over ``rounds`` bits of a0;
    the xor with the polynomial is skipped when the low bit was 0."""
    words = [
        encode("andi", rd=A4, rs1=A0, imm=1),
        encode("srli", rd=A0, rs1=A0, shamt=1),
        encode("beq", rs1=A4, rs2=0, off=8),
        encode("xor", rd=A0, rs1=A0, rs2=A3),
        encode("addi", rd=T0, rs1=T0, imm=-1),
        encode("bne", rs1=T0, rs2=0, off=-20),
        encode("jal", rd=0, off=0),
    ]
    return words, {A0: 0x1D0F_2B4C_9E37, A3: 0xA001, T0: rounds}


def crc16_reference(value: int, rounds: int) -> int:
    for _ in range(rounds):
        value = (value >> 1) ^ 0xA001 if value & 1 else value >> 1
    return value


@LAYOUTS
def test_crc_loop_runs_as_one_block(layout):
    words, regs = crc16(200)
    ref, jit, eng = run_both(layout, words, hot=2, regs=regs, limit=200 * 6 + 10)
    assert_same(ref, jit)
    assert jit["x"][A0] == crc16_reference(regs[A0], 200)
    # The loop's six instructions are one block: no block at the xor or
    # at the branch's target.
    assert eng.stats.regions >= 1 and eng.stats.blocks == eng.stats.regions


@LAYOUTS
@pytest.mark.parametrize("limit", [3, 4, 5, 6, 97, 98, 99, 100, 101])
def test_instruction_limit_inside_and_around_skipped_code(layout, limit):
    """instret, pc and registers at every stopping point, whichever way
    the branch went."""
    words, regs = crc16(40)
    ref, jit, _ = run_both(layout, words, hot=1, regs=regs, limit=limit)
    assert_same(ref, jit)
    assert jit["minstret"] == limit and jit["exit_reason"] == lib.EXIT_LIMIT


@LAYOUTS
def test_skipped_code_that_writes_the_branch_operand_and_depends_on_pc(layout):
    """The body overwrites the register the branch tested, chains two
    writes of one register, and holds a compressed instruction and an
    auipc (pc-relative): whatever the branch did, later code sees it."""
    words = [
        encode("andi", rd=A4, rs1=T0, imm=3),
        encode("bne", rs1=A4, rs2=0, off=14),
        encode("addi", rd=A4, rs1=A4, imm=7),
        encode("c.addi", rd=A1, imm=5) | encode("c.slli", rd=A1, shamt=1) << 16,
        encode("auipc", rd=A2, upper=0x1000),
        encode("add", rd=A5, rs1=A5, rs2=A4),          # the branch's target
        encode("add", rd=A5, rs1=A5, rs2=A1),
        encode("add", rd=A5, rs1=A5, rs2=A2),
        encode("addi", rd=T0, rs1=T0, imm=-1),
        encode("bne", rs1=T0, rs2=0, off=-34),
        encode("jal", rd=0, off=0),
    ]
    ref, jit, eng = run_both(layout, words, hot=2, regs={T0: 64}, limit=2000)
    assert_same(ref, jit)
    assert jit["pc"] == layout.code + 38 and eng.stats.regions >= 1


def test_only_register_only_instructions_may_be_skipped_by_a_select():
    def effects(name, **fields):
        return register_effects(DECODER.decode(encode(name, **fields)), 0x1000)

    assert effects("add", rd=A0, rs1=A1, rs2=A2).writes == {A0}
    assert effects("auipc", rd=A0, upper=0x1000).writes == {A0}
    assert effects("addi", rd=0, rs1=A1, imm=1).writes == frozenset()
    assert "div" in effects("div", rd=A0, rs1=A1, rs2=A2).ops
    for name, fields in [
        ("lw", dict(rd=A0, rs1=A1, imm=0)),                  # may fault
        ("sw", dict(rs1=A1, rs2=A0, imm=0)),
        ("beq", dict(rs1=A1, rs2=A0, off=8)),                # control flow
        ("jal", dict(rd=0, off=8)),
        ("csrrw", dict(rd=A0, rs1=A1, csr=0x340)),           # a callout
        ("fadd.d", dict(rd=1, rs1=2, rs2=3, rm=0)),          # FP state, fflags
        ("lr.d", dict(rd=A0, rs1=A1, aq=0, rl=0)),
    ]:
        assert effects(name, **fields) is None, name
