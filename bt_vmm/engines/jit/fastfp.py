"""Floating-point arithmetic in place of its callouts.

The C helpers (csrc/fpu.c) are what an FP instruction means: RISC-V
rounding modes, canonical NaNs, fflags.  While the JIT runs a hart the
guest owns MXCSR (bt_fp_enter: round to nearest, exceptions masked), so
when the guest rounds to nearest too the host's SSE result is the RISC-V
result unless it is a NaN (RISC-V returns the canonical one).  Generated
code therefore computes add, sub, mul, div, sqrt and fmadd (single and
double) in place and calls the helper only for a NaN result, another
rounding mode, or a single-precision operand that is not NaN-boxed.

The flags: a group of such operations starts by clearing MXCSR's flags
(helpers leave flags there that are not the guest's, e.g. inexact from a
conversion that only raised invalid), and ends by accruing what MXCSR holds
into fflags ("settles"): before its block ends or leaves, and before any
callout (which may read fflags or clear MXCSR's flags).  Two MXCSR accesses
per group instead of a callout per operation.

The operation is LLVM's constrained intrinsic with strict exception
semantics, so LLVM neither folds it nor moves it across the MXCSR read.
"""
from __future__ import annotations

from dataclasses import dataclass

from bt_vmm.engines.jit import textir as ir

from bt_vmm._core import lib

I8 = ir.IntType(8)
I32 = ir.IntType(32)
I64 = ir.IntType(64)
META = ir.MetaDataType()
BOX = 0xFFFFFFFF00000000   # the upper half of a NaN-boxed single


@dataclass(frozen=True)
class Format:
    type: ir.Type
    bits: ir.IntType
    suffix: str        # of the intrinsics: f32, f64
    infinity: int      # the bits of +inf: a larger magnitude is a NaN
    magnitude: int     # every bit but the sign


SINGLE = Format(ir.FloatType(), I32, "f32", 0x7F800000, 0x7FFFFFFF)
DOUBLE = Format(ir.DoubleType(), I64, "f64", 0x7FF0000000000000, (1 << 63) - 1)
# callout -> constrained intrinsic (its operands come before rm)
INTRINSICS = {"fadd": "fadd", "fsub": "fsub", "fmul": "fmul", "fdiv": "fdiv", "fsqrt": "sqrt", "fmadd": "fma"}
OPERATIONS = {f"{name}_{p}": (op, fmt) for name, op in INTRINSICS.items() for p, fmt in (("s", SINGLE), ("d", DOUBLE))}
MXCSR_FLAGS = 0x3F
FS_SD = (3 << 13) | (1 << 63)   # mstatus.FS = dirty, and SD


def inlinable(name: str, rm: object) -> bool:
    return name in OPERATIONS and rm in (lib.RM_RNE, lib.RM_DYN)


