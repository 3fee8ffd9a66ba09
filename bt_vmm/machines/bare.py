"""The bare-metal machine: an ELF with a ``tohost`` symbol, run from M-mode.

The memory map follows QEMU's virt board where it matters to such programs:
RAM at 0x80000000, the CLINT at 0x2000000 and a 16550 UART at 0x10000000.
The program ends through HTIF (bt_vmm.devices.htif).
"""
from __future__ import annotations

from bt_vmm._core import lib
from bt_vmm.cpu.hart import Hart
from bt_vmm.devices.clint import CLINT_BASE, CLINT_SIZE, Clint
from bt_vmm.devices.htif import Htif, HtifError, write_stream
from bt_vmm.devices.uart16550 import UART_BASE, UART_SIZE, Uart16550
from bt_vmm.errors import BadProgram, VMMError
from bt_vmm.machines.base import Machine, RunResult
from bt_vmm.machines.elf import Program, load_elf

RAM_BASE = 0x80000000
PAGE = 4096


def _check_layout(path: str, program: Program, memory: int) -> int:
    """Every segment and tohost inside RAM; returns the tohost address."""
    ram_end = RAM_BASE + memory
    for seg in program.segments:
        if not RAM_BASE <= seg.paddr <= ram_end - seg.memsz:
            raise BadProgram(
                f"{path}: segment at 0x{seg.paddr:x} (0x{seg.memsz:x} bytes) lies outside "
                f"RAM 0x{RAM_BASE:x}-0x{ram_end - 1:x}"
            )
    tohost = program.symbols.get("tohost")
    if tohost is None:
        raise BadProgram(f"{path}: no 'tohost' symbol: a bare-metal program reports its exit through HTIF tohost")
    for name in ("tohost", "fromhost"):
        addr = program.symbols.get(name, RAM_BASE)
        if not RAM_BASE <= addr <= ram_end - 8:
            raise BadProgram(f"{path}: {name} at 0x{addr:x} is outside RAM")
    return tohost


class BareMachine(Machine):
    """Runs a bare-metal ELF in M-mode until it writes its exit code to tohost."""

    def __init__(self, path: str, *, memory: int = 128 << 20, engine: str = "interp", tracer=None):
        if memory <= 0 or memory % PAGE:
            raise VMMError(f"memory size {memory} is not a positive multiple of {PAGE}")
        program = load_elf(path)
        tohost = _check_layout(path, program, memory)
        hart = Hart(RAM_BASE, memory, lib.MACHINE_SYSTEM)
        for seg in program.segments:
            hart.write_phys(seg.paddr, seg.data)  # the rest of memsz is fresh, zeroed RAM
        h = hart.ptr
        h.pc = program.entry
        h.tohost_addr = tohost
        lib.bt_tlb_flush(h)  # no store translation of the tohost page may survive
        self.htif = Htif(hart, tohost, program.symbols.get("fromhost"))
        self.uart = Uart16550(lambda data: write_stream(1, data))
        hart.map_device(CLINT_BASE, CLINT_SIZE, Clint(hart))
        hart.map_device(UART_BASE, UART_SIZE, self.uart)
        hart.tracer = tracer
        h.trace_mmu = 1 if tracer is not None and hasattr(tracer, "mmu") else 0
        self.program = program
        super().__init__(hart, engine, tracer)

    def handle_exit(self, reason: int) -> RunResult | None:
        h = self.hart.ptr
        if reason == lib.EXIT_HALT:
            try:
                outcome = self.htif.handle(h.tohost_value)
            except HtifError as exc:
                return RunResult("error", 1, f"{exc} at pc 0x{h.pc:x}")
            return None if outcome is None else RunResult("exit", outcome.code)
        if reason == lib.EXIT_TRAP_LOOP:
            cause = h.mcause if h.priv == lib.PRV_M else h.scause
            return RunResult(
                "error", 1, f"guest stuck: the trap handler at 0x{h.pc:x} traps on itself (cause {cause})"
            )
        return RunResult("error", 3, f"unexpected engine exit {reason} at pc 0x{h.pc:x}")
