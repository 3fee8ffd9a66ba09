"""Zifencei: instruction-fetch fence.

The callout lets engines that cache translated code drop what is stale; the
instruction ends its block so the next instruction is fetched afresh.
"""
from bt_vmm.isa.spec import insn


@insn("fence.i", "imm[11:0] rs1:5 001 rd:5 0001111", ext="Zifencei", ends_block=True)
def fence_i(s, imm, rs1, rd):
    s.call("fence_i")
