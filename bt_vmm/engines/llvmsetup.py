"""LLVM's process-wide set-up, in one place for every tier that compiles:
the native target and the code generator options (LLVM keeps options per
process, so they also go into the disk cache's key, see diskcache._host).
The LLVM library is loaded here, on first use: a run that only loads
stored code (see native.py) never loads it."""
from __future__ import annotations

from functools import cache
from types import ModuleType

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
def init_llvm() -> ModuleType:
    """llvmlite.binding, set up."""
    from llvmlite import binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    for option in CODEGEN_OPTIONS:
        llvm.set_option("", option)
    return llvm


def host_target(opt: int):
    """A target machine for this host's CPU, generating code for loading
    into this process (the large code model: any distance to the C core)."""
    llvm = init_llvm()
    return llvm.Target.from_default_triple().create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(), opt=opt, jit=True)
