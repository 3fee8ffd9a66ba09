"""The fast interpreter's own obligations: self-modifying code, precise
faults, the exact instruction limit, exit requests, and the handlers
specialised on an instruction's fields."""
from __future__ import annotations

import pytest
from bt_vmm._core import lib

from bt_vmm.engines.fast import FastInterpreter
from bt_vmm.isa import encode

from .common import (
    LAYOUTS,
    SYSTEM,
    USER,
    assert_same,
    make_hart,
    run_both,
    run_with_exit_request,
    store_into_code_from_below,
)

A0, A1, A2, T0, T1, T2 = 10, 11, 12, 5, 6, 7
ADD7 = encode("addi", rd=A0, rs1=A0, imm=7)


def _loop_patching(patch: list[int]) -> list[int]:
    """Two iterations of: a0 += 1 (the instruction at t0, which ``patch``
    rewrites into a0 += 7), then the patch, then the loop branch."""
    body = [encode("addi", rd=A0, rs1=A0, imm=1), *patch, encode("addi", rd=A1, rs1=A1, imm=-1)]
    return [encode("addi", rd=A1, rs1=0, imm=2), *body, encode("bne", rs1=A1, rs2=0, off=-4 * len(body))]


def _run_patching(layout, patch, **regs):
    words = _loop_patching(patch)
    ref, fast, engine = run_both(layout, words, regs={T0: layout.code + 4, T1: ADD7, **regs},
                                 limit=len(words) + 8)
    assert_same(ref, fast)
    return fast, engine


@LAYOUTS
def test_a_store_over_predecoded_code_takes_effect(layout):
    fast, engine = _run_patching(layout, [encode("sw", rs1=T0, rs2=T1, imm=0)])
    assert fast["x"][A0] == 1 + 7
    assert engine.ctx.stat_invalidated >= 1


@LAYOUTS
def test_a_store_over_the_next_instruction_takes_effect_in_straight_line_code(layout):
    """The loop steps to the next entry without a lookup after an
    instruction that falls through: that entry, dropped by the store, is
    decoded again and the new instruction runs."""
    words = [encode("sw", rs1=T0, rs2=T1, imm=0), encode("addi", rd=A0, rs1=A0, imm=1), encode("jal", rd=0, off=0)]
    ref, fast, engine = run_both(layout, words, regs={T0: layout.code + 4, T1: ADD7}, limit=3)
    assert_same(ref, fast)
    assert fast["x"][A0] == 7 and engine.ctx.stat_invalidated >= 1


@LAYOUTS
def test_an_amo_rewriting_itself_completes_with_its_own_fields(layout):
    # amoswap at t0+4 swaps `a0 += 7` into the word at t0 and its old value into a2
    fast, _ = _run_patching(layout, [encode("amoswap.w", rd=A2, rs1=T0, rs2=T1, aq=0, rl=0)])
    assert fast["x"][A0] == 8
    assert fast["x"][A2] in (ADD7, encode("addi", rd=A0, rs1=A0, imm=1))


@LAYOUTS
def test_fence_i_flushes_the_predecoded_code(layout):
    fast, engine = _run_patching(layout, [encode("sw", rs1=T0, rs2=T1, imm=0),
                                          encode("fence.i", imm=0, rs1=0, rd=0)])
    assert fast["x"][A0] == 8
    assert engine.ctx.stat_flushes >= 1


@LAYOUTS
def test_a_fault_mid_sequence_is_precise(layout):
    words = [encode("addi", rd=A0, rs1=A0, imm=1)] * 3 + [encode("ld", rd=A1, rs1=T2, imm=0),
                                                         encode("addi", rd=A0, rs1=A0, imm=1)]
    ref, fast, _ = run_both(layout, words, regs={T2: 0x40}, limit=20)   # 0x40: outside RAM / below the guard
    assert_same(ref, fast)
    assert fast["x"][A0] == 3
    if layout is SYSTEM:
        assert (fast["mepc"], fast["mcause"], fast["mtval"]) == (layout.code + 12, lib.EXC_LOAD_ACCESS, 0x40)
        assert fast["minstret"] == 20   # 3 retired, then the trap loop up to the limit
    else:
        assert (fast["sepc"], fast["scause"], fast["minstret"]) == (layout.code + 12, lib.EXC_LOAD_ACCESS, 3)


@LAYOUTS
@pytest.mark.parametrize("limit", [1, 2, 1001])
def test_the_instruction_limit_is_exact(layout, limit):
    words = [encode("addi", rd=A0, rs1=A0, imm=1), encode("jal", rd=0, off=-4)]
    ref, fast, _ = run_both(layout, words, limit=limit)
    assert_same(ref, fast)
    assert fast["minstret"] == limit and fast["x"][A0] == (limit + 1) // 2


