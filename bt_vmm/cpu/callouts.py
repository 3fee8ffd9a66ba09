"""The C core's functions (generated code calls them by name), and among
them the callouts, numbered: the functions ISA semantics reach through
``s.call(name)`` (``uint64_t bt_<name>(hart_t *, ...)``), whose calls every
engine counts by kind in hart_t.stat_callouts (--stats prints them)."""
from __future__ import annotations

from functools import cache

from bt_vmm._core import ffi, lib


@cache
def core_functions() -> dict[str, tuple[int, object]]:
    """name -> (address, cffi function type) of each function of the C core."""
    functions = {}
    for name in dir(lib):
        try:
            fn = ffi.addressof(lib, name)
        except (AttributeError, TypeError, ffi.error):   # a constant, not a function
            continue
        functions[name] = (int(ffi.cast("uintptr_t", fn)), ffi.typeof(fn))
    return functions


def _is_callout(name: str, fn) -> bool:
    return name.startswith("bt_") and fn.kind == "function" and fn.result.cname == "uint64_t" \
        and bool(fn.args) and fn.args[0].cname == "struct hart *"


CALLOUTS = tuple(sorted(name[3:] for name, (_, fn) in core_functions().items() if _is_callout(name, fn)))
CALLOUT_ID = {name: i for i, name in enumerate(CALLOUTS)}
assert len(CALLOUTS) <= lib.CALLOUT_SLOTS, "raise CALLOUT_SLOTS in csrc/state.h"


def callout_counts(h) -> dict[str, int]:
    """Calls of each callout the hart (a cffi hart_t *) made, the most called
    first; callouts never called are left out."""
    counts = {name: h.stat_callouts[i] for i, name in enumerate(CALLOUTS) if h.stat_callouts[i]}
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))
