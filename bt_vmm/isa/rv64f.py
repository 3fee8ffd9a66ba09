"""RV64F: single-precision floating point, and the shapes RV64D shares.

Arithmetic, conversions, comparisons and classification are callouts into
csrc/fpu.c (``bt_<name>``): IEEE 754 in all five rounding modes, fflags, the
canonical NaN, RISC-V's fcvt saturation.  The helpers take the raw register
values (singles NaN-boxed) and the instruction's rm field; they resolve the
dynamic mode from frm and raise illegal instruction for a reserved one.
Sign injection, moves, loads and stores are plain bit operations written
here.

Syntax operands naming a floating-point register carry an ``f`` prefix
(``frd`` is the field ``rd`` printed as an f register).
"""
from __future__ import annotations

from dataclasses import dataclass

from bt_vmm.isa.spec import insn

OP_FP = "1010011"
BOX = 0xFFFFFFFF00000000
CANONICAL_NAN_S = 0x7FC00000
M32 = 0xFFFFFFFF


def rm_ok(rm: int, **_fields: int) -> bool:
    """Rounding modes 5 and 6 are reserved encodings (7, dynamic, is checked at run time)."""
    return rm not in (5, 6)


@dataclass(frozen=True)
class Precision:
    suffix: str   # "s" or "d": the mnemonic suffix and the helper suffix
    fmt: str      # the 2-bit fmt field
    ext: str
    width: int    # 32 or 64

    @property
    def sign(self) -> int:
        return 1 << (self.width - 1)


SINGLE = Precision("s", "00", "F", 32)


def unbox(s, p: Precision, v):
    """A register value as a ``p`` operand: improperly boxed singles are the canonical NaN."""
    if p.width == 64:
        return v
    return s.select(s.eq(s.shr(v, 32), M32), s.zext(v, 32), CANONICAL_NAN_S)


def box(s, p: Precision, v):
    """A ``p`` result as a register value: singles get all-ones upper bits."""
    return v if p.width == 64 else s.or_(s.zext(v, 32), BOX)


def negate(s, p: Precision, v):
    """Flip the sign of a register value (a single stays boxed or unboxed as it was)."""
    return s.xor(v, p.sign)


def _sign_inject(s, p: Precision, rd, rs1, rs2, sign_source) -> None:
    a, b = unbox(s, p, s.f(rs1)), unbox(s, p, s.f(rs2))
    sign = s.and_(sign_source(s, p, a, b), p.sign)
    s.set_f(rd, box(s, p, s.or_(s.and_(a, p.sign - 1), sign)))


# Where fsgnj, fsgnjn and fsgnjx take the result's sign from.
def _sign_of_b(s, p, a, b):
    return b


def _sign_of_not_b(s, p, a, b):
    return negate(s, p, b)


def _sign_of_a_xor_b(s, p, a, b):
    return s.xor(a, b)


# --- declarations, one precision at a time ---

def _binary(p: Precision, name: str, funct5: str) -> None:
    helper = f"{name}_{p.suffix}"

    @insn(f"{name}.{p.suffix} frd, frs1, frs2, rm", f"{funct5} {p.fmt} rs2:5 rs1:5 rm:3 rd:5 {OP_FP}",
          ext=p.ext, fp=True, valid=rm_ok)
    def op(s, rd, rs1, rs2, rm):
        s.set_f(rd, s.call(helper, s.f(rs1), s.f(rs2), rm))


def _fused(p: Precision, name: str, opcode: str, negate_product: bool, negate_addend: bool) -> None:
    """fmadd and its variants: one fused a*b+c with operands negated first."""
    helper = f"fmadd_{p.suffix}"

    @insn(f"{name}.{p.suffix} frd, frs1, frs2, frs3, rm", f"rs3:5 {p.fmt} rs2:5 rs1:5 rm:3 rd:5 {opcode}",
          ext=p.ext, fp=True, valid=rm_ok)
    def op(s, rd, rs1, rs2, rs3, rm):
        a, c = s.f(rs1), s.f(rs3)
        if negate_product:
            a = negate(s, p, a)
        if negate_addend:
            c = negate(s, p, c)
        s.set_f(rd, s.call(helper, a, s.f(rs2), c, rm))


def _sign_injection(p: Precision, name: str, funct3: str, sign_source) -> None:
    @insn(f"{name}.{p.suffix} frd, frs1, frs2", f"00100 {p.fmt} rs2:5 rs1:5 {funct3} rd:5 {OP_FP}",
          ext=p.ext, fp=True)
    def op(s, rd, rs1, rs2):
        _sign_inject(s, p, rd, rs1, rs2, sign_source)


def _min_max(p: Precision, name: str, funct3: str) -> None:
    helper = f"{name}_{p.suffix}"

    @insn(f"{name}.{p.suffix} frd, frs1, frs2", f"00101 {p.fmt} rs2:5 rs1:5 {funct3} rd:5 {OP_FP}",
          ext=p.ext, fp=True)
    def op(s, rd, rs1, rs2):
        s.set_f(rd, s.call(helper, s.f(rs1), s.f(rs2)))


