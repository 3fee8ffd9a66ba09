"""Shared helpers for the user-mode tests: building guests and running them."""
from __future__ import annotations

import pathlib

from guestbuild import build

from bt_vmm.machines.base import RunResult
from bt_vmm.machines.user import UserMachine

HERE = pathlib.Path(__file__).resolve().parent
ASM_FLAGS = ["-nostdlib", "-static", "-mabi=lp64", "-Wl,--build-id=none"]
C_FLAGS = ["-static", "-O2", "-Wall"]
MEMORY = 256 << 20   # small guests: keep the tests light on host memory


def asm_program(name: str, march: str = "rv64i") -> pathlib.Path:
    """Hand-written programs need only RV64I unless they say otherwise."""
    return build("user", [HERE / "asm" / f"{name}.S"], [f"-march={march}", *ASM_FLAGS], name)


def c_program(name: str) -> pathlib.Path:
    return build("user", [HERE / "c" / f"{name}.c"], C_FLAGS, name)


def run(path: pathlib.Path, args: list[str] = (), engine: str = "interp", env: list[str] | None = None,
        max_insns: int = 20_000_000, timeout: float | None = None, **kw) -> RunResult:
    """Run a guest to completion (argv[0] is the program path) and close the machine."""
    machine = UserMachine(str(path), [str(path), *args], env=[] if env is None else env, engine=engine,
                          memory=kw.pop("memory", MEMORY), **kw)
    try:
        return machine.run(max_insns=max_insns, timeout=timeout)
    finally:
        machine.close()
