"""The translation cache: LLVM compilation, the native lookup table the C
dispatcher uses, the pages holding translations, and statistics."""
from __future__ import annotations

import gc
import os
import pathlib
import statistics
import time
from dataclasses import dataclass, field
from functools import cache
from itertools import count

from llvmlite import binding as llvm
from llvmlite import ir

from bt_vmm._core import ffi, lib
from bt_vmm.cpu.hart import Hart
from bt_vmm.engines.diskcache import DiskCache, files_digest
from bt_vmm.engines.jit.region import (
    PAGE,
    RegionEmitter,
    RegionInfo,
    RegionPlan,
    Untranslatable,
)

M64 = (1 << 64) - 1
_PLACEHOLDER = "btjit_region_"   # in function names until the batch's content hash is known
Key = tuple[int, int, int]   # (virtual pc, physical pc, mode)
_JIT_BITS = lib.JIT_PAGE_CODE | lib.JIT_PAGE_WRITTEN

_llvm_ready = False


@cache
def _sources() -> str:
    """The JIT's own sources decide its object code besides the IR (the pass pipeline)."""
    return files_digest(pathlib.Path(__file__).parent.glob("*.py"))


def _init_llvm() -> None:
    global _llvm_ready
    if not _llvm_ready:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        _llvm_ready = True


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

    def summary(self) -> dict[str, float | int]:
        times = sorted(self.compile_seconds)
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))] if times else 0.0
        return {
            "regions translated": self.regions,
            "blocks translated": self.blocks,
            "guest instructions translated": self.guest_insns,
            "compile batches": self.batches,
            "compile time total (s)": round(sum(times), 4),
            "compile time median per region (ms)": round(1e3 * statistics.median(times), 3) if times else 0.0,
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
        }


def _inner(key: Key, info: RegionInfo) -> set[Key]:
    """The keys of the region's blocks (they share the entry's page in a
    system VM; virtual = physical in a process VM)."""
    vpc, paddr, mode = key
    return {(s, paddr - vpc + s, mode) for s in info.starts}


def _perf_map(built: dict[Key, RegionInfo]) -> None:
    """BT_VMM_PERF_MAP=1: name the regions in /tmp/perf-PID.map, so that
    `perf report` attributes samples in generated code to guest pcs.  A
    region's size is taken as the distance to the next function of its
    batch (MCJIT lays a module's functions out contiguously)."""
    if not os.environ.get("BT_VMM_PERF_MAP"):
        return
    infos = sorted(built.items(), key=lambda item: item[1].address)
    with open(f"/tmp/perf-{os.getpid()}.map", "a") as fh:
        for i, (key, info) in enumerate(infos):
            end = infos[i + 1][1].address if i + 1 < len(infos) else info.address + 4096
            fh.write(f"{info.address:x} {end - info.address:x} bt-vmm region pc={key[0]:#x} mode={key[2]}\n")


def _set_slot(address: int, fn: int) -> None:
    ffi.cast("uint64_t *", address)[0] = fn