def _compare(p: Precision, name: str, funct3: str) -> None:
    helper = f"{name}_{p.suffix}"

    @insn(f"{name}.{p.suffix} rd, frs1, frs2", f"10100 {p.fmt} rs2:5 rs1:5 {funct3} rd:5 {OP_FP}",
          ext=p.ext, fp=True)
    def op(s, rd, rs1, rs2):
        s.set_x(rd, s.call(helper, s.f(rs1), s.f(rs2)))


# Integer kinds of fcvt: (mnemonic part, rs2 field value = fpu.h's FCVT_*).
INT_KINDS = [("w", 0), ("wu", 1), ("l", 2), ("lu", 3)]


def _convert_int(p: Precision, int_name: str, kind: int) -> None:
    to_int, from_int = f"fcvt_to_int_{p.suffix}", f"fcvt_from_int_{p.suffix}"
    rs2 = format(kind, "05b")

    @insn(f"fcvt.{int_name}.{p.suffix} rd, frs1, rm", f"11000 {p.fmt} {rs2} rs1:5 rm:3 rd:5 {OP_FP}",
          ext=p.ext, fp=True, valid=rm_ok)
    def to_integer(s, rd, rs1, rm):
        s.set_x(rd, s.call(to_int, s.f(rs1), rm, kind))

    @insn(f"fcvt.{p.suffix}.{int_name} frd, rs1, rm", f"11010 {p.fmt} {rs2} rs1:5 rm:3 rd:5 {OP_FP}",
          ext=p.ext, fp=True, valid=rm_ok)
    def from_integer(s, rd, rs1, rm):
        s.set_f(rd, s.call(from_int, s.x(rs1), rm, kind))


def _load_store(p: Precision, load: str, store: str, funct3: str) -> None:
    size = p.width // 8

    @insn(f"{load} frd, imm(rs1)", f"imm[11:0] rs1:5 {funct3} rd:5 0000111", ext=p.ext, fp=True)
    def fload(s, rd, rs1, imm):
        s.set_f(rd, box(s, p, s.load(s.add(s.x(rs1), imm), size)))

    @insn(f"{store} frs2, imm(rs1)", f"imm[11:5] rs2:5 rs1:5 {funct3} imm[4:0] 0100111", ext=p.ext, fp=True)
    def fstore(s, rs1, rs2, imm):
        s.store(s.add(s.x(rs1), imm), s.f(rs2), size)  # a single's upper half is not checked


def _moves(p: Precision, to_x: str, from_x: str) -> None:
    """Bit-exact moves between x and f registers (no NaN-box check, no canonicalisation)."""

    @insn(f"{to_x} rd, frs1", f"11100 {p.fmt} 00000 rs1:5 000 rd:5 {OP_FP}", ext=p.ext, fp=True)
    def move_to_x(s, rd, rs1):
        v = s.f(rs1)
        s.set_x(rd, v if p.width == 64 else s.sext(v, 32))

    @insn(f"{from_x} frd, rs1", f"11110 {p.fmt} 00000 rs1:5 000 rd:5 {OP_FP}", ext=p.ext, fp=True)
    def move_from_x(s, rd, rs1):
        s.set_f(rd, box(s, p, s.x(rs1)))


def declare_precision(p: Precision, load: str, store: str, funct3: str, to_x: str, from_x: str) -> None:
    """Declare every instruction of one precision (F for singles, D for doubles)."""
    for name, funct5 in [("fadd", "00000"), ("fsub", "00001"), ("fmul", "00010"), ("fdiv", "00011")]:
        _binary(p, name, funct5)

    helper = f"fsqrt_{p.suffix}"

    @insn(f"fsqrt.{p.suffix} frd, frs1, rm", f"01011 {p.fmt} 00000 rs1:5 rm:3 rd:5 {OP_FP}",
          ext=p.ext, fp=True, valid=rm_ok)
    def fsqrt(s, rd, rs1, rm):
        s.set_f(rd, s.call(helper, s.f(rs1), rm))

    _fused(p, "fmadd", "1000011", False, False)
    _fused(p, "fmsub", "1000111", False, True)
    _fused(p, "fnmsub", "1001011", True, False)
    _fused(p, "fnmadd", "1001111", True, True)

    _sign_injection(p, "fsgnj", "000", _sign_of_b)
    _sign_injection(p, "fsgnjn", "001", _sign_of_not_b)
    _sign_injection(p, "fsgnjx", "010", _sign_of_a_xor_b)
    _min_max(p, "fmin", "000")
    _min_max(p, "fmax", "001")
    _compare(p, "fle", "000")
    _compare(p, "flt", "001")
    _compare(p, "feq", "010")

    fclass_helper = f"fclass_{p.suffix}"

    @insn(f"fclass.{p.suffix} rd, frs1", f"11100 {p.fmt} 00000 rs1:5 001 rd:5 {OP_FP}", ext=p.ext, fp=True)
    def fclass(s, rd, rs1):
        s.set_x(rd, s.call(fclass_helper, s.f(rs1)))

    for int_name, kind in INT_KINDS:
        _convert_int(p, int_name, kind)
    _load_store(p, load, store, funct3)
    _moves(p, to_x, from_x)


declare_precision(SINGLE, "flw", "fsw", "010", "fmv.x.w", "fmv.w.x")
