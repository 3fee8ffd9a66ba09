"""The JIT's cold tier is the fast interpreter: cold code runs natively,
block entries are counted natively, and each tier's stores keep the other
tier's code coherent with memory."""
from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Callable

from bt_vmm._core import lib

from bt_vmm.engines.jit import JitEngine
from bt_vmm.engines.jit.engine import TOP_LEVEL
from bt_vmm.engines.jit.region import FIRST_TIER_MAX
from bt_vmm.engines.reference import Tracer
from bt_vmm.isa import encode

from .common import LAYOUTS, USER, assert_same, counting_loop, make_hart, ran_cold, run_both, translate_now

A0, RA, T0, T1, T2, T4, T5, T6 = 10, 1, 5, 6, 7, 29, 30, 31
NOP = encode("addi", rd=0, rs1=0, imm=0)
G = 0x1000   # offset of a function on the page after the main program's


@LAYOUTS
def test_cold_code_stays_in_native_code(layout):
    """Never hot: every instruction runs in the fast tier, which returns to
    Python only to pre-decode, not once per block."""
    ref, jit, eng = run_both(layout, counting_loop(), hot=10**9, regs={T2: layout.data},
                             ranges=[(layout.data, 8)], limit=20_001)
    assert_same(ref, jit)
    assert jit["minstret"] == 20_001 and jit["x"][A0] > 3000
    st = eng.stats
    assert st.regions == 0 and st.interpreted == 0
    assert eng.fast.stats.decoded >= len(counting_loop())
    assert st.cold_returns < 10


@LAYOUTS
def test_blocks_become_hot_after_the_threshold(layout):
    ref, jit, eng = run_both(layout, counting_loop(), hot=50, regs={T2: layout.data},
                             ranges=[(layout.data, 8)], limit=20_000)
    assert_same(ref, jit)
    st = eng.stats
    assert st.regions >= 1 and st.dispatches >= 1
    assert st.cold_returns < 10   # entries are counted natively


