"""Pre-decoding in C (csrc/predecode.c) from tables derived from the ISA
description must fill every entry exactly as Python's pre-decoder does, and
leave to Python only what its tables cannot express."""
from __future__ import annotations

import random

from bt_vmm._core import ffi, lib

from bt_vmm.bench import guest_path
from bt_vmm.engines.fast import FastInterpreter
from bt_vmm.isa import REGISTRY, encode
from bt_vmm.machines.elf import load_elf

from .common import USER, make_hart

PAGE = 4096


def _entries(words: bytes, decode_in_c: bool, at: list[int] | None = None) -> dict[int, tuple]:
    """Each instruction's entry after pre-decoding ``words`` at USER.code,
    one run per miss, in C or in Python: walking the words from the start,
    or visiting the offsets ``at``."""
    h = make_hart(USER, [], limit=1)
    h.write_phys(USER.code, words)
    engine = FastInterpreter(h)
    if not decode_in_c:
        engine.ctx.decoder = ffi.NULL
    entries: dict[int, tuple] = {}
    todo = list(reversed(at)) if at is not None else [0]
    while todo:
        off = todo.pop()
        if off + 2 > len(words):
            continue
        pc = USER.code + off
        if lib.fi_decoded_at(engine.ctx, h.ptr, pc) or \
                (lib.fi_predecode(engine.ctx, h.ptr, pc) if decode_in_c else engine.predecode(pc)):
            e = lib.fi_entry(engine.ctx, pc - USER.ram_base)
            entries[off] = (e.fn, e.raw, e.length, bytes(e.small), tuple(e.wide))
        if at is None:
            todo.append(off + (entries[off][2] if off in entries else 2))
    h.close()
    return entries


def _compare(words: bytes) -> float:
    """The share of instructions C pre-decoded, each one alike in Python."""
    in_python = _entries(words, False)
    in_c = _entries(words, True, sorted(in_python))
    assert in_c, "C pre-decoded nothing"
    for off, entry in in_c.items():
        assert in_python.get(off) == entry, f"word at +{off:#x}"
    return len(in_c) / len(in_python)


def test_the_shipped_programs_code_is_predecoded_alike_in_c():
    """Real code (glibc's and the benchmark's, compressed and not): nearly
    all of it pre-decodes in C, and identically."""
    program = load_elf(str(guest_path("intmix")))
    text = next(s for s in program.segments if s.flags & 1)
    start = program.entry - text.vaddr
    assert _compare(text.data[start:start + 16 * PAGE]) > 0.95


def test_every_instruction_kind_is_predecoded_alike_in_c():
    """Random fields for every 32-bit spec and random 16-bit words, FP and
    CSR instructions included (those C leaves to Python are skipped)."""
    rng = random.Random(7)
    words = bytearray()
    for spec in REGISTRY.insns.values():
        for _ in range(8):
            enc = spec.encoding
            words += ((rng.getrandbits(32) & ~enc.mask) | enc.match).to_bytes(4, "little")
    for _ in range(4096):   # (one whose low bits say 32 bits takes the next parcel along)
        words += rng.getrandbits(16).to_bytes(2, "little")
    _compare(bytes(words))


def test_a_reserved_rounding_mode_is_left_to_python():
    """fadd.d with rm=5 is reserved (an illegal instruction): C stops there."""
    bad = encode("fadd.d", rd=1, rs1=2, rs2=3, rm=5).to_bytes(4, "little")
    good = encode("fadd.d", rd=1, rs1=2, rs2=3, rm=7).to_bytes(4, "little")
    h = make_hart(USER, [], limit=1)
    h.write_phys(USER.code, good + bad)
    engine = FastInterpreter(h)
    assert lib.fi_predecode(engine.ctx, h.ptr, USER.code) == 1
    assert lib.fi_predecode(engine.ctx, h.ptr, USER.code + 4) == 0
    h.close()
