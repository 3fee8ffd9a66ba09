"""Copy-and-patch blocks: hot straight-line code runs as pieces copied from
stencils, chained to each other (process VM), with the loop's obligations
kept: code rewritten under a copied block, precise faults inside one, the
exact instruction limit, exit requests, no chain past code the JIT has
translated, and (system VM) a block copied for one virtual address never
runs at another."""
from __future__ import annotations

import pytest
from bt_vmm._core import lib

from bt_vmm._core import ffi
from bt_vmm.engines.fast import FastInterpreter
from bt_vmm.engines.jit import JitEngine
from bt_vmm.isa import encode

from .common import LAYOUTS, SYSTEM, USER, assert_same, calls_across_a_remap, make_hart, run_both, run_with_exit_request

A0, A1, A2, A3, T0, T1, T2 = 10, 11, 12, 13, 5, 6, 7
HOT = lib.FI_BLOCK_HOT


def _counted_loop(body: list[int], times: int) -> list[int]:
    """a1 = times; loop: body; a1 -= 1; bne a1, loop."""
    inner = [*body, encode("addi", rd=A1, rs1=A1, imm=-1)]
    return [encode("addi", rd=A1, rs1=0, imm=times), *inner, encode("bne", rs1=A1, rs2=0, off=-4 * len(inner))]


@LAYOUTS
def test_a_hot_loop_runs_as_a_copied_block(layout):
    body = [encode("addi", rd=A0, rs1=A0, imm=3), encode("slli", rd=A2, rs1=A0, shamt=2),
            encode("xor", rd=A3, rs1=A3, rs2=A2)]
    words = _counted_loop(body, 4 * HOT)
    ref, fast, engine = run_both(layout, words, limit=1 + 4 * HOT * 5)
    assert_same(ref, fast)
    assert fast["x"][A0] == 3 * 4 * HOT
    assert engine.ctx.stat_blocks >= 1 and engine.ctx.stat_links >= 1   # (the loop chains to itself)


@LAYOUTS
@pytest.mark.parametrize("patch", [encode("addi", rd=A0, rs1=A0, imm=7), encode("xori", rd=A0, rs1=A0, imm=5)],
                         ids=["same-handler", "other-handler"])
def test_code_rewritten_under_a_copied_block_takes_effect(layout, patch):
    """The loop's first instruction is rewritten once the loop is a copied
    block, then the loop runs 3 more times: with the same handler the copy
    reads the new fields; with another the piece finds its entry changed."""
    times = 2 * HOT
    loop = _counted_loop([encode("addi", rd=A0, rs1=A0, imm=1)], times)[1:]   # at code + 4
    words = [encode("addi", rd=A1, rs1=0, imm=times), *loop,
             encode("bne", rs1=A2, rs2=0, off=4 * 5),       # the second time round: done
             encode("sw", rs1=T0, rs2=T1, imm=0),
             encode("addi", rd=A2, rs1=0, imm=1),
             encode("addi", rd=A1, rs1=0, imm=3),
             encode("jal", rd=0, off=-4 * (len(loop) + 4)),
             encode("jal", rd=0, off=0)]
    ref, fast, engine = run_both(layout, words, regs={T0: layout.code + 4, T1: patch}, limit=1 + 3 * times + 5 + 9 + 1 + 20)
    assert_same(ref, fast)
    expected = times + 3 * 7 if patch & 0x7000 == 0 else (((times ^ 5) ^ 5) ^ 5)
    assert fast["x"][A0] == expected
    assert engine.ctx.stat_blocks >= 1 and engine.ctx.stat_invalidated >= 1


def test_a_fault_inside_a_copied_block_is_precise():
    """A load walks down by 8 KiB a pass and faults below the guard page,
    in the middle of the loop's copied block."""
    words = [encode("addi", rd=A0, rs1=A0, imm=1), encode("ld", rd=A3, rs1=T2, imm=0),
             encode("sub", rd=T2, rs1=T2, rs2=T1), encode("jal", rd=0, off=-12)]
    passes = USER.data // 0x2000   # the pass that loads from 0 faults
    assert passes > HOT
    ref, fast, engine = run_both(USER, words, regs={T1: 0x2000, T2: USER.data}, limit=10 * passes)
    assert_same(ref, fast)
    assert (fast["sepc"], fast["scause"], fast["minstret"]) == (USER.code + 4, lib.EXC_LOAD_ACCESS, 4 * passes + 1)
    assert fast["x"][A0] == passes + 1 and engine.ctx.stat_blocks >= 1


