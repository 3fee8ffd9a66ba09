"""The disassembler, derived from the instruction declarations.

Each instruction prints from its declared syntax: operand names are encoding
fields, and a field's name says how its value prints (objdump's
conventions).  On top of that sits objdump's table of aliases (``li``,
``mv``, ``ret``, ``csrr``...), each a pattern over the same fields; with
``aliases=False`` the canonical form is printed, which the GNU assembler
reads back into the same bits.
"""
from __future__ import annotations

import bisect
import io
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from bt_vmm.cpu.csrs import csr_name, csr_number
from bt_vmm.cpu.hart import ABI_NAMES, FP_ABI_NAMES
from bt_vmm.errors import BadProgram
from bt_vmm.isa import DECODER, IllegalInstruction
from bt_vmm.isa.decoder import Decoded
from bt_vmm.isa.spec import operands

if TYPE_CHECKING:
    from elftools.elf.elffile import ELFFile

M64 = (1 << 64) - 1
DYN = 7
ROUNDING = ("rne", "rtz", "rdn", "rup", "rmm", "0x5", "0x6", "dyn")
# Exact conversions: objdump omits rm when it is RNE (what gas emits), not DYN.
EXACT_CONVERSIONS = frozenset({"fcvt.d.w", "fcvt.d.wu", "fcvt.d.s"})

X_FIELDS = frozenset({"rd", "rs1", "rs2", "rs3"})
# A syntax operand "frd" prints register field rd as a floating-point register.
F_OPERANDS = {f"f{name}": name for name in X_FIELDS}
HEX_FIELDS = frozenset({"shamt"})          # objdump prints shift amounts in hex
DECIMAL_FIELDS = frozenset({"imm", "uimm", "zimm"})

_NAME_RE = re.compile(r"[A-Za-z_]\w*")


def _iorw(bits: int) -> str:
    """fence predecessor/successor sets; objdump calls the empty set unknown."""
    return "".join(c for c, b in zip("iorw", (8, 4, 2, 1)) if bits & b) or "unknown"


def _operand(name: str, fields: dict[str, int], pc: int) -> str:
    if name in F_OPERANDS:
        return FP_ABI_NAMES[fields[F_OPERANDS[name]]]
    value = fields[name]
    if name in X_FIELDS:
        return ABI_NAMES[value]
    if name in DECIMAL_FIELDS:
        return str(value)
    if name in HEX_FIELDS:
        return f"0x{value:x}"
    if name == "off":
        return f"{(pc + value) & M64:x}"
    if name == "upper":
        return f"0x{(value >> 12) & 0xFFFFF:x}"
    if name == "csr":
        return csr_name(value)
    if name == "rm":
        return ROUNDING[value]
    if name in ("pred", "succ"):
        return _iorw(value)
    return str(value)


@dataclass(frozen=True)
class Alias:
    """``syntax`` replaces instruction ``insn`` when its fields match ``when``.

    A condition value is an int, or the name of another field it must equal.
    """

    insn: str
    syntax: str
    when: tuple[tuple[str, int | str], ...]

    def matches(self, fields: dict[str, int]) -> bool:
        return all(
            fields.get(k) == (fields.get(v) if isinstance(v, str) else v) for k, v in self.when
        )


def _aliases(*rows: tuple) -> dict[str, list[Alias]]:
    table: dict[str, list[Alias]] = {}
    for insn, syntax, *conds in rows:
        when = tuple(kv for cond in conds for kv in cond.items())
        table.setdefault(insn, []).append(Alias(insn, syntax, when))
    return table


ZERO, RA = 0, 1
_FFLAGS, _FRM, _FCSR = (csr_number(n) for n in ("fflags", "frm", "fcsr"))
_CYCLE, _TIME, _INSTRET = (csr_number(n) for n in ("cycle", "time", "instret"))


def _fp_aliases(fmt: str) -> list[tuple]:
    return [
        (f"fsgnj.{fmt}", f"fmv.{fmt} frd, frs1", {"rs2": "rs1"}),
        (f"fsgnjn.{fmt}", f"fneg.{fmt} frd, frs1", {"rs2": "rs1"}),
        (f"fsgnjx.{fmt}", f"fabs.{fmt} frd, frs1", {"rs2": "rs1"}),
    ]


