"""bt-vmm: a RISC-V (RV64GC) virtual machine monitor.

    import bt_vmm
    with bt_vmm.open("prog.elf", argv=["prog", "arg"]) as vm:
        result = vm.run(max_insns=10_000_000)

The API (bt_vmm.api) is imported on first use, so ``import bt_vmm.isa`` and
friends stay light.
"""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["VM", "RunResult", "open", "ENGINES"]


def __getattr__(name: str):
    if name in ("VM", "open"):
        from bt_vmm import api

        return getattr(api, name)
    if name == "RunResult":
        from bt_vmm.machines.base import RunResult

        return RunResult
    if name == "ENGINES":
        from bt_vmm.engines import ENGINES

        return ENGINES
    raise AttributeError(f"module 'bt_vmm' has no attribute {name!r}")
