"""The embedding API: open a guest program, run it, look inside.

    import bt_vmm
    with bt_vmm.open("hello.elf", argv=["hello", "world"]) as vm:
        result = vm.run(max_insns=1_000_000)
        print(result.status, vm.pc, vm.reg("a0"), vm.csr("instret"))

The CLI is a thin layer over this module.
"""
from __future__ import annotations

import functools
from typing import TextIO

from bt_vmm._core import ffi, lib
from bt_vmm.cpu.csrs import csr_number
from bt_vmm.engines import DEFAULT_ENGINE, engine_class
from bt_vmm.errors import VMMError
from bt_vmm.machines.bare import BareMachine
from bt_vmm.machines.base import Machine, RunResult
from bt_vmm.machines.elf import load_elf
from bt_vmm.machines.user import UserMachine


class VM:
    """One guest program in its machine: run it, read and change its state.

    Memory addresses are the guest's: virtual addresses in the process VM
    (which has no MMU of its own), physical addresses on the bare machine.
    """

    def __init__(self, machine: Machine):
        self.machine = machine
        self.hart = machine.hart

    # --- running ---
    def run(self, max_insns: int | None = None, timeout: float | None = None) -> RunResult:
        """Run until the guest exits or faults, or a limit stops it."""
        return self.machine.run(max_insns=max_insns, timeout=timeout)

    def stop(self) -> None:
        """Ask a run in another thread to stop at the next instruction boundary."""
        self.machine.request_exit()

    @property
    def instructions(self) -> int:
        """Instructions retired since the program started."""
        return self.hart.ptr.minstret

    # --- registers ---
    def reg(self, name: str) -> int:
        """A register by ABI or x/f name (``a0``, ``x10``, ``fa0``, ``pc``)."""
        return self.hart.reg(name)

    def set_reg(self, name: str, value: int) -> None:
        self.hart.set_reg(name, value)

    @property
    def pc(self) -> int:
        return self.hart.ptr.pc

    @pc.setter
    def pc(self, value: int) -> None:
        self.hart.set_reg("pc", value)

    def csr(self, name: str | int) -> int:
        """A CSR by name (``mstatus``) or number, as the hart holds it."""
        number = name if isinstance(name, int) else csr_number(name)
        out = ffi.new("uint64_t *")
        if lib.bt_csr_peek(self.hart.ptr, number, out):
            raise KeyError(f"this hart has no CSR {name!r}")
        return out[0]

    def set_csr(self, name: str | int, value: int) -> None:
        number = name if isinstance(name, int) else csr_number(name)
        if lib.bt_csr_poke(self.hart.ptr, number, value & ((1 << 64) - 1)):
            raise KeyError(f"CSR {name!r} does not exist or is read-only")

    # --- memory ---
    def read_memory(self, addr: int, n: int) -> bytes:
        """``n`` bytes of guest memory at ``addr`` (ValueError outside RAM)."""
        return self.hart.read_phys(addr, n)

    def write_memory(self, addr: int, data: bytes) -> None:
        self.hart.write_phys(addr, bytes(data))

    def symbol(self, name: str) -> int:
        """The address of a symbol of the loaded program."""
        try:
            return self.machine.program.symbols[name]
        except KeyError:
            raise KeyError(f"the program has no symbol {name!r}") from None

    # --- lifetime ---
    def close(self, wait: bool = True) -> None:
        """Release the VM; ``wait``: until background compilation has
        stopped (False: a translation being built finishes on its own)."""
        self.machine.close(wait)

    def __enter__(self) -> VM:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def is_bare_metal(path: str) -> bool:
    """Programs that define ``tohost`` run on the bare machine (HTIF convention)."""
    return "tohost" in load_elf(path).symbols


def open(  # noqa: A001 - bt_vmm.open reads naturally, like io.open
    path: str,
    argv: list[str] | None = None,
    *,
    engine: str = DEFAULT_ENGINE,
    memory: int | None = None,
    env: list[str] | None = None,
    tracer=None,
    syscall_trace: TextIO | None = None,
    engine_options: dict | None = None,
) -> VM:
    """Load ``path`` into the machine it needs and return it, ready to run.

    ``argv`` (user mode) is the guest's whole vector and defaults to
    ``[path]``; ``env`` defaults to the host's environment.  ``memory`` is the
    RAM size in bytes (default: 128 MiB bare metal, 2 GiB reserved user mode).
    ``engine_options`` go to the engine's constructor (the JIT: ``tb_size``).
    """
    if engine_options:
        engine = functools.partial(engine_class(engine), **engine_options)
    sized = {} if memory is None else {"memory": memory}
    if is_bare_metal(path):
        if argv and len(argv) > 1:
            raise VMMError(f"{path}: a bare-metal program takes no arguments")
        if syscall_trace is not None:
            raise VMMError("system-call tracing applies to user-mode programs only")
        return VM(BareMachine(path, engine=engine, tracer=tracer, **sized))
    argv = [path] if argv is None else list(argv)
    return VM(UserMachine(path, argv, env, engine=engine, tracer=tracer, syscall_trace=syscall_trace, **sized))