def _fcsr_aliases(read: str, write: str, csr: int) -> list[tuple]:
    return [
        ("csrrs", f"{read} rd", {"csr": csr, "rs1": ZERO}),
        ("csrrw", f"{write} rs1", {"csr": csr, "rd": ZERO}),
        ("csrrw", f"{write} rd, rs1", {"csr": csr}),
    ]


# objdump's choices (binutils opcodes/riscv-opc.c); the first match wins.
ALIASES = _aliases(
    ("addi", "nop", {"rd": ZERO, "rs1": ZERO, "imm": 0}),
    ("addi", "li rd, imm", {"rs1": ZERO}),
    ("addi", "mv rd, rs1", {"imm": 0}),
    ("addiw", "sext.w rd, rs1", {"imm": 0}),
    ("andi", "zext.b rd, rs1", {"imm": 255}),
    ("xori", "not rd, rs1", {"imm": -1}),
    ("sub", "neg rd, rs2", {"rs1": ZERO}),
    ("subw", "negw rd, rs2", {"rs1": ZERO}),
    ("sltiu", "seqz rd, rs1", {"imm": 1}),
    ("sltu", "snez rd, rs2", {"rs1": ZERO}),
    ("slt", "sltz rd, rs1", {"rs2": ZERO}),
    ("slt", "sgtz rd, rs2", {"rs1": ZERO}),
    ("add.uw", "zext.w rd, rs1", {"rs2": ZERO}),
    ("beq", "beqz rs1, off", {"rs2": ZERO}),
    ("bne", "bnez rs1, off", {"rs2": ZERO}),
    ("bge", "blez rs2, off", {"rs1": ZERO}),
    ("bge", "bgez rs1, off", {"rs2": ZERO}),
    ("blt", "bltz rs1, off", {"rs2": ZERO}),
    ("blt", "bgtz rs2, off", {"rs1": ZERO}),
    ("jal", "j off", {"rd": ZERO}),
    ("jal", "jal off", {"rd": RA}),
    ("jalr", "ret", {"rd": ZERO, "rs1": RA, "imm": 0}),
    ("jalr", "jr rs1", {"rd": ZERO, "imm": 0}),
    ("jalr", "jr imm(rs1)", {"rd": ZERO}),
    ("jalr", "jalr rs1", {"rd": RA, "imm": 0}),
    ("jalr", "jalr imm(rs1)", {"rd": RA}),
    ("jalr", "jalr rd, rs1", {"imm": 0}),
    ("fence", "fence", {"pred": 15, "succ": 15}),
    ("sfence.vma", "sfence.vma", {"rs1": ZERO, "rs2": ZERO}),
    ("sfence.vma", "sfence.vma rs1", {"rs2": ZERO}),
    ("csrrw", "unimp", {"csr": _CYCLE, "rd": ZERO, "rs1": ZERO}),
    *_fcsr_aliases("frflags", "fsflags", _FFLAGS),
    *_fcsr_aliases("frrm", "fsrm", _FRM),
    *_fcsr_aliases("frcsr", "fscsr", _FCSR),
    ("csrrwi", "fsflagsi rd, uimm", {"csr": _FFLAGS}),
    ("csrrwi", "fsrmi rd, uimm", {"csr": _FRM}),
    ("csrrs", "rdcycle rd", {"csr": _CYCLE, "rs1": ZERO}),
    ("csrrs", "rdtime rd", {"csr": _TIME, "rs1": ZERO}),
    ("csrrs", "rdinstret rd", {"csr": _INSTRET, "rs1": ZERO}),
    ("csrrs", "csrr rd, csr", {"rs1": ZERO}),
    ("csrrw", "csrw csr, rs1", {"rd": ZERO}),
    ("csrrs", "csrs csr, rs1", {"rd": ZERO}),
    ("csrrc", "csrc csr, rs1", {"rd": ZERO}),
    ("csrrwi", "csrw csr, uimm", {"rd": ZERO}),
    ("csrrsi", "csrs csr, uimm", {"rd": ZERO}),
    ("csrrci", "csrc csr, uimm", {"rd": ZERO}),
    ("csrrwi", "csrrw rd, csr, uimm"),  # binutils 2.40 drops the i when rd is live
    ("csrrsi", "csrrs rd, csr, uimm"),
    ("csrrci", "csrrc rd, csr, uimm"),
    *_fp_aliases("s"),
    *_fp_aliases("d"),
)

