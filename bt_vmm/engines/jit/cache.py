"""The translation cache: LLVM compilation, the native lookup table the C
dispatcher uses, the pages holding translations, and statistics.

Compiling (``build``) may run on another thread than the guest: it reads
guest memory and the pre-decode table but changes nothing, and each region
is an object of its own, loaded by the C core (native.py; llvmlite
serialises every LLVM call behind one lock, so the fast tier compiling on
the guest's thread is safe).  Installing (``install``), invalidating and
flushing run on the guest's thread while no native code runs."""
from __future__ import annotations

import gc
import os
import pathlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from bt_vmm.engines.jit import textir as ir

from bt_vmm import _core
from bt_vmm._core import ffi, lib
from bt_vmm.cpu.hart import Hart
from bt_vmm.engines.diskcache import DiskCache, files_digest
from bt_vmm.engines.fast.compiler import source_digest
from bt_vmm.engines import compileserver
from bt_vmm.engines.llvmsetup import dump_directory
from bt_vmm.engines.native import NativeObject
from bt_vmm.errors import VMMError
from bt_vmm.engines.jit import replay
from bt_vmm.engines.jit.region import (
    PAGE,
    RegionEmitter,
    RegionInfo,
    RegionPlan,
    Untranslatable,
)

M64 = (1 << 64) - 1
Key = tuple[int, int, int]   # (virtual pc, physical pc, mode)
VARIANTS = 4   # stored translations per batch key (see CodeCache._stored)
_VARIANT_CHOICE = random.Random()   # our own: the global generator belongs to the embedding program
_JIT_BITS = lib.JIT_PAGE_CODE | lib.JIT_PAGE_WRITTEN


def _batch(built: dict[Key, RegionInfo], objects: dict[str, NativeObject], generation: int, t0: float,
           from_disk: bool, failed: set[Key]) -> Batch:
    """The batch of regions ``built``, their code in ``objects`` by name."""
    for info in built.values():
        region = objects[info.name]
        info.code_size = region.code_size
        info.address = region.address(info.name)
        if info.chains:
            info.chain_base = region.address(info.chain_global)
    return Batch(built, list(objects.values()), generation, time.perf_counter() - t0, from_disk, failed)


def _region_name(disk_key: str) -> str:
    """The region's function and module name: unique in a batch, the same in every run."""
    return "r" + disk_key[4:28]


@cache
def _digest() -> str:
    """What decides a batch's code besides its plans' answers: the JIT's,
    the LLVM pipeline's and the ISA description's sources, and the C core
    (its constants are in the IR)."""
    here = pathlib.Path(__file__).parent
    core = pathlib.Path(_core.__file__)
    return files_digest([*here.glob("*.py"), here.parent / "llvmsetup.py", core]) + source_digest()


@dataclass
class JitStats:
    """What --stats prints about the JIT."""

    regions: int = 0
    blocks: int = 0
    guest_insns: int = 0
    batches: int = 0
    compile_seconds: list[float] = field(default_factory=list)   # per region
    failed: int = 0
    invalidations: int = 0
    flushes: int = 0
    dispatches: int = 0        # translations entered from the native dispatch loop
    chain_hits: int = 0        # direct jumps from translation to translation
    ic_hits: int = 0           # indirect jumps through the native cache
    cold_returns: int = 0      # returns to Python for cold code
    interpreted: int = 0       # instructions the interpreter tier ran
    disk_hits: int = 0         # batches loaded from the on-disk cache
    store_floor: int = 0       # process VM: hart_t.store_floor at the end (0: none, or code ran above it)

    def summary(self) -> dict[str, float | int | str]:
        times = sorted(self.compile_seconds)
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))] if times else 0.0
        return {
            "regions translated": self.regions,
            "blocks translated": self.blocks,
            "guest instructions translated": self.guest_insns,
            "compile batches": self.batches,
            "compile time total (s)": round(sum(times), 4),
            "compile time median per region (ms)": round(1e3 * _median(times), 3) if times else 0.0,
            "compile time p95 per region (ms)": round(1e3 * p95, 3),
            "translation cache hits (native dispatches)": self.dispatches,
            "chain hits (direct jumps between regions)": self.chain_hits,
            "indirect-jump cache hits": self.ic_hits,
            # misses (and every other exit) go back through the dispatch loop
            "indirect-jump cache hit rate (%)": round(100 * self.ic_hits / max(1, self.ic_hits + self.dispatches), 2),
            "returns to the interpreter tier": self.cold_returns,
            "instructions interpreted": self.interpreted,
            "invalidations (pages)": self.invalidations,
            "cache flushes": self.flushes,
            "untranslatable regions": self.failed,
            "batches from the disk cache": self.disk_hits,
            # (none: every translated store checks its page for code)
            "store floor": f"{self.store_floor:#x}" if self.store_floor else "none",
        }


