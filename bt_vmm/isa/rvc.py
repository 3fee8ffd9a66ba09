"""RV64C: 16-bit instructions, each declared as an expansion into the 32-bit
instruction it stands for (so it has no semantics of its own).

Field names: ``rd``/``rs1``/``rs2`` are full register numbers; ``rdp``,
``rs1p``, ``rs2p`` are the 3-bit compressed fields naming x8..x15; ``uimm``
is an unsigned immediate, ``imm``/``off``/``upper`` signed ones.  The syntax
operands are named as in the *expanded* instruction's syntax, so the
compressed form prints from ``Decoded.fields`` like its expansion does.

Reserved encodings are rejected by ``valid``; code points the spec calls
HINTs (e.g. c.li with rd=0) decode to their harmless expansion.
"""
from bt_vmm.isa.spec import compressed

SP = 2
RA = 1


def _p(r: int) -> int:
    """A 3-bit compressed register field names x8..x15."""
    return r + 8


# --- quadrant 0: stack-pointer-based addi, loads and stores with rd'/rs1'/rs2' ---

compressed(
    "c.addi4spn rd, rs1, imm", "000 uimm[5:4|9:6|2|3] rdp:3 00", "addi",
    lambda uimm, rdp: {"rd": _p(rdp), "rs1": SP, "imm": uimm},
    valid=lambda uimm, rdp: uimm != 0,  # nzuimm=0 is reserved (and 0x0000 illegal)
)


def _load_q0(mnemonic: str, target: str, uimm_bits: str, funct3: str, dest: str = "rd") -> None:
    """``dest``: how the destination prints, as in the target's syntax ("frd" for fld)."""
    compressed(
        f"{mnemonic} {dest}, imm(rs1)", f"{funct3} uimm[5:3] rs1p:3 uimm[{uimm_bits}] rdp:3 00", target,
        lambda uimm, rs1p, rdp: {"rd": _p(rdp), "rs1": _p(rs1p), "imm": uimm},
    )


def _store_q0(mnemonic: str, target: str, uimm_bits: str, funct3: str, src: str = "rs2") -> None:
    """``src``: how the source prints, as in the target's syntax ("frs2" for fsd)."""
    compressed(
        f"{mnemonic} {src}, imm(rs1)", f"{funct3} uimm[5:3] rs1p:3 uimm[{uimm_bits}] rs2p:3 00", target,
        lambda uimm, rs1p, rs2p: {"rs2": _p(rs2p), "rs1": _p(rs1p), "imm": uimm},
    )


_load_q0("c.fld", "fld", "7:6", "001", dest="frd")
_load_q0("c.lw", "lw", "2|6", "010")
_load_q0("c.ld", "ld", "7:6", "011")
_store_q0("c.fsd", "fsd", "7:6", "101", src="frs2")
_store_q0("c.sw", "sw", "2|6", "110")
_store_q0("c.sd", "sd", "7:6", "111")


# --- quadrant 1: immediates, arithmetic on rd'/rs2', jumps and branches ---

compressed("c.nop", "000 0 00000 00000 01", "addi", lambda: {"rd": 0, "rs1": 0, "imm": 0})
compressed(  # rd=0 or imm=0 (other than c.nop) are HINTs: still a harmless addi
    "c.addi rd, imm", "000 imm[5] rd:5 imm[4:0] 01", "addi",
    lambda imm, rd: {"rd": rd, "rs1": rd, "imm": imm},
)
compressed(
    "c.addiw rd, imm", "001 imm[5] rd:5 imm[4:0] 01", "addiw",
    lambda imm, rd: {"rd": rd, "rs1": rd, "imm": imm},
    valid=lambda imm, rd: rd != 0,
)
compressed(
    "c.li rd, imm", "010 imm[5] rd:5 imm[4:0] 01", "addi",
    lambda imm, rd: {"rd": rd, "rs1": 0, "imm": imm},
)
compressed(
    "c.addi16sp rd, imm", "011 imm[9] 00010 imm[4|6|8:7|5] 01", "addi",
    lambda imm: {"rd": SP, "rs1": SP, "imm": imm},
    valid=lambda imm: imm != 0,
)
compressed(
    "c.lui rd, upper", "011 upper[17] rd:5 upper[16:12] 01", "lui",
    lambda upper, rd: {"rd": rd, "upper": upper},
    valid=lambda upper, rd: upper != 0 and rd != SP,  # rd=2 is c.addi16sp
)


def _shift_imm(mnemonic: str, target: str, funct2: str) -> None:
    # shamt=0 is a HINT on RV64: the expansion shifts by 0, a no-op
    compressed(
        f"{mnemonic} rd, shamt", f"100 shamt[5] {funct2} rs1p:3 shamt[4:0] 01", target,
        lambda shamt, rs1p: {"rd": _p(rs1p), "rs1": _p(rs1p), "shamt": shamt},
    )