# Compressed forms objdump names differently from their 32-bit expansion:
# c.mv, and the HINT encodings (rd=x0, 64-bit shifts by 0) it prints as c.*.
COMPRESSED_ALIASES = _aliases(
    ("c.mv", "c.mv rd, rs2", {"rd": ZERO}),
    ("c.mv", "mv rd, rs2"),
    ("c.addi", "c.nop imm", {"rd": ZERO}),
    ("c.addi", "addi rd, rs1, imm", {"imm": 0}),
    ("c.li", "c.li rd, imm", {"rd": ZERO}),
    ("c.add", "c.add rd, rs2", {"rd": ZERO}),
    ("c.lui", "c.lui rd, upper", {"rd": ZERO}),
    ("c.slli", "c.slli64 rd", {"shamt": 0}),
    ("c.slli", "c.slli rd, shamt", {"rd": ZERO}),
    ("c.srli", "c.srli64 rd", {"shamt": 0}),
    ("c.srai", "c.srai64 rd", {"shamt": 0}),
)


def _mnemonic(template: str, fields: dict[str, int]) -> str:
    """Expand the ``{aqrl}`` ordering suffix of atomic mnemonics."""
    if "{aqrl}" not in template:
        return template
    suffix = {(1, 1): ".aqrl", (1, 0): ".aq", (0, 1): ".rl"}.get((fields["aq"], fields["rl"]), "")
    return template.replace("{aqrl}", suffix)


def _omit_rm(name: str, fields: dict[str, int]) -> bool:
    default = 0 if name in EXACT_CONVERSIONS else DYN
    return fields.get("rm") == default


def _render_syntax(syntax: str, name: str, fields: dict[str, int], pc: int) -> tuple[str, int | None]:
    """Render a syntax template; returns the text and any branch target."""
    mnemonic, names = operands(syntax)
    _, _, rest = syntax.strip().partition(" ")
    parts = []
    for template in (t.strip() for t in rest.split(",") if t.strip()):
        if template == "rm" and _omit_rm(name, fields):
            continue
        parts.append(_NAME_RE.sub(lambda m: _operand(m.group(), fields, pc), template))
    target = (pc + fields["off"]) & M64 if "off" in names else None
    text = _mnemonic(mnemonic, fields)
    return (f"{text}\t{','.join(parts)}" if parts else text), target


def render(decoded: Decoded, pc: int, aliases: bool = True) -> tuple[str, int | None]:
    """Disassembly text and the branch/jump target it names (or None)."""
    spec, fields = decoded.spec, decoded.fields
    syntax = spec.syntax
    if aliases:
        table = ALIASES.get(spec.name, [])
        if decoded.cspec is not None:
            table = COMPRESSED_ALIASES.get(decoded.cspec.name, []) + table
        syntax = next((a.syntax for a in table if a.matches(fields)), syntax)
    return _render_syntax(syntax, spec.name, fields, pc)


def disassemble(decoded: Decoded, pc: int, aliases: bool = True) -> str:
    """One instruction as objdump prints it: ``mnemonic\\toperands``."""
    return render(decoded, pc, aliases)[0]


def unknown(raw: int, length: int) -> str:
    """Bits that are no instruction, printed as objdump does."""
    return f".{length}byte\t0x{raw:x}"


# --- an objdump -d style listing of an ELF file ---

SKIP_ZEROES = 8          # objdump shows runs of zero bytes this long as "..."
SKIP_ZEROES_AT_END = 3


@dataclass(frozen=True)
class Symbol:
    addr: int
    name: str
    rank: int  # lower is preferred when several share an address


class SymbolTable:
    """Symbols for ``<name>`` headers and ``<name+0x10>`` annotations."""

    def __init__(self, symbols: list[Symbol]):
        best: dict[int, Symbol] = {}
        for sym in symbols:
            if sym.addr not in best or (sym.rank, sym.name) < (best[sym.addr].rank, best[sym.addr].name):
                best[sym.addr] = sym
        self.by_addr = best
        self._addrs = sorted(best)

    def annotate(self, addr: int) -> str:
        i = bisect.bisect_right(self._addrs, addr) - 1
        if i < 0:
            return ""
        sym = self.by_addr[self._addrs[i]]
        off = addr - sym.addr
        return f"<{sym.name}+0x{off:x}>" if off else f"<{sym.name}>"

    def starts_in(self, lo: int, hi: int) -> list[int]:
        return self._addrs[bisect.bisect_left(self._addrs, lo) : bisect.bisect_left(self._addrs, hi)]


