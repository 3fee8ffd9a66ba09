"""Self-modifying code, precise faults inside translated blocks, the
instruction limit and exit requests inside hot loops: the JIT must leave
the hart exactly as the reference interpreter does."""
from __future__ import annotations

import pytest
from bt_vmm._core import lib

from bt_vmm.engines.jit import JitEngine
from bt_vmm.engines.reference import ReferenceInterpreter
from bt_vmm.isa import encode

from .common import (
    LAYOUTS,
    SYSTEM,
    USER,
    assert_same,
    counting_loop,
    make_hart,
    run_both,
    run_with_exit_request,
    snapshot,
    store_into_code_from_below,
)

A0, A1, A2, A3, T0, T1, T2, T3, RA = 10, 11, 12, 13, 5, 6, 7, 28, 1
NOP = encode("addi", rd=0, rs1=0, imm=0)


def counted_calls(patch_sync: int) -> list[int]:
    """Call F ten times, patch F's first instruction (t1 holds the new word,
    t2 F's address), run ``patch_sync``, call F ten times more.  F adds 1 to
    a0 before the patch and 100 after it."""
    prog = [
        encode("addi", rd=A0, rs1=0, imm=0),
        encode("addi", rd=T0, rs1=0, imm=10),
        encode("jal", rd=RA, off=0x40 - 0x08),      # 0x08 loop 1
        encode("addi", rd=T0, rs1=T0, imm=-1),
        encode("bne", rs1=T0, rs2=0, off=-8),
        encode("sw", rs1=T2, rs2=T1, imm=0),        # 0x14 patch F
        patch_sync,
        encode("addi", rd=T0, rs1=0, imm=10),
        encode("jal", rd=RA, off=0x40 - 0x20),      # 0x20 loop 2
        encode("addi", rd=T0, rs1=T0, imm=-1),
        encode("bne", rs1=T0, rs2=0, off=-8),
        encode("jal", rd=0, off=0),                 # 0x2c end
    ]
    prog += [NOP] * (0x40 // 4 - len(prog))
    return prog + [encode("addi", rd=A0, rs1=A0, imm=1), encode("jalr", rd=0, rs1=RA, imm=0)]


@LAYOUTS
@pytest.mark.parametrize("sync", ["fence.i", "nothing"])
def test_patched_function_runs_new_code(layout, sync):
    patch = encode("fence.i", imm=0, rs1=0, rd=0) if sync == "fence.i" else NOP
    words = counted_calls(patch)
    regs = {T1: encode("addi", rd=A0, rs1=A0, imm=100), T2: layout.code + 0x40}
    ref, jit, eng = run_both(layout, words, hot=2, regs=regs, limit=200)
    assert_same(ref, jit)
    assert jit["x"][A0] == 10 + 10 * 100
    assert eng.stats.regions >= 1 and eng.stats.dispatches >= 1


@LAYOUTS
def test_store_into_the_running_block(layout):
    """The block patches an instruction further down itself: the new
    instruction must run, as in the interpreter."""
    words = [
        encode("sw", rs1=T2, rs2=T1, imm=12),       # patches the addi at +12
        encode("addi", rd=A0, rs1=0, imm=1),
        encode("addi", rd=A1, rs1=0, imm=1),
        encode("addi", rd=A0, rs1=A0, imm=2),       # becomes a0 += 50
        encode("jal", rd=0, off=0),
    ]
    regs = {T1: encode("addi", rd=A0, rs1=A0, imm=50), T2: layout.code}
    ref, jit, eng = run_both(layout, words, regs=regs, limit=20)
    assert_same(ref, jit)
    assert jit["x"][A0] == 51
    assert eng.stats.invalidations >= 1


@LAYOUTS
def test_a_hot_loop_patching_itself_after_loading_the_word(layout):
    """Each pass loads the word it then patches, further down its own block
    (a0 += the pass number): the new instruction must run every time.  A
    process VM's store to an address a load checked already still checks
    the store floor."""
    words = [
        encode("lw", rd=T0, rs1=T2, imm=0),         # the word at +16
        encode("sw", rs1=T2, rs2=T1, imm=0),        # patched
        encode("add", rd=T1, rs1=T1, rs2=A1),       # the next pass adds one more
        encode("addi", rd=T3, rs1=T3, imm=-1),
        encode("addi", rd=A0, rs1=A0, imm=0),       # +16: a0 += the pass number
        encode("bne", rs1=T3, rs2=0, off=-20),
        encode("jal", rd=0, off=0),
    ]
    regs = {T1: encode("addi", rd=A0, rs1=A0, imm=1), T2: layout.code + 16, T3: 10, A1: 1 << 20}
    ref, jit, eng = run_both(layout, words, hot=2, regs=regs, limit=200)
    assert_same(ref, jit)
    assert jit["x"][A0] == sum(range(1, 11))
    assert eng.stats.regions >= 1 and eng.stats.invalidations >= 1


@LAYOUTS
def test_access_fault_in_the_middle_of_a_block(layout):
    words = [
        encode("addi", rd=A0, rs1=0, imm=5),
        encode("addi", rd=A1, rs1=A0, imm=2),
        encode("ld", rd=A2, rs1=T3, imm=0),          # t3: no memory there
        encode("addi", rd=A3, rs1=0, imm=9),
        encode("jal", rd=0, off=0),
    ]
    ref, jit, _ = run_both(layout, words, regs={T3: 0x10}, limit=10)
    assert_same(ref, jit)
    assert (jit["x"][A0], jit["x"][A1], jit["x"][A2], jit["x"][A3]) == (5, 7, 0, 0)
    epc = jit["mepc"] if layout is SYSTEM else jit["sepc"]
    assert epc == layout.code + 8


def test_page_fault_in_the_middle_of_a_block():
    """S-mode under Sv39 (one gigapage mapping RAM): a load from an unmapped
    gigapage faults precisely, with the earlier results retired."""
    root = SYSTEM.data + 0x1000
    pte = (0x80000000 >> 12) << 10 | 0xCF    # V R W X A D, a 1 GiB leaf
    words = [
        encode("addi", rd=A0, rs1=0, imm=5),
        encode("sd", rs1=T2, rs2=A0, imm=0),
        encode("ld", rd=A2, rs1=T3, imm=8),      # 0x40000008: not mapped
        encode("addi", rd=A3, rs1=0, imm=9),
        encode("jal", rd=0, off=0),
    ]
    setup = dict(regs={T2: SYSTEM.data, T3: 0x40000000},
                 mem={root + 8 * 2: pte.to_bytes(8, "little")}, limit=10)
    states = []
    for engine in ("interp", "jit"):
        h = make_hart(SYSTEM, words, **setup)
        h.ptr.priv = lib.PRV_S
        h.ptr.satp = 8 << 60 | root >> 12
        lib.bt_mmu_sync(h.ptr)
        (JitEngine(h, hot=1, background=False) if engine == "jit" else ReferenceInterpreter(h)).run()
        states.append((h.ptr.mcause, h.ptr.mepc, h.ptr.mtval, list(h.ptr.x), h.ptr.minstret,
                       h.read_phys(SYSTEM.data, 8)))
    assert states[0] == states[1]
    mcause, mepc, mtval, x, _, data = states[1]
    assert (mcause, mepc, mtval) == (lib.EXC_LOAD_PAGE_FAULT, SYSTEM.code + 8, 0x40000008)
    assert (x[A0], x[A3], data) == (5, 0, (5).to_bytes(8, "little"))


@LAYOUTS
@pytest.mark.parametrize("limit", [1, 7, 100, 1001, 2003])
def test_instruction_limit_inside_a_hot_loop(layout, limit):
    ref, jit, _ = run_both(layout, counting_loop(), hot=3, regs={T2: layout.data},
                           ranges=[(layout.data, 8)], limit=limit)
    assert_same(ref, jit)
    assert jit["minstret"] == limit and jit["exit_reason"] == lib.EXIT_LIMIT


@LAYOUTS
def test_exit_request_stops_a_hot_loop(layout):
    """What Ctrl-C and --timeout do: set exit_request from another thread."""
    h = make_hart(layout, counting_loop(), regs={T2: layout.data}, limit=(1 << 64) - 1)
    engine = JitEngine(h, hot=2, background=False)
    stored = lambda: int.from_bytes(h.read_phys(layout.data, 8), "little")   # noqa: E731
    assert run_with_exit_request(engine, h, lambda: stored() > 100_000) == lib.EXIT_REQUEST
    p = h.ptr
    assert p.x[A0] > 100_000                   # it ran natively for a while
    assert int.from_bytes(h.read_phys(layout.data, 8), "little") in (p.x[A0], p.x[A0] - 1)
    assert engine.stats.dispatches >= 1


def test_translation_cache_size_limit_flushes_and_stays_correct():
    words = counted_calls(NOP)
    regs = {T1: encode("addi", rd=A0, rs1=A0, imm=100), T2: SYSTEM.code + 0x40}
    h = make_hart(SYSTEM, words, regs=regs, limit=200)
    engine = JitEngine(h, hot=1, tb_size=4, background=False)
    engine.run()
    assert h.ptr.x[A0] == 1010
    assert engine.stats.flushes >= 1


def test_stats_report_compilation_and_dispatch():
    h = make_hart(USER, counting_loop(), regs={T2: USER.data}, limit=5000)
    engine = JitEngine(h, hot=4, background=False)
    assert engine.run() == lib.EXIT_LIMIT
    summary = engine.stats.summary()
    assert summary["regions translated"] >= 1
    assert summary["guest instructions translated"] >= len(counting_loop())
    assert summary["compile time total (s)"] > 0
    assert summary["compile time p95 per region (ms)"] >= summary["compile time median per region (ms)"] > 0
    assert summary["translation cache hits (native dispatches)"] >= 1
    # The loop is one region looping inside generated code: few interpreted instructions.
    assert summary["instructions interpreted"] < 200


@LAYOUTS
def test_hot_code_is_translated_again_after_a_flush(layout):
    """fence.i drops every translation midway through a loop: the loop must
    become hot again and be translated again, not stay in the cold tier."""
    words = [
        encode("addi", rd=A0, rs1=A0, imm=1),
        encode("bne", rs1=A0, rs2=T1, off=8),
        encode("fence.i", imm=0, rs1=0, rd=0),
        encode("blt", rs1=A0, rs2=T0, off=-12),
        encode("jal", rd=0, off=0),
    ]
    ref, jit, eng = run_both(layout, words, hot=2, regs={T0: 3000, T1: 1000}, limit=3 * 3000 + 5)
    assert_same(ref, jit)
    assert eng.stats.flushes == 1
    assert layout.code in {vpc for vpc, _, _ in eng.cache.regions}   # the loop's region, again


@LAYOUTS
def test_amo_on_a_code_page_inside_a_hot_loop(layout):
    """An AMO's store to a page holding translations leaves the fast path
    after its load half: the AMO must still happen exactly once a pass."""
    words = [
        encode("amoadd.w", rd=A1, rs1=T2, rs2=T1, aq=0, rl=0),
        encode("addi", rd=A0, rs1=A0, imm=1),
        encode("blt", rs1=A0, rs2=T0, off=-8),
        encode("jal", rd=0, off=0),
        0,                                          # the counter, on the code page
    ]
    ref, jit, _ = run_both(layout, words, hot=2, regs={T0: 300, T1: 3, T2: layout.code + 16}, limit=2000)
    assert_same(ref, jit)
    assert int.from_bytes(jit[f"mem@{layout.code:x}"][16:20], "little") == 900
    assert jit["x"][A1] == 897


@LAYOUTS
def test_misaligned_stores_inside_a_hot_loop(layout):
    """Misaligned stores on every pass: inline in a process VM (which
    checks the next page's watch byte too), the slow path in a system VM."""
    words = [
        encode("sd", rs1=T2, rs2=A0, imm=3),
        encode("ld", rd=A1, rs1=T2, imm=3),
        encode("add", rd=A2, rs1=A2, rs2=A1),
        encode("addi", rd=A0, rs1=A0, imm=1),
        encode("blt", rs1=A0, rs2=T0, off=-16),
        encode("jal", rd=0, off=0),
    ]
    ref, jit, _ = run_both(layout, words, hot=2, regs={T0: 200, T2: layout.data}, ranges=[(layout.data, 16)],
                           limit=2000)
    assert_same(ref, jit)
    assert jit["x"][A2] == sum(range(200))


def _bits(x: float, p: str) -> int:
    """The register bits of ``x`` in precision ``p`` (singles NaN-boxed)."""
    import struct
    if p == "d":
        return struct.unpack("<Q", struct.pack("<d", x))[0]
    return 0xFFFFFFFF00000000 | struct.unpack("<I", struct.pack("<f", x))[0]


def fp_loop(frm: int, p: str) -> list[int]:
    """frm = ``frm``, then t0 times: fa0 = fa1 + fa2, fa3 = fa3 * fa4 (both in
    the dynamic mode), a1 = fcvt.wu(fa5) (round down), fa6 = fa6 + fa7
    after it in the same block (precision ``p``)."""
    rm = 7
    return [
        encode("csrrwi", rd=0, csr=2, uimm=frm),
        encode(f"fadd.{p}", rd=10, rs1=11, rs2=12, rm=rm),
        encode(f"fmul.{p}", rd=13, rs1=13, rs2=14, rm=rm),
        encode(f"fcvt.wu.{p}", rd=A1, rs1=15, rm=2),
        encode(f"fadd.{p}", rd=16, rs1=16, rs2=17, rm=rm),
        encode("addi", rd=A0, rs1=A0, imm=1),
        encode("blt", rs1=A0, rs2=T0, off=-20),
        encode("jal", rd=0, off=0),
    ]


@LAYOUTS
@pytest.mark.parametrize("p", ["d", "s"])
@pytest.mark.parametrize("frm", [0, 3])
@pytest.mark.parametrize("values,flags", [
    ((1.0, 2.0, 1.0, 1.0, 2.0, 1.0), "none"),               # exact: no flag
    ((1.0, 1e-30, 1.0, 1.0, 2.0, 1.0), "inexact"),         # 1 + 1e-30: NX
    ((1.0, 2.0, 1.0, 1.0, -0.5, 1.0), "invalid"),          # fcvt.wu of -0.5: NV only
    ((0.0, 1.0, 1e30, 1e10, -0.5, 0.0), "overflow"),       # fa3 overflows; fcvt.wu of -0.5: NV only
    ((float("inf"), float("-inf"), 0.0, float("inf"), 2.0, 1.0), "nan"),   # NaN results: canonical, NV
])
def test_fp_arithmetic_in_hot_loops(layout, p, frm, values, flags):
    """Arithmetic computed in place (round to nearest) or by the helpers
    (dynamic mode RUP) gives the reference's results and fflags; the flags
    a conversion helper leaves in MXCSR are not accrued."""
    fa1, fa2, fa3, fa4, fa5, fa7 = values
    words = fp_loop(frm, p)
    fregs = {r: _bits(v, p) for r, v in zip((11, 12, 13, 14, 15, 16, 17), (fa1, fa2, fa3, fa4, fa5, 0.0, fa7))}
    ref, jit, _ = run_both(layout, words, hot=2, regs={T0: 50}, fregs=fregs, limit=50 * 6 + 20)
    assert_same(ref, jit)
    assert ref["fflags"] == {"none": 0, "inexact": lib.FFLAG_NX, "invalid": lib.FFLAG_NV}.get(flags, ref["fflags"])


class InexactDevice:
    """Reads compute in Python floating point, which leaves MXCSR's
    inexact flag set: not the guest's flag."""

    def read(self, offset: int, size: int) -> int:
        return int((offset + 1.0) / 3.0 * 3)

    def write(self, offset: int, size: int, value: int) -> None:
        pass


def test_device_flags_do_not_reach_fflags():
    """A device read between in-place FP operations: fflags stays the
    guest's (exact additions: no flag)."""
    words = [
        encode("fadd.d", rd=10, rs1=11, rs2=12, rm=7),
        encode("lw", rd=A1, rs1=T3, imm=0),          # the device
        encode("fadd.d", rd=13, rs1=11, rs2=12, rm=7),
        encode("addi", rd=A0, rs1=A0, imm=1),
        encode("blt", rs1=A0, rs2=T0, off=-16),
        encode("jal", rd=0, off=0),
    ]
    states = []
    for make in (ReferenceInterpreter, lambda h: JitEngine(h, hot=2, background=False)):
        h = make_hart(SYSTEM, words, regs={T0: 40, T3: 0x10000000}, fregs={11: _bits(1.0, "d"), 12: _bits(2.0, "d")},
                      limit=40 * 5 + 10)
        h.map_device(0x10000000, 0x1000, InexactDevice())
        make(h).run()
        states.append(snapshot(h, []))
        h.close()
    assert_same(*states)
    assert states[1]["fflags"] == 0 and states[1]["x"][A1] == 1


@LAYOUTS
def test_fp_csr_accesses_stay_in_the_region(layout):
    """fflags/frm accesses (a quiet compare's save and restore, rounding
    mode switches) inside a hot loop: the loop stays in its region, and
    every operation sees the mode set just before it."""
    words = [
        encode("csrrwi", rd=0, csr=2, uimm=3),                   # frm = RUP
        encode("fadd.d", rd=10, rs1=11, rs2=12, rm=7),           # rounds up
        encode("csrrwi", rd=0, csr=2, uimm=0),                   # frm = RNE
        encode("fadd.d", rd=13, rs1=11, rs2=12, rm=7),
        encode("csrrs", rd=14, csr=1, rs1=0),                    # frflags a4
        encode("flt.d", rd=15, rs1=11, rs2=16),                  # NaN operand: NV
        encode("csrrw", rd=0, csr=1, rs1=14),                    # fsflags a4: NV gone
        encode("addi", rd=A0, rs1=A0, imm=1),
        encode("blt", rs1=A0, rs2=T0, off=-32),
        encode("jal", rd=0, off=0),
    ]
    fregs = {11: _bits(1.0, "d"), 12: _bits(1e-30, "d"), 16: 0x7FF8000000000000}
    ref, jit, eng = run_both(layout, words, hot=2, regs={T0: 200}, fregs=fregs, limit=200 * 9 + 20)
    assert_same(ref, jit)
    assert jit["f"][10] == _bits(1.0, "d") + 1 and jit["f"][13] == _bits(1.0, "d")
    assert jit["fflags"] == lib.FFLAG_NX
    if layout is USER:   # (the system VM's regions do not loop)
        assert eng.stats.dispatches < 10


def test_a_misaligned_store_reaching_into_a_code_page_from_below_is_seen():
    """The translation must see the rewrite too (its store's page holds no code)."""
    words, regs = store_into_code_from_below(60)
    ref, jit, _ = run_both(USER, words, hot=2, regs=regs, ranges=[(USER.code - 4, 8)], limit=60 * 5 + 1)
    assert_same(ref, jit)
    assert jit["x"][A0] == sum(range(60))


@LAYOUTS
def test_a_data_page_that_gets_code_is_watched_from_then_on(layout):
    """Translated stores check no watch byte: in a process VM those above
    the store floor, in a system VM those the store TLB hits.  The hot
    loop here, translated meanwhile, writes an instruction into a data
    page (F); then, each pass, calls F too: the code there runs (the cold
    tier pre-decodes it), and the loop's stores must be seen as patching
    code from then on (F is not hot yet: the cold tier's copy must see
    them).  In a process VM the floor goes, and with it every translation
    built for it; in a system VM the store TLB's entries of F's page go."""
    words = [
        encode("addi", rd=T0, rs1=0, imm=2),        # 0x00 two passes
        encode("addi", rd=T1, rs1=0, imm=16),       # 0x04
        encode("sw", rs1=T2, rs2=T3, imm=0),        # 0x08 F's instruction
        encode("beq", rs1=A2, rs2=0, off=8),        # the first pass calls nothing
        encode("jalr", rd=RA, rs1=T2, imm=0),       # 0x10 call F
        encode("add", rd=T3, rs1=T3, rs2=A1),       # F adds one more next time
        encode("addi", rd=T1, rs1=T1, imm=-1),
        encode("bne", rs1=T1, rs2=0, off=-0x14),
        encode("addi", rd=A2, rs1=0, imm=1),        # 0x20
        encode("addi", rd=T0, rs1=T0, imm=-1),
        encode("bne", rs1=T0, rs2=0, off=-0x24),
        encode("jal", rd=0, off=0),
    ]
    f = layout.data
    regs = {T2: f, T3: encode("addi", rd=A0, rs1=A0, imm=1), A1: 1 << 20}
    ret = encode("jalr", rd=0, rs1=RA, imm=0).to_bytes(4, "little")
    ref, jit, eng = run_both(layout, words, hot=3, regs=regs, mem={f + 4: ret}, ranges=[(f, 8)], limit=400)
    assert_same(ref, jit)
    assert jit["x"][A0] == sum(range(17, 33))
    if layout is USER:
        assert eng.hart.ptr.store_floor == 0 and eng.stats.flushes >= 1
        assert eng.stats.summary()["store floor"] == "none"
