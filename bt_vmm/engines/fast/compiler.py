"""Compiling the fast interpreter's handlers, once per process.

The generic handlers of every spec (one set per machine kind: the memory
fast path differs) are one LLVM module, compiled at O2 the first time a
fast interpreter of that kind starts and kept in an on-disk object cache
keyed by everything the code depends on (the ISA description and this
package's sources, llvmlite's version, the host CPU, the hart layout), so
later processes load machine code instead of compiling (native.py loads
it, without LLVM).  Handlers specialised on one instruction's fields (the
few semantics that test a field in Python) are compiled on demand and kept
in the disk cache as well, one object each.
"""
from __future__ import annotations

import hashlib
import json
import pathlib
import sys
import time
from itertools import count

from bt_vmm.engines.jit import textir as ir

from bt_vmm._core import lib
from bt_vmm.cpu.callouts import CALLOUTS
from bt_vmm.engines.diskcache import DiskCache, default_directory
from bt_vmm.engines.fast.handlers import HandlerEmitter, NeedsConcrete, layout_of
from bt_vmm.engines.llvmsetup import init_llvm
from bt_vmm.engines.native import NativeObject
from bt_vmm.errors import VMMError
from bt_vmm.isa import REGISTRY

SpecialKey = tuple[bool, str, tuple[int, ...]]   # (system, spec name, fields)
DISK_KIND = "fast"   # the disk-cache kind of the handlers' objects
SPECIAL_KIND = "fast-x"   # ... and of the specialised ones, one per instruction
SPECIAL_NAME = "handler"  # the function of a specialised handler's object


def source_digest() -> str:
    """What generic handlers are derived from: ISA modules, this package and
    the shared LLVM backend (the disk cache adds the host and C layouts)."""
    h = hashlib.sha256()
    modules = sorted({s.module for s in REGISTRY.insns.values()} | {c.module for c in REGISTRY.compressed.values()}
                     | {"bt_vmm.isa.spec", "bt_vmm.engines.jit.backend", "bt_vmm.engines.jit.layout",
                        "bt_vmm.engines.fast.handlers", __name__})
    for name in modules:
        path = getattr(sys.modules.get(name), "__file__", None)
        if path:
            h.update(name.encode() + pathlib.Path(path).read_bytes())
    h.update(repr(CALLOUTS).encode())   # the callout counters' numbering, from the C core
    return h.hexdigest()


class HandlerCompiler:
    """The process's handlers: addresses by spec (generic) or by instruction."""

    def __init__(self) -> None:
        self._target = None
        self._disk = DiskCache(default_directory())
        self._objects: list[NativeObject] = []   # the handlers' code: the process's lifetime
        self.generic: dict[bool, dict[str, int]] = {}
        self.special: dict[SpecialKey, int] = {}
        self._names = count()
        self.compile_seconds = 0.0
        self.loaded_from_disk = False

    @property
    def target(self):
        """The target machine (loading LLVM: only when something compiles)."""
        if self._target is None:
            self._target = init_llvm().Target.from_default_triple().create_target_machine(opt=2, jit=True)
        return self._target

    def _load(self, obj: bytes, names: dict) -> dict | None:
        """Load object code: the address of each name's function, by key;
        None if it does not load or lacks one (a damaged cache entry)."""
        try:
            loaded = NativeObject(obj)
        except VMMError:
            return None
        addresses = {key: loaded.address(fn) for key, fn in names.items()}
        if not all(addresses.values()):
            loaded.close()
            return None
        self._objects.append(loaded)
        return addresses

    def _compiled(self, module, names: dict, disk_key: str, header: bytes = b"") -> dict:
        """Compile ``module``, store its object (after ``header``), load it."""
        obj = self.target.emit_object(module)
        self._disk.put(disk_key, header + obj)
        addresses = self._load(obj, names)
        if addresses is None:
            raise RuntimeError("fast interpreter: LLVM's object for its handlers does not load")
        return addresses

    # --- generic handlers ---
    def generic_handlers(self, system: bool) -> dict[str, int]:
        """Addresses of the generic handler of each spec that has one."""
        if system not in self.generic:
            self.generic[system] = self._load_generic(system)
        return self.generic[system]

    def _load_generic(self, system: bool) -> dict[str, int]:
        t0 = time.perf_counter()
        key = self._disk.key(DISK_KIND, "system" if system else "user", source_digest())
        names, obj = _unpack(self._disk.get(key))
        addresses = self._load(obj, names) if names is not None else None
        self.loaded_from_disk = addresses is not None
        if addresses is None:
            module, names = self._generic_module(system)
            addresses = self._compiled(module, names, key, json.dumps(names).encode() + b"\n")
        self.compile_seconds += time.perf_counter() - t0
        return addresses

    def _generic_module(self, system: bool):
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
        """Handlers for these instructions: from the disk cache, else
        compiled (each an object of its own, stored for the next run: a run
        that finds them all never loads LLVM)."""
        keys = [k for k in dict.fromkeys(keys) if k not in self.special]
        if not keys:
            return
        t0 = time.perf_counter()
        for key in keys:
            system, spec_name, args = key
            disk_key = self._disk.key(SPECIAL_KIND, "system" if system else "user", spec_name, repr(args),
                                      source_digest())
            obj = self._disk.get(disk_key)
            addresses = self._load(obj, {key: SPECIAL_NAME}) if obj is not None else None
            if addresses is None:
                module = ir.Module(name=f"fast_special{next(self._names)}")
                module.triple = self.target.triple
                HandlerEmitter(module, SPECIAL_NAME, REGISTRY.insns[spec_name], system, args).emit()
                addresses = self._compiled(self._optimize(module), {key: SPECIAL_NAME}, disk_key)
            self.special.update(addresses)
        self.compile_seconds += time.perf_counter() - t0

    def _optimize(self, module: ir.Module):
        llvm = init_llvm()
        mod = llvm.parse_assembly(str(module))
        mod.verify()
        pb = llvm.create_pass_builder(self.target, llvm.PipelineTuningOptions(speed_level=2))
        pb.getModulePassManager().run(mod, pb)
        return mod


def _unpack(entry: bytes | None) -> tuple[dict[str, str] | None, bytes]:
    """(handler names by spec, object code) of a disk-cache entry; None: unusable."""
    header, _, obj = (entry or b"").partition(b"\n")
    try:
        names = json.loads(header)
    except ValueError:
        return None, b""
    usable = isinstance(names, dict) and all(isinstance(fn, str) for fn in names.values()) and obj
    return (names, obj) if usable else (None, b"")


_COMPILER: HandlerCompiler | None = None


def compiler() -> HandlerCompiler:
    """The process-wide handler compiler (handlers do not depend on the hart)."""
    global _COMPILER
    if _COMPILER is None:
        _COMPILER = HandlerCompiler()
    return _COMPILER

