"""Hypothesis strategies for the operand fields of a registered encoding."""
from __future__ import annotations

from hypothesis import strategies as st

from bt_vmm.isa.spec import Encoding, Field


def field_values(f: Field) -> st.SearchStrategy[int]:
    """Any value the field can encode: its width, signedness and low zero bits."""
    lo, hi = (-(1 << (f.width - 1)), (1 << (f.width - 1)) - 1) if f.signed else (0, (1 << f.width) - 1)
    zeros = (1 << f.low_zero_bits()) - 1
    return st.integers(lo, hi).map(lambda v: v & ~zeros).filter(f.representable)


def encoding_fields(enc: Encoding) -> st.SearchStrategy[dict[str, int]]:
    return st.fixed_dictionaries({name: field_values(f) for name, f in enc.fields.items()})
