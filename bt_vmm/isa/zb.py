"""Zba, Zbb, Zbs: address generation, basic bit manipulation, single bits.

None of these encodings overlap RV64I's; the immediate forms share the shift
opcodes but differ in funct6/funct3 (the decoder tries the most specific
mask first anyway).
"""
from bt_vmm.isa.spec import insn

ZBA, ZBB, ZBS = "Zba", "Zbb", "Zbs"
ALL_ONES = (1 << 64) - 1
BYTES_LOW_BIT = 0x0101010101010101


def _reg(s, rd, rs1, rs2, op):
    s.set_x(rd, op(s.x(rs1), s.x(rs2)))


def _unary(s, rd, rs1, op):
    s.set_x(rd, op(s.x(rs1)))


def _not(s, a):
    return s.xor(a, ALL_ONES)


def _rotl(s, a, n, bits):
    """Rotate the low ``bits`` of a left by n mod bits (sign-extended when 32)."""
    n = s.and_(n, bits - 1)
    if bits == 32:
        a = s.zext(a, 32)
    # n = 0 gives a | a: no out-of-range shift by ``bits`` is ever formed
    r = s.or_(s.shl(a, n), s.shr(a, s.and_(s.sub(bits, n), bits - 1)))
    return s.sext(r, 32) if bits == 32 else r


def _rotr(s, a, n, bits):
    return _rotl(s, a, s.sub(bits, s.and_(n, bits - 1)), bits)


def _bit(s, n):
    return s.shl(1, s.and_(n, 63))


def _orc_b(s, a):
    """Each byte becomes 0xff when any of its bits is set, else 0."""
    for shift, mask in ((4, 0x0F0F0F0F0F0F0F0F), (2, 0x3333333333333333), (1, 0x5555555555555555)):
        a = s.or_(a, s.and_(s.shr(a, shift), mask))  # fold each byte into its bit 0
    return s.mul(s.and_(a, BYTES_LOW_BIT), 0xFF)


def _rev8(s, a):
    """Byte swap: swap bytes, then halfwords, then words."""
    for shift, mask in ((8, 0x00FF00FF00FF00FF), (16, 0x0000FFFF0000FFFF)):
        a = s.or_(s.and_(s.shr(a, shift), mask), s.shl(s.and_(a, mask), shift))
    return s.or_(s.shr(a, 32), s.shl(a, 32))


# --- Zba: address generation ---

def _shadd(s, rd, rs1, rs2, n, uw):
    base = s.zext(s.x(rs1), 32) if uw else s.x(rs1)
    s.set_x(rd, s.add(s.shl(base, n), s.x(rs2)))


@insn("add.uw rd, rs1, rs2", "0000100 rs2:5 rs1:5 000 rd:5 0111011", ext=ZBA)
def add_uw(s, rd, rs1, rs2):
    _shadd(s, rd, rs1, rs2, 0, True)


@insn("sh1add rd, rs1, rs2", "0010000 rs2:5 rs1:5 010 rd:5 0110011", ext=ZBA)
def sh1add(s, rd, rs1, rs2):
    _shadd(s, rd, rs1, rs2, 1, False)


@insn("sh2add rd, rs1, rs2", "0010000 rs2:5 rs1:5 100 rd:5 0110011", ext=ZBA)
def sh2add(s, rd, rs1, rs2):
    _shadd(s, rd, rs1, rs2, 2, False)


@insn("sh3add rd, rs1, rs2", "0010000 rs2:5 rs1:5 110 rd:5 0110011", ext=ZBA)
def sh3add(s, rd, rs1, rs2):
    _shadd(s, rd, rs1, rs2, 3, False)


@insn("sh1add.uw rd, rs1, rs2", "0010000 rs2:5 rs1:5 010 rd:5 0111011", ext=ZBA)
def sh1add_uw(s, rd, rs1, rs2):
    _shadd(s, rd, rs1, rs2, 1, True)


@insn("sh2add.uw rd, rs1, rs2", "0010000 rs2:5 rs1:5 100 rd:5 0111011", ext=ZBA)
def sh2add_uw(s, rd, rs1, rs2):
    _shadd(s, rd, rs1, rs2, 2, True)