_shift_imm("c.srli", "srli", "00")
_shift_imm("c.srai", "srai", "01")
compressed(
    "c.andi rd, imm", "100 imm[5] 10 rs1p:3 imm[4:0] 01", "andi",
    lambda imm, rs1p: {"rd": _p(rs1p), "rs1": _p(rs1p), "imm": imm},
)


def _arith(mnemonic: str, target: str, bit12: str, funct2: str) -> None:
    compressed(
        f"{mnemonic} rd, rs2", f"100 {bit12} 11 rs1p:3 {funct2} rs2p:3 01", target,
        lambda rs1p, rs2p: {"rd": _p(rs1p), "rs1": _p(rs1p), "rs2": _p(rs2p)},
    )


_arith("c.sub", "sub", "0", "00")
_arith("c.xor", "xor", "0", "01")
_arith("c.or", "or", "0", "10")
_arith("c.and", "and", "0", "11")
_arith("c.subw", "subw", "1", "00")
_arith("c.addw", "addw", "1", "01")

compressed(
    "c.j off", "101 off[11|4|9:8|10|6|7|3:1|5] 01", "jal",
    lambda off: {"rd": 0, "off": off},
)


def _branch(mnemonic: str, target: str, funct3: str) -> None:
    compressed(
        f"{mnemonic} rs1, off", f"{funct3} off[8|4:3] rs1p:3 off[7:6|2:1|5] 01", target,
        lambda off, rs1p: {"rs1": _p(rs1p), "rs2": 0, "off": off},
    )


_branch("c.beqz", "beq", "110")
_branch("c.bnez", "bne", "111")


# --- quadrant 2: stack-pointer loads/stores, register moves, jumps ---

compressed(  # rd=0 or shamt=0 are HINTs
    "c.slli rd, shamt", "000 shamt[5] rd:5 shamt[4:0] 10", "slli",
    lambda shamt, rd: {"rd": rd, "rs1": rd, "shamt": shamt},
)


def _load_sp(mnemonic: str, target: str, uimm_bits: str, funct3: str, dest: str = "rd") -> None:
    compressed(
        f"{mnemonic} {dest}, imm(rs1)", f"{funct3} uimm[5] rd:5 uimm[{uimm_bits}] 10", target,
        lambda uimm, rd: {"rd": rd, "rs1": SP, "imm": uimm},
        valid=(lambda uimm, rd: rd != 0) if dest == "rd" else None,  # integer rd=0 is reserved
    )


def _store_sp(mnemonic: str, target: str, uimm_bits: str, funct3: str, src: str = "rs2") -> None:
    compressed(
        f"{mnemonic} {src}, imm(rs1)", f"{funct3} uimm[{uimm_bits}] rs2:5 10", target,
        lambda uimm, rs2: {"rs2": rs2, "rs1": SP, "imm": uimm},
    )


_load_sp("c.fldsp", "fld", "4:3|8:6", "001", dest="frd")
_load_sp("c.lwsp", "lw", "4:2|7:6", "010")
_load_sp("c.ldsp", "ld", "4:3|8:6", "011")
_store_sp("c.fsdsp", "fsd", "5:3|8:6", "101", src="frs2")
_store_sp("c.swsp", "sw", "5:2|7:6", "110")
_store_sp("c.sdsp", "sd", "5:3|8:6", "111")

compressed(
    "c.jr rs1", "1000 rs1:5 00000 10", "jalr",
    lambda rs1: {"rd": 0, "rs1": rs1, "imm": 0},
    valid=lambda rs1: rs1 != 0,  # reserved
)
compressed(  # rd=0 is a HINT; rs2=0 is c.jr
    "c.mv rd, rs2", "1000 rd:5 rs2:5 10", "add",
    lambda rd, rs2: {"rd": rd, "rs1": 0, "rs2": rs2},
    valid=lambda rd, rs2: rs2 != 0,
)
compressed("c.ebreak", "1001 00000 00000 10", "ebreak", lambda: {})
compressed(
    "c.jalr rs1", "1001 rs1:5 00000 10", "jalr",
    lambda rs1: {"rd": RA, "rs1": rs1, "imm": 0},
    valid=lambda rs1: rs1 != 0,  # rs1=0 is c.ebreak
)
compressed(  # rd=0 is a HINT; rs2=0 is c.jalr/c.ebreak
    "c.add rd, rs2", "1001 rd:5 rs2:5 10", "add",
    lambda rd, rs2: {"rd": rd, "rs1": rd, "rs2": rs2},
    valid=lambda rd, rs2: rs2 != 0,
)
