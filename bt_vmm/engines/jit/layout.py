"""What generated code needs to know about the native side: hart_t field
offsets and the addresses of C functions, all taken from cffi so the layout
exists once (csrc/state.h)."""
from __future__ import annotations

from bt_vmm._core import ffi
from bt_vmm.cpu.callouts import core_functions


def offset(field: str) -> int:
    """Byte offset of a hart_t field."""
    return ffi.offsetof("hart_t", field)


def c_function(name: str) -> int | None:
    """The address of the C core function ``name`` (generated code calls it
    by name: native.py resolves it), or None if it does not exist."""
    return core_functions().get(name, (None,))[0]


TLB_ENTRY = ffi.sizeof("tlb_entry_t")
TLB_ADDEND = ffi.offsetof("tlb_entry_t", "addend")
