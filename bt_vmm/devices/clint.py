"""The CLINT of QEMU's virt board (SiFive layout): msip, mtimecmp, mtime.

mtimecmp and the clock live in the hart struct, so the C core raises
mip.MTIP without calling back into Python; this model only maps the
registers.  One hart: msip at 0x0, mtimecmp at 0x4000, mtime at 0xbff8.
"""
from __future__ import annotations

from bt_vmm._core import lib

CLINT_BASE = 0x2000000
CLINT_SIZE = 0x10000
MSIP = 0x0
MTIMECMP = 0x4000
MTIME = 0xBFF8
M64 = (1 << 64) - 1


def _merge(old: int, offset: int, size: int, value: int) -> int:
    """Write ``size`` bytes at byte ``offset`` of a 64-bit register."""
    shift = 8 * offset
    mask = ((1 << (8 * size)) - 1) << shift
    return (old & ~mask | (value << shift) & mask) & M64


class Clint:
    def __init__(self, hart) -> None:
        self.h = hart.ptr

    def _reg(self, offset: int) -> tuple[str, int] | None:
        """Which 64-bit register holds ``offset``, and the byte offset in it."""
        for name, base, width in (("msip", MSIP, 4), ("mtimecmp", MTIMECMP, 8), ("mtime", MTIME, 8)):
            if base <= offset < base + width:
                return name, offset - base
        return None

    def read(self, offset: int, size: int) -> int:
        reg = self._reg(offset)
        if reg is None:
            return 0
        name, byte = reg
        if name == "msip":
            value = 1 if self.h.mip & lib.MIP_MSIP else 0
        elif name == "mtimecmp":
            value = self.h.mtimecmp
        else:
            value = lib.bt_mtime(self.h)
        return value >> (8 * byte)

    def write(self, offset: int, size: int, value: int) -> None:
        reg = self._reg(offset)
        if reg is None:
            return
        name, byte = reg
        h = self.h
        if name == "msip":
            if byte == 0:
                h.mip = h.mip | lib.MIP_MSIP if value & 1 else h.mip & ~lib.MIP_MSIP
        elif name == "mtimecmp":
            h.mtimecmp = _merge(h.mtimecmp, byte, size, value)
        else:
            # mtime = ticks - offset: move the offset so mtime reads the new value
            now = lib.bt_mtime(h)
            h.time_offset = (h.time_offset + now - _merge(now, byte, size, value)) & M64
