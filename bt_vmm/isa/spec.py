"""The machinery of the one ISA description.

Each instruction is declared once, in an extension module, with

    @insn("add rd, rs1, rs2", "0000000 rs2:5 rs1:5 000 rd:5 0110011")
    def add(s, rd, rs1, rs2):
        s.set_x(rd, s.add(s.x(rs1), s.x(rs2)))

The first string is the assembly syntax (mnemonic, then operands named after
encoding fields), the second the encoding, most significant bit first:
literal bits, ``name:width`` fields and ``name[hi:lo|bit|...]`` slices of a
field scattered over the word.  The function is the semantics, written against
the builder protocol (``bt_vmm.isa.builder``): each engine passes its own
``s`` (concrete state in the interpreter, an IR builder in the JIT).

Compressed instructions are declared with ``@compressed``: an encoding and an
expansion into the 32-bit instruction they stand for; they have no semantics
of their own.

From these declarations ``bt_vmm.isa.decoder`` builds the decoder, the
disassembler and the encoder.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Callable, Mapping

# Field names whose values are sign-extended; every other field is unsigned.
SIGNED_FIELDS = frozenset({"imm", "off", "upper"})

_SLICE_RE = re.compile(r"^(\w+)\[([\d:|]+)\]$")
_WIDTH_RE = re.compile(r"^(\w+):(\d+)$")


@dataclass(frozen=True)
class Field:
    """A named operand: where its bits lie in the instruction word.

    ``segments`` are (word_hi, word_lo, value_lo) triples: word bits
    word_hi..word_lo hold value bits value_lo upwards.
    """

    name: str
    segments: tuple[tuple[int, int, int], ...]
    width: int  # width of the value (highest value bit + 1)

    @property
    def signed(self) -> bool:
        return self.name in SIGNED_FIELDS

    def extract(self, word: int) -> int:
        value = 0
        for hi, lo, vlo in self.segments:
            value |= ((word >> lo) & ((1 << (hi - lo + 1)) - 1)) << vlo
        if self.signed and value >> (self.width - 1):
            value -= 1 << self.width
        return value

    def insert(self, value: int) -> int:
        word = 0
        for hi, lo, vlo in self.segments:
            word |= ((value >> vlo) & ((1 << (hi - lo + 1)) - 1)) << lo
        return word

    def low_zero_bits(self) -> int:
        """Value bits never encoded (e.g. bit 0 of a branch offset)."""
        covered = set()
        for hi, lo, vlo in self.segments:
            covered.update(range(vlo, vlo + hi - lo + 1))
        n = 0
        while n not in covered:
            n += 1
        return n

    def representable(self, value: int) -> bool:
        return self.extract(self.insert(value)) == value


@dataclass(frozen=True)
class Encoding:
    """A parsed encoding pattern."""

    length: int  # in bytes: 4 or 2
    mask: int
    match: int
    fields: Mapping[str, Field]


def _parse_bit_list(spec: str) -> list[tuple[int, int]]:
    """'12|10:5' -> [(12, 12), (10, 5)], value bit ranges in word order."""
    ranges = []
    for part in spec.split("|"):
        hi, _, lo = part.partition(":")
        ranges.append((int(hi), int(lo or hi)))
    return ranges


def parse_encoding(pattern: str) -> Encoding:
    tokens = pattern.split()
    total = 0
    parsed = []
    for tok in tokens:
        if set(tok) <= {"0", "1"}:
            parsed.append(("lit", tok, len(tok)))
            total += len(tok)
        elif m := _WIDTH_RE.match(tok):
            width = int(m.group(2))
            parsed.append(("field", m.group(1), [(width - 1, 0)]))
            total += width
        elif m := _SLICE_RE.match(tok):
            ranges = _parse_bit_list(m.group(2))
            parsed.append(("field", m.group(1), ranges))
            total += sum(hi - lo + 1 for hi, lo in ranges)
        else:
            raise ValueError(f"bad encoding token {tok!r} in {pattern!r}")
    if total not in (16, 32):
        raise ValueError(f"encoding {pattern!r} has {total} bits, not 16 or 32")
    mask = match = 0
    segments: dict[str, list[tuple[int, int, int]]] = {}
    pos = total
    for kind, name, spec in parsed:
        if kind == "lit":
            pos -= spec
            mask |= ((1 << spec) - 1) << pos
            match |= int(name, 2) << pos
            continue
        for vhi, vlo in spec:
            n = vhi - vlo + 1
            pos -= n
            segments.setdefault(name, []).append((pos + n - 1, pos, vlo))
    fields = {
        name: Field(name, tuple(segs), 1 + max(vlo + hi - lo for hi, lo, vlo in segs))
        for name, segs in segments.items()
    }
    return Encoding(total // 8, mask, match, fields)


def _operands(syntax: str) -> tuple[str, list[str]]:
    mnemonic, _, rest = syntax.strip().partition(" ")
    return mnemonic, [op for op in re.split(r"[\s,()]+", rest) if op]


@dataclass
class InsnSpec:
    """One 32-bit instruction: syntax, encoding, semantics."""

    name: str
    syntax: str
    encoding: Encoding
    semantics: Callable
    params: tuple[str, ...]
    ext: str
    fp: bool = False           # needs mstatus.FS != Off
    ends_block: bool = False   # changes control flow or privileged state
    valid: Callable[..., bool] | None = None  # reserved-encoding check
    module: str = ""


@dataclass
class CompressedSpec:
    """One 16-bit instruction: encoding plus its expansion."""

    name: str
    syntax: str
    encoding: Encoding
    target: str                       # name of the 32-bit instruction
    expand: Callable[..., dict]       # compressed fields -> target fields
    ext: str = "C"
    valid: Callable[..., bool] | None = None
    module: str = ""


@dataclass
class Registry:
    insns: dict[str, InsnSpec] = field(default_factory=dict)
    compressed: dict[str, CompressedSpec] = field(default_factory=dict)


REGISTRY = Registry()


def insn(
    syntax: str,
    pattern: str,
    *,
    ext: str,
    fp: bool = False,
    ends_block: bool = False,
    valid: Callable[..., bool] | None = None,
) -> Callable[[Callable], Callable]:
    """Declare a 32-bit instruction; the decorated function is its semantics."""

    def register(fn: Callable) -> Callable:
        mnemonic, _ = _operands(syntax)
        name = mnemonic.replace("{aqrl}", "")
        enc = parse_encoding(pattern)
        # (positional parameters from the code object: inspect.signature
        # costs ~4 ms of every process's start-up over 200 instructions)
        params = fn.__code__.co_varnames[1:fn.__code__.co_argcount]
        if set(params) != set(enc.fields):
            raise ValueError(
                f"{name}: semantics takes {params} but the encoding has {tuple(enc.fields)}"
            )
        if name in REGISTRY.insns:
            raise ValueError(f"instruction {name} declared twice")
        REGISTRY.insns[name] = InsnSpec(
            name, syntax, enc, fn, params, ext, fp, ends_block, valid, fn.__module__
        )
        return fn

    return register


def compressed(
    syntax: str,
    pattern: str,
    target: str,
    expand: Callable[..., dict],
    *,
    valid: Callable[..., bool] | None = None,
    ext: str = "C",
) -> None:
    """Declare a compressed instruction as an expansion into ``target``."""
    mnemonic, _ = _operands(syntax)
    enc = parse_encoding(pattern)
    if enc.length != 2:
        raise ValueError(f"{mnemonic}: compressed encodings are 16 bits")
    if mnemonic in REGISTRY.compressed:
        raise ValueError(f"compressed instruction {mnemonic} declared twice")
    module = sys._getframe(1).f_globals.get("__name__", "")  # the declaring module
    REGISTRY.compressed[mnemonic] = CompressedSpec(
        mnemonic, syntax, enc, target, expand, ext, valid, module
    )


def operands(syntax: str) -> tuple[str, list[str]]:
    """Split an assembly syntax into its mnemonic and operand names."""
    return _operands(syntax)
