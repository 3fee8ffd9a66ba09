"""RV64D: double-precision floating point.

The same instruction shapes as RV64F (declared by rv64f.declare_precision
with fmt=01), plus the conversions between the two precisions.  Doubles use
the whole f register: no NaN-boxing.
"""
from bt_vmm.isa.rv64f import OP_FP, Precision, declare_precision, rm_ok
from bt_vmm.isa.spec import insn

DOUBLE = Precision("d", "01", "D", 64)

declare_precision(DOUBLE, "fld", "fsd", "011", "fmv.x.d", "fmv.d.x")


@insn("fcvt.s.d frd, frs1, rm", f"01000 00 00001 rs1:5 rm:3 rd:5 {OP_FP}", ext="D", fp=True, valid=rm_ok)
def fcvt_s_d(s, rd, rs1, rm):
    s.set_f(rd, s.call("fcvt_s_d", s.f(rs1), rm))


@insn("fcvt.d.s frd, frs1, rm", f"01000 01 00000 rs1:5 rm:3 rd:5 {OP_FP}", ext="D", fp=True, valid=rm_ok)
def fcvt_d_s(s, rd, rs1, rm):
    s.set_f(rd, s.call("fcvt_d_s", s.f(rs1), rm))
