"""Run the same guest code under the reference interpreter and another
engine and compare the whole architectural state (shared by the engine
test packages: tests/fast, tests/jit, tests/test_engine_differential.py).

    from enginetest import SYSTEM, assert_same, run_against_reference
    ref, fast, engine = run_against_reference(FastInterpreter, SYSTEM, words, limit=10)
    assert_same(ref, fast)
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from bt_vmm._core import ffi, lib

from bt_vmm.cpu.callouts import callout_counts
from bt_vmm.cpu.hart import Hart
from bt_vmm.engines.jit import fastfp
from bt_vmm.engines.reference import ReferenceInterpreter
from bt_vmm.isa import encode

__all__ = ["LAYOUTS", "SYSTEM", "USER", "Layout", "assert_same", "calls_across_a_remap", "code_bytes", "make_hart",
           "run_against_reference", "run_with_exit_request", "snapshot", "store_into_code_from_below"]

M64 = (1 << 64) - 1
FS_INITIAL = 1 << 13
RAM_SIZE = 1 << 20
# Host-side bookkeeping (pointers, statistics, the host clock), not architectural state.
_SKIPPED = ("stat_", "tlb_", "ram", "time_offset", "watch", "check_limit", "insn_bits", "store_floor")   # not architectural state


@dataclass(frozen=True)
class Layout:
    """Where a test program lives for one machine kind."""

    kind: int
    ram_base: int
    code: int
    trap_vec: int
    data: int
    low_guard: int = 0


SYSTEM = Layout(lib.MACHINE_SYSTEM, 0x80000000, 0x80000000, 0x80008000, 0x80010000)
USER = Layout(lib.MACHINE_USER, 0, 0x10000, 0x18000, 0x20000, low_guard=0x1000)
LAYOUTS = pytest.mark.parametrize("layout", [SYSTEM, USER], ids=["system", "user"])


def code_bytes(words: list[int]) -> bytes:
    """16-bit parcels for compressed instructions, 32 bits for the rest."""
    return b"".join(
        (w & 0xFFFFFFFF).to_bytes(4, "little") if w & 3 == 3 else (w & 0xFFFF).to_bytes(2, "little")
        for w in words
    )


def make_hart(layout: Layout, words: list[int], *, regs=None, fregs=None, mem=None, limit: int,
              sv39_root: int | None = None) -> Hart:
    """A fresh hart with ``words`` at layout.code; traps go to a `jal x0, 0`
    loop at layout.trap_vec (system VM) or stop the run (process VM).  A
    process VM's store floor is the page after the code, as a program's
    is after its text (code put above it takes the floor away)."""
    h = Hart(layout.ram_base, RAM_SIZE, layout.kind, layout.low_guard)
    p = h.ptr
    if layout.kind == lib.MACHINE_USER:
        p.store_floor = -(-(layout.code + len(code_bytes(words))) // 4096) * 4096
    h.write_phys(layout.code, code_bytes(words))
    h.write_phys(layout.trap_vec, encode("jal", rd=0, off=0).to_bytes(4, "little"))
    for addr, data in (mem or {}).items():
        h.write_phys(addr, data)
    p.pc = layout.code
    p.mtvec = layout.trap_vec
    p.mstatus |= FS_INITIAL
    for r, v in (regs or {}).items():
        p.x[r] = v & M64
    for r, v in (fregs or {}).items():
        p.f[r] = v & M64
    p.insn_limit = limit
    if sv39_root is not None:   # S-mode under Sv39, the page table at sv39_root
        p.priv = lib.PRV_S
        p.satp = 8 << 60 | sv39_root >> 12
        lib.bt_mmu_sync(p)
    return h


def snapshot(h: Hart, ranges: list[tuple[int, int]]) -> dict:
    """Every architectural field of hart_t, plus the given memory ranges."""
    state = {}
    for name, _ in ffi.typeof("hart_t").fields:
        if name.startswith(_SKIPPED):
            continue
        value = getattr(h.ptr, name)
        state[name] = list(value) if isinstance(value, ffi.CData) else value
    for addr, n in ranges:
        state[f"mem@{addr:x}"] = h.read_phys(addr, n)
    # Every engine makes the same callouts, bar the FP arithmetic the JIT computes in place.
    state["callouts"] = {k: n for k, n in callout_counts(h.ptr).items() if k not in fastfp.OPERATIONS}
    return state


def run_against_reference(make_engine: Callable[[Hart], Any], layout: Layout, words: list[int], *,
                          ranges=(), **setup) -> tuple[dict, dict, Any]:
    """(reference state, state under ``make_engine``'s engine, that engine)
    after running ``words`` on two fresh harts set up alike."""
    ranges = [(layout.code, len(code_bytes(words)) + 4), *ranges]
    results = []
    for engine in (ReferenceInterpreter, make_engine):
        h = make_hart(layout, words, **setup)
        eng = engine(h)
        eng.run()
        results.append((snapshot(h, ranges), eng))
        h.close()
    (ref, _), (other, other_engine) = results
    return ref, other, other_engine


def store_into_code_from_below(passes: int) -> tuple[list[int], dict[int, int]]:
    """(words, registers) of a USER loop whose 8-byte store, 4 bytes below
    the code page, rewrites the loop's first instruction each pass (a0 +=
    the pass number): the store's own page holds no code, the next one
    does.  Run it with ranges=[(USER.code - 4, 8)] and passes * 5 + 1
    instructions; a0 ends as sum(range(passes))."""
    a0, t0, t1, t2, t3 = 10, 5, 6, 7, 28
    words = [
        encode("addi", rd=a0, rs1=a0, imm=0),       # rewritten each pass
        encode("sd", rs1=t2, rs2=t1, imm=-4),
        encode("add", rd=t1, rs1=t1, rs2=t3),
        encode("addi", rd=t0, rs1=t0, imm=-1),
        encode("bne", rs1=t0, rs2=0, off=-16),
        encode("jal", rd=0, off=0),
    ]
    first = encode("addi", rd=a0, rs1=a0, imm=1) << 32 | 0x5A5A5A5A
    return words, {t0: passes, t1: first, t2: USER.code, t3: 1 << 52}


def calls_across_a_remap(n: int) -> tuple[list[int], dict, dict, int, int]:
    """(words, registers, memory, page table root, a0 at the end) of a SYSTEM
    program for S-mode under Sv39 (4 KiB pages, RAM mapped at its own
    address): a loop calls a function on another page ``n`` times, then maps
    that page to another function (sfence.vma) and calls it ``n`` times
    more.  The first adds 1 to a0, the second 100."""
    ra, t0, t1, t2, a0, a1, a2 = 1, 5, 6, 7, 10, 11, 12
    words = [
        encode("addi", rd=a1, rs1=0, imm=n),
        encode("jalr", rd=ra, rs1=t0, imm=0),       # 0x04: the call
        encode("addi", rd=a1, rs1=a1, imm=-1),
        encode("bne", rs1=a1, rs2=0, off=-8),
        encode("bne", rs1=a2, rs2=0, off=24),       # 0x10: the second round: done
        encode("sd", rs1=t2, rs2=t1, imm=0),        # map the page to the other function
        encode("sfence.vma", rs1=0, rs2=0),
        encode("addi", rd=a2, rs1=0, imm=1),
        encode("addi", rd=a1, rs1=0, imm=n),
        encode("jal", rd=0, off=-0x20),
        encode("jal", rd=0, off=0),                 # 0x28
    ]
    base = SYSTEM.ram_base
    root, l1, l0a, l0b = (SYSTEM.data + k * 0x1000 for k in (1, 2, 3, 4))
    f, g, page = base + 0x5000, base + 0x6000, base + (1 << 21)

    def pte(pa: int, flags: int) -> bytes:
        return ((pa >> 12) << 10 | flags).to_bytes(8, "little")

    def function(k: int) -> bytes:
        return code_bytes([encode("addi", rd=a0, rs1=a0, imm=k), encode("jalr", rd=0, rs1=ra, imm=0)])

    leaf = 0xCF   # V R W X A D
    mem = {root + 8 * 2: pte(l1, 1), l1: pte(l0a, 1) + pte(l0b, 1), l0b: pte(f, leaf),
           l0a: b"".join(pte(base + 0x1000 * i, leaf) for i in range(256)), f: function(1), g: function(100)}
    regs = {t0: page, t1: int.from_bytes(pte(g, leaf), "little"), t2: l0b}
    return words, regs, mem, root, n * 1 + n * 100


def assert_same(ref: dict, other: dict) -> None:
    diff = {k: (ref[k], other[k]) for k in ref if ref[k] != other[k]}
    assert not diff, f"reference vs engine under test differ (ref, engine): {diff}"


def run_with_exit_request(engine, h: Hart, ready: Callable[[], bool], patience: float = 60.0) -> int:
    """Run ``engine`` while another thread waits until ``ready()`` (progress
    the guest made, seen from outside) and then sets exit_request, as Ctrl-C
    and --timeout do; the exit reason the engine returns.  ``patience``
    only bounds a broken run: the request comes anyway after that long."""
    done = threading.Event()

    def request():
        deadline = time.monotonic() + patience
        while not ready() and time.monotonic() < deadline and not done.wait(0.001):
            pass
        h.ptr.exit_reason = lib.EXIT_REQUEST
        lib.bt_request_exit(h.ptr, lib.EXIT_REQ_STOP)

    thread = threading.Thread(target=request)
    thread.start()
    try:
        return engine.run()
    finally:
        done.set()
        thread.join()
