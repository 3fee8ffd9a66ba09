"""The JIT engine: cold code in the fast interpreter tier, hot code
translated into regions; both run from the native dispatch loop
(csrc/jit.c), which counts block entries and returns to Python only for
rare events (a block became hot, translations to install, a pre-decode
miss, a fault, an interrupt).  Translation runs on a compile thread by
default: the guest goes on meanwhile, and the new code is installed at
the next dispatch."""
from __future__ import annotations

import dataclasses
import pathlib
import time

from bt_vmm._core import ffi, lib
from bt_vmm.cpu.hart import Hart
from bt_vmm.engines.diskcache import DiskCache, default_directory
from bt_vmm.engines.fast.engine import FastInterpreter
from bt_vmm.engines.jit.cache import Batch, CodeCache, JitStats, Key
from bt_vmm.engines.jit.region import FIRST_TIER_MAX, PAGE, RegionInfo, RegionPlan
from bt_vmm.engines.jit.worker import CompileThread
from bt_vmm.engines import compileserver
from bt_vmm.engines.reference import Concrete, ReferenceInterpreter, Tracer, Trap, run_until_exit

M64 = (1 << 64) - 1
# Entries into a block before it is translated.  The cold tier runs ~270-320
# MIPS and a translation costs ~0.1-0.2 ms per guest instruction.
HOT_THRESHOLD = 2048
BATCH = 8              # keys per batch: the hot block and the warmest others (a module each)
TOP_LEVEL = 2          # regions sampled TIER_UP times are compiled again at this level
SAMPLE_PERIOD = 1 << 20   # guest instructions between samples of the region running
TIER_UP = 4            # samples: ~2-4 ms of a region's code, when a TOP_LEVEL compile (on the
                       # compile thread) pays off and the first tier's start-up wave is mostly over
# The compile thread starts a batch once the one before is installed (or
# after this many seconds): what is translated already decides what the
# next batch copies and what it chains to (see _plan's bridges).
SETTLE = 0.05
STOPPED_WINDOW = 0.002   # seconds a warm block has to run again to join a run's first batch (see _stopped)
FROM_ENV = pathlib.Path("$BT_VMM_CACHE")   # disk_cache: where BT_VMM_CACHE says


class TrackingConcrete(Concrete):
    """The reference interpreter's backend under the JIT: stores take the
    JIT's store path, so a write to a page holding code (translated or
    pre-decoded) is seen."""

    def __init__(self, hart: Hart, cache: CodeCache):
        super().__init__(hart)
        self.ctx = cache.ctx

    def store(self, addr, v, size):
        if lib.bt_jit_store(self.ctx, self.h, addr & M64, size, v & ((1 << (8 * size)) - 1)) == 1:
            raise Trap


