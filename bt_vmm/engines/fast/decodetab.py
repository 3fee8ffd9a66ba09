"""The tables of the C pre-decoder (csrc/predecode.h), derived from the ISA
description: each 32-bit spec's encoding, operand fields and the entry slots
they go to, tried in the Python decoder's order; each 16-bit word's 32-bit
expansion (every compressed word decoded once: ~0.3 s, kept in the disk
cache beside the handlers, since it depends on the ISA alone)."""
from __future__ import annotations

import inspect
from array import array
from functools import cache

from bt_vmm._core import ffi, lib
from bt_vmm.engines.diskcache import DiskCache, default_directory
from bt_vmm.engines.fast.handlers import layout_of
from bt_vmm.isa import DECODER, REGISTRY, IllegalInstruction
from bt_vmm.isa.decoder import encode_fields
from bt_vmm.isa.spec import InsnSpec

EXPAND_KIND = "fast-expand"   # "fast-": seeded with the handlers into a first run's cache (bench)
_decode = DECODER.decode.__wrapped__   # (every compressed word once: past the decoder's cache)


@cache
def decode_tables(system: bool) -> DecodeTables:
    """The process's tables for a machine kind's generic handlers."""
    from bt_vmm.engines.fast.compiler import compiler
    return DecodeTables(compiler().generic_handlers(system))


class DecodeTables:
    """An fi_decoder_t (``ptr``) for handlers by spec name, and the memory
    it points into."""

    def __init__(self, handlers: dict[str, int]):
        buckets = DECODER.buckets()
        specs = list(REGISTRY.insns.values())
        index = {spec.name: i for i, spec in enumerate(specs)}
        self._specs = ffi.new("fi_dec_spec_t[]", len(specs))
        for entry, spec in zip(self._specs, specs):
            _fill_spec(entry, spec, handlers.get(spec.name, 0))
        starts, members = [0], []
        for bucket in range(lib.FI_DEC_BUCKETS):
            members += [index[s.name] for s in buckets.get(bucket, ())]
            starts.append(len(members))
        self._starts = ffi.new("uint16_t[]", starts)
        self._members = ffi.new("uint16_t[]", members or [0])
        self._expand = expansions()
        self.ptr = ffi.new("fi_decoder_t *", {
            "specs": self._specs, "bucket_start": self._starts, "bucket_specs": self._members,
            "expand": ffi.cast("uint32_t *", ffi.from_buffer(self._expand)),
        })


def _fill_spec(entry, spec: InsnSpec, fn: int) -> None:
    enc, layout = spec.encoding, layout_of(spec)
    entry.mask, entry.match, entry.nfields = enc.mask, enc.match, len(spec.params)
    entry.ends = spec.ends_block
    entry.valid_field = lib.FI_DEC_NONE
    fits = layout.generic and len(spec.params) <= lib.FI_DEC_FIELDS
    for i, (name, (kind, slot)) in enumerate(zip(spec.params, layout.slots) if fits else ()):
        field = enc.fields[name]
        fits &= len(field.segments) <= lib.FI_DEC_SEGMENTS
        entry.fields[i].nsegs = min(len(field.segments), lib.FI_DEC_SEGMENTS)
        entry.fields[i].is_signed, entry.fields[i].width = field.signed, field.width
        entry.fields[i].is_wide, entry.fields[i].slot = kind == "wide", slot
        for j, seg in enumerate(field.segments[:lib.FI_DEC_SEGMENTS]):
            entry.fields[i].segs[j] = seg
    if spec.valid is not None:
        checked = _valid_values(spec)
        fits &= checked is not None
        if checked is not None:
            entry.valid_field, entry.valid_values = checked
    entry.fn = fn if fits else 0


def _valid_values(spec: InsnSpec) -> tuple[int, int] | None:
    """(param index, bit set of its valid values) when ``spec.valid``
    checks one field of at most 6 bits and ignores the others (they come
    as ``**_name``); else None (Python checks)."""
    params = inspect.signature(spec.valid).parameters.values()
    named = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    ignored = all(p.kind == p.VAR_KEYWORD and p.name.startswith("_") for p in params if p.name not in named)
    if len(named) != 1 or not ignored or named[0] not in spec.params or spec.encoding.fields[named[0]].width > 6:
        return None
    values = sum(1 << v for v in range(1 << spec.encoding.fields[named[0]].width) if spec.valid(**{named[0]: v}))
    return spec.params.index(named[0]), values


@cache
def expansions() -> array:
    """Each 16-bit word's 32-bit expansion (0: not a compressed instruction,
    or one whose expansion the 32-bit decoder does not give back alike)."""
    disk = DiskCache(default_directory())
    key = disk.key(EXPAND_KIND, _isa_digest())
    stored = disk.get(key)
    table = array("I")
    if stored is not None and len(stored) == 4 * 65536:
        table.frombytes(stored)
        return table
    table.extend(_expansion(word) for word in range(65536))
    disk.put(key, table.tobytes())
    return table


def _expansion(word: int) -> int:
    if word & 3 == 3:
        return 0
    try:
        d = _decode(word)
        expanded = encode_fields(d.spec.encoding, d.fields)
        again = _decode(expanded)
    except (IllegalInstruction, ValueError):
        return 0
    return expanded if (again.spec, again.args) == (d.spec, d.args) else 0


def _isa_digest() -> str:
    from bt_vmm.engines.fast.compiler import source_digest
    return source_digest()