@insn("sh3add.uw rd, rs1, rs2", "0010000 rs2:5 rs1:5 110 rd:5 0111011", ext=ZBA)
def sh3add_uw(s, rd, rs1, rs2):
    _shadd(s, rd, rs1, rs2, 3, True)


@insn("slli.uw rd, rs1, shamt", "000010 shamt:6 rs1:5 001 rd:5 0011011", ext=ZBA)
def slli_uw(s, rd, rs1, shamt):
    s.set_x(rd, s.shl(s.zext(s.x(rs1), 32), shamt))


# --- Zbb: logic with negate ---

@insn("andn rd, rs1, rs2", "0100000 rs2:5 rs1:5 111 rd:5 0110011", ext=ZBB)
def andn(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, lambda a, b: s.and_(a, _not(s, b)))


@insn("orn rd, rs1, rs2", "0100000 rs2:5 rs1:5 110 rd:5 0110011", ext=ZBB)
def orn(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, lambda a, b: s.or_(a, _not(s, b)))


@insn("xnor rd, rs1, rs2", "0100000 rs2:5 rs1:5 100 rd:5 0110011", ext=ZBB)
def xnor(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, lambda a, b: _not(s, s.xor(a, b)))


# --- Zbb: counting ---

@insn("clz rd, rs1", "0110000 00000 rs1:5 001 rd:5 0010011", ext=ZBB)
def clz(s, rd, rs1):
    _unary(s, rd, rs1, s.clz)


@insn("clzw rd, rs1", "0110000 00000 rs1:5 001 rd:5 0011011", ext=ZBB)
def clzw(s, rd, rs1):
    _unary(s, rd, rs1, lambda a: s.sub(s.clz(s.zext(a, 32)), 32))


@insn("ctz rd, rs1", "0110000 00001 rs1:5 001 rd:5 0010011", ext=ZBB)
def ctz(s, rd, rs1):
    _unary(s, rd, rs1, s.ctz)


@insn("ctzw rd, rs1", "0110000 00001 rs1:5 001 rd:5 0011011", ext=ZBB)
def ctzw(s, rd, rs1):
    _unary(s, rd, rs1, lambda a: s.ctz(s.or_(a, 1 << 32)))  # a zero word counts 32


@insn("cpop rd, rs1", "0110000 00010 rs1:5 001 rd:5 0010011", ext=ZBB)
def cpop(s, rd, rs1):
    _unary(s, rd, rs1, s.cpop)


@insn("cpopw rd, rs1", "0110000 00010 rs1:5 001 rd:5 0011011", ext=ZBB)
def cpopw(s, rd, rs1):
    _unary(s, rd, rs1, lambda a: s.cpop(s.zext(a, 32)))


# --- Zbb: integer minimum/maximum ---

@insn("max rd, rs1, rs2", "0000101 rs2:5 rs1:5 110 rd:5 0110011", ext=ZBB)
def max_(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, lambda a, b: s.select(s.lt(a, b), b, a))


@insn("maxu rd, rs1, rs2", "0000101 rs2:5 rs1:5 111 rd:5 0110011", ext=ZBB)
def maxu(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, lambda a, b: s.select(s.ltu(a, b), b, a))


@insn("min rd, rs1, rs2", "0000101 rs2:5 rs1:5 100 rd:5 0110011", ext=ZBB)
def min_(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, lambda a, b: s.select(s.lt(a, b), a, b))


@insn("minu rd, rs1, rs2", "0000101 rs2:5 rs1:5 101 rd:5 0110011", ext=ZBB)
def minu(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, lambda a, b: s.select(s.ltu(a, b), a, b))


# --- Zbb: sign and zero extension ---

@insn("sext.b rd, rs1", "0110000 00100 rs1:5 001 rd:5 0010011", ext=ZBB)
def sext_b(s, rd, rs1):
    _unary(s, rd, rs1, lambda a: s.sext(a, 8))


@insn("sext.h rd, rs1", "0110000 00101 rs1:5 001 rd:5 0010011", ext=ZBB)
def sext_h(s, rd, rs1):
    _unary(s, rd, rs1, lambda a: s.sext(a, 16))


