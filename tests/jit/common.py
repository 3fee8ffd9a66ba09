"""The shared reference-vs-engine machinery (tests/enginetest.py) bound to
the JIT."""
from __future__ import annotations

from enginetest import *  # the shared machinery, re-exported for the tests here

from bt_vmm._core import lib
from bt_vmm.engines.jit import JitEngine
from bt_vmm.isa import encode


def run_both(layout, words: list[int], *, hot: int = 1, disk_cache=None, tier_up: int | None = None,
             **setup) -> tuple[dict, dict, JitEngine]:
    """(reference state, JIT state, the JIT engine) after running ``words``
    (the JIT's on-disk cache in ``disk_cache``; by default none), translating
    synchronously; ``tier_up``: samples of a region before it is optimised
    harder, one every JIT_SAMPLE_MIN guest instructions (the shortest
    sample period)."""
    options = {} if tier_up is None else {"tier_up": tier_up, "sample_period": 0}
    return run_against_reference(
        lambda h: JitEngine(h, hot=hot, disk_cache=disk_cache, background=False, **options), layout, words, **setup)


def ran_cold(words: list[int], limit: int = 100, **setup) -> tuple[Hart, JitEngine]:
    """A process-VM hart that ran ``words`` up to ``limit`` in the JIT's
    cold tier only (nothing gets hot: the blocks a region may take in have
    run and are counted), and its engine, translating synchronously."""
    h = make_hart(USER, words, limit=limit, **setup)
    eng = JitEngine(h, hot=1 << 20, disk_cache=None, background=False)
    assert eng.run() == lib.EXIT_LIMIT
    return h, eng


def translate_now(eng: JitEngine, pc: int):
    """Translate the region at ``pc`` at the first tier and install it;
    its RegionInfo."""
    key = eng._key(pc)
    assert eng.cache.install(eng.cache.build({key: eng._plan(key, {}, 1)}, eng.cache.generation))
    return eng.cache.regions[key]


def counting_loop() -> list[int]:
    """a0 counts iterations of a two-block loop that also stores a0 at t2
    (a2 counts every fourth iteration)."""
    a0, a1, a2, t2 = 10, 11, 12, 7
    return [
        encode("addi", rd=a0, rs1=a0, imm=1),
        encode("sd", rs1=t2, rs2=a0, imm=0),
        encode("andi", rd=a1, rs1=a0, imm=3),
        encode("bne", rs1=a1, rs2=0, off=8),
        encode("addi", rd=a2, rs1=a2, imm=1),
        encode("jal", rd=0, off=-20),
    ]
