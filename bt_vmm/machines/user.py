"""The user-mode process VM: one static riscv64 Linux program, the VMM as its kernel.

Guest virtual addresses are offsets into one host buffer (the hart's RAM at
address 0, with the first 64 KiB a guard so NULL dereferences fault).  The
engine stops on every trap (EXIT_USER_TRAP): an ``ecall`` is a Linux system
call, emulated by bt_vmm.linux_user and resumed after; any other trap ends
the process the way Linux's signal would, with status 128+signal.
"""
from __future__ import annotations

import os
from typing import TextIO

from bt_vmm._core import lib
from bt_vmm.cpu.hart import Hart
from bt_vmm.errors import VMMError
from bt_vmm.isa import DECODER, IllegalInstruction
from bt_vmm.linux_user.abi import signal_name
from bt_vmm.linux_user.loader import STACK_SIZE, build_stack, load_image, store_floor
from bt_vmm.linux_user.memory import PAGE, AddressSpace, GuestFault, GuestMemory
from bt_vmm.linux_user.process import Process
from bt_vmm.linux_user.table import ProcessExit
from bt_vmm.machines.base import Machine, RunResult
from bt_vmm.machines.elf import load_elf

M64 = (1 << 64) - 1
LOW_GUARD = 0x10000
MIN_MEMORY = 2 * STACK_SIZE

# Trap cause -> (signal, what happened), as Linux's riscv trap handlers map them.
_FAULTS = {
    lib.EXC_INSN_MISALIGNED: (7, "instruction address misaligned"),
    lib.EXC_INSN_ACCESS: (11, "instruction access fault"),
    lib.EXC_ILLEGAL_INSN: (4, "illegal instruction"),
    lib.EXC_BREAKPOINT: (5, "breakpoint"),
    lib.EXC_LOAD_MISALIGNED: (7, "load address misaligned"),
    lib.EXC_LOAD_ACCESS: (11, "load access fault"),
    lib.EXC_STORE_MISALIGNED: (7, "store/AMO address misaligned"),
    lib.EXC_STORE_ACCESS: (11, "store/AMO access fault"),
    lib.EXC_INSN_PAGE_FAULT: (11, "instruction page fault"),
    lib.EXC_LOAD_PAGE_FAULT: (11, "load page fault"),
    lib.EXC_STORE_PAGE_FAULT: (11, "store/AMO page fault"),
}


# The guest's address space.  Up to 2 GiB the JIT's bounds check on each
# guest access compares with an immediate; above, with a constant that
# takes one of the host's registers in every translated loop (sha256 and
# intmix ran ~3% slower at 4 GiB).
DEFAULT_MEMORY = 2 << 30


class UserMachine(Machine):
    """Run a static riscv64 Linux ELF; ``argv`` is the whole vector, argv[0] included."""

    def __init__(
        self,
        path: str,
        argv: list[str],
        env: list[str] | None = None,
        *,
        engine: str = "interp",
        tracer=None,
        syscall_trace: TextIO | None = None,
        memory: int = DEFAULT_MEMORY,
    ):
        if memory < MIN_MEMORY or memory % PAGE:
            raise VMMError(f"user-mode memory must be a multiple of 4 KiB and at least {MIN_MEMORY >> 20} MiB")
        program = load_elf(path)
        hart = Hart(ram_base=0, ram_size=memory, machine_kind=lib.MACHINE_USER, low_guard=LOW_GUARD)
        hart.ptr.store_floor = store_floor(program)   # (before the engine: its translations start from it)
        super().__init__(hart, engine, tracer)
        self.mem = GuestMemory(hart.ram, LOW_GUARD, lambda addr, n: lib.bt_wrote(hart.ptr, addr, n))
        stack_bottom = memory - STACK_SIZE
        env = [f"{k}={v}" for k, v in os.environ.items()] if env is None else env
        try:
            bias, image_end = load_image(self.mem, program, stack_bottom)
            sp = build_stack(self.mem, memory, program, bias, argv, env)
        except VMMError:
            hart.close()
            raise
        self.space = AddressSpace(self.mem, image_end, stack_bottom - PAGE)
        self.process = Process(
            self.mem, self.space, path, trace=syscall_trace, should_stop=lambda: bool(hart.ptr.exit_request & lib.EXIT_REQ_STOP)
        )
        hart.set_reg("sp", sp)
        hart.set_reg("pc", program.entry + bias)
        self.program = program

    def close(self, wait: bool = True) -> None:
        """Release the host descriptors the guest holds."""
        super().close(wait)
        self.process.close()

    def __enter__(self) -> UserMachine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def handle_exit(self, reason: int) -> RunResult | None:
        h = self.hart.ptr
        if reason != lib.EXIT_USER_TRAP:
            return RunResult("error", 3, f"unexpected engine exit {reason} at pc 0x{h.pc:x}")
        if h.scause == lib.EXC_ECALL_U:
            return self._syscall(h)
        return self._fault(h.scause, h.stval, h.pc)

    def _syscall(self, h) -> RunResult | None:
        # The ecall retires: the process resumes after it, as after a Linux syscall.
        h.pc = (h.pc + 4) & M64
        h.minstret += 1
        try:
            result = self.process.dispatch(h.x[17], [h.x[10 + i] for i in range(6)])
        except ProcessExit as end:
            return RunResult(end.reason, end.status, end.message)
        h.x[10] = result & M64
        return None

    def _fault(self, cause: int, tval: int, pc: int) -> RunResult:
        sig, what = _FAULTS.get(cause, (11, f"trap cause {cause}"))
        detail = what if cause in (lib.EXC_ILLEGAL_INSN, lib.EXC_BREAKPOINT) else f"{what} at 0x{tval:x}"
        message = f"{signal_name(sig)} ({detail}) at pc 0x{pc:x}: {self._disassemble(pc)}"
        return RunResult("signal", 128 + sig, message)

    def _disassemble(self, pc: int) -> str:
        try:
            raw = int.from_bytes(self.mem.read(pc, 2), "little")
            if raw & 3 == 3:
                raw = int.from_bytes(self.mem.read(pc, 4), "little")
        except GuestFault:
            return "<no instruction: address not mapped>"
        try:
            decoded = DECODER.decode(raw)
        except IllegalInstruction:
            return f".insn 0x{raw:x}"
        try:
            from bt_vmm.isa.disasm import disassemble
        except ImportError:
            return decoded.spec.name
        return disassemble(decoded, pc).replace("\t", " ")
