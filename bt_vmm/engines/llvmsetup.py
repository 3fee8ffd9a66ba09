"""LLVM's process-wide set-up, in one place for every tier that compiles:
the native target and the code generator options (LLVM keeps options per
process, so they also go into the disk cache's key, see diskcache._host).
The LLVM library is loaded here, on first use: a run that only loads
stored code (see native.py) never loads it."""
from __future__ import annotations

import os
import pathlib
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
    # Align every block no fall-through reaches (16 bytes): the loops of a
    # region with entries at its loop headers are not natural loops, which
    # LLVM aligns; where they fell was a lottery (matmul's warm runs took
    # 0.93 or 1.10 s by the cache's luck, now 0.90-0.91; intmix -4.6%).
    "-align-all-nofallthru-blocks=4",
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
    into a process on it (the large code model: any distance to the C core)."""
    llvm = init_llvm()
    return llvm.Target.from_default_triple().create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(), opt=opt, jit=True)


@cache
def _region_target(level: int):
    # Level 0: fast instruction selection and register allocation, which
    # spills every guest register; the full code generator is worth its
    # compile time from level 1 on (~2x the speed of the code).
    return host_target(2 if level >= 1 else 0)


def _optimize(mod, target, level: int) -> None:
    """Level 2: LLVM's O2.  Below: promote guest registers to SSA and tidy
    up, which is most of the gain for a small part of O2's compile time."""
    llvm = init_llvm()
    pb = llvm.create_pass_builder(target, llvm.PipelineTuningOptions(speed_level=level))
    if level >= 2:
        pb.getModulePassManager().run(mod, pb)
        return
    mpm = llvm.create_new_module_pass_manager()
    mpm.add_sroa_pass()
    if level >= 1:
        mpm.add_instruction_combine_pass()
        mpm.add_simplify_cfg_pass()
    mpm.run(mod, pb)


def _compile(name: str, text: str, level: int):
    target = _region_target(level)
    mod = init_llvm().parse_assembly(text)
    mod.name, mod.triple = name, target.triple
    mod.verify()
    _optimize(mod, target, level)
    return mod, target, target.emit_object(mod)


def compile_region(name: str, text: str, level: int) -> bytes:
    """The object code of JIT module ``name`` (LLVM IR ``text``) at
    optimisation ``level`` (0-2)."""
    mod, target, obj = _compile(name, text, level)
    if (d := dump_directory()) is not None:
        (d / f"{name}.ll").write_text(text)
        (d / f"{name}.opt.ll").write_text(str(mod))
        (d / f"{name}.s").write_text(target.emit_assembly(mod))
        (d / f"{name}.o").write_bytes(obj)
    return obj


WARM_UP = "define i64 @warm_up(i64 %a) {\n  %b = add i64 %a, 1\n  ret i64 %b\n}\n"


def warm_up() -> None:
    """Load LLVM and run the first tier's pipeline once: a first compile
    costs ~10 ms more than the next ones.  (The top tier's first compile
    warms its own: a tier-up, which nothing waits for.)"""
    _compile("warm_up", WARM_UP, 1)


def dump_directory() -> pathlib.Path | None:
    """BT_VMM_JIT_DUMP=dir: where each region's IR, optimised IR, assembly
    and object go (objects loaded from the disk cache too), by region name."""
    where = os.environ.get("BT_VMM_JIT_DUMP")
    if not where:
        return None
    d = pathlib.Path(where)
    d.mkdir(parents=True, exist_ok=True)
    return d
