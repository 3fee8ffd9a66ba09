"""Execution engines over the one hart state.

Each engine is a class taking (hart, tracer) with a ``run()`` method that
executes until ``hart.ptr.exit_request`` is set and returns the exit reason.
"""
from __future__ import annotations

from bt_vmm.engines.fast import FastInterpreter
from bt_vmm.engines.jit import JitEngine
from bt_vmm.engines.reference import ReferenceInterpreter

ENGINES: dict[str, type] = {"interp": ReferenceInterpreter, "jit": JitEngine, "fast": FastInterpreter}


def engine_class(name: str) -> type:
    try:
        return ENGINES[name]
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}") from None
