"""Translation on the compile thread: the guest keeps running meanwhile,
new code is installed at the next dispatch, and a batch whose inputs
changed while it was being built (guest code rewritten, cache flushed) is
dropped instead of installed."""
from __future__ import annotations

import threading
import time

import pytest
from bt_vmm._core import lib

from bt_vmm.engines.jit import JitEngine
from bt_vmm.engines.jit.worker import CompileThread
from bt_vmm.engines.reference import ReferenceInterpreter
from bt_vmm.isa import encode

from .common import LAYOUTS, USER, assert_same, counting_loop, make_hart, run_with_exit_request, snapshot

T2 = 7


@LAYOUTS
def test_a_running_loop_moves_into_code_compiled_meanwhile(layout):
    h = make_hart(layout, counting_loop(), regs={T2: layout.data}, limit=(1 << 64) - 1)
    engine = JitEngine(h, hot=2, disk_cache=None)
    entered = lambda: engine.cache.ctx.stat_dispatch >= 1   # noqa: E731 - translated code ran
    assert run_with_exit_request(engine, h, entered) == lib.EXIT_REQUEST
    engine.close()
    assert engine.stats.regions >= 1 and engine.stats.dispatches >= 1
    # The same number of instructions in the reference interpreter: the same state.
    ref = make_hart(layout, counting_loop(), regs={T2: layout.data}, limit=h.ptr.minstret)
    ReferenceInterpreter(ref).run()
    ranges = [(layout.data, 8)]
    # run control differs: the reference stopped at its limit, not on a request
    for p in (h.ptr, ref.ptr):
        p.exit_reason = p.exit_request = p.insn_limit = 0
    assert_same(snapshot(ref, ranges), snapshot(h, ranges))


def _built(layout):
    """A hart with the counting loop and a batch translating it, not installed."""
    h = make_hart(layout, counting_loop(), regs={T2: layout.data}, limit=100)
    engine = JitEngine(h, hot=1, disk_cache=None, background=False)
    key = engine._key(layout.code)
    batch = engine.cache.build({key: engine._plan(key, {}, level=1)}, engine.cache.generation)
    assert key in batch.regions
    return h, engine, key, batch


@LAYOUTS
def test_code_rewritten_during_translation_is_not_installed(layout):
    h, engine, key, batch = _built(layout)
    h.write_phys(layout.code, encode("addi", rd=10, rs1=10, imm=2).to_bytes(4, "little"))
    assert not engine.cache.install(batch)
    assert key not in engine.cache and engine.run() == lib.EXIT_LIMIT
    assert h.ptr.x[10] > 100 // len(counting_loop())   # the new code ran: a0 counts in twos


@LAYOUTS
def test_a_batch_started_before_a_flush_is_dropped(layout):
    _, engine, key, batch = _built(layout)
    engine.cache.flush()
    assert not engine.cache.install(batch) and key not in engine.cache


@LAYOUTS
def test_an_unchanged_batch_is_installed(layout):
    _, engine, key, batch = _built(layout)
    assert engine.cache.install(batch) and key in engine.cache


