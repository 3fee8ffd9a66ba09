"""Run a few encoded instructions on a fresh hart and inspect the result.

Shared by the instruction tests (integer and floating point).  The hart is a
bare-metal one (MACHINE_SYSTEM, M-mode, RAM at RAM_BASE): code goes at CODE,
and mtvec points at TRAP_VEC, a ``jal x0, 0`` loop, so a trap is observable
afterwards through mcause/mtval/mepc and ``trap_cause``.  Each step retires
one instruction (the trap loop's iterations count too), so a run always ends.

    from .harness import run_insns, trap_cause, x   # in tests/isa/test_*.py
    h = run_insns(engine, [encode("add", rd=10, rs1=11, rs2=12)], regs={"a1": 2, "a2": 3})
    assert h.reg("a0") == 5
"""
from __future__ import annotations

from bt_vmm._core import lib
from bt_vmm.cpu.hart import ABI_NAMES, FP_ABI_NAMES, Hart
from bt_vmm.engines import engine_class
from bt_vmm.isa import encode

RAM_BASE = 0x80000000
RAM_SIZE = 1 << 20
CODE = RAM_BASE
TRAP_VEC = RAM_BASE + 0x8000      # mtvec: a `jal x0, 0` loop
DATA = RAM_BASE + 0x10000         # free RAM for tests' data
FS_INITIAL = 1 << 13
M64 = (1 << 64) - 1


def _index(name: str | int, abi: list[str], prefix: str) -> int:
    if isinstance(name, int):
        return name
    if name in abi:
        return abi.index(name)
    if name == "fp":
        return 8
    if name.startswith(prefix) and name[1:].isdigit():
        return int(name[1:])
    raise KeyError(f"no register named {name!r}")


def x_index(name: str | int) -> int:
    """Integer register number from an ABI name, 'xN' or a number."""
    return _index(name, ABI_NAMES, "x")


def f_index(name: str | int) -> int:
    """FP register number from an ABI name, 'fN' or a number."""
    return _index(name, FP_ABI_NAMES, "f")


def _code_bytes(words: list[int]) -> bytes:
    """16-bit parcels for compressed instructions, 32 bits for the rest."""
    return b"".join(
        (w & 0xFFFFFFFF).to_bytes(4, "little") if w & 3 == 3 else (w & 0xFFFF).to_bytes(2, "little")
        for w in words
    )


def run_insns(
    engine: str,
    words: list[int],
    regs: dict[str | int, int] | None = None,
    fregs: dict[str | int, int] | None = None,
    steps: int | None = None,
    mem: dict[int, bytes] | None = None,
    csrs: dict[str, int] | None = None,
) -> Hart:
    """Run ``words`` from CODE under ``engine``; return the hart afterwards.

    ``steps`` defaults to one per instruction.  ``csrs`` sets hart_t fields
    by name (e.g. {"frm": 1}) after reset; mstatus.FS starts as Initial so
    FP instructions are legal.
    """
    h = Hart(RAM_BASE, RAM_SIZE, lib.MACHINE_SYSTEM)
    p = h.ptr
    h.write_phys(CODE, _code_bytes(words))
    h.write_phys(TRAP_VEC, encode("jal", rd=0, off=0).to_bytes(4, "little"))
    for addr, data in (mem or {}).items():
        h.write_phys(addr, data)
    p.pc = CODE
    p.mtvec = TRAP_VEC
    p.mstatus |= FS_INITIAL
    p.mcause = M64  # no trap yet
    for name, value in (csrs or {}).items():
        setattr(p, name, value & M64)
    for name, value in (regs or {}).items():
        if x_index(name):
            p.x[x_index(name)] = value & M64
    for name, value in (fregs or {}).items():
        p.f[f_index(name)] = value & M64
    p.insn_limit = p.minstret + (len(words) if steps is None else steps)
    engine_class(engine)(h).run()
    h.close()  # no devices: the MMIO dispatch entry is not needed
    return h


def trap_cause(h: Hart) -> int | None:
    """The exception cause when the run trapped, else None."""
    return None if h.ptr.mcause == M64 else h.ptr.mcause


def x(h: Hart, name: str | int) -> int:
    """Integer register value (unsigned)."""
    return h.ptr.x[x_index(name)]


def sx(v: int) -> int:
    """A 64-bit value read as signed."""
    v &= M64
    return v - (1 << 64) if v >> 63 else v


def read_mem(h: Hart, addr: int, size: int) -> int:
    return int.from_bytes(h.read_phys(addr, size), "little")


def alu(engine: str, name: str, a: int, b: int | None = None, **imm: int) -> int:
    """Run one ``name rd=a0, rs1=a1[, rs2=a2][, imm...]`` with a1=a, a2=b; return a0."""
    fields = {"rd": 10, "rs1": 11, **imm}
    if b is not None:
        fields["rs2"] = 12
    h = run_insns(engine, [encode(name, **fields)], regs={"a1": a, "a2": b or 0})
    assert trap_cause(h) is None, f"{name} trapped with cause {trap_cause(h)}"
    return x(h, "a0")
