"""Execution engines over the one hart state.

Each engine is a class taking (hart, tracer) with a ``run()`` method that
executes until ``hart.ptr.exit_request`` is set and returns the exit reason.

The engines are imported on first use (``ENGINES``, ``engine_class``): the
LLVM compile server (compileserver.py) imports its modules from this
package and needs none of them.
"""
from __future__ import annotations

import importlib
from functools import cache

# name -> (module, class)
_ENGINE_CLASSES = {
    "interp": ("bt_vmm.engines.reference", "ReferenceInterpreter"),
    "jit": ("bt_vmm.engines.jit", "JitEngine"),
    "fast": ("bt_vmm.engines.fast", "FastInterpreter"),
}
ENGINE_NAMES = tuple(_ENGINE_CLASSES)
DEFAULT_ENGINE = "jit"  # the reference interpreter stays available as --engine interp


@cache
def _engines() -> dict[str, type]:
    return {name: getattr(importlib.import_module(module), cls) for name, (module, cls) in _ENGINE_CLASSES.items()}


def __getattr__(name: str):
    if name == "ENGINES":
        return _engines()
    raise AttributeError(f"module 'bt_vmm.engines' has no attribute {name!r}")


def engine_class(name: str) -> type:
    try:
        return _engines()[name]
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; choose one of: {', '.join(_engines())}") from None
