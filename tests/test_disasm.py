"""The disassembler against GNU binutils: objdump's text, and gas reading it back."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bt_vmm.cpu.csrs import CSR_NAMES
from bt_vmm.isa import DECODER, REGISTRY, IllegalInstruction
from bt_vmm.isa.disasm import EXACT_CONVERSIONS, disassemble, listing

from guestbuild import build

AS = "riscv64-linux-gnu-as"
OBJDUMP = "riscv64-linux-gnu-objdump"
MARCH = "-march=rv64gc_zba_zbb_zbs"
GAS_EXTENSIONS = {"I", "M", "A", "F", "D", "Zicsr", "Zifencei", "Zba", "Zbb", "Zbs", "priv"}

needs_binutils = pytest.mark.skipif(
    shutil.which(AS) is None or shutil.which(OBJDUMP) is None,
    reason="binutils-riscv64-linux-gnu is not installed (.ci/run installs it)",
)

# binutils 2.40 prints addi/andi/slli... as add/and/sll... when the last
# operand is an immediate (an alias table quirk fixed in 2.41); we print the
# canonical mnemonic, so objdump's text is normalised back before comparing.
_IMM_QUIRK = {
    "add", "and", "or", "xor", "sll", "srl", "sra", "addw", "sllw", "srlw", "sraw",
    "ror", "rorw", "bset", "bclr", "binv", "bext",
}
_NUMBER = re.compile(r"^-?(0x[0-9a-f]+|[0-9]+)$")


def normalise(text: str) -> str:
    """objdump's instruction text without comments, with the 2.40 quirk undone."""
    text = text.split(" #")[0].strip()
    mnemonic, _, ops = text.partition("\t")
    if mnemonic in _IMM_QUIRK and _NUMBER.match(ops.rsplit(",", 1)[-1]):
        mnemonic = mnemonic[:-1] + "iw" if mnemonic.endswith("w") else mnemonic + "i"
    return f"{mnemonic}\t{ops}" if ops else mnemonic


def _run(cmd: list[str], **kw) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def objdump_texts(tmp_path, words: list[tuple[int, int]]) -> list[str]:
    """objdump's text for each (raw, length), via gas's .insn directive."""
    src = tmp_path / "w.S"
    src.write_text("".join(f".insn {n}, 0x{raw:x}\n" for raw, n in words))
    obj = tmp_path / "w.o"
    _run([AS, MARCH, "-o", str(obj), str(src)])
    out = _run([OBJDUMP, "-d", str(obj)])
    lines = [l.split("\t", 2)[2] for l in out.splitlines() if re.match(r"^\s+[0-9a-f]+:\t", l)]
    return [re.sub(r" <[^>]*>$", "", normalise(l)) for l in lines]


def assemble(tmp_path, texts: list[str]) -> list[int]:
    """The 32-bit words gas makes of ``texts`` (no compression)."""
    src = tmp_path / "t.S"
    src.write_text(".option norvc\n" + "".join(f"{t}\n" for t in texts))
    obj, binary = tmp_path / "t.o", tmp_path / "t.bin"
    _run([AS, MARCH, "-o", str(obj), str(src)])
    _run(["riscv64-linux-gnu-objcopy", "-O", "binary", "-j", ".text", str(obj), str(binary)])
    data = binary.read_bytes()
    return [int.from_bytes(data[i : i + 4], "little") for i in range(0, len(data), 4)]


# --- random instruction forms, one spec at a time ---

def _shown_fields_mask(spec) -> int:
    """Bits of the fields the syntax prints (hidden fields stay zero)."""
    mask = 0
    for name, f in spec.encoding.fields.items():
        if re.search(rf"\bf?{name}\b", spec.syntax) or (name in ("aq", "rl") and "{aqrl}" in spec.syntax):
            mask |= f.insert(-1)
    return mask


def _forms(specs, width: int):
    def make(spec_and_bits):
        spec, bits = spec_and_bits
        raw = spec.encoding.match | (bits & _shown_fields_mask(spec) & ~spec.encoding.mask)
        return raw & ((1 << width) - 1)

    return st.tuples(st.sampled_from(specs), st.integers(0, (1 << width) - 1)).map(make)


def _decodes(raw: int):
    try:
        return DECODER.decode(raw)
    except IllegalInstruction:
        return None


WIDE = sorted((s for s in REGISTRY.insns.values() if s.ext in GAS_EXTENSIONS), key=lambda s: s.name)
NARROW = sorted(REGISTRY.compressed.values(), key=lambda c: c.name)


def test_every_instruction_is_covered():
    """The random forms reach the whole ISA (no extension left out by name)."""
    assert len(WIDE) == len(REGISTRY.insns)