@insn("zext.h rd, rs1", "0000100 00000 rs1:5 100 rd:5 0111011", ext=ZBB)
def zext_h(s, rd, rs1):
    _unary(s, rd, rs1, lambda a: s.zext(a, 16))


# --- Zbb: rotations ---

@insn("rol rd, rs1, rs2", "0110000 rs2:5 rs1:5 001 rd:5 0110011", ext=ZBB)
def rol(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, lambda a, n: _rotl(s, a, n, 64))


@insn("rolw rd, rs1, rs2", "0110000 rs2:5 rs1:5 001 rd:5 0111011", ext=ZBB)
def rolw(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, lambda a, n: _rotl(s, a, n, 32))


@insn("ror rd, rs1, rs2", "0110000 rs2:5 rs1:5 101 rd:5 0110011", ext=ZBB)
def ror(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, lambda a, n: _rotr(s, a, n, 64))


@insn("rorw rd, rs1, rs2", "0110000 rs2:5 rs1:5 101 rd:5 0111011", ext=ZBB)
def rorw(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, lambda a, n: _rotr(s, a, n, 32))


@insn("rori rd, rs1, shamt", "011000 shamt:6 rs1:5 101 rd:5 0010011", ext=ZBB)
def rori(s, rd, rs1, shamt):
    _unary(s, rd, rs1, lambda a: _rotr(s, a, shamt, 64))


@insn("roriw rd, rs1, shamt", "0110000 shamt:5 rs1:5 101 rd:5 0011011", ext=ZBB)
def roriw(s, rd, rs1, shamt):
    _unary(s, rd, rs1, lambda a: _rotr(s, a, shamt, 32))


# --- Zbb: byte operations ---

@insn("orc.b rd, rs1", "001010000111 rs1:5 101 rd:5 0010011", ext=ZBB)
def orc_b(s, rd, rs1):
    _unary(s, rd, rs1, lambda a: _orc_b(s, a))


@insn("rev8 rd, rs1", "011010111000 rs1:5 101 rd:5 0010011", ext=ZBB)
def rev8(s, rd, rs1):
    _unary(s, rd, rs1, lambda a: _rev8(s, a))


# --- Zbs: single-bit operations (bit index taken mod 64) ---

@insn("bclr rd, rs1, rs2", "0100100 rs2:5 rs1:5 001 rd:5 0110011", ext=ZBS)
def bclr(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, lambda a, n: s.and_(a, _not(s, _bit(s, n))))


@insn("bclri rd, rs1, shamt", "010010 shamt:6 rs1:5 001 rd:5 0010011", ext=ZBS)
def bclri(s, rd, rs1, shamt):
    _unary(s, rd, rs1, lambda a: s.and_(a, _not(s, _bit(s, shamt))))


@insn("bext rd, rs1, rs2", "0100100 rs2:5 rs1:5 101 rd:5 0110011", ext=ZBS)
def bext(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, lambda a, n: s.and_(s.shr(a, s.and_(n, 63)), 1))


@insn("bexti rd, rs1, shamt", "010010 shamt:6 rs1:5 101 rd:5 0010011", ext=ZBS)
def bexti(s, rd, rs1, shamt):
    _unary(s, rd, rs1, lambda a: s.and_(s.shr(a, shamt), 1))


@insn("binv rd, rs1, rs2", "0110100 rs2:5 rs1:5 001 rd:5 0110011", ext=ZBS)
def binv(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, lambda a, n: s.xor(a, _bit(s, n)))


@insn("binvi rd, rs1, shamt", "011010 shamt:6 rs1:5 001 rd:5 0010011", ext=ZBS)
def binvi(s, rd, rs1, shamt):
    _unary(s, rd, rs1, lambda a: s.xor(a, _bit(s, shamt)))


@insn("bset rd, rs1, rs2", "0010100 rs2:5 rs1:5 001 rd:5 0110011", ext=ZBS)
def bset(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, lambda a, n: s.or_(a, _bit(s, n)))


@insn("bseti rd, rs1, shamt", "001010 shamt:6 rs1:5 001 rd:5 0010011", ext=ZBS)
def bseti(s, rd, rs1, shamt):
    _unary(s, rd, rs1, lambda a: s.or_(a, _bit(s, shamt)))