@LAYOUTS
@pytest.mark.parametrize("limit", [4 * HOT * 7 + 3, 4 * HOT * 7 + 6])
def test_the_instruction_limit_inside_a_copied_block_is_exact(layout, limit):
    words = [*[encode("addi", rd=A0, rs1=A0, imm=1)] * 6, encode("jal", rd=0, off=-24)]
    ref, fast, engine = run_both(layout, words, limit=limit)
    assert_same(ref, fast)
    assert fast["minstret"] == limit and engine.ctx.stat_blocks >= 1


def _if_else_loop(times: int) -> list[int]:
    """``times`` passes of: odd a1 adds 3 to a0, even adds 5 to a2 (three
    blocks that jump to each other)."""
    return [
        encode("addi", rd=A1, rs1=0, imm=times),
        encode("andi", rd=T0, rs1=A1, imm=1),       # 0x04 loop
        encode("beq", rs1=T0, rs2=0, off=12),
        encode("addi", rd=A0, rs1=A0, imm=3),
        encode("jal", rd=0, off=8),
        encode("addi", rd=A2, rs1=A2, imm=5),       # 0x14 else
        encode("addi", rd=A1, rs1=A1, imm=-1),      # 0x18 join
        encode("bne", rs1=A1, rs2=0, off=-24),
        encode("jal", rd=0, off=0),
    ]


def _linked(ctx) -> list[int]:
    """The targets of the context's chain slots that are linked."""
    return [ctx.chains[i].pc for i in range(ctx.chains_used) if ctx.chains[i].pc != lib.FI_CHAIN_NONE]


@pytest.mark.parametrize("limit", [1 + 40 * 6, 1 + 40 * 6 + 2, 1 + 400 * 6])
def test_blocks_that_jump_to_each_other_are_chained(limit):
    """Exact results, and the instruction limit, with the loop's blocks
    going to each other directly."""
    ref, fast, engine = run_both(USER, _if_else_loop(400), limit=limit)
    assert_same(ref, fast)
    assert fast["minstret"] == limit
    assert engine.ctx.stat_links >= 3
    assert {USER.code + 0x04, USER.code + 0x14, USER.code + 0x18} <= set(_linked(engine.ctx))


def test_an_exit_request_stops_a_chained_loop():
    """The loop is one block chained to itself, and the step budget has no
    end: only the chain's own check of the request can stop it (before the
    limit, which would take minutes)."""
    h = make_hart(USER, [encode("addi", rd=A0, rs1=A0, imm=1), encode("jal", rd=0, off=-4)], limit=10**11)
    engine = FastInterpreter(h)
    assert run_with_exit_request(engine, h, lambda: h.ptr.minstret > 10**6) == lib.EXIT_REQUEST
    assert h.ptr.minstret < 10**11 and _linked(engine.ctx) == [USER.code]


def test_a_translation_installed_unlinks_the_chains():
    """The JIT's cold tier never chains past a translation: installing one
    unlinks every chain (they are linked again, through the loop, only to
    targets without one)."""
    h = make_hart(USER, _if_else_loop(400), limit=1 + 400 * 6)
    engine = JitEngine(h, hot=10**9, background=False)   # (nothing gets hot)
    engine.run()
    fi = engine.fast.ctx
    assert len(_linked(fi)) >= 3
    code = ffi.new("char[]", 16)   # (never run: the guest has stopped)
    lib.bt_jit_insert(engine.cache.ctx, USER.code + 0x18, USER.code + 0x18, lib.bt_jit_mode(h.ptr),
                      int(ffi.cast("uintptr_t", code)))
    assert _linked(fi) == []
    h.close()


