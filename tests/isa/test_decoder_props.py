"""Properties of the decoder and encoder derived from the ISA description."""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bt_vmm.isa import DECODER, REGISTRY, Decoded, IllegalInstruction, encode

from .fields import encoding_fields

WIDE = sorted(REGISTRY.insns)
# Compressed forms whose target is registered (c.fld needs the D extension module).
NARROW = sorted(n for n, c in REGISTRY.compressed.items() if c.target in REGISTRY.insns)


def _is_valid(spec, fields):
    return spec.valid is None or spec.valid(**fields)


def _random_encoding(data, table: dict, name: str, length: int) -> tuple[Any, dict, int, Decoded]:
    """Random valid operands for instruction ``name`` of ``table``: (its spec,
    the operands, the word, that word decoded), checking the decoded length
    and raw word on the way."""
    spec = table[name]
    fields = data.draw(encoding_fields(spec.encoding))
    assume(_is_valid(spec, fields))
    word = encode(name, **fields)
    d = DECODER.decode(word)
    assert d.length == length and d.raw == word
    return spec, fields, word, d


def _per_instruction_property(test):
    """``test(name, data)`` on 25 random examples for each instruction."""
    return settings(max_examples=25, deadline=None)(given(data=st.data())(test))


@pytest.mark.parametrize("name", WIDE)
@_per_instruction_property
def test_decode_inverts_encode(name, data):
    spec, fields, word, d = _random_encoding(data, REGISTRY.insns, name, 4)
    if d.spec is not spec:
        # Only a strictly more specific encoding may shadow another one
        # (e.g. a fixed-operand form); it must then describe the same word.
        winner = d.spec.encoding
        assert winner.mask & spec.encoding.mask == spec.encoding.mask != winner.mask, (name, d.spec.name)
        assert encode(d.spec.name, **d.fields) == word
    else:
        assert d.fields == fields


@pytest.mark.parametrize("name", NARROW)
@_per_instruction_property
def test_compressed_decodes_to_its_expansion(name, data):
    cspec, fields, _, d = _random_encoding(data, REGISTRY.compressed, name, 2)
    assert d.spec.name == cspec.target
    assert d.fields == cspec.expand(**fields)
    # the expansion is a real 32-bit instruction that decodes the same way
    wide = DECODER.decode(encode(cspec.target, **d.fields))
    assert (wide.spec, wide.args) == (d.spec, d.args)


def test_no_two_encodings_are_ambiguous():
    """Overlapping encodings must be nested, so "most specific first" decides."""
    for group in (list(REGISTRY.insns.values()), list(REGISTRY.compressed.values())):
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                common = a.encoding.mask & b.encoding.mask
                if (a.encoding.match ^ b.encoding.match) & common:
                    continue  # disjoint
                nested = common in (a.encoding.mask, b.encoding.mask) and a.encoding.mask != b.encoding.mask
                assert nested, f"{a.name} and {b.name} overlap without one being more specific"


@pytest.mark.parametrize("name", WIDE)
def test_fixed_bits_are_checked(name):
    """Flipping any fixed bit never yields the same instruction with the same operands."""
    spec = REGISTRY.insns[name]
    fields = {n: 0 for n in spec.encoding.fields}
    if not _is_valid(spec, fields):
        pytest.skip("all-zero operands are reserved for this instruction")
    word = encode(name, **fields)
    for bit in range(2, 32):  # bits 0-1 select the length
        if spec.encoding.mask >> bit & 1:
            try:
                d = DECODER.decode(word ^ (1 << bit))
            except IllegalInstruction:
                continue
            assert d.spec is not spec
