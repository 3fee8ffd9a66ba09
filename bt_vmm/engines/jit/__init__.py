"""The JIT: guest code translated through llvmlite from the one ISA
description, run from a native dispatch loop (ARCHITECTURE.md)."""
from bt_vmm.engines.jit.engine import JitEngine

__all__ = ["JitEngine"]
