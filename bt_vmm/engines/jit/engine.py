"""The JIT engine: cold code in the interpreter tier, hot code translated
into regions and run from the native dispatch loop (csrc/jit.c)."""
from __future__ import annotations

import pathlib

from bt_vmm._core import ffi, lib
from bt_vmm.cpu.hart import Hart
from bt_vmm.engines.jit.cache import CodeCache, JitStats, Key
from bt_vmm.engines.jit.diskcache import DiskCache, default_directory
from bt_vmm.engines.jit.region import PAGE, RegionPlan
from bt_vmm.engines.reference import Concrete, ReferenceInterpreter, Trap, Tracer

M64 = (1 << 64) - 1
# Executions of a block start before it is translated: the interpreter tier
# runs ~1 MIPS and a translation costs ~0.1-0.2 ms per guest instruction.
HOT_THRESHOLD = 256
BATCH = 8              # regions per LLVM module
COLD_RUN = 64          # instructions the interpreter tier runs per visit, at most


class TrackingConcrete(Concrete):
    """The interpreter tier's backend: stores take the JIT's store path, so a
    write to a page holding translations is seen; fence.i drops them all."""

    def __init__(self, hart: Hart, cache: CodeCache):
        super().__init__(hart)
        self.ctx = cache.ctx

    def store(self, addr, v, size):
        if lib.bt_jit_store(self.ctx, self.h, addr & M64, size, v & ((1 << (8 * size)) - 1)) == 1:
            raise Trap

    def call(self, name, *args):
        result = super().call(name, *args)
        if name == "fence_i":
            lib.bt_jit_flush_request(self.ctx)
        return result


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
        disk_cache: pathlib.Path | None = default_directory(),
    ):
        self.hart = hart
        self.tracer = tracer
        self.hot = max(1, HOT_THRESHOLD if hot is None else hot)
        self.cache = CodeCache(hart, opt_level, tb_size, DiskCache(disk_cache))
        self.interp = ReferenceInterpreter(hart, tracer)
        self.interp.s = TrackingConcrete(hart, self.cache)
        self.counts: dict[Key, int] = {}
        self.executed: set[int] = set()   # block starts that ran (virtual pcs)
        self.untranslatable: set[Key] = set()
        self._paddr = ffi.new("uint64_t *")
        self._system = hart.ptr.machine_kind == lib.MACHINE_SYSTEM

    @property
    def stats(self) -> JitStats:
        st = self.cache.stats
        st.dispatches = self.cache.ctx.stat_dispatch
        st.cold_returns = self.cache.ctx.stat_cold
        st.chain_hits = self.cache.ctx.stat_chain
        st.ic_hits = self.cache.ctx.stat_ic_hit
        return st

    def run(self) -> int:
        h, ctx = self.hart.ptr, self.cache.ctx
        while not h.exit_request:
            if h.minstret >= h.insn_limit:
                h.exit_reason = lib.EXIT_LIMIT
                break
            if self.tracer:  # tracing sees every instruction: stay in the interpreter
                self.interp.step()
                continue
            r = lib.bt_jit_run(ctx, h)
            if r == lib.JIT_RUN_FAULT:
                self.interp._deliver(h)
            elif r == lib.JIT_RUN_SMC:
                self.cache.invalidate_written()
            elif r == lib.JIT_RUN_COLD and h.minstret < h.insn_limit:
                self._cold(h)
        return h.exit_reason

    # --- the interpreter tier ---
    def _key(self, h) -> Key | None:
        if lib.bt_jit_phys(h, h.pc, self._paddr):
            return None
        return (h.pc, self._paddr[0], lib.bt_jit_mode(h))

    def _cold(self, h) -> None:
        key = self._key(h)
        if key is not None and key in self.cache:
            self._count_step(h)  # translated, but the budget ends inside it or an interrupt is due
            return
        if key is not None and key not in self.untranslatable:
            n = self.counts[key] = self.counts.get(key, 0) + 1
            if n >= self.hot:
                self._translate_hot(key)
                if key in self.cache:
                    return
                self.untranslatable.add(key)
        self._interpret_block(h)

    def _count_step(self, h):
        self.cache.stats.interpreted += 1
        return self.interp.step()

    def _interpret_block(self, h) -> None:
        """Interpret up to the end of the current block."""
        ctx = self.cache.ctx
        self.executed.add(h.pc)
        for _ in range(COLD_RUN):
            pc = h.pc
            d = self._count_step(h)
            if d is None or d.spec.ends_block or h.pc != (pc + d.length) & M64:
                self.executed.add(h.pc)
                return
            if h.exit_request or h.minstret >= h.insn_limit or ctx.smc_count:
                return

    # --- translation ---
    def _translate_hot(self, key: Key) -> None:
        """Translate ``key`` together with other warm block starts (one module)."""
        warm = [k for k, n in self.counts.items()
                if k != key and 2 * n >= self.hot and k not in self.cache and k not in self.untranslatable]
        keys = [key] + sorted(warm, key=lambda k: -self.counts[k])[: BATCH - 1]
        self.cache.compile({k: self._plan(k, set(keys)) for k in keys})
        for k in keys:
            self.counts.pop(k, None)

    def _plan(self, key: Key, batch: set[Key]) -> RegionPlan:
        vpc, paddr, mode = key

        def starts_region(target: int, target_paddr: int) -> bool:
            k = (target, target_paddr, mode)
            return k in batch or k in self.cache

        return RegionPlan(self.hart.ptr.machine_kind, mode, self._fetcher(vpc, paddr),
                          self.executed.__contains__, starts_region)

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
