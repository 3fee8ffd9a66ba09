"""Compiling the fast interpreter's handlers, once per process.

The generic handlers of every spec (one set per machine kind: the memory
fast path differs) are one LLVM module, compiled at O2 the first time a
fast interpreter of that kind starts and kept in an on-disk object cache
keyed by everything the code depends on (the ISA description and this
package's sources, llvmlite's version, the host CPU, the hart layout), so
later processes load machine code instead of compiling.  Handlers
specialised on one instruction's fields are compiled on demand, in batches.
"""
from __future__ import annotations

import hashlib
import json
import os
import pathlib
import sys
import time
from itertools import count

import llvmlite
from llvmlite import binding as llvm
from llvmlite import ir

from bt_vmm._core import ffi, lib
from bt_vmm.engines.fast.handlers import HandlerEmitter, NeedsConcrete, layout_of
from bt_vmm.engines.jit.layout import c_function
from bt_vmm.isa import REGISTRY

SpecialKey = tuple[bool, str, tuple[int, ...]]   # (system, spec name, fields)


def cache_dir() -> pathlib.Path:
    """BT_VMM_CACHE, else $XDG_CACHE_HOME/bt-vmm, else ~/.cache/bt-vmm."""
    where = os.environ.get("BT_VMM_CACHE")
    if where:
        return pathlib.Path(where)
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "bt-vmm"


def _source_digest() -> str:
    """What generic handlers are derived from: ISA modules, this package,
    the shared LLVM backend, llvmlite, the host CPU and the C layouts."""
    h = hashlib.sha256()
    modules = sorted({s.module for s in REGISTRY.insns.values()} | {c.module for c in REGISTRY.compressed.values()}
                     | {"bt_vmm.isa.spec", "bt_vmm.engines.jit.backend", "bt_vmm.engines.jit.layout",
                        "bt_vmm.engines.fast.handlers", __name__})
    for name in modules:
        path = getattr(sys.modules.get(name), "__file__", None)
        if path:
            h.update(name.encode() + pathlib.Path(path).read_bytes())
    h.update(llvmlite.__version__.encode())
    h.update(llvm.get_host_cpu_name().encode() + llvm.get_host_cpu_features().flatten().encode())
    for struct in ("hart_t", "fi_ctx_t", "fi_entry_t", "tlb_entry_t"):
        h.update(repr([(n, f.offset) for n, f in ffi.typeof(struct).fields]).encode())
    return h.hexdigest()[:24]


def _prune(stem: pathlib.Path) -> None:
    """Drop the objects of older sources (the cache holds one per machine kind)."""
    kind = stem.name.rsplit("-", 1)[0]
    for old in stem.parent.glob(f"{kind}-*"):
        if old.stem.split(".")[0] != stem.name:
            old.unlink(missing_ok=True)