def _assemblable(d) -> bool:
    """Encodings gas 2.40 has no syntax for: empty fence sets, reserved rounding
    modes, and a rounding mode on the exact conversions (e.g. fcvt.d.w)."""
    f = d.fields
    if d.spec.name in EXACT_CONVERSIONS and f["rm"]:
        return False
    return not (f.get("pred") == 0 or f.get("succ") == 0 or f.get("rm") in (5, 6))


def _comparable(d) -> bool:
    """objdump also names CSRs this VMM does not have (hypervisor, RV32 *h): skip those."""
    return _assemblable(d) and ("csr" not in d.fields or d.fields["csr"] in CSR_NAMES)


# Each example is a batch run through gas/objdump at once; the assertion lists
# every mismatch, so shrinking (hundreds of tool runs) is not worth its time.
BATCH = dict(
    max_examples=8, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@needs_binutils
@settings(**BATCH)
@given(words=st.lists(_forms(WIDE, 32), min_size=100, max_size=300))
def test_canonical_text_assembles_to_the_same_bits(tmp_path, words):
    decoded = [d for d in map(_decodes, words) if d is not None and _assemblable(d)]
    texts = [disassemble(d, 0, aliases=False) for d in decoded]
    # Branch targets print as absolute addresses; assemble each at address 0.
    texts = [_pc_relative(t, d) if "off" in d.fields else t for t, d in zip(texts, decoded)]
    got = assemble(tmp_path, texts)
    want = [d.raw for d in decoded]
    assert len(got) == len(want)
    mismatches = [(t, hex(w), hex(g)) for t, w, g in zip(texts, want, got) if w != g]
    assert not mismatches


def _pc_relative(text: str, d) -> str:
    """gas reads a bare number as an absolute target: make it `. + off`."""
    mnemonic, _, ops = text.partition("\t")
    parts = ops.split(",")
    parts[-1] = f".{d.fields['off']:+d}"
    return f"{mnemonic}\t{','.join(parts)}"


@needs_binutils
@settings(**BATCH)
@given(words=st.lists(st.one_of(_forms(WIDE, 32), _forms(NARROW, 16)), min_size=100, max_size=300))
def test_text_matches_objdump(tmp_path, words):
    decoded = [d for d in map(_decodes, words) if d is not None and _comparable(d)]
    want = objdump_texts(tmp_path, [(d.raw, d.length) for d in decoded])
    assert len(want) == len(decoded)
    # Instructions are placed one after another, so each one's pc is known.
    pcs = [sum(d.length for d in decoded[:i]) for i in range(len(decoded))]
    got = [disassemble(d, pc) for d, pc in zip(decoded, pcs)]
    mismatches = [(hex(d.raw), g, w) for d, g, w in zip(decoded, got, want) if g != w]
    assert not mismatches


SAMPLE = r"""
#include <stdio.h>
#include <stdatomic.h>
_Atomic long counter;
double mix(double x, float y) { return x * y + (double)(long)x / 3.0; }
int main(int argc, char **argv) {
    atomic_fetch_add(&counter, argc);
    printf("%d %f\n", argc, mix(argc, 2.5f));
    return (int)counter;
}
"""


def _comparable_line(line: str) -> str:
    """An objdump listing line without `# ...` comments, 2.40 quirk undone."""
    if not re.match(r"^\s+[0-9a-f]+:\t", line) or line.count("\t") < 2:
        return line
    addr, column, text = line.split("\t", 2)
    text, _, note = text.split(" #")[0].partition(" <")
    return f"{addr}\t{column}\t{normalise(text)}" + (f" <{note}" if note else "")


@needs_binutils
def test_listing_matches_objdump_on_a_static_glibc_program(tmp_path):
    """Every line of a whole static glibc program (libc's RV64GC code, C
    instructions, atomics, floating point), byte columns and <symbol+off>
    annotations included.  Not compared: objdump's `# address` comments."""
    src = tmp_path / "sample.c"
    src.write_text(SAMPLE)
    elf = build("user", [src], ["-O2", "-static"], "disasm-sample")
    want = [_comparable_line(l) for l in _run([OBJDUMP, "-d", str(elf)]).splitlines()]
    got = list(listing(str(elf)))
    assert len(got) == len(want)
    mismatches = [(w, g) for w, g in zip(want, got) if w != g]
    assert mismatches[:10] == []


@needs_binutils
def test_listing_labels_unknown_bits_and_sections(tmp_path):
    src = tmp_path / "u.S"
    src.write_text(".globl _start\n_start:\n.insn r 0x0b, 0, 0, a0, a1, a2\naddi a0, a0, 1\nj _start\n")
    obj = tmp_path / "u.o"
    _run([AS, MARCH, "-o", str(obj), str(src)])
    lines = list(listing(str(obj)))
    assert "0000000000000000 <_start>:" in lines
    assert "   0:\t00c5850b          \t.4byte\t0xc5850b" in lines
    assert any(l.endswith("\tj\t0 <_start>") for l in lines)
