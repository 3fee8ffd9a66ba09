"""RV64M: integer multiplication and division.

Division by zero and signed overflow have defined RISC-V results (quotient
all ones / INT_MIN, remainder the dividend / 0).  They are selected
explicitly, and the raw s.div/s.rem only ever see a safe divisor: in the
LLVM backend a division by zero or INT_MIN / -1 is undefined behaviour.
"""
from bt_vmm.isa.spec import insn

M = "M"
ALL_ONES = (1 << 64) - 1


def _reg(s, rd, rs1, rs2, op):
    s.set_x(rd, op(s.x(rs1), s.x(rs2)))


def _divide(s, a, b, bits, signed, want_rem):
    """RISC-V division of the low ``bits`` of a by b, any divisor."""
    if signed:
        a, b = s.sext(a, bits), s.sext(b, bits)
    elif bits < 64:
        a, b = s.zext(a, bits), s.zext(b, bits)
    zero = s.eq(b, 0)
    unsafe = zero
    if signed:
        int_min = -(1 << (bits - 1)) & ALL_ONES
        unsafe = s.either(zero, s.both(s.eq(a, int_min), s.eq(b, ALL_ONES)))
    safe_b = s.select(unsafe, 1, b)  # any divisor that cannot trap
    if want_rem:
        r = (s.rem if signed else s.remu)(a, safe_b)
        # by zero: the dividend; overflow: 0 (a % 1 is already 0)
        result = s.select(zero, a, r)
    else:
        q = (s.div if signed else s.divu)(a, safe_b)
        # by zero: all ones; overflow: INT_MIN (a / 1 is already a)
        result = s.select(zero, ALL_ONES, q)
    return s.sext(result, bits) if bits < 64 else result


def _div(s, rd, rs1, rs2, bits, signed, want_rem):
    s.set_x(rd, _divide(s, s.x(rs1), s.x(rs2), bits, signed, want_rem))


@insn("mul rd, rs1, rs2", "0000001 rs2:5 rs1:5 000 rd:5 0110011", ext=M)
def mul(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, s.mul)


@insn("mulh rd, rs1, rs2", "0000001 rs2:5 rs1:5 001 rd:5 0110011", ext=M)
def mulh(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, s.mulh)


@insn("mulhsu rd, rs1, rs2", "0000001 rs2:5 rs1:5 010 rd:5 0110011", ext=M)
def mulhsu(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, s.mulhsu)


@insn("mulhu rd, rs1, rs2", "0000001 rs2:5 rs1:5 011 rd:5 0110011", ext=M)
def mulhu(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, s.mulhu)


@insn("div rd, rs1, rs2", "0000001 rs2:5 rs1:5 100 rd:5 0110011", ext=M)
def div(s, rd, rs1, rs2):
    _div(s, rd, rs1, rs2, 64, True, False)


@insn("divu rd, rs1, rs2", "0000001 rs2:5 rs1:5 101 rd:5 0110011", ext=M)
def divu(s, rd, rs1, rs2):
    _div(s, rd, rs1, rs2, 64, False, False)


@insn("rem rd, rs1, rs2", "0000001 rs2:5 rs1:5 110 rd:5 0110011", ext=M)
def rem(s, rd, rs1, rs2):
    _div(s, rd, rs1, rs2, 64, True, True)


@insn("remu rd, rs1, rs2", "0000001 rs2:5 rs1:5 111 rd:5 0110011", ext=M)
def remu(s, rd, rs1, rs2):
    _div(s, rd, rs1, rs2, 64, False, True)


@insn("mulw rd, rs1, rs2", "0000001 rs2:5 rs1:5 000 rd:5 0111011", ext=M)
def mulw(s, rd, rs1, rs2):
    s.set_x(rd, s.sext(s.mul(s.x(rs1), s.x(rs2)), 32))


@insn("divw rd, rs1, rs2", "0000001 rs2:5 rs1:5 100 rd:5 0111011", ext=M)
def divw(s, rd, rs1, rs2):
    _div(s, rd, rs1, rs2, 32, True, False)


@insn("divuw rd, rs1, rs2", "0000001 rs2:5 rs1:5 101 rd:5 0111011", ext=M)
def divuw(s, rd, rs1, rs2):
    _div(s, rd, rs1, rs2, 32, False, False)


@insn("remw rd, rs1, rs2", "0000001 rs2:5 rs1:5 110 rd:5 0111011", ext=M)
def remw(s, rd, rs1, rs2):
    _div(s, rd, rs1, rs2, 32, True, True)


@insn("remuw rd, rs1, rs2", "0000001 rs2:5 rs1:5 111 rd:5 0111011", ext=M)
def remuw(s, rd, rs1, rs2):
    _div(s, rd, rs1, rs2, 32, False, True)
