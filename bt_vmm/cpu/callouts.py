"""The C core's callouts, numbered: the functions ISA semantics reach
through ``s.call(name)`` (``uint64_t bt_<name>(hart_t *, ...)``), and the
per-kind counts every engine keeps of them in hart_t.stat_callouts
(--stats prints them)."""
from __future__ import annotations

from bt_vmm._core import ffi, lib


def _callout_names() -> tuple[str, ...]:
    names = []
    for attr in dir(lib):
        if not attr.startswith("bt_"):
            continue
        try:
            fn = ffi.typeof(ffi.addressof(lib, attr))
        except (AttributeError, TypeError, ffi.error):   # a constant, not a function
            continue
        if fn.kind == "function" and fn.result.cname == "uint64_t" and fn.args \
                and fn.args[0].cname == "struct hart *":
            names.append(attr[3:])
    return tuple(sorted(names))


CALLOUTS = _callout_names()
CALLOUT_ID = {name: i for i, name in enumerate(CALLOUTS)}
assert len(CALLOUTS) <= lib.CALLOUT_SLOTS, "raise CALLOUT_SLOTS in csrc/state.h"


def callout_counts(h) -> dict[str, int]:
    """Calls of each callout the hart (a cffi hart_t *) made, the most called
    first; callouts never called are left out."""
    counts = {name: h.stat_callouts[i] for i, name in enumerate(CALLOUTS) if h.stat_callouts[i]}
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))
