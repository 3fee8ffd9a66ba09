"""The JIT: guest code translated through llvmlite from the one ISA
description, run from a native dispatch loop (ARCHITECTURE.md)."""
from __future__ import annotations

__all__ = ["JitEngine"]


def __getattr__(name: str):
    # Lazy: the fast tier imports this package's LLVM backend, and the JIT
    # engine imports the fast tier (its cold tier).
    if name == "JitEngine":
        from bt_vmm.engines.jit.engine import JitEngine
        return JitEngine
    raise AttributeError(name)