def _inner(key: Key, info: RegionInfo) -> set[Key]:
    """The keys of the region's blocks (they share the entry's page in a
    system VM; virtual = physical in a process VM)."""
    vpc, paddr, mode = key
    return {(s, paddr - vpc + s, mode) for s in info.starts}


def _covered(key: Key, info: RegionInfo) -> set[Key]:
    """The keys of the region's instructions."""
    vpc, paddr, mode = key
    return {(p - paddr + vpc, p, mode) for p, _ in info.code}


def _median(ordered: list[float]) -> float:
    """(statistics.median, without importing statistics and fractions: start-up time)"""
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _perf_map(built: dict[Key, RegionInfo]) -> None:
    """BT_VMM_PERF_MAP=1: name the regions in /tmp/perf-PID.map, so that
    `perf report` attributes samples in generated code to guest pcs."""
    if not os.environ.get("BT_VMM_PERF_MAP"):
        return
    with open(f"/tmp/perf-{os.getpid()}.map", "a") as fh:
        for key, info in built.items():
            fh.write(f"{info.address:x} {info.code_size:x} bt-vmm region pc={key[0]:#x} mode={key[2]} O{info.level}\n")


def _set_slot(address: int, fn: int) -> None:
    ffi.cast("uint64_t *", address)[0] = fn


@dataclass
class Batch:
    """Regions compiled together, an object each (the batch's code is freed
    with its last live region)."""

    regions: dict[Key, RegionInfo]      # empty: nothing could be translated
    objects: list[NativeObject]
    generation: int               # CodeCache.generation when it was started
    seconds: float
    from_disk: bool
    failed: set[Key] = field(default_factory=set)   # keys that cannot be translated

    def close(self) -> None:
        for obj in self.objects:
            obj.close()
        self.objects = []


