"""Zicsr: CSR access instructions.

Every CSR access is a callout into the VMM (csrc/priv.c, bt_csr): privilege
and read-only checks, WARL rules and side effects (TLB flushes, FS state)
live there.  A write can change privileged state the translation depends on,
so each of these instructions ends its block.
"""
from bt_vmm.isa.spec import insn

Z = "Zicsr"

WRITE, SET, CLEAR = 0, 1, 2   # bt_csr's kind argument


def _csr(s, rd, csr, kind, operand, writes):
    # flags bit 0: the old value is wanted; bit 1: the CSR is written.
    # Builder operations, not Python tests on the fields: the fast tier's
    # handlers then take the fields at run time (one handler for every
    # CSR access, nothing to compile per instruction).
    flags = s.or_(s.flag(s.ne(rd, 0)), s.shl(s.flag(writes), 1))
    s.set_x(rd, s.call("csr", csr, kind, operand, flags))


@insn("csrrw rd, csr, rs1", "csr:12 rs1:5 001 rd:5 1110011", ext=Z, ends_block=True)
def csrrw(s, rd, csr, rs1):
    _csr(s, rd, csr, WRITE, s.x(rs1), True)


@insn("csrrs rd, csr, rs1", "csr:12 rs1:5 010 rd:5 1110011", ext=Z, ends_block=True)
def csrrs(s, rd, csr, rs1):
    _csr(s, rd, csr, SET, s.x(rs1), s.ne(rs1, 0))


@insn("csrrc rd, csr, rs1", "csr:12 rs1:5 011 rd:5 1110011", ext=Z, ends_block=True)
def csrrc(s, rd, csr, rs1):
    _csr(s, rd, csr, CLEAR, s.x(rs1), s.ne(rs1, 0))


@insn("csrrwi rd, csr, uimm", "csr:12 uimm:5 101 rd:5 1110011", ext=Z, ends_block=True)
def csrrwi(s, rd, csr, uimm):
    _csr(s, rd, csr, WRITE, uimm, True)


@insn("csrrsi rd, csr, uimm", "csr:12 uimm:5 110 rd:5 1110011", ext=Z, ends_block=True)
def csrrsi(s, rd, csr, uimm):
    _csr(s, rd, csr, SET, uimm, s.ne(uimm, 0))


@insn("csrrci rd, csr, uimm", "csr:12 uimm:5 111 rd:5 1110011", ext=Z, ends_block=True)
def csrrci(s, rd, csr, uimm):
    _csr(s, rd, csr, CLEAR, uimm, s.ne(uimm, 0))