def test_an_exit_request_stops_a_hot_loop():
    h = make_hart(SYSTEM, [encode("jal", rd=0, off=0)], limit=(1 << 64) - 1)
    assert run_with_exit_request(FastInterpreter(h), h, lambda: h.ptr.minstret > 1000) == lib.EXIT_REQUEST
    assert h.ptr.minstret > 1000 and h.ptr.pc == SYSTEM.code


def test_csr_instructions_take_their_fields_at_run_time():
    words = [encode("csrrw", rd=0, csr=0x340, rs1=A1), encode("csrrs", rd=A0, csr=0x340, rs1=0),
             encode("csrrs", rd=A2, csr=0xC02, rs1=0), encode("csrrci", rd=0, csr=0x340, uimm=4)]
    ref, fast, engine = run_both(SYSTEM, words, regs={A1: 0x1234}, limit=4)   # mscratch, instret
    assert_same(ref, fast)
    assert fast["x"][A0] == 0x1234 and fast["x"][A2] == 2 and fast["mscratch"] == 0x1230
    assert engine.stats.specialised == 0 and engine.stats.stepped == 0


def test_an_instruction_whose_semantics_test_its_fields_gets_a_handler_of_its_own():
    words = [encode("sfence.vma", rs1=0, rs2=0), encode("sfence.vma", rs1=A1, rs2=0)]
    ref, fast, engine = run_both(SYSTEM, words, regs={A1: 0x1000}, limit=2)
    assert_same(ref, fast)
    assert engine.stats.specialised == 2 and engine.stats.stepped == 0


def test_a_specialised_handler_is_loaded_from_the_disk_cache_without_llvm(tmp_path, monkeypatch):
    from bt_vmm.engines.fast import compiler as handler_compiler
    monkeypatch.setenv("BT_VMM_CACHE", str(tmp_path))
    key = (True, "sfence.vma", (A1, 0))
    first = handler_compiler.HandlerCompiler()
    first.specialise([key])

    def no_llvm():
        raise AssertionError("LLVM loaded")

    monkeypatch.setattr(handler_compiler, "init_llvm", no_llvm)
    second = handler_compiler.HandlerCompiler()
    second.specialise([key])
    assert second.special[key] and second.special[key] != first.special[key]


def test_run_steps_runs_at_most_the_budget():
    h = make_hart(SYSTEM, [encode("addi", rd=A0, rs1=A0, imm=1), encode("jal", rd=0, off=-4)],
                  limit=(1 << 64) - 1)
    engine = FastInterpreter(h)
    engine.predecode(h.ptr.pc)
    assert engine.run_steps(7) == lib.FI_STEPS
    assert h.ptr.minstret == 7 and h.ptr.x[A0] == 4


def test_stop_on_jump_returns_at_each_taken_branch():
    words = [encode("addi", rd=A0, rs1=A0, imm=1), encode("addi", rd=A1, rs1=A1, imm=1),
             encode("jal", rd=0, off=-8)]
    h = make_hart(SYSTEM, words, limit=(1 << 64) - 1)
    engine = FastInterpreter(h)
    engine.predecode(h.ptr.pc)
    engine.ctx.stop_on_jump = 1
    assert engine.run_steps(100) == lib.FI_JUMP
    assert (h.ptr.minstret, h.ptr.pc) == (3, SYSTEM.code)


def test_a_write_noted_by_another_engine_drops_the_entries_it_overlaps():
    h = make_hart(SYSTEM, [encode("addi", rd=A0, rs1=A0, imm=1)] * 4, limit=(1 << 64) - 1)
    engine = FastInterpreter(h)
    engine.predecode(h.ptr.pc)
    lib.fi_note_write(engine.ctx, h.ptr, SYSTEM.code + 6, 1)   # inside the second instruction
    assert engine.ctx.stat_invalidated == 1
    assert not lib.fi_decoded_at(engine.ctx, h.ptr, SYSTEM.code + 4)
    h.ptr.pc = SYSTEM.code + 4
    assert engine.run_steps(3) == lib.FI_STEPS and h.ptr.x[A0] == 3   # decoded again


def test_a_misaligned_store_reaching_into_the_code_page_above_drops_its_entries():
    words, regs = store_into_code_from_below(60)
    ref, fast, _ = run_both(USER, words, regs=regs, ranges=[(USER.code - 4, 8)], limit=60 * 5 + 1)
    assert_same(ref, fast)
    assert fast["x"][A0] == sum(range(60))
