"""RV64I: the base integer instruction set."""
from bt_vmm.isa.spec import insn

I = "I"


# --- shared shapes (QEMU's gen_arith style): one line per instruction below ---

def _reg(s, rd, rs1, rs2, op):
    s.set_x(rd, op(s.x(rs1), s.x(rs2)))


def _imm(s, rd, rs1, imm, op):
    s.set_x(rd, op(s.x(rs1), imm))


def _reg_w(s, rd, rs1, rs2, op):
    s.set_x(rd, s.sext(op(s.x(rs1), s.x(rs2)), 32))


def _shift_w(s, rd, value, amount, op):
    s.set_x(rd, s.sext(op(value, s.and_(amount, 31)), 32))


def _branch(s, cond, off):
    s.branch(cond, s.add(s.pc, off))


def _load(s, rd, rs1, imm, size, signed):
    s.set_x(rd, s.load(s.add(s.x(rs1), imm), size, signed))


def _store(s, rs1, rs2, imm, size):
    s.store(s.add(s.x(rs1), imm), s.x(rs2), size)


# --- upper immediates and jumps ---

@insn("lui rd, upper", "upper[31:12] rd:5 0110111", ext=I)
def lui(s, rd, upper):
    s.set_x(rd, upper)


@insn("auipc rd, upper", "upper[31:12] rd:5 0010111", ext=I)
def auipc(s, rd, upper):
    s.set_x(rd, s.add(s.pc, upper))


@insn("jal rd, off", "off[20|10:1|11|19:12] rd:5 1101111", ext=I, ends_block=True)
def jal(s, rd, off):
    s.set_x(rd, s.pc + s.length)
    s.jump(s.add(s.pc, off))


@insn("jalr rd, imm(rs1)", "imm[11:0] rs1:5 000 rd:5 1100111", ext=I, ends_block=True)
def jalr(s, rd, rs1, imm):
    target = s.and_(s.add(s.x(rs1), imm), ~1)
    s.set_x(rd, s.pc + s.length)
    s.jump(target)


# --- conditional branches ---

@insn("beq rs1, rs2, off", "off[12|10:5] rs2:5 rs1:5 000 off[4:1|11] 1100011", ext=I, ends_block=True)
def beq(s, rs1, rs2, off):
    _branch(s, s.eq(s.x(rs1), s.x(rs2)), off)


@insn("bne rs1, rs2, off", "off[12|10:5] rs2:5 rs1:5 001 off[4:1|11] 1100011", ext=I, ends_block=True)
def bne(s, rs1, rs2, off):
    _branch(s, s.ne(s.x(rs1), s.x(rs2)), off)


@insn("blt rs1, rs2, off", "off[12|10:5] rs2:5 rs1:5 100 off[4:1|11] 1100011", ext=I, ends_block=True)
def blt(s, rs1, rs2, off):
    _branch(s, s.lt(s.x(rs1), s.x(rs2)), off)


@insn("bge rs1, rs2, off", "off[12|10:5] rs2:5 rs1:5 101 off[4:1|11] 1100011", ext=I, ends_block=True)
def bge(s, rs1, rs2, off):
    _branch(s, s.ge(s.x(rs1), s.x(rs2)), off)


@insn("bltu rs1, rs2, off", "off[12|10:5] rs2:5 rs1:5 110 off[4:1|11] 1100011", ext=I, ends_block=True)
def bltu(s, rs1, rs2, off):
    _branch(s, s.ltu(s.x(rs1), s.x(rs2)), off)


@insn("bgeu rs1, rs2, off", "off[12|10:5] rs2:5 rs1:5 111 off[4:1|11] 1100011", ext=I, ends_block=True)
def bgeu(s, rs1, rs2, off):
    _branch(s, s.geu(s.x(rs1), s.x(rs2)), off)


# --- loads and stores ---

@insn("lb rd, imm(rs1)", "imm[11:0] rs1:5 000 rd:5 0000011", ext=I)
def lb(s, rd, rs1, imm):
    _load(s, rd, rs1, imm, 1, True)


@insn("lh rd, imm(rs1)", "imm[11:0] rs1:5 001 rd:5 0000011", ext=I)
def lh(s, rd, rs1, imm):
    _load(s, rd, rs1, imm, 2, True)


@insn("lw rd, imm(rs1)", "imm[11:0] rs1:5 010 rd:5 0000011", ext=I)
def lw(s, rd, rs1, imm):
    _load(s, rd, rs1, imm, 4, True)


