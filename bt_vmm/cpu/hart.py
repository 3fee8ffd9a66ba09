"""The hart: one shared C struct (csrc/state.h), guest RAM, and device dispatch.

Python sees the struct through cffi without copying; the C core and
generated code read and write the same memory.
"""
from __future__ import annotations

import mmap
from typing import Protocol

from bt_vmm._core import ffi, lib

M64 = (1 << 64) - 1

ABI_NAMES = (
    "zero ra sp gp tp t0 t1 t2 s0 s1 a0 a1 a2 a3 a4 a5 "
    "a6 a7 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 t3 t4 t5 t6"
).split()
FP_ABI_NAMES = (
    "ft0 ft1 ft2 ft3 ft4 ft5 ft6 ft7 fs0 fs1 fa0 fa1 fa2 fa3 fa4 fa5 "
    "fa6 fa7 fs2 fs3 fs4 fs5 fs6 fs7 fs8 fs9 fs10 fs11 ft8 ft9 ft10 ft11"
).split()


class Device(Protocol):
    """A memory-mapped device model (Python side, off the hot path)."""

    def read(self, offset: int, size: int) -> int: ...
    def write(self, offset: int, size: int, value: int) -> None: ...


class Hart:
    """A RISC-V hart and the guest physical memory it owns."""

    def __init__(self, ram_base: int, ram_size: int, machine_kind: int, low_guard: int = 0):
        if ram_size <= 0 or ram_size % mmap.PAGESIZE:
            raise ValueError(f"RAM size must be a positive multiple of {mmap.PAGESIZE}")
        self.ptr = ffi.new("hart_t *")
        # Anonymous mapping: pages cost host memory only once the guest touches them.
        self.ram = mmap.mmap(-1, ram_size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        self._ram_keepalive = ffi.from_buffer(self.ram)
        self.ptr.ram = ffi.cast("uint8_t *", self._ram_keepalive)
        self.ptr.ram_base = ram_base
        self.ptr.ram_size = ram_size
        self.ptr.ram_low_guard = low_guard
        self._watch = ffi.new("uint8_t[]", ram_size // 4096 + 2)   # see hart_t.watch
        self.ptr.watch = self._watch
        self.devices: list[tuple[int, int, Device]] = []
        self.mmio_error: BaseException | None = None
        lib.bt_hart_reset(self.ptr, machine_kind, 0)
        _HARTS[int(ffi.cast("uintptr_t", self.ptr))] = self

    def close(self) -> None:
        _HARTS.pop(int(ffi.cast("uintptr_t", self.ptr)), None)

    # --- registers by ABI name ---
    def reg(self, name: str) -> int:
        if name == "pc":
            return self.ptr.pc
        if name in ABI_NAMES:
            return self.ptr.x[ABI_NAMES.index(name)]
        if name == "fp":
            return self.ptr.x[8]
        if name in FP_ABI_NAMES:
            return self.ptr.f[FP_ABI_NAMES.index(name)]
        if name.startswith("x") and name[1:].isdigit() and int(name[1:]) < 32:
            return self.ptr.x[int(name[1:])]
        raise KeyError(f"no register named {name!r}")

    def set_reg(self, name: str, value: int) -> None:
        if name == "pc":
            self.ptr.pc = value & M64
        elif name in ABI_NAMES[1:]:
            self.ptr.x[ABI_NAMES.index(name)] = value & M64
        elif name in FP_ABI_NAMES:
            self.ptr.f[FP_ABI_NAMES.index(name)] = value & M64
        else:
            raise KeyError(f"no writable register named {name!r}")

    # --- guest physical memory ---
    def _host_offset(self, paddr: int, n: int) -> int:
        base, size = self.ptr.ram_base, self.ptr.ram_size
        if paddr < base or paddr + n > base + size:
            raise ValueError(f"guest range 0x{paddr:x}+{n} is outside RAM")
        return paddr - base

    def read_phys(self, paddr: int, n: int) -> bytes:
        off = self._host_offset(paddr, n)
        return self.ram[off : off + n]

    def write_phys(self, paddr: int, data: bytes) -> None:
        off = self._host_offset(paddr, len(data))
        self.ram[off : off + len(data)] = data
        lib.bt_wrote(self.ptr, paddr, len(data))   # (code there: the engines see the new bytes)

    # --- devices ---
    def map_device(self, base: int, size: int, device: Device) -> None:
        self.devices.append((base, size, device))

    def mmio(self, paddr: int, size: int, is_write: bool, value: int) -> int | None:
        for base, length, dev in self.devices:
            if base <= paddr < base + length:
                if is_write:
                    dev.write(paddr - base, size, value)
                    return 0
                return dev.read(paddr - base, size) & ((1 << (8 * size)) - 1)
        return None


_HARTS: dict[int, Hart] = {}


@ffi.def_extern()
def bt_mmio(h, paddr, size, is_write, value):  # noqa: ANN001 - cffi callback
    """C's door to the Python devices: 0 done, 1 no device (access fault), 2 device failed."""
    hart = _HARTS.get(int(ffi.cast("uintptr_t", h)))
    if hart is None:
        return 1
    try:
        result = hart.mmio(paddr, size, bool(is_write), value[0])
    except Exception as exc:  # a device bug must stop the run, not kill the VMM
        hart.mmio_error = exc
        return 2
    if result is None:
        return 1
    if not is_write:
        value[0] = result
    return 0



@ffi.def_extern()
def bt_trace_walk(h, vaddr, acc, paddr, fault_cause):  # noqa: ANN001 - cffi callback
    """--trace mmu: one page walk (acc: 0 load, 1 store, 2 fetch; cause None on success)."""
    hart = _HARTS.get(int(ffi.cast("uintptr_t", h)))
    tracer = getattr(hart, "tracer", None)
    if tracer is not None:
        tracer.mmu(vaddr, acc, paddr, fault_cause or None)
