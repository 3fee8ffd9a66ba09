"""Privileged instructions: trap returns, wfi, sfence.vma.

All of them are callouts (csrc/priv.c), which also raise the illegal
instruction exception when the current privilege (or mstatus.TSR/TW/TVM)
forbids them.
"""
from bt_vmm.isa.spec import insn

P = "priv"


@insn("mret", "0011000 00010 00000 000 00000 1110011", ext=P, ends_block=True)
def mret(s):
    s.jump(s.call("mret"))


@insn("sret", "0001000 00010 00000 000 00000 1110011", ext=P, ends_block=True)
def sret(s):
    s.jump(s.call("sret"))


@insn("wfi", "0001000 00101 00000 000 00000 1110011", ext=P, ends_block=True)
def wfi(s):
    s.call("wfi")


@insn("sfence.vma rs1, rs2", "0001001 rs2:5 rs1:5 000 00000 1110011", ext=P, ends_block=True)
def sfence_vma(s, rs1, rs2):
    # flags: bit 0 an address is given (rs1 != x0), bit 1 an ASID (rs2 != x0)
    flags = (1 if rs1 else 0) | (2 if rs2 else 0)
    s.call("sfence_vma", s.x(rs1), s.x(rs2), flags)