@insn("ld rd, imm(rs1)", "imm[11:0] rs1:5 011 rd:5 0000011", ext=I)
def ld(s, rd, rs1, imm):
    _load(s, rd, rs1, imm, 8, False)


@insn("lbu rd, imm(rs1)", "imm[11:0] rs1:5 100 rd:5 0000011", ext=I)
def lbu(s, rd, rs1, imm):
    _load(s, rd, rs1, imm, 1, False)


@insn("lhu rd, imm(rs1)", "imm[11:0] rs1:5 101 rd:5 0000011", ext=I)
def lhu(s, rd, rs1, imm):
    _load(s, rd, rs1, imm, 2, False)


@insn("lwu rd, imm(rs1)", "imm[11:0] rs1:5 110 rd:5 0000011", ext=I)
def lwu(s, rd, rs1, imm):
    _load(s, rd, rs1, imm, 4, False)


@insn("sb rs2, imm(rs1)", "imm[11:5] rs2:5 rs1:5 000 imm[4:0] 0100011", ext=I)
def sb(s, rs1, rs2, imm):
    _store(s, rs1, rs2, imm, 1)


@insn("sh rs2, imm(rs1)", "imm[11:5] rs2:5 rs1:5 001 imm[4:0] 0100011", ext=I)
def sh(s, rs1, rs2, imm):
    _store(s, rs1, rs2, imm, 2)


@insn("sw rs2, imm(rs1)", "imm[11:5] rs2:5 rs1:5 010 imm[4:0] 0100011", ext=I)
def sw(s, rs1, rs2, imm):
    _store(s, rs1, rs2, imm, 4)


@insn("sd rs2, imm(rs1)", "imm[11:5] rs2:5 rs1:5 011 imm[4:0] 0100011", ext=I)
def sd(s, rs1, rs2, imm):
    _store(s, rs1, rs2, imm, 8)


# --- register-immediate arithmetic ---

@insn("addi rd, rs1, imm", "imm[11:0] rs1:5 000 rd:5 0010011", ext=I)
def addi(s, rd, rs1, imm):
    _imm(s, rd, rs1, imm, s.add)


@insn("slti rd, rs1, imm", "imm[11:0] rs1:5 010 rd:5 0010011", ext=I)
def slti(s, rd, rs1, imm):
    s.set_x(rd, s.flag(s.lt(s.x(rs1), imm)))


@insn("sltiu rd, rs1, imm", "imm[11:0] rs1:5 011 rd:5 0010011", ext=I)
def sltiu(s, rd, rs1, imm):
    s.set_x(rd, s.flag(s.ltu(s.x(rs1), imm)))


@insn("xori rd, rs1, imm", "imm[11:0] rs1:5 100 rd:5 0010011", ext=I)
def xori(s, rd, rs1, imm):
    _imm(s, rd, rs1, imm, s.xor)


@insn("ori rd, rs1, imm", "imm[11:0] rs1:5 110 rd:5 0010011", ext=I)
def ori(s, rd, rs1, imm):
    _imm(s, rd, rs1, imm, s.or_)


@insn("andi rd, rs1, imm", "imm[11:0] rs1:5 111 rd:5 0010011", ext=I)
def andi(s, rd, rs1, imm):
    _imm(s, rd, rs1, imm, s.and_)


@insn("slli rd, rs1, shamt", "000000 shamt:6 rs1:5 001 rd:5 0010011", ext=I)
def slli(s, rd, rs1, shamt):
    _imm(s, rd, rs1, shamt, s.shl)


@insn("srli rd, rs1, shamt", "000000 shamt:6 rs1:5 101 rd:5 0010011", ext=I)
def srli(s, rd, rs1, shamt):
    _imm(s, rd, rs1, shamt, s.shr)


@insn("srai rd, rs1, shamt", "010000 shamt:6 rs1:5 101 rd:5 0010011", ext=I)
def srai(s, rd, rs1, shamt):
    _imm(s, rd, rs1, shamt, s.sar)


# --- register-register arithmetic ---

@insn("add rd, rs1, rs2", "0000000 rs2:5 rs1:5 000 rd:5 0110011", ext=I)
def add(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, s.add)


@insn("sub rd, rs1, rs2", "0100000 rs2:5 rs1:5 000 rd:5 0110011", ext=I)
def sub(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, s.sub)


@insn("sll rd, rs1, rs2", "0000000 rs2:5 rs1:5 001 rd:5 0110011", ext=I)
def sll(s, rd, rs1, rs2):
    s.set_x(rd, s.shl(s.x(rs1), s.and_(s.x(rs2), 63)))