class HandlerCompiler:
    """The process's handlers: addresses by spec (generic) or by instruction."""

    def __init__(self) -> None:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        self.target = llvm.Target.from_default_triple().create_target_machine(opt=2, jit=True)
        empty = llvm.parse_assembly("")
        empty.triple = self.target.triple
        self.engine = llvm.create_mcjit_compiler(empty, self.target)
        self.engine.set_object_cache(self._notify, self._cached_object)
        self._pending_object: pathlib.Path | None = None
        self._loaded_object: bytes | None = None
        self.generic: dict[bool, dict[str, int]] = {}
        self.special: dict[SpecialKey, int] = {}
        self._names = count()
        self.compile_seconds = 0.0
        self.loaded_from_disk = False
        for name in dir(lib):   # every C function generated code may call, resolvable by name
            if name.startswith(("bt_", "fi_")):
                c_function(name)

    # --- the object cache hooks MCJIT calls ---
    def _notify(self, module, buffer: bytes) -> None:
        if self._pending_object is not None:
            tmp = self._pending_object.with_suffix(f".{os.getpid()}.tmp")
            try:
                tmp.write_bytes(buffer)
                tmp.replace(self._pending_object)   # atomic: concurrent processes see all or nothing
            except OSError:
                pass  # no cache: only the next start is slower

    def _cached_object(self, module) -> bytes | None:
        return self._loaded_object

    # --- generic handlers ---
    def generic_handlers(self, system: bool) -> dict[str, int]:
        """Addresses of the generic handler of each spec that has one."""
        if system not in self.generic:
            self.generic[system] = self._load_generic(system)
        return self.generic[system]

    def _load_generic(self, system: bool) -> dict[str, int]:
        t0 = time.perf_counter()
        stem = cache_dir() / f"fast-{'system' if system else 'user'}-{_source_digest()}"
        obj, meta = stem.with_suffix(".o"), stem.with_suffix(".json")
        names = self._read_meta(meta) if obj.exists() else None
        if names is not None:
            self._loaded_object = obj.read_bytes()
            module = llvm.parse_assembly("")   # the object stands in for the IR
            self.loaded_from_disk = True
        else:
            module, names = self._generic_module(system)
            self._pending_object = obj if self._cache_writable(meta, names) else None
            _prune(stem)
        module.triple = self.target.triple
        self.engine.add_module(module)
        self.engine.finalize_object()
        self._loaded_object = self._pending_object = None
        addresses = {spec: self.engine.get_function_address(fn) for spec, fn in names.items()}
        self.compile_seconds += time.perf_counter() - t0
        if not all(addresses.values()):
            raise RuntimeError("fast interpreter: handler object cache is inconsistent; remove " + str(stem))
        return addresses

    @staticmethod
    def _read_meta(meta: pathlib.Path) -> dict[str, str] | None:
        try:
            return json.loads(meta.read_text())
        except (OSError, ValueError):
            return None

    @staticmethod
    def _cache_writable(meta: pathlib.Path, names: dict[str, str]) -> bool:
        try:
            meta.parent.mkdir(parents=True, exist_ok=True)
            tmp = meta.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(names))
            tmp.replace(meta)
            return True
        except OSError:
            return False

    def _generic_module(self, system: bool) -> tuple[llvm.ModuleRef, dict[str, str]]:
        module = ir.Module(name=f"fast_{'system' if system else 'user'}")
        module.triple = self.target.triple
        names: dict[str, str] = {}
        for i, spec in enumerate(REGISTRY.insns.values()):
            if not layout_of(spec).generic:
                continue
            name = f"fi_{'s' if system else 'u'}_{i}"
            emitter = HandlerEmitter(module, name, spec, system)
            try:
                emitter.emit()
            except NeedsConcrete:
                emitter.fn.blocks.clear()   # left as an unused declaration
                continue
            names[spec.name] = name
        return self._optimize(module), names

    # --- specialised handlers ---
    def specialise(self, keys: list[SpecialKey]) -> None:
        """Compile handlers for these instructions, all in one module."""
        keys = [k for k in dict.fromkeys(keys) if k not in self.special]
        if not keys:
            return
        t0 = time.perf_counter()
        module = ir.Module(name=f"fast_special{next(self._names)}")
        module.triple = self.target.triple
        names = {}
        for system, spec_name, args in keys:
            names[(system, spec_name, args)] = name = f"fi_x{next(self._names)}"
            HandlerEmitter(module, name, REGISTRY.insns[spec_name], system, args).emit()
        self.engine.add_module(self._optimize(module))
        self.engine.finalize_object()
        for key, name in names.items():
            self.special[key] = self.engine.get_function_address(name)
        self.compile_seconds += time.perf_counter() - t0

    def _optimize(self, module: ir.Module) -> llvm.ModuleRef:
        mod = llvm.parse_assembly(str(module))
        mod.verify()
        pb = llvm.create_pass_builder(self.target, llvm.PipelineTuningOptions(speed_level=2))
        pb.getModulePassManager().run(mod, pb)
        return mod


_COMPILER: HandlerCompiler | None = None


def compiler() -> HandlerCompiler:
    """The process-wide handler compiler (handlers do not depend on the hart)."""
    global _COMPILER
    if _COMPILER is None:
        _COMPILER = HandlerCompiler()
    return _COMPILER

