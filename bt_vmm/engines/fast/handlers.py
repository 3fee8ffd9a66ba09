"""Handlers of the fast interpreter: one native function per instruction
spec, emitted by running the spec's semantics over an LLVM backend of the
builder protocol whose operand fields and pc are run-time values.

A handler is ``i64 fn(hart_t *h, fi_ctx_t *c, i64 pc, fi_entry_t *e)``
(csrc/fastinterp.h): it reads its operand fields from the pre-decoded entry,
executes the instruction on the hart in memory and returns the next pc, or
an odd value (a pending fault, or bookkeeping for the run loop).

Semantics occasionally compute with a field in Python (``1 if rd else 0``):
a run-time field cannot answer, so ``RtInt`` raises ``NeedsConcrete`` and
that spec gets handlers specialised on each instruction's concrete fields
instead (see ``Layout.generic``).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from bt_vmm.engines.jit import textir as ir

from bt_vmm._core import ffi, lib
from bt_vmm.engines.jit.backend import I8, I64, PTR, IRValues, const
from bt_vmm.engines.jit.layout import offset
from bt_vmm.isa.spec import REGISTRY, InsnSpec

M64 = (1 << 64) - 1
FS_MASK = 3 << 13
I32 = ir.IntType(32)
VOID = ir.VoidType()
HANDLER = ir.FunctionType(I64, [PTR, PTR, I64, PTR])
SMALL_SLOTS, WIDE_SLOTS = 7, 2

# C functions handlers call besides the ISA description's callouts.
HELPERS = {
    "fi_load": ir.FunctionType(I32, [PTR, I64, I64, I64, PTR]),
    "fi_store": ir.FunctionType(I32, [PTR, PTR, I64, I64, I64]),
    "bt_raise": ir.FunctionType(VOID, [PTR, I64, I64]),
}


def _ctx_offset(name: str) -> int:
    return ffi.offsetof("fi_ctx_t", name)


def _entry_offset(name: str) -> int:
    return ffi.offsetof("fi_entry_t", name)


class NeedsConcrete(Exception):
    """The semantics need a run-time field as a Python value."""


class RtInt:
    """A run-time integer (an operand field, pc, length) handed to semantics.

    Builder methods take it like any value; the Python operators semantics
    use on plain ints emit IR where the result is the same mod 2**64, and
    anything that needs the actual number (truth, comparison, indexing,
    Python's arithmetic right shift) raises NeedsConcrete.
    """

    __slots__ = ("em", "ir")

    def __init__(self, em: HandlerEmitter, value: ir.Value):
        self.em, self.ir = em, value

    def _op(self, name: str, other, swap: bool = False) -> RtInt:
        if not isinstance(other, (int, RtInt)):
            return NotImplemented
        a, b = (other, self) if swap else (self, other)
        return RtInt(self.em, self.em.v(getattr(self.em, name)(a, b)))

    def __add__(self, o):
        return self._op("add", o)

    def __radd__(self, o):
        return self._op("add", o, True)

    def __sub__(self, o):
        return self._op("sub", o)

    def __rsub__(self, o):
        return self._op("sub", o, True)

    def __mul__(self, o):
        return self._op("mul", o)

    def __rmul__(self, o):
        return self._op("mul", o, True)

    def __and__(self, o):
        return self._op("and_", o)

    def __rand__(self, o):
        return self._op("and_", o, True)

    def __or__(self, o):
        return self._op("or_", o)

    def __ror__(self, o):
        return self._op("or_", o, True)

    def __xor__(self, o):
        return self._op("xor", o)

    def __rxor__(self, o):
        return self._op("xor", o, True)

    def __invert__(self):
        return self._op("xor", M64)

    def __neg__(self):
        return self._op("sub", 0, True)

    def _concrete(self, *_args):
        raise NeedsConcrete

    __bool__ = __index__ = __int__ = __hash__ = _concrete
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _concrete
    __lshift__ = __rshift__ = __rlshift__ = __rrshift__ = _concrete
    __floordiv__ = __mod__ = __rfloordiv__ = __rmod__ = __pow__ = _concrete


@dataclass(frozen=True)
class Layout:
    """Where each operand field of a spec lives in an fi_entry_t."""

    slots: tuple[tuple[str, int], ...]   # per param: ("small" | "wide", index)
    generic: bool                        # False: handlers are specialised per instruction

    def fill(self, entry, args: tuple[int, ...]) -> bool:
        """Write the fields into a cffi fi_entry_t *; False if one does not fit."""
        for (kind, i), value in zip(self.slots, args):
            if kind == "small":
                if not 0 <= value < 256:
                    return False
                entry.small[i] = value
            else:
                if not -(1 << 31) <= value < (1 << 31):
                    return False
                entry.wide[i] = value
        return True


def layout_of(spec: InsnSpec) -> Layout:
    return _layout(spec.name)


@cache
def _layout(name: str) -> Layout:
    spec = REGISTRY.insns[name]
    slots, counts = [], {"small": 0, "wide": 0}
    for p in spec.params:
        f = spec.encoding.fields[p]
        kind = "wide" if f.signed or f.width > 8 else "small"
        slots.append((kind, counts[kind]))
        counts[kind] += 1
    fits = counts["small"] <= SMALL_SLOTS and counts["wide"] <= WIDE_SLOTS
    return Layout(tuple(slots), fits)


class HandlerEmitter(IRValues):
    """Emits the handler of one spec (builder protocol, bt_vmm.isa.builder).

    ``args`` None: fields are read from the entry at run time; otherwise
    they are these Python ints (a specialised handler).
    """

    HELPERS = HELPERS

    def __init__(self, module: ir.Module, name: str, spec: InsnSpec, system: bool,
                 args: tuple[int, ...] | None = None):
        self.module, self.spec, self.system = module, spec, system
        self.fn = ir.Function(module, HANDLER, name)
        self.h, self.ctx, pc, self.e = self.fn.args
        self.b = ir.IRBuilder(self.fn.append_basic_block("entry"))
        self._out = self.b.alloca(I64, name="out")
        self._rewrote = self.b.alloca(I64, name="rewrote")   # 1: a store rewrote code (sync)
        self.b.store(const(0), self._rewrote)
        self.pc = RtInt(self, pc)
        self.length = RtInt(self, self.b.zext(self._entry_load("length", I8), I64))
        self.raw = self.b.zext(self._entry_load("raw", I32), I64)
        self._args = args
        self._sync = False
        self._fault = None
        self._next = self.v(self.pc + self.length)

    # ------------------------------------------------------------------
    def emit(self) -> None:
        spec = self.spec
        fields = self._fields() if self._args is None else self._args
        if spec.fp:
            self._check_fs()
        spec.semantics(self, *fields)
        result = self.b.or_(self._next, self.b.load(self._rewrote, typ=I64))
        if self._sync:
            result = self.b.or_(result, const(1))
        self.b.ret(result)

    def _fields(self) -> list[RtInt]:
        """Every field loaded up front: a store may overwrite the entry."""
        values = []
        for kind, i in layout_of(self.spec).slots:
            if kind == "small":
                raw = self._entry_load("small", I8, i)
                values.append(RtInt(self, self.b.zext(raw, I64)))
            else:
                raw = self._entry_load("wide", I32, 4 * i)
                values.append(RtInt(self, self.b.sext(raw, I64)))
        return values

    def _check_fs(self) -> None:
        off = self.b.icmp_unsigned("==", self.b.and_(self.load_field("mstatus"), const(FS_MASK)), const(0))
        illegal, ok = self.fn.append_basic_block("fs_off"), self.fn.append_basic_block("fs_on")
        self.b.cbranch(off, illegal, ok)
        self.b.position_at_end(illegal)
        self._helper("bt_raise", self.h, const(lib.EXC_ILLEGAL_INSN), self.raw)
        self.b.branch(self._fault_block())
        self.b.position_at_end(ok)

    # ------------------------------------------------------------------
    # values: RtInt unwraps wherever the shared backend takes a value
    def v(self, x) -> ir.Value:
        if isinstance(x, RtInt):
            return x.ir
        return super().v(x)

    def _u(self, x):
        return x.ir if isinstance(x, RtInt) else x

    def sext(self, a, bits):
        return super().sext(self._u(a), bits)

    def zext(self, a, bits):
        return super().zext(self._u(a), bits)

    def clz(self, a):
        return super().clz(self._u(a))

    def ctz(self, a):
        return super().ctz(self._u(a))

    def cpop(self, a):
        return super().cpop(self._u(a))

    def select(self, c, a, b):
        return super().select(c, self._u(a), self._u(b))

    # ------------------------------------------------------------------
    # pointers into the hart, the context and the entry
    def _gep(self, base: ir.Value, off) -> ir.Value:
        return self.b.gep(base, [self.v(off)], source_etype=I8)

    def load_field(self, name: str) -> ir.Value:
        return self.b.load(self._gep(self.h, offset(name)), typ=I64)

    def _ctx_load(self, name: str, typ=I64) -> ir.Value:
        return self.b.load(self._gep(self.ctx, _ctx_offset(name)), typ=typ)

    def _entry_load(self, name: str, typ, extra: int = 0) -> ir.Value:
        return self.b.load(self._gep(self.e, _entry_offset(name) + extra), typ=typ)

    def _reg_ptr(self, name: str, r) -> ir.Value:
        if isinstance(r, RtInt):
            return self._gep(self.h, self.b.add(const(offset(name)), self.b.shl(r.ir, const(3))))
        return self._gep(self.h, offset(name) + 8 * r)

    def _fault_block(self) -> ir.Block:
        if self._fault is None:
            self._fault = self.fn.append_basic_block("fault")
            ir.IRBuilder(self._fault).ret(const(1))
        return self._fault

    def _fail_if(self, failed: ir.Value) -> None:
        ok = self.fn.append_basic_block("ok")
        self.b.cbranch(failed, self._fault_block(), ok)
        self.b.position_at_end(ok)

    # ------------------------------------------------------------------
    # registers (builder protocol)
    def x(self, r):
        if isinstance(r, int) and r == 0:
            return 0
        return self.b.load(self._reg_ptr("x", r), typ=I64)

    def set_x(self, r, v) -> None:
        if isinstance(r, int):
            if r:
                self.b.store(self.v(v), self._reg_ptr("x", r))
            return
        self.b.store(self.v(v), self._reg_ptr("x", r))
        self.b.store(const(0), self._reg_ptr("x", 0))  # x0 stays zero

    def f(self, r):
        return self.b.load(self._reg_ptr("f", r), typ=I64)

    def set_f(self, r, v) -> None:
        self.b.store(self.v(v), self._reg_ptr("f", r))
        ptr = self._gep(self.h, offset("mstatus"))
        self.b.store(self.b.or_(self.b.load(ptr, typ=I64), const(FS_MASK)), ptr)  # FS = Dirty

    # ------------------------------------------------------------------
    # memory (builder protocol)
    def _fast_address(self, addr: ir.Value, size: int, tlb: str, must_align: bool = False):
        """(hit, host pointer, RAM offset) of the inline fast path."""
        aligned = self.b.icmp_unsigned("==", self.b.and_(addr, const(size - 1)), const(0))
        if not self.system:
            # Process VM: one bounds-checked window; x86 takes the misaligned
            # accesses the guest may make (AMOs must be aligned: slow path).
            inside = self.b.icmp_unsigned(
                "<=", self.b.sub(addr, self._ctx_load("mem_lo")),
                self.b.sub(self._ctx_load("mem_span"), const(size)))
            if must_align:
                inside = self.b.and_(inside, aligned)
            host = self.b.add(addr, self._ctx_load("mem_addend"))
            return inside, self.b.inttoptr(host, PTR), self.b.sub(addr, self.load_field("ram_base"))
        hit, host = self._tlb_lookup(self._gep(self.h, offset(tlb)), addr, size)
        return hit, self.b.inttoptr(host, PTR), self.b.sub(host, self.load_field("ram"))

    def load(self, addr, size, signed=False, for_store=False):
        addr = self.v(addr)
        hit, host, _ = self._fast_address(addr, size, "tlb_store" if for_store else "tlb_load", for_store)

        def slow_path() -> ir.Value:
            status = self._helper("fi_load", self.h, addr, const(size), const(int(for_store)), self._out)
            self._fail_if(self.b.icmp_unsigned("!=", status, ir.Constant(I32, 0)))
            return self.b.load(self._out, typ=I64)

        return self._load_diamond(hit, host, size, signed, slow_path)

    def store(self, addr, v, size):
        addr, value = self.v(addr), self.v(v)
        hit, host, ram_off = self._fast_address(addr, size, "tlb_store")

        def slow_path() -> None:
            status = self._helper("fi_store", self.ctx, self.h, addr, const(size), value)
            self._fail_if(self.b.icmp_unsigned("==", status, ir.Constant(I32, 1)))
            # 2: it rewrote pre-decoded code: the loop looks the next pc up again
            # (a copied block leaves here; its page's blocks are gone).
            rewrote = self.b.icmp_unsigned("==", status, ir.Constant(I32, 2))
            self.b.store(self.b.zext(rewrote, I64), self._rewrote)

        if self.system:   # (a store TLB entry of a page holding code never hits: TLB_WATCHED)
            self._store_diamond(hit, host, None, value, size, slow_path)
            return
        watch = self.b.inttoptr(self._ctx_load("watch"), PTR)
        self._store_diamond(hit, host, self._gep(watch, self.b.lshr(ram_off, const(12))), value, size, slow_path)

    # ------------------------------------------------------------------
    # control flow (builder protocol)
    def jump(self, target) -> None:
        self._next = self.v(target)

    def branch(self, c, target) -> None:
        if isinstance(c, bool):
            if c:
                self.jump(target)
            return
        self._next = self.b.select(c, self.v(target), self._next)

    # ------------------------------------------------------------------
    # callouts (builder protocol): h->pc is the instruction's pc for those that
    # end a block; the others (FP, LR/SC) do not read it (in a copied block,
    # see stencils.py, it is set only when the block stops)
    def call(self, name: str, *args):
        result = self._call_callout(name, args)
        self._fail_if(self.b.icmp_unsigned("!=", self.load_field("exc_pending"), const(0)))
        # Privileged state may have changed: the loop looks at interrupts again.
        self._sync |= self.spec.ends_block
        return result
