"""Machine code LLVM compiled, loaded by the C core (csrc/objload.c) rather
than by LLVM's JIT linker: loading stored code (the fast tier's handlers,
regions from the disk cache) needs no LLVM, so a warm run never loads the
LLVM library at all, and a region's memory is its own (freed with it)."""
from __future__ import annotations

from functools import cache

from bt_vmm._core import ffi, lib
from bt_vmm.cpu.callouts import core_functions
from bt_vmm.errors import VMMError


@cache
def _core_symbols():
    """(names, addresses, count) of the C core's functions generated code may call."""
    functions = {name: address for name, (address, _) in core_functions().items() if name.startswith(("bt_", "fi_"))}
    names = [ffi.new("char[]", name.encode()) for name in functions]
    return names, ffi.new("char *[]", names), ffi.new("uint64_t[]", list(functions.values())), len(functions)


class NativeObject:
    """One ELF object's code and data, loaded; freed by ``close``."""

    def __init__(self, data: bytes, extra: dict[str, int] | None = None):
        """``extra``: values of undefined symbols besides the C core's."""
        _, names, addrs, n = _core_symbols()
        if extra:
            keep = [ffi.new("char[]", name.encode()) for name in extra]
            names = ffi.new("char *[]", [names[i] for i in range(n)] + keep)
            addrs = ffi.new("uint64_t[]", [addrs[i] for i in range(n)] + list(extra.values()))
            n += len(extra)
        err = ffi.new("char[]", 200)
        self._obj = lib.bt_obj_load(data, len(data), names, addrs, n, err, len(err))
        if self._obj == ffi.NULL:
            raise VMMError(f"cannot load generated code: {ffi.string(err).decode()}")

    def address(self, name: str) -> int:
        """Address of the global ``name`` it defines (0: none)."""
        return lib.bt_obj_symbol(self._obj, name.encode())

    @property
    def code_size(self) -> int:
        return lib.bt_obj_code_size(self._obj)

    def close(self) -> None:
        if self._obj is not None:
            lib.bt_obj_free(self._obj)
            self._obj = None