class CodeCache:
    """Translations of one hart, keyed by (virtual pc, physical pc, mode)."""

    def __init__(self, hart: Hart, opt_level: int = 2, max_insns: int = 1 << 20,
                 disk: DiskCache | None = None):
        self.hart = hart
        self.opt_level = opt_level
        self.max_insns = max_insns      # --tb-size: guest instructions kept translated
        self.stats = JitStats()
        self.disk = disk or DiskCache(None)
        self.ctx = ffi.new("jit_ctx_t *")
        self._npages = hart.ptr.ram_size // PAGE + 1
        # The hart's page watch map, shared with the cold tier: each tier's
        # stores see the other's code pages.
        self._code_pages = hart.ptr.watch
        self.ctx.code_pages = self._code_pages
        self.ctx.npages = self._npages
        self.ctx.code_epoch = hart.ptr.code_epoch
        self.ctx.store_floor = hart.ptr.store_floor
        self._ram = ffi.buffer(hart.ptr.ram, hart.ptr.ram_size)
        self.building: dict[Key, RegionInfo] = {}   # the regions of the batch being translated
        self.generation = 0        # bumped by flush: batches started before it are dropped
        self.batches: list[Batch] = []
        self._reset()

    def _reset(self) -> None:
        for batch in self.batches:
            batch.close()
        self.batches = []
        self.regions: dict[Key, RegionInfo] = {}   # by entry key
        self.entries: dict[Key, RegionInfo] = {}   # by entry and loop-header key: what the table holds
        self.by_address: dict[int, tuple[Key, RegionInfo]] = {}   # function -> (entry key, region)
        self.links: dict[Key, list[int]] = {}   # chain slots (addresses) jumping to a key
        self.page_regions: dict[int, set[Key]] = {}
        self.inner: set[Key] = set()   # blocks inside translated regions
        self.covered: dict[Key, RegionInfo] = {}   # instructions inside translated regions: a region holding each
        self._resize_table(1024)

    @property
    def translated_insns(self) -> int:
        return sum(info.instructions for _, info in self._live_regions())

    def _live_regions(self):
        """Each region the table holds, once, with one of its keys (all of
        them map its page alike)."""
        return {id(info): (key, info) for key, info in self.entries.items()}.values()

    # --- compiling (any thread) ---
    def build(self, plans: dict[Key, RegionPlan], generation: int, level: int | None = None,
              top: tuple[int, dict[Key, RegionPlan]] | None = None,
              early: Callable[[Key, Batch], None] | None = None) -> Batch:
        """Translate one region per key, in order, and compile them (a batch
        amortises the thread's start and the switches between tiers), each
        region in a module of its own so that the disk cache holds each on
        its own.  A key inside a region translated before it in the batch is
        skipped: a loop grows into one region from whichever of its blocks
        comes first, instead of being cut at every warm block.  ``level``: LLVM
        optimisation level (default: the cache's).  ``top``: (a higher
        level, plans for it): a region the disk cache holds at that level
        is taken from there instead (a warm run skips the first tier).
        ``early``: gets each region compiled here but the last as a batch of
        its own once it is loaded (installed while the rest compile, with
        the shapes translating them together gave); the batch returned
        holds the others."""
        level = self.opt_level if level is None else level
        t0 = time.perf_counter()
        failed: set[Key] = set()
        built = self.building = {}
        modules: dict[str, str] = {}                 # region name -> IR to compile
        loaded: dict[str, NativeObject] = {}         # region name -> its code, from the disk cache
        stores: dict[str, tuple[str, list]] = {}   # region name -> (disk key, log) to store once compiled
        gc.disable()   # IR building allocates many small objects: collections cost ~5%
        try:
            for key, plan in plans.items():
                if any(key in _inner(k, info) for k, info in built.items()):
                    continue
                stored = self._stored(key, top[1][key], top[0]) if top and key in top[1] else None
                stored = stored or self._stored(key, plan, level)
                if stored is not None:
                    built[key], loaded[stored[0].name] = stored
                    continue
                disk_key = self._disk_key(key, plan, level)
                name = _region_name(disk_key)
                translated = self._translate(key, plan, name)
                if translated is None:
                    failed.add(key)
                    continue
                built[key], modules[name], log = translated
                built[key].level = level
                stores[name] = (disk_key, log)
        except BaseException:
            for region in loaded.values():
                region.close()
            raise
        finally:
            self.building = {}
            gc.enable()
        if not built:
            return Batch({}, [], generation, time.perf_counter() - t0, False, failed)

        last = list(modules)[-1] if modules else None

        def compiled(name: str, obj: bytes) -> NativeObject | None:
            disk_key, log = stores[name]
            key = next(k for k, i in built.items() if i.name == name)
            self.disk.put(f"{disk_key}-{_VARIANT_CHOICE.randrange(VARIANTS)}", replay.pack(log, {key: built[key]}, obj))
            region = NativeObject(obj)
            if early is None or name == last:
                return region
            early(key, _batch({key: built.pop(key)}, {name: region}, generation, t0, False, set()))
            return None

        objects = self._compile(modules, loaded, level, compiled)
        return _batch(built, objects, generation, t0, not stores, failed)

    def _disk_key(self, key: Key, plan: RegionPlan, level: int) -> str:
        return self.disk.key("jit", _digest(), f"O{level}", replay.signature({key: plan}))

    @staticmethod
    def _translate(key: Key, plan: RegionPlan, name: str) -> tuple[RegionInfo, str, list] | None:
        """(region, its IR, the log of its plan's answers); None when it
        cannot be translated."""
        log: list = []
        module = ir.Module(name=name)
        try:
            info = RegionEmitter(module, name, key[0], replay.recording({key: plan}, log)[key]).translate()
        except Untranslatable:
            return None
        return info, str(module), log

    def _stored(self, key: Key, plan: RegionPlan, level: int) -> tuple[RegionInfo, NativeObject] | None:
        """The region (and its code, loaded) the disk cache holds for ``key``
        at ``level``, if one was translated from the code that is in guest
        memory now.  The plan's other answers (which blocks ran, where other regions start,
        heat) only shaped it: any stored variant will do.  A few variants
        are kept per key (other programs, other code at the same place).
        A variant whose object does not load is passed over (translated
        again, it is stored again)."""
        disk_key = self._disk_key(key, plan, level)
        for variant in range(VARIANTS):
            stored = replay.unpack(self.disk.get(f"{disk_key}-{variant}"))
            if stored is not None and key in stored[1] and stored[1][key].name == _region_name(disk_key) \
                    and replay.same_code(stored[0], {key: plan}):
                try:
                    code = NativeObject(stored[2])
                except VMMError:
                    continue
                _dump_object(stored[1][key].name, stored[2])
                info = stored[1][key]
                info.level = level
                return info, code
        return None

    def _compile(self, modules: dict[str, str], loaded: dict[str, NativeObject], level: int,
                 compiled: Callable[[str, bytes], NativeObject | None]) -> dict[str, NativeObject]:
        """Each region's machine code, loaded: the stored ones (``loaded``)
        and those compiled from their IR by LLVM's compile server
        (``compiled`` gets each new object and loads it; None: it went its
        own way)."""
        server = compileserver.shared()
        try:
            for name, text in modules.items():
                region = compiled(name, server.compile(name, text, level))
                if region is not None:
                    loaded[name] = region
        except BaseException:
            for done in loaded.values():
                done.close()
            raise
        return loaded

    # --- installing (the guest's thread) ---
    def install(self, batch: Batch) -> bool:
        """Make a built batch visible to the dispatcher, unless a flush came
        after it was started or the guest changed its code meanwhile."""
        self.stats.failed += len(batch.failed)
        if not batch.regions or batch.generation != self.generation or not self._unchanged(batch):
            batch.close()
            return False
        built = batch.regions
        if self.translated_insns + sum(i.instructions for i in built.values()) > self.max_insns:
            self.flush()
        self.batches.append(batch)
        for key, info in built.items():
            self._install(key, info)
        self._drop_dead_batches()   # versions it replaced
        _perf_map(built)
        for key, info in built.items():
            self._link(key, info)
        st = self.stats
        st.batches += 1
        st.disk_hits += batch.from_disk
        st.compile_seconds.extend([batch.seconds / len(built)] * len(built))
        st.regions += len(built)
        st.blocks += sum(i.blocks for i in built.values())
        st.guest_insns += sum(i.instructions for i in built.values())
        return True

    def _unchanged(self, batch: Batch) -> bool:
        """Is guest memory still holding the instructions the batch was
        translated from?  (Stores only see pages holding installed code.)"""
        base, ram = self.hart.ptr.ram_base, self._ram
        for info in batch.regions.values():
            for paddr, raw in info.code:
                n = 4 if raw & 3 == 3 else 2
                if int.from_bytes(ram[paddr - base:paddr - base + n], "little") != raw:
                    return False
        return True

    # --- the native table ---
    def _link(self, key: Key, info: RegionInfo) -> None:
        """Point the region's chain slots at translated targets; the others
        wait in ``links`` for their target (process VM: vpc = paddr)."""
        for i, target in enumerate(info.chains):
            tkey = (target, target, key[2])
            slot = info.chain_base + 8 * i
            self.links.setdefault(tkey, []).append(slot)
            if tkey in self.entries:
                _set_slot(slot, self.entries[tkey].address)

    def _resize_table(self, size: int) -> None:
        self._table = ffi.new("jit_entry_t[]", size)
        self.ctx.table = self._table
        self.ctx.mask = size - 1
        lib.bt_jit_clear(self.ctx)   # and the indirect-jump cache
        for (vpc, paddr, mode), info in self.entries.items():
            lib.bt_jit_insert(self.ctx, vpc, paddr, mode, info.address)

    def _install(self, key: Key, info: RegionInfo) -> None:
        """Enter the region under its entry key, replacing the region there
        (a version optimised harder replaces the first), and under those of
        its loop headers no other region holds."""
        vpc, paddr, mode = key
        replaced = self.regions.get(key)
        self.regions[key] = info
        keys = [k for k in ((h, paddr - vpc + h, mode) for h in sorted(info.entry_points))
                if k == key or self.entries.get(k, replaced) is replaced]
        self.by_address[info.address] = (key, info)
        self.inner |= _inner(key, info)
        self.covered.update(dict.fromkeys(_covered(key, info), info))
        base = self.hart.ptr.ram_base // PAGE
        for page in info.pages:
            self.page_regions.setdefault(page, set()).update(keys)
            if 0 <= page - base < self._npages:
                lib.bt_watch(self.hart.ptr, page - base, lib.JIT_PAGE_CODE)   # (above the floor: it goes)
        for k in keys:
            if self.entries.get(k, info) is not info:
                lib.bt_jit_clear_ic(self.ctx)   # it may hold the version replaced
            self.entries[k] = info
            for slot in self.links.get(k, ()):
                _set_slot(slot, info.address)
        if 2 * len(self.entries) > self.ctx.mask + 1:
            self._resize_table(2 * (self.ctx.mask + 1))   # reinserts everything
        else:
            for k in keys:
                lib.bt_jit_insert(self.ctx, *k, info.address)

    def __contains__(self, key: Key) -> bool:
        return key in self.entries

    # --- invalidation ---
    def invalidate_written(self) -> None:
        """Drop the translations on pages the guest wrote (self-modifying code)."""
        c, h = self.ctx, self.hart.ptr
        if c.smc_count > lib.JIT_SMC_MAX or c.code_epoch != h.code_epoch or c.store_floor != h.store_floor:
            self.flush()   # many pages written, a fence.i, or code above the store floor
            return
        base = self.hart.ptr.ram_base // PAGE
        pages = {base + c.smc_pages[i] for i in range(c.smc_count)}
        c.smc_count = 0
        for page in pages:
            self.stats.invalidations += 1
            for key in self.page_regions.pop(page, set()):
                self.entries.pop(key, None)
                self.regions.pop(key, None)
                for slot in self.links.get(key, ()):
                    _set_slot(slot, 0)
            self._code_pages[page - base] &= ~_JIT_BITS
        # Other pages may have lost regions too: recompute their code bits.
        live = {p for info in self.entries.values() for p in info.pages}
        live_regions = self._live_regions()
        self.inner = set().union(*(_inner(k, info) for k, info in live_regions))
        self.covered = {c: info for k, info in live_regions for c in _covered(k, info)}
        for page in list(self.page_regions):
            self.page_regions[page] = {k for k in self.page_regions[page] if k in self.entries}
            if page not in live:
                del self.page_regions[page]
                self._code_pages[page - base] &= ~_JIT_BITS
        self._resize_table(self.ctx.mask + 1)
        self._drop_dead_batches()

    def _drop_dead_batches(self) -> None:
        """Free the code of batches none of whose regions is reachable (the
        table and the chain slots no longer hold it, and the indirect-jump
        cache was cleared when they were replaced or invalidated)."""
        live = {id(info) for info in self.entries.values()}
        dead = [b for b in self.batches if not any(id(i) in live for i in b.regions.values())]
        for batch in dead:
            for key, info in batch.regions.items():
                self.by_address.pop(info.address, None)
                for i in range(len(info.chains)):   # its slots die with it
                    slots = self.links.get((info.chains[i], info.chains[i], key[2]), [])
                    if info.chain_base + 8 * i in slots:
                        slots.remove(info.chain_base + 8 * i)
            batch.close()
        self.batches = [b for b in self.batches if b not in dead]

    def flush(self) -> None:
        """Forget every translation (cache full, fence.i, many code writes)."""
        self.stats.flushes += 1
        self.generation += 1
        self.ctx.smc_count = 0
        self.ctx.code_epoch = self.hart.ptr.code_epoch
        self.ctx.store_floor = self.hart.ptr.store_floor
        lib.bt_jit_clear_pages(self.ctx)
        lib.bt_jit_clear_hot(self.ctx)   # so that hot code is translated again
        self._reset()


def _dump_object(name: str, obj: bytes) -> None:
    if (d := dump_directory()) is not None:
        (d / f"{name}.o").write_bytes(obj)