def _patch_from_hotcounting_loop() -> list[int]:
    """Call G (a0 += 1) once; run a loop that stores t1 to the data page in
    every iteration but the last, which stores it over G's first
    instruction (t5 = G - data); call G again."""
    prog = [
        encode("addi", rd=A0, rs1=0, imm=0),
        encode("jal", rd=RA, off=G - 0x04),
        encode("addi", rd=T0, rs1=0, imm=20),
        encode("sltiu", rd=T4, rs1=T0, imm=2),     # 0x0c loop: t4 = last iteration
        encode("sub", rd=T4, rs1=0, rs2=T4),
        encode("and", rd=T4, rs1=T4, rs2=T5),
        encode("add", rd=T6, rs1=T2, rs2=T4),
        encode("sw", rs1=T6, rs2=T1, imm=0),
        encode("addi", rd=T0, rs1=T0, imm=-1),
        encode("bne", rs1=T0, rs2=0, off=-24),
        encode("jal", rd=RA, off=G - 0x28),
        encode("jal", rd=0, off=0),
    ]
    prog += [NOP] * (G // 4 - len(prog))
    return prog + [encode("addi", rd=A0, rs1=A0, imm=1), encode("jalr", rd=0, rs1=RA, imm=0)]


@LAYOUTS
def test_translated_store_invalidates_pre_decoded_code(layout):
    """G ran once in the cold tier (pre-decoded, never hot); the hot loop's
    translated store patches it: the second call runs the new instruction."""
    regs = {T1: encode("addi", rd=A0, rs1=A0, imm=100), T2: layout.data, T5: G + layout.code - layout.data}
    ref, jit, eng = run_both(layout, _patch_from_hotcounting_loop(), hot=4, regs=regs,
                             ranges=[(layout.data, 8)], limit=500)
    assert_same(ref, jit)
    assert jit["x"][A0] == 1 + 100
    assert eng.stats.regions >= 1


class _Counting(Tracer):
    def __init__(self):
        self.n = 0

    def insn(self, pc, decoded):
        self.n += 1


@LAYOUTS
def test_tracing_runs_everything_in_the_reference_interpreter(layout):
    _, jit, _ = run_both(layout, counting_loop(), regs={T2: layout.data}, limit=300)
    h = make_hart(layout, counting_loop(), regs={T2: layout.data}, limit=300)
    tracer = _Counting()
    traced = JitEngine(h, tracer, hot=1, disk_cache=None)
    assert traced.run() == lib.EXIT_LIMIT
    assert tracer.n == 300 and traced.stats.regions == 0
    assert list(h.ptr.x) == jit["x"]


@LAYOUTS
def test_hot_regions_are_compiled_again_at_the_top_level(layout):
    """Regions found running by ``tier_up`` samples are replaced by a
    version compiled at the top level while the loop runs (the
    indirect-jump cache and chain slots must then lead to the new code,
    never the freed one)."""
    from .test_chaining import calls_in_a_loop
    ref, jit, eng = run_both(layout, calls_in_a_loop(), hot=2, tier_up=2, limit=800 * 6 + 1)
    assert_same(ref, jit)
    assert TOP_LEVEL in {info.level for info in eng.cache.entries.values()}


def test_the_top_tier_finishes_a_block_the_first_tiers_cap_cut():
    """A loop bigger than a first-tier region: the first version stops
    inside a block at FIRST_TIER_MAX instructions; compiled again at the
    top tier, with the same blocks, the region holds that block whole."""
    words = [encode("addi", rd=T1, rs1=T1, imm=1),
             encode("bne", rs1=T1, rs2=0, off=4)]            # a block of two
    words += [encode("addi", rd=A0, rs1=A0, imm=1)] * 300   # blocks of max_block (64)
    words += [encode("jal", rd=0, off=-4 * len(words))]
    ref, jit, eng = run_both(USER, words, hot=2, tier_up=2, limit=40 * len(words))
    assert_same(ref, jit)
    loop = eng.cache.regions[eng._key(USER.code)]
    assert loop.level == TOP_LEVEL and FIRST_TIER_MAX < loop.instructions < FIRST_TIER_MAX + 64


def nested_loops() -> list[int]:
    """100 times 50 iterations: a0 counts inner iterations."""
    return [
        encode("addi", rd=T1, rs1=0, imm=100),
        encode("addi", rd=T0, rs1=0, imm=50),      # 0x04 outer
        encode("addi", rd=A0, rs1=A0, imm=1),      # 0x08 inner
        encode("addi", rd=T0, rs1=T0, imm=-1),
        encode("bne", rs1=T0, rs2=0, off=-8),
        encode("addi", rd=T1, rs1=T1, imm=-1),
        encode("bne", rs1=T1, rs2=0, off=-20),
        encode("jal", rd=0, off=0),
    ]


def test_loop_headers_are_entries_of_their_region():
    """A region holding both loops is entered at either loop's header (where
    it stops for an exit request or a tier-up, and is entered again)."""
    ref, jit, eng = run_both(USER, nested_loops(), hot=2, tier_up=4, limit=100 * 50 * 3 + 100 * 3 + 2)
    assert_same(ref, jit)
    assert jit["x"][A0] == 5000
    regions = {id(i): i for i in eng.cache.entries.values()}.values()
    mode = lib.bt_jit_mode(make_hart(USER, [], limit=0).ptr)
    both = [i for i in regions if {USER.code + 0x04, USER.code + 0x08} <= i.entry_points]
    assert both
    for header in both[0].entry_points:   # entered there, unless a region of its own came first
        entered = eng.cache.entries.get((header, header, mode))
        assert entered is both[0] or entered.entry == header


def test_a_block_reached_while_its_batch_is_built_is_translated_if_left_out():
    """The dispatcher keeps reaching a block whose batch is being built (as
    a warm key); when the batch comes back without it (it lay inside a
    region built before it), it is translated on its own, instead of
    waiting for its cold-tier counter to come round again."""
    from bt_vmm.engines.jit.cache import Batch
    h = make_hart(USER, counting_loop(), regs={T2: USER.data}, limit=100)
    eng = JitEngine(h, hot=1, disk_cache=None, background=False)
    key = eng._key(USER.code)
    eng.pending.add(key)
    eng._hot(h.ptr)
    assert key in eng.wanted and key not in eng.cache
    eng._install([key], Batch({}, [], eng.cache.generation, 0.0, False), set())
    assert key in eng.cache and not eng.wanted


def loop_with_a_join() -> list[int]:
    """A loop whose second block is the target of a forward branch over a
    store (not made a select): a block inside the loop's region."""
    return [
        encode("addi", rd=A0, rs1=A0, imm=1),
        encode("andi", rd=T1, rs1=A0, imm=3),
        encode("bne", rs1=T1, rs2=0, off=8),
        encode("sd", rs1=T2, rs2=A0, imm=0),
        encode("addi", rd=T0, rs1=T0, imm=1),      # 0x10: the join
        encode("jal", rd=0, off=-0x14),
    ]


def _cold_loop_with_a_join():
    """An engine that ran loop_with_a_join in the cold tier (the join's
    entries counted), and the keys of the loop and of the join."""
    _, eng = ran_cold(loop_with_a_join(), limit=5000, regs={T2: USER.data})
    return eng, eng._key(USER.code), eng._key(USER.code + 0x10)


def _install_region(eng: JitEngine, key) -> None:
    """Translate and install the region at ``key`` (the loop: the join inside)."""
    translate_now(eng, key[0])
    assert (key[0] + 0x10, key[1] + 0x10, key[2]) in eng.cache.inner


def _waiting_batch(eng: JitEngine, key) -> Callable:
    """Submit a batch for ``key`` and return its job, not started."""
    jobs = []
    eng.worker = SimpleNamespace(submit=lambda job, priority: jobs.append(job))
    eng._submit({key: eng._plan(key, {}, eng.cache.opt_level)}, eng.cache.opt_level)
    eng.worker = None
    return jobs[0]


def test_a_block_a_region_took_in_while_its_batch_waited_is_left_out():
    """A block hot in the cold tier is often not reached from outside any
    more once its loop is translated (qsort's blocks all got hot at once,
    and each became a copy of the whole function): if a region installed
    while its batch waited holds it, the batch leaves it out, and it gets
    hot again after the threshold if the dispatcher still reaches it."""
    eng, loop, join = _cold_loop_with_a_join()
    lib.bt_jit_snooze(eng.cache.ctx, join[0], lib.JIT_SNOOZE)
    job = _waiting_batch(eng, join)
    _install_region(eng, loop)
    keys, batch, covered = job()
    assert covered == {join} and not batch.regions
    eng._install(keys, batch, covered)
    assert not eng.pending and join not in eng.cache
    counter = next(e for e in eng.cache.ctx.hot if e.pc == join[0])
    assert counter.next - counter.count == eng.hot   # hot again after the threshold, not after a snooze


def test_a_block_the_dispatcher_reaches_inside_a_region_gets_its_own():
    """Already inside a region when it got hot, a block is reached from
    outside it (a return site, say): its batch builds it."""
    eng, loop, join = _cold_loop_with_a_join()
    _install_region(eng, loop)
    keys, batch, covered = _waiting_batch(eng, join)()
    assert not covered and set(batch.regions) == {join}


def two_loops_in_turn() -> list[int]:
    """A loop of 2000 iterations, then one that runs for ever (a0 counts)."""
    return [
        encode("addi", rd=T0, rs1=0, imm=2000),
        encode("addi", rd=A0, rs1=A0, imm=1),      # 0x04 first loop
        encode("addi", rd=T0, rs1=T0, imm=-1),
        encode("bne", rs1=T0, rs2=0, off=-8),
        encode("addi", rd=A0, rs1=A0, imm=2),      # 0x10 second loop
        encode("xori", rd=T1, rs1=A0, imm=5),
        encode("jal", rd=0, off=-8),
    ]


def test_a_warm_block_that_stopped_running_is_left_out_of_the_first_batch(monkeypatch):
    """A run's first batch takes the warm blocks with the hot one, but not
    those that have stopped running since it was planned (glibc's
    tunables loop, which runs before main): nor do they join later
    batches as warm company."""
    h, eng = ran_cold(two_loops_in_turn(), limit=2000)   # inside the first loop
    first, second = eng._key(USER.code + 0x04), eng._key(USER.code + 0x10)
    counted = lambda: eng._heat()[first[0]]   # noqa: E731
    warm = {first: counted()}
    h.ptr.insn_limit = 10_000
    eng.run()                                # the first loop ran on, then ended
    assert not eng._stopped(warm, time.perf_counter()) and not eng.stopped
    warm = {first: counted()}
    h.ptr.insn_limit = 20_000
    eng.run()                                # only the second loop ran since
    assert eng._stopped(warm, time.perf_counter()) == {first} and eng.stopped == {first}
    jobs = []   # the first batch, with the first loop as warm company
    eng.worker = SimpleNamespace(submit=lambda job, priority: jobs.append(job))
    eng._submit({k: eng._plan(k, {}, 1) for k in (second, first)}, 1, None, {first: counted()})
    eng.worker = None
    keys, batch, left_out = jobs[0]()
    assert left_out == {first} and set(batch.regions) == {second}
    submitted = []
    monkeypatch.setattr(eng, "_submit", lambda plans, *rest: submitted.append(list(plans)))
    eng.hot = 2 * counted()                  # the first loop is warm by its count
    eng._translate_hot(second)
    assert submitted == [[second]]


def test_each_sampled_region_is_compiled_again_at_the_top_level():
    """Samples are counted per region, the one that stopped for the sample:
    the second loop's region tiers up once the first loop's has."""
    ref, jit, eng = run_both(USER, two_loops_in_turn(), hot=2, tier_up=2, limit=20_000)
    assert_same(ref, jit)
    levels = {key[0]: info.level for key, info in eng.cache.regions.items()}
    for header in (USER.code + 0x04, USER.code + 0x10):
        holders = [info for info in eng.cache.regions.values() if header in info.entry_points]
        assert holders and all(info.level == TOP_LEVEL for info in holders), levels