@insn("slt rd, rs1, rs2", "0000000 rs2:5 rs1:5 010 rd:5 0110011", ext=I)
def slt(s, rd, rs1, rs2):
    s.set_x(rd, s.flag(s.lt(s.x(rs1), s.x(rs2))))


@insn("sltu rd, rs1, rs2", "0000000 rs2:5 rs1:5 011 rd:5 0110011", ext=I)
def sltu(s, rd, rs1, rs2):
    s.set_x(rd, s.flag(s.ltu(s.x(rs1), s.x(rs2))))


@insn("xor rd, rs1, rs2", "0000000 rs2:5 rs1:5 100 rd:5 0110011", ext=I)
def xor(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, s.xor)


@insn("srl rd, rs1, rs2", "0000000 rs2:5 rs1:5 101 rd:5 0110011", ext=I)
def srl(s, rd, rs1, rs2):
    s.set_x(rd, s.shr(s.x(rs1), s.and_(s.x(rs2), 63)))


@insn("sra rd, rs1, rs2", "0100000 rs2:5 rs1:5 101 rd:5 0110011", ext=I)
def sra(s, rd, rs1, rs2):
    s.set_x(rd, s.sar(s.x(rs1), s.and_(s.x(rs2), 63)))


@insn("or rd, rs1, rs2", "0000000 rs2:5 rs1:5 110 rd:5 0110011", ext=I)
def or_(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, s.or_)


@insn("and rd, rs1, rs2", "0000000 rs2:5 rs1:5 111 rd:5 0110011", ext=I)
def and_(s, rd, rs1, rs2):
    _reg(s, rd, rs1, rs2, s.and_)


# --- 32-bit (W) operations: compute, then sign-extend the low word ---

@insn("addiw rd, rs1, imm", "imm[11:0] rs1:5 000 rd:5 0011011", ext=I)
def addiw(s, rd, rs1, imm):
    s.set_x(rd, s.sext(s.add(s.x(rs1), imm), 32))


@insn("slliw rd, rs1, shamt", "0000000 shamt:5 rs1:5 001 rd:5 0011011", ext=I)
def slliw(s, rd, rs1, shamt):
    _shift_w(s, rd, s.x(rs1), shamt, s.shl)


@insn("srliw rd, rs1, shamt", "0000000 shamt:5 rs1:5 101 rd:5 0011011", ext=I)
def srliw(s, rd, rs1, shamt):
    _shift_w(s, rd, s.zext(s.x(rs1), 32), shamt, s.shr)


@insn("sraiw rd, rs1, shamt", "0100000 shamt:5 rs1:5 101 rd:5 0011011", ext=I)
def sraiw(s, rd, rs1, shamt):
    _shift_w(s, rd, s.sext(s.x(rs1), 32), shamt, s.sar)


@insn("addw rd, rs1, rs2", "0000000 rs2:5 rs1:5 000 rd:5 0111011", ext=I)
def addw(s, rd, rs1, rs2):
    _reg_w(s, rd, rs1, rs2, s.add)


@insn("subw rd, rs1, rs2", "0100000 rs2:5 rs1:5 000 rd:5 0111011", ext=I)
def subw(s, rd, rs1, rs2):
    _reg_w(s, rd, rs1, rs2, s.sub)


@insn("sllw rd, rs1, rs2", "0000000 rs2:5 rs1:5 001 rd:5 0111011", ext=I)
def sllw(s, rd, rs1, rs2):
    _shift_w(s, rd, s.x(rs1), s.x(rs2), s.shl)


@insn("srlw rd, rs1, rs2", "0000000 rs2:5 rs1:5 101 rd:5 0111011", ext=I)
def srlw(s, rd, rs1, rs2):
    _shift_w(s, rd, s.zext(s.x(rs1), 32), s.x(rs2), s.shr)


@insn("sraw rd, rs1, rs2", "0100000 rs2:5 rs1:5 101 rd:5 0111011", ext=I)
def sraw(s, rd, rs1, rs2):
    _shift_w(s, rd, s.sext(s.x(rs1), 32), s.x(rs2), s.sar)


# --- ordering and environment ---

@insn("fence pred, succ", "fm:4 pred:4 succ:4 rs1:5 000 rd:5 0001111", ext=I)
def fence(s, fm, pred, succ, rs1, rd):
    """A single hart observes its own accesses in order: nothing to do."""


@insn("ecall", "000000000000 00000 000 00000 1110011", ext=I, ends_block=True)
def ecall(s):
    s.call("ecall")


@insn("ebreak", "000000000001 00000 000 00000 1110011", ext=I, ends_block=True)
def ebreak(s):
    s.call("ebreak")
