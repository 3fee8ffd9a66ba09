"""The JIT in a system VM: regions hold the loops within their page (such
a loop stays in native code, and comes back to the dispatcher for
interrupts: one that a device access of its own raises at once, the
timer's at the end of the quantum, JIT_SYSTEM_QUANTUM), and indirect jumps
go through the indirect-jump cache while the TLB keeps its mappings."""
from __future__ import annotations

import functools

import pytest

from bt_vmm._core import lib
from bt_vmm.engines.jit import JitEngine
from bt_vmm.machines.bare import BareMachine
from tests.priv.guests import build_bare

from .common import SYSTEM, assert_same, calls_across_a_remap, counting_loop, make_hart, run_both

T2 = 7


def test_a_hot_loop_within_a_page_stays_in_native_code():
    h = make_hart(SYSTEM, counting_loop(), regs={T2: SYSTEM.data}, limit=200_000)
    engine = JitEngine(h, hot=2, background=False, disk_cache=None)
    assert engine.run() == lib.EXIT_LIMIT
    assert engine.stats.regions >= 1
    assert engine.stats.dispatches < 1000   # (33,000 passes of the loop)


@pytest.mark.parametrize("limit", [5, 1001, 100_003])
def test_a_hot_loop_within_a_page_stops_at_the_exact_limit(limit):
    ref, jit, _ = run_both(SYSTEM, counting_loop(), hot=2, regs={T2: SYSTEM.data},
                           ranges=[(SYSTEM.data, 8)], limit=limit)
    assert_same(ref, jit)
    assert jit["minstret"] == limit


@pytest.mark.parametrize("engine", ["interp", "fast", "jit"])
def test_interrupts_reach_a_hot_loop(engine):
    """hotirq.S: a software interrupt the loop's own CLINT store raises is
    taken right after that store; the timer's ends a loop with no other
    way out."""
    # (no tier-up: its samples would bring the loop back to the dispatcher too)
    jit = functools.partial(JitEngine, hot=2, background=False, disk_cache=None, tier_up=0)
    machine = BareMachine(str(build_bare("hotirq")), engine=jit if engine == "jit" else engine)
    result = machine.run(max_insns=5_000_000_000)   # (seconds: far longer than the timer)
    assert (result.reason, result.status, result.message) == ("exit", 0, "")
    if engine == "jit":
        assert machine.engine.stats.regions >= 1


def test_the_indirect_jump_cache_does_not_outlive_a_remap():
    """Calls and returns go through the indirect-jump cache; once the
    called page maps other code (sfence.vma), the entries filled for the old
    mapping must miss (calls_across_a_remap)."""
    words, regs, mem, root, a0 = calls_across_a_remap(200)
    ref, jit, engine = run_both(SYSTEM, words, hot=2, regs=regs, mem=mem, limit=4 + 2 * 5 * 200 + 10, sv39_root=root)
    assert_same(ref, jit)
    assert jit["x"][10] == a0
    assert engine.stats.ic_hits > 0