class JitEngine:
    """Same contract as ReferenceInterpreter: run() executes until
    hart.exit_request is set and returns hart.exit_reason; the instruction
    limit is honoured exactly."""

    name = "jit"

    def __init__(
        self,
        hart: Hart,
        tracer: Tracer | None = None,
        *,
        hot: int | None = None,
        opt_level: int = 1,
        tb_size: int = 1 << 20,
        disk_cache: pathlib.Path | None = FROM_ENV,
        background: bool = True,
        tier_up: int = TIER_UP,
        sample_period: int = SAMPLE_PERIOD,
    ):
        """``background``: translate on a compile thread (False: at once, on
        this thread, which makes the moment code switches tiers deterministic).
        ``tier_up``: samples that find a region running before it is
        compiled again at TOP_LEVEL (0: never), one every ``sample_period``
        guest instructions (at least JIT_SAMPLE_MIN); ``opt_level``:
        the first tier's LLVM level."""
        self.hart = hart
        self.tracer = tracer
        if background and tracer is None:
            compileserver.shared().start()   # LLVM loads while the guest starts
        self.hot = max(1, HOT_THRESHOLD if hot is None else hot)
        self.interp = ReferenceInterpreter(hart, tracer)
        self.fast = FastInterpreter(hart, tracer, self.interp)
        fi = self.fast.ctx
        self.cache = CodeCache(hart, opt_level, tb_size, DiskCache(default_directory() if disk_cache is FROM_ENV else disk_cache))
        self.interp.s = TrackingConcrete(hart, self.cache)
        ctx = self.cache.ctx
        if tracer is None:   # tracing sees every instruction: the reference interpreter runs all
            ctx.fi, fi.jit, fi.stop_on_jump = fi, ctx, 1
        ctx.hot_threshold = self.hot
        ctx.tier_up = tier_up if opt_level < TOP_LEVEL else 0
        ctx.sample_period = sample_period
        self._heat_pairs = ffi.new("uint64_t[]", 2 * lib.JIT_HOT_SIZE)   # (see _heat)
        self.untranslatable: set[Key] = set()
        self.pending: set[Key] = set()   # being translated on the compile thread
        self.wanted: set[Key] = set()    # pending keys the dispatcher kept reaching meanwhile
        self.stopped: set[Key] = set()   # warm keys that had stopped running (see _stopped)
        self.worker: CompileThread[tuple[list[Key], Batch, set[Key]]] | None = \
            CompileThread(self._offer, SETTLE) if background and tracer is None else None
        self._paddr = ffi.new("uint64_t *")
        self._system = hart.ptr.machine_kind == lib.MACHINE_SYSTEM
        p = hart.ptr
        lo = max(p.ram_low_guard, p.ram_base)   # RAM holds at least a page: no wrap-around
        self._ram_window = (lo, p.ram_base + p.ram_size - (lo + 8))

    @property
    def stats(self) -> JitStats:
        st = self.cache.stats
        st.dispatches = self.cache.ctx.stat_dispatch
        st.cold_returns = self.cache.ctx.stat_cold
        st.chain_hits = self.cache.ctx.stat_chain
        st.ic_hits = self.cache.ctx.stat_ic_hit
        st.interpreted = self.fast.stats.stepped
        st.store_floor = self.hart.ptr.store_floor
        return st

    def run(self) -> int:
        """Execute until hart.exit_request is set; returns hart.exit_reason."""
        # tracing sees every instruction: the reference interpreter runs all
        return run_until_exit(self.hart.ptr, self.fast.step_reference if self.tracer else self._advance)

    def close(self, wait: bool = True) -> None:
        """Drop the translations not started yet; wait for the one being
        built (it holds this engine's hart) unless ``wait`` is False."""
        if self.worker is not None:
            self.worker.cancel()
            if wait:
                self.worker.wait()

    def _offer(self) -> None:   # on the compile thread
        lib.bt_jit_offer(self.cache.ctx, self.hart.ptr)

    def _advance(self) -> None:
        h, ctx = self.hart.ptr, self.cache.ctx
        if ctx.install_ready:
            self._install_ready()
        r = lib.bt_jit_run(ctx, h)
        if r == lib.JIT_RUN_FAULT:
            self.interp._deliver(h)
        elif r == lib.JIT_RUN_SMC:
            self.cache.invalidate_written()
        elif r == lib.JIT_RUN_HOT:
            self._hot(h)
        elif r == lib.JIT_RUN_COLD:
            self.fast.handle(ctx.fi_status)
        elif r == lib.JIT_RUN_INSTALL:
            self._install_ready()
        elif r == lib.JIT_RUN_TIER_UP:
            self._tier_up(ctx.hot_region)

    def _install_ready(self) -> None:
        self.cache.ctx.install_ready = 0   # before taking: a later result offers again
        for result in self.worker.take():
            if isinstance(result, BaseException):
                raise result
            self._install(*result)

    def _install(self, keys: list[Key], batch: Batch, left_out: set[Key]) -> None:
        """Install a batch built for ``keys``; ``left_out``: those it did not
        build (regions installed meanwhile hold them, or they stopped
        running)."""
        self.pending.difference_update(keys)
        self.untranslatable |= batch.failed
        self.cache.install(batch)
        # A warm key of the batch may have been left out (it lies inside a
        # region built before it); if the dispatcher kept reaching it, it
        # needs a region of its own (a return site, say).
        again = [k for k in keys if k in self.wanted and k not in left_out and k not in self.cache
                 and k not in self.untranslatable]
        self.wanted.difference_update(keys)
        for key in again:
            self._translate_hot(key)
        # What the cold tier counted before says nothing about now: they
        # get hot again if the dispatcher still reaches them.
        for key in left_out:
            lib.bt_jit_snooze(self.cache.ctx, key[0], 1)

    def _key(self, pc: int) -> Key | None:
        if lib.bt_jit_phys(self.hart.ptr, pc, self._paddr):
            return None
        return (pc, self._paddr[0], lib.bt_jit_mode(self.hart.ptr))

    def _hot(self, h) -> None:
        key = self._key(h.pc)
        if key is None or key in self.cache or key in self.untranslatable:
            lib.bt_jit_snooze(self.cache.ctx, h.pc, lib.JIT_SNOOZE)
        elif key in self.pending:
            # Being compiled: noted once; until its batch is in, coming back
            # here would only wait for the compile thread's hold on the GIL.
            self.wanted.add(key)
            lib.bt_jit_snooze(self.cache.ctx, h.pc, lib.JIT_SNOOZE)
        else:
            self._translate_hot(key)

    # --- translation ---
    def _submit(self, plans: dict[Key, RegionPlan], level: int,
                top: tuple[int, dict[Key, RegionPlan]] | None = None,
                warm: dict[Key, int] | None = None) -> None:
        """Build the batch (on the compile thread, unless there is none);
        ``warm``: the cold tier's counts of the keys that joined the hot
        one, when the batch was planned."""
        keys, generation, planned = list(plans), self.cache.generation, time.perf_counter()
        worker = self.worker
        # A run's first batch: LLVM's start-up is ahead of it, and nothing
        # runs natively yet; each region goes in as soon as it is compiled.
        early = None if worker is None or self.cache.batches or self.pending else \
            lambda key, batch: worker.publish(([key], batch, set()))
        # Keys that batches ahead of this one put inside a region are left
        # out: a block hot in the cold tier is often not reached from
        # outside once its loop or function is translated (qsort's blocks
        # got hot together, and each was a copy of the whole function).
        # (A top-level batch compiles an installed region again: nothing to leave out.)
        inside = {k for k in keys if k in self.cache.inner} if level < TOP_LEVEL else set(keys)

        def job() -> tuple[list[Key], Batch, set[Key]]:
            left_out = {k for k in keys if k not in inside and k in self.cache.inner}
            if early is not None and warm:
                left_out |= self._stopped(warm, planned)
            todo = {k: p for k, p in plans.items() if k not in left_out}
            return keys, self.cache.build(todo, generation, level, top, early), left_out

        if worker is None:
            self._install(*job())
        else:
            self.pending.update(keys)
            worker.submit(job, priority=level)   # code leaving the cold tier first

    def _stopped(self, warm: dict[Key, int], planned: float) -> set[Key]:
        """The keys of ``warm`` that have not run in the STOPPED_WINDOW
        seconds since ``planned``: a run's first batch leaves them out.
        Its warm blocks include code that ran only before main (glibc's
        tunables loop, ~20 ms to compile, in every program), and the
        batches behind it would wait for them."""
        time.sleep(max(0.0, planned + STOPPED_WINDOW - time.perf_counter()))
        stopped = {k for k, n in warm.items() if lib.bt_jit_entries(self.cache.ctx, k[0]) == n}
        self.stopped |= stopped   # not warm company for other batches either (hot, they are translated)
        return stopped

    def _tier_up(self, address: int) -> None:
        """Compile a region sampled ``tier_up`` times again at
        TOP_LEVEL, with the same blocks: what it is made of depends on the
        first version alone (not on when it got hot), so the disk cache
        finds it again in the next run."""
        key, info = self.cache.by_address.get(address, (None, None))
        if info is None or info.level >= TOP_LEVEL or key in self.pending:
            return
        plan = dataclasses.replace(self._plan(key, {}, TOP_LEVEL),
                                   executed=info.starts.__contains__, entries=lambda vpc, paddr: False,
                                   loop=lambda vpc, paddr: False)
        self._submit({key: plan}, TOP_LEVEL)

    def _heat(self) -> dict[int, int]:
        """The cold tier's block-entry counts by pc (compacted in C: the
        whole table, in Python, took ~0.5 ms of the guest's thread)."""
        n = lib.bt_jit_heat(self.cache.ctx, self._heat_pairs, lib.JIT_HOT_SIZE)
        flat = ffi.unpack(self._heat_pairs, 2 * n)
        return dict(zip(flat[::2], flat[1::2]))

    def _translate_hot(self, key: Key) -> None:
        """Translate ``key`` together with the warmest other block starts (one
        batch) that are not already inside a translated region."""
        heat = self._heat()
        keys = [key]
        for pc in sorted((pc for pc, n in heat.items() if 2 * n >= self.hot), key=heat.__getitem__, reverse=True):
            k = self._key(pc)
            if len(keys) == BATCH:
                break
            if k is not None and k not in keys and k not in self.cache and k not in self.cache.inner \
                    and k not in self.untranslatable and k not in self.pending and k not in self.stopped:
                keys.append(k)
        level = self.cache.opt_level
        top = (TOP_LEVEL, {k: self._plan(k, heat, TOP_LEVEL) for k in keys}) if level < TOP_LEVEL else None
        self._submit({k: self._plan(k, heat, level) for k in keys}, level, top, {k: heat[k[0]] for k in keys[1:]})

    def _plan(self, key: Key, heat: dict[int, int], level: int) -> RegionPlan:
        vpc, paddr, mode = key

        def starts_region(target: int, target_paddr: int) -> bool:
            """Does the region stop at ``target`` and chain to the region
            there?  Not when that region leads back here (a loop split
            between two regions would cross between them on every
            iteration).  Regions of its own batch, unless one holds this
            entry; regions installed earlier only for a bridge (other
            regions copy their code instead: no crossing between regions
            on every iteration of a loop)."""
            region = self.cache.building.get((target, target_paddr, mode))
            if region is None and bridge():
                return installed(target, target_paddr) is not None
            return region is not None and vpc not in region.starts and vpc not in region.chains

        def loop(target: int, target_paddr: int) -> bool:
            region = installed(target, target_paddr)
            return region is not None and target in region.loops

        def installed(target: int, target_paddr: int) -> RegionInfo | None:
            """The region installed with an entry at ``target``, unless it
            leads back here (a loop split between two regions would cross
            between them on every iteration)."""
            region = self.cache.entries.get((target, target_paddr, mode))
            return region if region is not None and vpc not in region.chains else None

        def bridge() -> bool:
            """Is this entry's code translated already (the dispatcher
            reaches a block inside a region: a rotated loop entered at its
            condition, code after a call)?  Then this region is a bridge
            into the regions installed: a copy would be compiled, and
            tiered up, again (qsort's insertion sort and partition loop
            were, at ~60 ms of compile time on the other core, which slows
            this one), and one cut short by the size cap would make the
            next entry reached copy again (intmix's main loop was compiled
            6 times over)."""
            return level < TOP_LEVEL and key in self.cache.covered

        fetch = self._fetcher(vpc, paddr)

        def executed(target: int) -> bool:
            fetched = fetch(target)
            return fetched is not None and bool(lib.fi_decoded_at(self.fast.ctx, self.hart.ptr, fetched[1]))

        return RegionPlan(self.hart.ptr.machine_kind, mode, fetch, executed, starts_region, ram_window=self._ram_window,
                          store_window=self._store_window(),
                          heat=lambda pc: heat.get(pc, 0).bit_length(), loop=loop,
                          # (a recompile at a higher level: the same blocks, see FIRST_TIER_MAX)
                          max_insns=lib.JIT_REGION_MAX if level > self.cache.opt_level else FIRST_TIER_MAX)

    def _store_window(self) -> tuple[int, int] | None:
        """The stores' window (see RegionPlan.store_window): from the floor
        the translations are built for."""
        floor, (lo, last) = self.cache.ctx.store_floor, self._ram_window
        return (floor, lo + last - floor) if floor and lo <= floor <= lo + last else None

    def _read16(self, paddr: int) -> int | None:
        p = lib.bt_ram_ptr(self.hart.ptr, paddr, 2)
        return None if p == ffi.NULL else p[0] | p[1] << 8

    def _fetcher(self, vpc0: int, paddr0: int):
        """Instruction bits for translation, read from guest RAM.  In a
        system VM only the entry's page is known to be mapped (and to the
        physical page the key names)."""
        vpage, ppage = vpc0 & ~(PAGE - 1), paddr0 & ~(PAGE - 1)

        def fetch(vpc: int) -> tuple[int, int] | None:
            if self._system:
                off = vpc - vpage
                if not 0 <= off < PAGE:
                    return None
                paddr = ppage + off
            else:
                off, paddr = 0, vpc
            lo = self._read16(paddr)
            if lo is None or lo & 3 != 3:
                return None if lo is None else (lo, paddr)
            if self._system and off > PAGE - 4:
                return None  # crosses into a page the key says nothing about
            hi = self._read16(paddr + 2)
            return None if hi is None else (lo | hi << 16, paddr)

        return fetch
