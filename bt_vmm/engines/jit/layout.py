"""What generated code needs to know about the native side: hart_t field
offsets and the addresses of C functions, all taken from cffi so the layout
exists once (csrc/state.h)."""
from __future__ import annotations

from functools import lru_cache

from bt_vmm._core import ffi, lib

HART_FIELDS = {name for name, _ in ffi.typeof("hart_t").fields}


def offset(field: str) -> int:
    """Byte offset of a hart_t field."""
    return ffi.offsetof("hart_t", field)


@lru_cache(maxsize=None)
def c_function(name: str) -> int | None:
    """The address of the C core function ``name`` (generated code calls it
    by name: native.py resolves it), or None if it does not exist."""
    try:
        return int(ffi.cast("uintptr_t", ffi.addressof(lib, name)))
    except AttributeError:
        return None


TLB_ENTRY = ffi.sizeof("tlb_entry_t")
TLB_ADDEND = ffi.offsetof("tlb_entry_t", "addend")
