"""``--trace``: what the engines report, printed for a person (QEMU's -d style).

Kinds: ``in_asm`` (each instruction the first time it runs, grouped in
``IN:`` blocks), ``exec`` (every executed pc), ``cpu`` (the registers before
each instruction), ``int`` (traps and interrupts, with cause names), ``mmu``
(page walks).  ``syscalls`` is printed by the process VM itself.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from bt_vmm.cpu.hart import ABI_NAMES, Hart
from bt_vmm.errors import VMMError
from bt_vmm.isa.decoder import Decoded

if TYPE_CHECKING:   # (the disassembler loads only when a trace prints code: start-up time)
    from bt_vmm.isa.disasm import SymbolTable

TRACER_KINDS = ("in_asm", "exec", "cpu", "int", "mmu")
KINDS = (*TRACER_KINDS, "syscalls")

EXCEPTIONS = {
    0: "instruction address misaligned", 1: "instruction access fault", 2: "illegal instruction",
    3: "breakpoint", 4: "load address misaligned", 5: "load access fault",
    6: "store/AMO address misaligned", 7: "store/AMO access fault", 8: "environment call from U-mode",
    9: "environment call from S-mode", 11: "environment call from M-mode",
    12: "instruction page fault", 13: "load page fault", 15: "store/AMO page fault",
}
INTERRUPTS = {
    1: "supervisor software interrupt", 3: "machine software interrupt",
    5: "supervisor timer interrupt", 7: "machine timer interrupt",
    9: "supervisor external interrupt", 11: "machine external interrupt",
}
ACCESS = ("load", "store", "fetch")


def parse_kinds(spec: str) -> set[str]:
    """'in_asm,int' -> {'in_asm', 'int'}; unknown kinds are a one-line error."""
    kinds = {k.strip() for k in spec.split(",") if k.strip()}
    unknown = kinds - set(KINDS)
    if unknown:
        raise VMMError(f"unknown trace kind {', '.join(sorted(unknown))}; choose from {','.join(KINDS)}")
    return kinds


def program_symbols(symbols: dict[str, int]) -> SymbolTable:
    """A loaded program's symbols (mapping symbols like ``$x`` left out)."""
    from bt_vmm.isa.disasm import Symbol, SymbolTable

    return SymbolTable([Symbol(a, n, 0) for n, a in symbols.items() if not n.startswith("$")])


def cause_name(cause: int, interrupt: bool) -> str:
    table = INTERRUPTS if interrupt else EXCEPTIONS
    return table.get(cause, f"{'interrupt' if interrupt else 'exception'} {cause}")


class Tracer:
    """The engine's trace hooks (bt_vmm.engines.reference.Tracer), printing to ``out``."""

    def __init__(self, kinds: set[str], out: TextIO, symbols: SymbolTable | None = None):
        self.kinds = kinds & set(TRACER_KINDS)
        self.out = out
        self.symbols = symbols or program_symbols({})
        self.hart: Hart | None = None
        self._seen: set[int] = set()
        self._next_pc: int | None = None   # where the previous instruction falls through to

    def attach(self, hart: Hart, symbols: SymbolTable | None = None) -> None:
        """Give the tracer the hart (for ``cpu``) and the program's symbols."""
        self.hart = hart
        if symbols is not None:
            self.symbols = symbols

    # --- engine hooks ---
    def insn(self, pc: int, decoded: Decoded) -> None:
        write = self.out.write
        if "cpu" in self.kinds and self.hart is not None:
            write(self._registers(pc))
        if "exec" in self.kinds:
            write(f"Trace 0x{pc:016x} {self.symbols.annotate(pc)}\n")
        if "in_asm" in self.kinds and pc not in self._seen:
            self._seen.add(pc)
            if pc != self._next_pc:
                write(f"----------------\nIN: {self.symbols.annotate(pc).strip('<>')}\n")
            write(f"0x{pc:016x}:  {decoded.raw:0{2 * decoded.length}x}  {self._text(decoded, pc)}\n")
        self._next_pc = None if decoded.spec.ends_block else pc + decoded.length

    def trap(self, pc: int, cause: int, tval: int, interrupt: bool) -> None:
        self._next_pc = None
        if "int" in self.kinds:
            kind = "interrupt" if interrupt else "exception"
            self.out.write(f"{kind} {cause} ({cause_name(cause, interrupt)}) at pc 0x{pc:x}, tval 0x{tval:x}\n")

    def mmu(self, vaddr: int, acc: int, paddr: int, cause: int | None) -> None:
        if "mmu" not in self.kinds:
            return
        what = ACCESS[acc] if 0 <= acc < len(ACCESS) else f"access {acc}"
        if cause is None:
            self.out.write(f"mmu: {what} 0x{vaddr:x} -> 0x{paddr:x}\n")
        else:
            self.out.write(f"mmu: {what} 0x{vaddr:x} -> fault {cause} ({cause_name(cause, False)})\n")

    def _text(self, decoded: Decoded, pc: int) -> str:
        from bt_vmm.isa.disasm import render

        text, target = render(decoded, pc)
        if target is not None:
            text += f" {self.symbols.annotate(target)}"
        return text.replace("\t", " ")

    def _registers(self, pc: int) -> str:
        x = self.hart.ptr.x
        lines = [f" pc       {pc:016x}"]
        for row in range(0, 32, 4):
            lines.append(" ".join(f"{f'x{i}/{ABI_NAMES[i]}':<8} {x[i]:016x}" for i in range(row, row + 4)))
        return "\n".join(lines) + "\n"
