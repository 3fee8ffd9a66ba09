"""The shared reference-vs-engine machinery (tests/enginetest.py) bound to
the fast interpreter."""
from __future__ import annotations

from enginetest import *  # the shared machinery, re-exported for the tests here

from bt_vmm.engines.fast import FastInterpreter


def run_both(layout, words: list[int], **setup) -> tuple[dict, dict, FastInterpreter]:
    """(reference state, fast interpreter state, the fast engine) after running ``words``."""
    return run_against_reference(FastInterpreter, layout, words, **setup)