def test_a_job_that_raises_gives_its_exception():
    thread = CompileThread(lambda: None)
    thread.submit(lambda: 1 // 0)
    thread.submit(lambda: 7)
    thread.wait()
    first, second = thread.take()
    assert isinstance(first, ZeroDivisionError) and second == 7
    assert not thread.busy and thread.take() == []


def test_a_failed_build_raises_on_the_guest_thread(monkeypatch):
    h = make_hart(USER, counting_loop(), regs={T2: USER.data}, limit=1 << 40)
    engine = JitEngine(h, hot=2, disk_cache=None)

    def broken(plans, generation, level, top=None, early=None):
        raise RuntimeError("LLVM said no")

    monkeypatch.setattr(engine.cache, "build", broken)
    with pytest.raises(RuntimeError, match="LLVM said no"):
        engine.run()


def test_a_job_starts_once_the_results_before_it_are_taken():
    """(Or after ``settle`` seconds: the guest's thread may be away.)"""
    thread = CompileThread(lambda: None, settle=30.0)
    started = []
    first_done = threading.Event()
    thread.submit(lambda: (started.append(1), first_done.set(), 1)[2])
    thread.submit(lambda: started.append(2) or 2)
    first_done.wait()
    time.sleep(0.1)
    assert started == [1]
    assert thread.take() == [1]
    thread.wait()
    assert started == [1, 2] and thread.take() == [2]


def test_a_job_waits_for_its_results_to_be_taken_only_so_long():
    thread = CompileThread(lambda: None, settle=0.01)
    thread.submit(lambda: 1)
    thread.submit(lambda: 2)
    thread.wait()
    assert thread.take() == [1, 2]


def test_more_urgent_jobs_run_first():
    thread = CompileThread(lambda: None)
    gate = threading.Event()
    thread.submit(gate.wait)                        # holds the thread while the rest queue up
    for name, priority in [("b", 2), ("a1", 1), ("c", 3), ("a2", 1)]:
        thread.submit(lambda name=name: name, priority)
    gate.set()
    thread.wait()
    assert thread.take() == [True, "a1", "a2", "b", "c"]


def test_cancel_drops_the_jobs_not_started():
    thread = CompileThread(lambda: None)
    gate, started = threading.Event(), threading.Event()
    thread.submit(lambda: (started.set(), gate.wait())[1])
    started.wait()
    for n in range(3):
        thread.submit(lambda n=n: n)
    thread.cancel()
    gate.set()
    thread.wait()
    assert thread.take() == [True]


def test_a_block_being_compiled_is_not_reported_hot_again_and_again(monkeypatch):
    """While its batch is on the compile thread, a hot block in the cold
    tier comes back to Python (which waits for the GIL) once per snooze
    (JIT_SNOOZE times the threshold), not at every threshold."""
    h = make_hart(USER, counting_loop(), regs={T2: USER.data}, limit=300_000)
    engine = JitEngine(h, hot=16, disk_cache=None)
    gate, build = threading.Event(), engine.cache.build
    monkeypatch.setattr(engine.cache, "build", lambda *a, **k: gate.wait(30) and build(*a, **k))
    reports, hot = [], engine._hot
    monkeypatch.setattr(engine, "_hot", lambda p: (reports.append(p.pc), hot(p)))
    try:
        assert engine.run() == lib.EXIT_LIMIT     # all of it in the cold tier
    finally:
        gate.set()
        engine.close()
    entries = 300_000 // len(counting_loop())    # of the loop's first block, about
    assert 0 < reports.count(USER.code) <= 2 * entries // (lib.JIT_SNOOZE * 16) + 2


def test_each_region_but_the_last_can_be_had_as_soon_as_it_is_compiled():
    """What a run's first batch does: a region goes its own way (a batch of
    its own, installed at once) while the next one compiles; the batch
    returned holds the rest, and all of it runs as the interpreter would."""
    words = counting_loop()
    words += [encode("addi", rd=0, rs1=0, imm=0)] * (0x40 // 4 - len(words))
    words += [encode("addi", rd=13, rs1=13, imm=3), encode("jal", rd=0, off=-0x40 - 4)]
    h = make_hart(USER, words, regs={T2: USER.data}, limit=1000)
    engine = JitEngine(h, hot=1 << 30, disk_cache=None, background=False)
    keys = [engine._key(USER.code), engine._key(USER.code + 0x40)]
    early = []
    batch = engine.cache.build({k: engine._plan(k, {}, level=1) for k in keys}, engine.cache.generation,
                               early=lambda key, b: early.append((key, b)))
    assert [(key, set(b.regions)) for key, b in early] == [(keys[0], {keys[0]})]
    assert set(batch.regions) == {keys[1]}
    assert engine.cache.install(early[0][1]) and engine.cache.install(batch)
    h.ptr.pc = USER.code + 0x40
    engine.run()
    ref = make_hart(USER, words, regs={T2: USER.data}, limit=1000)
    ref.ptr.pc = USER.code + 0x40
    ReferenceInterpreter(ref).run()
    ranges = [(USER.data, 8)]
    assert_same(snapshot(ref, ranges), snapshot(h, ranges))
    assert engine.stats.dispatches >= 1 and h.ptr.x[13] == 3