class CodeCache:
    """Translations of one hart, keyed by (virtual pc, physical pc, mode)."""

    def __init__(self, hart: Hart, opt_level: int = 2, max_insns: int = 1 << 20,
                 disk: DiskCache | None = None, watch=None):
        """``watch``: the cold tier's page watch map (fi_ctx_t.watch), shared
        so that each tier's stores see the other's code pages."""
        _init_llvm()
        self.hart = hart
        self.opt_level = opt_level
        self.max_insns = max_insns      # --tb-size: guest instructions kept translated
        self.stats = JitStats()
        self.disk = disk or DiskCache(None)
        self.ctx = ffi.new("jit_ctx_t *")
        self._npages = hart.ptr.ram_size // PAGE + 1
        self._code_pages = ffi.new("uint8_t[]", self._npages) if watch is None else watch
        self.ctx.code_pages = self._code_pages
        self.ctx.npages = self._npages
        self.ctx.use_ic = hart.ptr.machine_kind == lib.MACHINE_USER
        self._names = count()
        self.building: dict[Key, RegionInfo] = {}   # the regions of the batch being translated
        self._new_engine()

    # --- the LLVM side ---
    def _new_engine(self) -> None:
        # The execution engine owns its target machine: one each.
        # Level 0: fast instruction selection and register allocation, which
        # spills every guest register; the full code generator is worth its
        # compile time from level 1 on (~2x the speed of the code).
        codegen = 2 if self.opt_level >= 1 else 0
        self.target = llvm.Target.from_default_triple().create_target_machine(
            cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(), opt=codegen, jit=True)
        empty = llvm.parse_assembly("")
        empty.triple = self.target.triple
        self.engine = llvm.create_mcjit_compiler(empty, self.target)
        self.engine.set_object_cache(self._compiled_object, self._cached_object)
        self._loaded: set[str] = set()   # disk-cache keys of the batches in this engine
        self._from_disk: tuple[str, bytes] | None = None   # (key, object) of the batch being loaded
        self.entries: dict[Key, RegionInfo] = {}
        self.links: dict[Key, list[int]] = {}   # chain slots (addresses) jumping to a key
        self.page_regions: dict[int, set[Key]] = {}
        self.inner: set[Key] = set()   # blocks inside translated regions
        self.translated_insns = 0
        self._resize_table(1024)

    def _optimize(self, mod: llvm.ModuleRef) -> None:
        """Level 2: LLVM's O2.  Below: promote guest registers to SSA and tidy
        up, which is most of the gain for a small part of O2's compile time."""
        pto = llvm.PipelineTuningOptions(speed_level=self.opt_level)
        pb = llvm.create_pass_builder(self.target, pto)
        if self.opt_level >= 2:
            pb.getModulePassManager().run(mod, pb)
            return
        mpm = llvm.create_new_module_pass_manager()
        mpm.add_sroa_pass()
        if self.opt_level >= 1:
            mpm.add_instruction_combine_pass()
            mpm.add_simplify_cfg_pass()
        mpm.run(mod, pb)

    def compile(self, plans: dict[Key, RegionPlan]) -> None:
        """Translate one region per key, in order, into one module (amortising
        LLVM's fixed cost) and make them visible to the dispatcher."""
        t0 = time.perf_counter()
        gc.disable()   # IR building allocates many small objects: collections cost ~5%
        try:
            built = self._compile(plans)
        finally:
            gc.enable()
        if not built:
            return
        elapsed = time.perf_counter() - t0
        st = self.stats
        st.batches += 1
        st.compile_seconds.extend([elapsed / len(built)] * len(built))
        st.regions += len(built)
        st.blocks += sum(i.blocks for i in built.values())
        st.guest_insns += sum(i.instructions for i in built.values())

    def _compile(self, plans: dict[Key, RegionPlan]) -> dict[Key, RegionInfo]:
        """A key inside a region translated before it in the batch is skipped:
        a loop grows into one region from whichever of its blocks comes first,
        instead of being cut at every warm block (a region stops only at the
        entries of translated regions and of those built before it)."""
        module = ir.Module()
        module.triple = self.target.triple
        built = self.building = {}
        for key, plan in plans.items():
            if any(key in _inner(k, info) for k, info in built.items()):
                continue
            try:
                built[key] = RegionEmitter(module, f"{_PLACEHOLDER}{len(built)}", key[0], plan).translate()
            except Untranslatable:
                self.stats.failed += 1
                return self._compile({k: p for k, p in plans.items() if k != key})
        self.building = {}
        if not built:
            return built
        if self.translated_insns + sum(i.instructions for i in built.values()) > self.max_insns:
            self.flush()
        self._load(str(module), built.values())
        for key, info in built.items():
            self._install(key, info, self.engine.get_function_address(info.name))
        _perf_map(built)
        for key, info in built.items():
            self._link(key, info)
        return built

    def _load(self, text: str, regions) -> None:
        """Compile a batch's IR (or take its object from the disk cache) into
        the execution engine.  Symbols are named by the content hash, so an
        object from disk defines the names this run expects."""
        key = self.disk.key("jit", _sources(), f"O{self.opt_level}", text)
        prefix = f"r{key[4:28]}_"
        if key in self._loaded:   # the same batch again (after an invalidation): fresh names
            prefix += f"{next(self._names)}_"
        for info in regions:
            info.name = info.name.replace(_PLACEHOLDER, prefix)
            info.chain_global = info.chain_global.replace(_PLACEHOLDER, prefix)
        text = text.replace(_PLACEHOLDER, prefix)
        obj = self.disk.get(key) if key not in self._loaded else None
        self._from_disk = (key, obj) if obj is not None else None
        if obj is not None:
            mod = llvm.parse_assembly("")   # _cached_object supplies the code
            self.stats.disk_hits += 1
        else:
            mod = llvm.parse_assembly(text)
            mod.verify()
            self._optimize(mod)
            self._dump(key, text, mod)
        mod.name = key if key not in self._loaded else ""
        self._loaded.add(key)
        self.engine.add_module(mod)
        self.engine.finalize_object()

    def _cached_object(self, module: llvm.ModuleRef) -> bytes | None:
        if self._from_disk and module.name == self._from_disk[0]:
            return self._from_disk[1]
        return None

    def _compiled_object(self, module: llvm.ModuleRef, obj: bytes) -> None:
        if module.name.startswith("jit-"):   # not the engine's empty first module
            self.disk.put(module.name, obj)

    def _dump(self, key: str, text: str, mod: llvm.ModuleRef) -> None:
        """BT_VMM_JIT_DUMP=dir: write each batch's IR, optimised IR and assembly there."""
        where = os.environ.get("BT_VMM_JIT_DUMP")
        if not where:
            return
        d = pathlib.Path(where)
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{key[:24]}.ll").write_text(text)
        (d / f"{key[:24]}.opt.ll").write_text(str(mod))
        (d / f"{key[:24]}.s").write_text(self.target.emit_assembly(mod))

    # --- the native table ---
    def _link(self, key: Key, info: RegionInfo) -> None:
        """Point the region's chain slots at translated targets; the others
        wait in ``links`` for their target (process VM: vpc = paddr)."""
        if not info.chains:
            return
        base = self.engine.get_global_value_address(info.chain_global)
        for i, target in enumerate(info.chains):
            tkey = (target, target, key[2])
            self.links.setdefault(tkey, []).append(base + 8 * i)
            if tkey in self.entries:
                _set_slot(base + 8 * i, self.entries[tkey].address)

    def _resize_table(self, size: int) -> None:
        self._table = ffi.new("jit_entry_t[]", size)
        self.ctx.table = self._table
        self.ctx.mask = size - 1
        lib.bt_jit_clear(self.ctx)   # and the indirect-jump cache
        for (vpc, paddr, mode), info in self.entries.items():
            lib.bt_jit_insert(self.ctx, vpc, paddr, mode, info.address)

    def _install(self, key: Key, info: RegionInfo, address: int) -> None:
        info.address = address
        self.entries[key] = info
        self.translated_insns += info.instructions
        self.inner |= _inner(key, info)
        base = self.hart.ptr.ram_base // PAGE
        for page in info.pages:
            self.page_regions.setdefault(page, set()).add(key)
            if 0 <= page - base < self._npages:
                self._code_pages[page - base] |= lib.JIT_PAGE_CODE
        for slot in self.links.get(key, ()):
            _set_slot(slot, address)
        if 2 * len(self.entries) > self.ctx.mask + 1:
            self._resize_table(2 * (self.ctx.mask + 1))   # reinserts everything
        else:
            lib.bt_jit_insert(self.ctx, *key, address)

    def __contains__(self, key: Key) -> bool:
        return key in self.entries

    # --- invalidation ---
    def invalidate_written(self) -> None:
        """Drop the translations on pages the guest wrote (self-modifying code)."""
        c = self.ctx
        if c.smc_count > lib.JIT_SMC_MAX:
            self.flush()
            return
        base = self.hart.ptr.ram_base // PAGE
        pages = {base + c.smc_pages[i] for i in range(c.smc_count)}
        c.smc_count = 0
        for page in pages:
            self.stats.invalidations += 1
            for key in self.page_regions.pop(page, set()):
                info = self.entries.pop(key, None)
                if info:
                    self.translated_insns -= info.instructions
                for slot in self.links.get(key, ()):
                    _set_slot(slot, 0)
            self._code_pages[page - base] &= ~_JIT_BITS
        # Other pages may have lost regions too: recompute their code bits.
        live = {p for info in self.entries.values() for p in info.pages}
        self.inner = set().union(*(_inner(k, info) for k, info in self.entries.items()))
        for page in list(self.page_regions):
            self.page_regions[page] = {k for k in self.page_regions[page] if k in self.entries}
            if page not in live:
                del self.page_regions[page]
                self._code_pages[page - base] &= ~_JIT_BITS
        self._resize_table(self.ctx.mask + 1)

    def flush(self) -> None:
        """Forget every translation (cache full, fence.i, many code writes)."""
        self.stats.flushes += 1
        self.ctx.smc_count = 0
        lib.bt_jit_clear_pages(self.ctx)
        self._new_engine()
