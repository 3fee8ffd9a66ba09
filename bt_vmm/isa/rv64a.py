"""RV64A: load-reserved/store-conditional and atomic memory operations.

A single hart sees its own accesses in order, so aq/rl only need decoding.
LR/SC keep their reservation in the C core (bt_lr/bt_sc: the address and
the value LR read; a store that changed the value since makes SC fail).  An AMO is the load half (aligned, with store
permissions and store/AMO fault causes), the operation, then the store.
"""
from bt_vmm.isa.spec import insn

A = "A"


def _lr(s, rd, rs1, size):
    v = s.call("lr", s.x(rs1), size)
    s.set_x(rd, s.sext(v, 32) if size == 4 else v)


def _sc(s, rd, rs1, rs2, size):
    s.set_x(rd, s.call("sc", s.x(rs1), s.x(rs2), size))


def _amo(s, rd, rs1, rs2, size, op, unsigned=False):
    """rd = old memory value; memory = op(old, rs2), compared as ``size``-byte values."""
    addr = s.x(rs1)
    old = s.load(addr, size, signed=True, for_store=True)
    a, b = old, s.x(rs2)
    if size == 4:
        a, b = (s.zext(a, 32), s.zext(b, 32)) if unsigned else (a, s.sext(b, 32))
    s.store(addr, op(s, a, b), size)
    s.set_x(rd, old)


# The operations, on values already extended for their size and signedness.
def _swap(s, a, b):
    return b


def _min(s, a, b):
    return s.select(s.lt(a, b), a, b)


def _max(s, a, b):
    return s.select(s.lt(a, b), b, a)


def _minu(s, a, b):
    return s.select(s.ltu(a, b), a, b)


def _maxu(s, a, b):
    return s.select(s.ltu(a, b), b, a)


# (name, funct5, operation, compare unsigned)
AMOS = [
    ("amoswap", "00001", _swap, False),
    ("amoadd", "00000", lambda s, a, b: s.add(a, b), False),
    ("amoxor", "00100", lambda s, a, b: s.xor(a, b), False),
    ("amoand", "01100", lambda s, a, b: s.and_(a, b), False),
    ("amoor", "01000", lambda s, a, b: s.or_(a, b), False),
    ("amomin", "10000", _min, False),
    ("amomax", "10100", _max, False),
    ("amominu", "11000", _minu, True),
    ("amomaxu", "11100", _maxu, True),
]


def _declare(suffix: str, funct3: str, size: int) -> None:
    """Declare LR, SC and every AMO for one access size."""

    @insn(f"lr.{suffix}{{aqrl}} rd, (rs1)", f"00010 aq:1 rl:1 00000 rs1:5 {funct3} rd:5 0101111", ext=A)
    def lr(s, rd, rs1, aq, rl):
        _lr(s, rd, rs1, size)

    @insn(f"sc.{suffix}{{aqrl}} rd, rs2, (rs1)", f"00011 aq:1 rl:1 rs2:5 rs1:5 {funct3} rd:5 0101111", ext=A)
    def sc(s, rd, rs1, rs2, aq, rl):
        _sc(s, rd, rs1, rs2, size)

    for name, funct5, op, unsigned in AMOS:
        _declare_amo(f"{name}.{suffix}", funct5, funct3, size, op, unsigned)


def _declare_amo(mnemonic, funct5, funct3, size, op, unsigned) -> None:
    @insn(f"{mnemonic}{{aqrl}} rd, rs2, (rs1)", f"{funct5} aq:1 rl:1 rs2:5 rs1:5 {funct3} rd:5 0101111", ext=A)
    def amo(s, rd, rs1, rs2, aq, rl):
        _amo(s, rd, rs1, rs2, size, op, unsigned)


_declare("w", "010", 4)
_declare("d", "011", 8)
