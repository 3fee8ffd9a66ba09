"""Decoder and encoder derived from the registered instruction descriptions."""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from bt_vmm.isa.spec import REGISTRY, CompressedSpec, Encoding, InsnSpec


class Decoded(NamedTuple):
    """One decoded instruction, ready for any engine (a named tuple: one is
    made per distinct word pre-decoded, which every run pays for).

    ``spec`` is always the 32-bit instruction (compressed ones are expanded);
    ``args`` are its semantic arguments in the order of ``spec.params``;
    ``cspec`` is the compressed form when the instruction was 16 bits.
    """

    spec: InsnSpec
    args: tuple[int, ...]
    raw: int
    length: int
    cspec: CompressedSpec | None = None

    @property
    def fields(self) -> dict[str, int]:
        return dict(zip(self.spec.params, self.args))


class IllegalInstruction(Exception):
    """The bits do not encode an instruction this hart implements."""

    def __init__(self, raw: int):
        super().__init__(f"illegal instruction 0x{raw:08x}")
        self.raw = raw


def _by_specificity(entries):
    return sorted(entries, key=lambda e: -bin(e.encoding.mask).count("1"))


F3 = 0x7 << 12   # funct3: where most instructions of a major opcode differ


class Decoder:
    def __init__(self) -> None:
        # keyed by opcode | funct3 << 7: the candidates, most specific first
        by_opcode: dict[int, list[InsnSpec]] = {}
        for spec in REGISTRY.insns.values():
            by_opcode.setdefault(spec.encoding.match & 0x7F, []).append(spec)
        self._wide = {
            opcode | f3 << 7: [s for s in _by_specificity(specs)
                               if s.encoding.mask & F3 == 0 or s.encoding.match & F3 == f3 << 12]
            for opcode, specs in by_opcode.items() for f3 in range(8)
        }
        self._narrow: dict[int, list[CompressedSpec]] = {}
        for cspec in REGISTRY.compressed.values():
            self._narrow.setdefault(self._narrow_key(cspec.encoding.match), []).append(cspec)
        for key, entries in self._narrow.items():
            self._narrow[key] = _by_specificity(entries)
        self.decode = lru_cache(maxsize=1 << 16)(self._decode)

    def buckets(self) -> dict[int, list[InsnSpec]]:
        """The 32-bit specs by opcode | funct3 << 7, in the order decode
        tries them (most specific first)."""
        return self._wide

    @staticmethod
    def _narrow_key(word: int) -> int:
        return (word & 3) | ((word >> 11) & 0x1C)

    @staticmethod
    def length(first_parcel: int) -> int:
        """Instruction length in bytes from its first 16-bit parcel."""
        return 4 if first_parcel & 3 == 3 else 2

    def _decode(self, word: int) -> Decoded:
        if word & 3 == 3:
            return self._decode_wide(word & 0xFFFFFFFF)
        return self._decode_narrow(word & 0xFFFF)

    def _decode_wide(self, word: int) -> Decoded:
        for spec in self._wide.get(word & 0x7F | (word & F3) >> 5, ()):
            enc = spec.encoding
            if word & enc.mask == enc.match:
                args = tuple(enc.fields[p].extract(word) for p in spec.params)
                if spec.valid and not spec.valid(**dict(zip(spec.params, args))):
                    continue
                return Decoded(spec, args, word, 4)
        raise IllegalInstruction(word)

    def _decode_narrow(self, word: int) -> Decoded:
        for cspec in self._narrow.get(self._narrow_key(word), ()):
            enc = cspec.encoding
            if word & enc.mask != enc.match:
                continue
            fields = {name: f.extract(word) for name, f in enc.fields.items()}
            if cspec.valid and not cspec.valid(**fields):
                continue
            target = REGISTRY.insns[cspec.target]
            expanded = cspec.expand(**fields)
            args = tuple(expanded[p] for p in target.params)
            return Decoded(target, args, word, 2, cspec)
        raise IllegalInstruction(word)


def encode_fields(encoding: Encoding, fields: dict[str, int]) -> int:
    word = encoding.match
    for name, value in fields.items():
        f = encoding.fields[name]
        if not f.representable(value):
            raise ValueError(f"{name}={value} does not fit its field")
        word |= f.insert(value)
    return word


def encode(name: str, **fields: int) -> int:
    """Encode instruction ``name`` (32-bit, or compressed like 'c.addi')."""
    spec = REGISTRY.insns.get(name) or REGISTRY.compressed.get(name)
    if spec is None:
        raise KeyError(f"unknown instruction {name!r}")
    missing = set(spec.encoding.fields) - set(fields)
    if missing:
        raise ValueError(f"{name}: missing fields {sorted(missing)}")
    return encode_fields(spec.encoding, fields)