def test_a_store_that_rewrites_the_rest_of_its_block_leaves_it():
    """The loop is one copied block, whose store goes to data but, at the
    pass where a1 == a2, to the block's own next instruction (a0 += 1
    becomes a0 += 7): the piece after the store must not run the copy of
    what was there."""
    passes, patch_at = 40, 20
    t3, t4, t5 = 28, 29, 30
    words = [
        encode("addi", rd=A1, rs1=A1, imm=-1),      # 0x00 loop
        encode("sub", rd=t4, rs1=A1, rs2=A2),
        encode("sltiu", rd=t4, rs1=t4, imm=1),
        encode("sub", rd=t4, rs1=0, rs2=t4),        # all ones at the pass that patches
        encode("and", rd=t4, rs1=t4, rs2=t5),
        encode("add", rd=T0, rs1=t3, rs2=t4),       # t0 = data, or X
        encode("sw", rs1=T0, rs2=T1, imm=0),
        encode("addi", rd=A0, rs1=A0, imm=1),       # 0x1c X
        encode("bne", rs1=A1, rs2=0, off=-32),
        encode("jal", rd=0, off=0),
    ]
    regs = {A1: passes, A2: patch_at, T1: encode("addi", rd=A0, rs1=A0, imm=7),
            t3: USER.data, t5: USER.code + 0x1c - USER.data}
    ref, fast, engine = run_both(USER, words, regs=regs, limit=passes * 9 + 10)
    assert_same(ref, fast)
    assert fast["x"][A0] == (passes - 1 - patch_at) + 7 * (patch_at + 1)
    assert engine.ctx.stat_blocks >= 1 and engine.ctx.stat_invalidated >= 1


def test_a_block_copied_for_one_virtual_address_does_not_run_at_another():
    """System VM, S-mode under Sv39: two gigapages map the same RAM, and a
    hot loop (its auipc sees its pc) runs at the first address, then at the
    second: there it must not be the block copied for the first."""
    a4, t0 = 14, 5
    passes = 4 * HOT
    words = [
        encode("addi", rd=A1, rs1=0, imm=passes),
        encode("auipc", rd=A2, upper=0),          # 0x04: the loop
        encode("add", rd=A3, rs1=A3, rs2=A2),
        encode("addi", rd=A1, rs1=A1, imm=-1),
        encode("bne", rs1=A1, rs2=0, off=-12),
        encode("bne", rs1=a4, rs2=0, off=12),     # 0x14: the second time round: done
        encode("addi", rd=a4, rs1=0, imm=1),
        encode("jalr", rd=0, rs1=t0, imm=0),      # the same code at the other address
        encode("jal", rd=0, off=0),
    ]
    root = SYSTEM.data + 0x1000
    leaf = (SYSTEM.ram_base >> 12) << 10 | 0xCF    # V R W X A D, a 1 GiB leaf
    other = SYSTEM.ram_base + (1 << 30)
    mem = {root + 8 * (SYSTEM.ram_base >> 30): leaf.to_bytes(8, "little"),
           root + 8 * (other >> 30): leaf.to_bytes(8, "little")}
    ref, fast, engine = run_both(SYSTEM, words, regs={t0: other}, mem=mem, limit=3 + 2 * (4 * passes + 4),
                                 sv39_root=root)
    assert_same(ref, fast)
    assert fast["x"][A3] == passes * ((SYSTEM.code + 4) + (other + 4)) % (1 << 64)
    assert engine.ctx.stat_blocks >= 1


def test_a_system_vm_chains_no_jump_to_another_page():
    """A hot loop calls a function on another page, which is then mapped to
    other code (calls_across_a_remap).  The loop's blocks chain within their
    page only: a chain across would still run the first function's copy."""
    n = 4 * HOT
    words, regs, mem, root, a0 = calls_across_a_remap(n)
    ref, fast, engine = run_both(SYSTEM, words, regs=regs, mem=mem, limit=4 + 2 * (5 * n) + 10, sv39_root=root)
    assert_same(ref, fast)
    assert fast["x"][A0] == a0
    assert engine.ctx.stat_blocks >= 1
