"""LLVM's process-wide set-up, in one place for every tier that compiles:
the native target and the code generator options (LLVM keeps options per
process, so they also go into the disk cache's key, see diskcache._host)."""
from __future__ import annotations

from functools import cache

from llvmlite import binding as llvm

CODEGEN_OPTIONS = (
    # Keep the guest's rarely taken branches (exit checks, slow memory
    # paths) as branches: SimplifyCFG folded them into setcc/and chains
    # computed on every pass, and matmul's loop ran 45% slower.
    "-simplifycfg-branch-fold-threshold=0",
    # Loop strength reduction, given a region loop's many exits, made extra
    # induction variables and spills (matmul's loop ~25% slower).
    "-disable-lsr",
)


@cache
def init_llvm() -> None:
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    for option in CODEGEN_OPTIONS:
        llvm.set_option("", option)