class InlineFP:
    """Mixed into the region emitter (uses b, fn, module, _ab, v, load_field,
    store_field); ``fp_pending``: the block has flags to settle."""

    fp_pending = False

    def _inline_fp(self, name: str, args: tuple, helper) -> ir.Value:
        """The result of callout ``name``: computed in place, or ``helper()``
        (the callout as usual) for a NaN or another rounding mode."""
        *operands, rm = args
        if not self.fp_pending:   # on every path on from here
            self._start_group()
        op, fmt = OPERATIONS[name]
        operands = [self.v(a) for a in operands]
        fast, slow, join = (self.fn.append_basic_block(n) for n in ("fp_fast", "fp_slow", "fp_join"))
        usable = ir.Constant(ir.IntType(1), 1)
        if rm == lib.RM_DYN:
            usable = self.b.icmp_unsigned("==", self.load_field("frm"), ir.Constant(I64, lib.RM_RNE))
        if fmt is SINGLE:   # every operand NaN-boxed
            upper = self.b.and_(self._and_all(operands), ir.Constant(I64, BOX))
            usable = self.b.and_(usable, self.b.icmp_unsigned("==", upper, ir.Constant(I64, BOX)))
        self.b.cbranch(usable, fast, slow).set_weights([1000, 1])
        self.b.position_at_end(fast)
        values = [self.b.bitcast(self.b.trunc(a, fmt.bits) if fmt is SINGLE else a, fmt.type) for a in operands]
        raw = self.b.bitcast(self._constrained(op, fmt, values), fmt.bits)
        magnitude = self.b.and_(raw, ir.Constant(fmt.bits, fmt.magnitude))
        number = self.b.icmp_unsigned("<=", magnitude, ir.Constant(fmt.bits, fmt.infinity))
        bits = self.b.or_(self.b.zext(raw, I64), ir.Constant(I64, BOX)) if fmt is SINGLE else raw
        self.b.cbranch(number, join, slow).set_weights([1000, 1])

        def slow_path() -> ir.Value:
            value = helper()   # (settles first)
            self._start_group()   # (the helper's flags are not the group's)
            return value

        return self._join_slow(bits, fast, slow, join, slow_path)

    def _and_all(self, values: list[ir.Value]) -> ir.Value:
        result = values[0]
        for v in values[1:]:
            result = self.b.and_(result, v)
        return result

    def _constrained(self, op: str, fmt: Format, operands: list[ir.Value]) -> ir.Value:
        fname = f"llvm.experimental.constrained.{op}.{fmt.suffix}"
        fn = self.module.globals.get(fname) or ir.Function(
            self.module, ir.FunctionType(fmt.type, [fmt.type] * len(operands) + [META, META]), fname)
        return self.b.call(fn, operands + [ir.MetaDataString(self.module, "round.tonearest"),
                                           ir.MetaDataString(self.module, "fpexcept.strict")])

    def _helper(self, name: str, *args) -> ir.Value:
        """A C helper call (a memory slow path, say) inside a group: settle
        before it, and clear after it whatever it left in MXCSR (a device
        model in Python may compute in floating point), so the group goes
        on as on the path that did not call it."""
        if not self.fp_pending:
            return super()._helper(name, *args)
        self.settle_fp()
        result = super()._helper(name, *args)
        self._start_group()
        return result

    def _start_group(self) -> None:
        """A group of in-place operations starts: MXCSR holds no flags."""
        self._mxcsr_call("llvm.x86.sse.ldmxcsr", lib.MXCSR_GUEST)
        self.fp_pending = True

    def settle_fp(self) -> None:
        """Accrue the flags MXCSR holds into fflags (and mark FS dirty when
        that adds one), if the block computed in place since the last time."""
        if not self.fp_pending:
            return
        mxcsr = self._mxcsr_call("llvm.x86.sse.stmxcsr")
        flags = self.b.and_(self.b.zext(mxcsr, I64), ir.Constant(I64, MXCSR_FLAGS))
        raised = self.b.zext(self.b.load(self.b.gep(self._fflags_table(), [ir.Constant(I64, 0), flags]), typ=I8), I64)
        fflags = self.load_field("fflags")
        accrue, done = self.fn.append_basic_block("fp_accrue"), self.fn.append_basic_block("fp_settled")
        new = self.b.and_(raised, self.b.not_(fflags))
        self.b.cbranch(self.b.icmp_unsigned("!=", new, ir.Constant(I64, 0)), accrue, done).set_weights([1, 1000])
        self.b.position_at_end(accrue)
        self.store_field("fflags", self.b.or_(fflags, raised))
        self.store_field("mstatus", self.b.or_(self.load_field("mstatus"), ir.Constant(I64, FS_SD)))
        self.b.branch(done)
        self.b.position_at_end(done)
        self.fp_pending = False

    def _mxcsr_call(self, name: str, value: int | None = None) -> ir.Value:
        """LDMXCSR ``value`` or STMXCSR (through a stack slot); the value read."""
        if getattr(self, "_mxcsr", None) is None:
            self._mxcsr = self._ab.alloca(I32, name="mxcsr")
        fn = self.module.globals.get(name) or ir.Function(
            self.module, ir.FunctionType(ir.VoidType(), [ir.PointerType()]), name)
        if value is not None:
            self.b.store(ir.Constant(I32, value), self._mxcsr)
        self.b.call(fn, [self._mxcsr])
        return self.b.load(self._mxcsr, typ=I32)

    def _fflags_table(self) -> ir.GlobalVariable:
        name = "mxcsr_fflags"
        if name not in self.module.globals:
            table = ir.GlobalVariable(self.module, ir.ArrayType(I8, 64), name)
            # the C helpers' own map (DE, denormal operand, has no RISC-V flag)
            table.initializer = ir.Constant(table.value_type, [lib.bt_fp_mxcsr_fflags(m) for m in range(64)])
            table.global_constant = True
            table.linkage = "internal"
        return self.module.globals[name]