SHF_EXECINSTR = 4
_SYMBOL_RANK = {"STB_GLOBAL": 0, "STB_WEAK": 1, "STB_LOCAL": 2}
SECTION_RANK = 99  # a section's name labels its start only when no symbol does


def _symbols(elf: ELFFile, sections: list) -> SymbolTable:
    table = elf.get_section_by_name(".symtab")
    found = [Symbol(s["sh_addr"], s.name, SECTION_RANK) for s in sections]
    for sym in table.iter_symbols() if table is not None and hasattr(table, "iter_symbols") else ():
        kind = sym["st_info"]["type"]
        # "$x..."/"$d" are mapping symbols, never shown by objdump.
        if sym.name and not sym.name.startswith("$") and kind in ("STT_FUNC", "STT_NOTYPE", "STT_OBJECT"):
            rank = 2 * _SYMBOL_RANK.get(sym["st_info"]["bind"], 3) + (kind != "STT_FUNC")
            found.append(Symbol(sym["st_value"], sym.name, rank))
    return SymbolTable(found)


def _address_width(end: int) -> int:
    """objdump drops leading zero digits of the section's last address in fours."""
    zeros = 16 - len(f"{end:x}")
    return 16 - min(12, zeros - zeros % 4)


def _insn_line(data: bytes, pos: int, pc: int, symbols: SymbolTable) -> tuple[str, int]:
    length = DECODER.length(int.from_bytes(data[pos : pos + 2], "little"))
    length = min(length, len(data) - pos)
    raw = int.from_bytes(data[pos : pos + length], "little")
    column = f"{raw:0{2 * length}x}".ljust(18 if length == 4 else 20)
    try:
        text, target = render(DECODER.decode(raw), pc) if length in (2, 4) else (unknown(raw, length), None)
    except IllegalInstruction:
        text, target = unknown(raw, length), None
    if target is not None and (note := symbols.annotate(target)):
        text += f" {note}"
    return f"{column}\t{text}", length


def _region(data: bytes, base: int, start: int, stop: int, width: int, symbols: SymbolTable) -> Iterator[str]:
    pos, end = start - base, stop - base
    while pos < end:
        zeros = len(data[pos:end]) - len(data[pos:end].lstrip(b"\0"))
        at_end = pos + zeros == end
        if zeros >= SKIP_ZEROES or (at_end and 0 < zeros < SKIP_ZEROES_AT_END):
            yield "\t..."
            pos += zeros if at_end else zeros & ~3
            continue
        line, length = _insn_line(data, pos, base + pos, symbols)
        yield f"{base + pos:{width}x}:\t{line}"
        pos += length


def listing(path: str) -> Iterator[str]:
    """The lines of an ``objdump -d`` style listing of the ELF file ``path``."""
    # Imported here: pyelftools costs ~15 ms, which `bt-vmm run` should not pay.
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        with open(path, "rb") as fh:
            elf = ELFFile(io.BytesIO(fh.read()))
        if elf["e_machine"] != "EM_RISCV":
            raise BadProgram(f"{path}: ELF for {elf['e_machine']}, not RISC-V")
        sections = [
            s for s in elf.iter_sections()
            if s["sh_flags"] & SHF_EXECINSTR and s["sh_type"] == "SHT_PROGBITS" and s["sh_size"]
        ]
        symbols = _symbols(elf, sections)
        texts = [(s.name, s["sh_addr"], s.data()) for s in sections]
    except OSError as exc:
        raise BadProgram(f"{path}: cannot read: {exc.strerror}") from None
    except (ELFError, ValueError, KeyError, IndexError, AssertionError, OverflowError) as exc:
        raise BadProgram(f"{path}: malformed ELF: {exc}") from None
    yield ""
    yield f"{path}:     file format elf64-littleriscv"
    yield ""
    for name, base, data in texts:
        yield ""
        yield f"Disassembly of section {name}:"
        end = base + len(data)
        width = _address_width(end)
        heads = [(a, symbols.by_addr[a].name) for a in symbols.starts_in(base, end)]
        for i, (start, label) in enumerate(heads):
            stop = heads[i + 1][0] if i + 1 < len(heads) else end
            yield ""
            yield f"{start:016x} <{label}>:"
            yield from _region(data, base, start, stop, width, symbols)
