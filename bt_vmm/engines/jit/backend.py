"""The value half of the LLVM backend of the builder protocol (bt_vmm.isa.builder).

Values are llvmlite ``i64`` values or plain Python ints; conditions are
``i1`` values or Python bools.  When every operand is a Python int the
operation is folded at translation time by the reference interpreter's own
primitives, so constants (pc-relative targets, immediates) stay constants
and the primitive definitions exist once.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from bt_vmm.engines.jit import textir as ir

from bt_vmm._core import lib
from bt_vmm.cpu.callouts import CALLOUT_ID
from bt_vmm.engines.jit.layout import TLB_ADDEND, TLB_ENTRY, c_function, offset
from bt_vmm.engines.reference import Concrete

M64 = (1 << 64) - 1
I1 = ir.IntType(1)
I8 = ir.IntType(8)
I64 = ir.IntType(64)
I128 = ir.IntType(128)
PTR = ir.PointerType()

# Concrete's arithmetic never touches the hart: an instance without one folds constants.
_FOLD = Concrete.__new__(Concrete)


@lru_cache(maxsize=4096)
def const(v: int) -> ir.Constant:
    return ir.Constant(I64, v & M64)


WATCH_BYTES = ir.IntType(16)   # a store's watch bytes: its page's and the next page's


class IRValues:
    """Arithmetic, comparisons and selection emitted through ``self.b``."""

    b: ir.IRBuilder
    module: ir.Module
    HELPERS: dict[str, ir.FunctionType] = {}   # C helpers besides callouts, by name
    missing_function: type[Exception] = NotImplementedError

    def _c(self, name: str, fnty: ir.FunctionType, args: list) -> ir.Value:
        """Call C core function ``name`` (declared in the module on first use)."""
        if c_function(name) is None:
            raise self.missing_function(f"no C function {name}")
        fn = self.module.globals.get(name) or ir.Function(self.module, fnty, name)
        return self.b.call(fn, args)

    def _helper(self, name: str, *args) -> ir.Value:
        return self._c(name, self.HELPERS[name], list(args))

    def _call_callout(self, name: str, args) -> ir.Value:
        """Call callout bt_<name>(h, args...), first storing the
        instruction's bits (the tval of an illegal instruction the callout
        finds) and counting the call (hart_t.stat_callouts, for --stats)."""
        if name not in CALLOUT_ID:
            raise self.missing_function(f"no C function bt_{name}")
        self.b.store(self.v(self.raw), self._hart_ptr(offset("insn_bits")))
        counter = self._hart_ptr(offset("stat_callouts") + 8 * CALLOUT_ID[name])
        self.b.store(self.b.add(self.b.load(counter, typ=I64), const(1)), counter)
        fnty = ir.FunctionType(I64, [PTR] + [I64] * len(args))
        return self._c("bt_" + name, fnty, [self.h] + [self.v(a) for a in args])

    def _hart_ptr(self, byte_offset: int) -> ir.Value:
        return self.b.gep(self.h, [const(byte_offset)], source_etype=I8)

    def _tlb_lookup(self, tlb: ir.Value, addr: ir.Value, size: int) -> tuple[ir.Value, ir.Value]:
        """(hit, host address as i64) of a V2M TLB (``tlb`` points at its
        first entry): a hit when the page matches and the access is aligned,
        so it never crosses the page, in one compare (a misaligned address
        keeps a low bit the page's tag has clear)."""
        vpn = self.b.lshr(addr, const(12))
        index = self.b.mul(self.b.and_(vpn, const(lib.TLB_SIZE - 1)), const(TLB_ENTRY))
        entry = self.b.gep(tlb, [index], source_etype=I8)
        tag = self.b.load(entry, typ=I64)
        addend = self.b.load(self.b.gep(entry, [const(TLB_ADDEND)], source_etype=I8), typ=I64)
        page_and_misalignment = self.b.and_(addr, const(~(4095 ^ (size - 1))))
        return self.b.icmp_unsigned("==", page_and_misalignment, tag), self.b.add(addr, addend)

    def v(self, x) -> ir.Value:
        """An i64 IR value for a Value."""
        return const(x) if isinstance(x, int) else x

    def c(self, x) -> ir.Value:
        """An i1 IR value for a Cond."""
        return ir.Constant(I1, int(bool(x))) if isinstance(x, bool) else x

    def _binop(self, name: str, a, b, emit):
        if isinstance(a, int) and isinstance(b, int):
            return getattr(_FOLD, name)(a, b)
        return emit(self.v(a), self.v(b))

    def _intrinsic(self, name: str, nflags: int) -> ir.Function:
        """llvm.<name>.i64 taking an i64 and ``nflags`` i1 flags (declared by
        hand: llvmlite's declare_intrinsic drops the flag of ctlz/cttz)."""
        full = f"llvm.{name}.i64"
        fn = self.module.globals.get(full)
        if fn is None:
            fn = ir.Function(self.module, ir.FunctionType(I64, [I64] + [I1] * nflags), full)
        return fn

    # --- integer arithmetic ---
    # --- the shape of guest loads and stores, shared by the engines' backends ---
    def _likely(self, cond: ir.Value, fast: ir.Block, slow: ir.Block) -> None:
        self.b.cbranch(cond, fast, slow)

    def _guest(self, instr: ir.Instruction) -> ir.Instruction:
        """Hook to annotate an access to guest RAM."""
        return instr

    def _load_host(self, host: ir.Value, size: int, signed: bool) -> ir.Value:
        raw = self._guest(self.b.load(host, typ=ir.IntType(8 * size)))
        if size == 8:
            return raw
        return self.b.sext(raw, I64) if signed else self.b.zext(raw, I64)

    def _store_host(self, host: ir.Value, value: ir.Value, size: int) -> None:
        self._guest(self.b.store(self.b.trunc(value, ir.IntType(8 * size)) if size < 8 else value, host))

    def _load_diamond(self, hit: ir.Value, host: ir.Value, size: int, signed: bool,
                      slow_path: Callable[[], ir.Value]) -> ir.Value:
        """A load of ``size`` bytes: inline from ``host`` when ``hit``, else
        the 64-bit value ``slow_path()`` emits (out of line)."""
        fast, slow, join = (self.fn.append_basic_block(n) for n in ("ld_fast", "ld_slow", "ld_join"))
        self._likely(hit, fast, slow)
        self.b.position_at_end(fast)
        fast_v = self._load_host(host, size, False)
        self.b.branch(join)
        value = self._join_slow(fast_v, fast, slow, join, slow_path)
        return self.sext(value, 8 * size) if signed and size < 8 else value

    def _join_slow(self, fast_value: ir.Value, fast_end: ir.Block, slow: ir.Block, join: ir.Block,
                   slow_path: Callable[[], ir.Value]) -> ir.Value:
        """Emit ``slow_path()`` in ``slow``; in ``join``, the value of
        whichever path came (the fast one from ``fast_end``)."""
        self.b.position_at_end(slow)
        slow_value = slow_path()
        slow_end = self.b.block
        self.b.branch(join)
        self.b.position_at_end(join)
        value = self.b.phi(I64)
        value.add_incoming(fast_value, fast_end)
        value.add_incoming(slow_value, slow_end)
        return value

    def _load_or_leave(self, hit: ir.Value, host: ir.Value, size: int, signed: bool, leave: ir.Block) -> ir.Value:
        """A load of ``size`` bytes from ``host`` when ``hit``, else on to
        ``leave`` (an exit that does not come back)."""
        fast = self.fn.append_basic_block("ld_fast")
        self._likely(hit, fast, leave)
        self.b.position_at_end(fast)
        return self._load_host(host, size, signed)

    def _store_diamond(self, hit: ir.Value, host: ir.Value, watch_byte: ir.Value | None, value: ir.Value,
                       size: int, slow_path: Callable[[], None]) -> None:
        """A store of ``size`` bytes: inline to ``host`` when ``hit`` and the
        watch bytes at ``watch_byte`` are clear (no code of any tier on the
        page; None: ``hit`` says all), else what ``slow_path()`` emits."""
        slow, join = self.fn.append_basic_block("st_slow"), self.fn.append_basic_block("st_join")
        self._store_or_leave(hit, host, watch_byte, value, size, slow)
        self.b.branch(join)
        self.b.position_at_end(slow)
        slow_path()
        self.b.branch(join)
        self.b.position_at_end(join)

    def _store_or_leave(self, hit: ir.Value, host: ir.Value, watch_byte: ir.Value | None, value: ir.Value,
                        size: int, leave: ir.Block) -> None:
        """The fast half of a store: inline when ``hit`` and the watch bytes
        are clear, else on to ``leave``; continues after the inline store.
        The watch bytes: the page's and the next one's (a process VM's
        store need not be aligned: it may cross)."""
        fast = self.fn.append_basic_block("st_fast")
        if watch_byte is None:
            self._likely(hit, fast, leave)
        else:
            check = self.fn.append_basic_block("st_check")
            self._likely(hit, check, leave)
            self.b.position_at_end(check)
            watched = self.b.load(watch_byte, typ=WATCH_BYTES, align=1)
            self._likely(self.b.icmp_unsigned("==", watched, ir.Constant(WATCH_BYTES, 0)), fast, leave)
        self.b.position_at_end(fast)
        self._store_host(host, value, size)

    def add(self, a, b):
        return self._binop("add", a, b, self.b.add)

    def sub(self, a, b):
        return self._binop("sub", a, b, self.b.sub)

    def mul(self, a, b):
        return self._binop("mul", a, b, self.b.mul)

    def _mul_high(self, a, b, ext_a, ext_b):
        wide = self.b.mul(ext_a(a, I128), ext_b(b, I128))
        return self.b.trunc(self.b.lshr(wide, ir.Constant(I128, 64)), I64)

    def mulh(self, a, b):
        return self._binop("mulh", a, b, lambda x, y: self._mul_high(x, y, self.b.sext, self.b.sext))

    def mulhu(self, a, b):
        return self._binop("mulhu", a, b, lambda x, y: self._mul_high(x, y, self.b.zext, self.b.zext))

    def mulhsu(self, a, b):
        return self._binop("mulhsu", a, b, lambda x, y: self._mul_high(x, y, self.b.sext, self.b.zext))

    def _safe_divisor(self, a, b, signed: bool):
        """The semantics select the RISC-V result for a zero divisor and for
        INT_MIN / -1, but IR evaluates both arms of a select: give the
        division a harmless divisor there so the host never traps."""
        bad = self.b.icmp_unsigned("==", b, const(0))
        if signed:
            overflow = self.b.and_(
                self.b.icmp_unsigned("==", a, const(1 << 63)),
                self.b.icmp_unsigned("==", b, const(M64)),
            )
            bad = self.b.or_(bad, overflow)
        return self.b.select(bad, const(1), b)

    def div(self, a, b):
        return self._binop("div", a, b, lambda x, y: self.b.sdiv(x, self._safe_divisor(x, y, True)))

    def divu(self, a, b):
        return self._binop("divu", a, b, lambda x, y: self.b.udiv(x, self._safe_divisor(x, y, False)))

    def rem(self, a, b):
        return self._binop("rem", a, b, lambda x, y: self.b.srem(x, self._safe_divisor(x, y, True)))

    def remu(self, a, b):
        return self._binop("remu", a, b, lambda x, y: self.b.urem(x, self._safe_divisor(x, y, False)))

    def and_(self, a, b):
        return self._binop("and_", a, b, self.b.and_)

    def or_(self, a, b):
        return self._binop("or_", a, b, self.b.or_)

    def xor(self, a, b):
        return self._binop("xor", a, b, self.b.xor)

    def _shift(self, name: str, a, n, emit):
        # Amounts are 0..63 by contract; the mask keeps IR free of poison anyway.
        return self._binop(name, a, n, lambda x, y: emit(x, self.b.and_(y, const(63))))

    def shl(self, a, n):
        return self._shift("shl", a, n, self.b.shl)

    def shr(self, a, n):
        return self._shift("shr", a, n, self.b.lshr)

    def sar(self, a, n):
        return self._shift("sar", a, n, self.b.ashr)

    def sext(self, a, bits):
        if isinstance(a, int):
            return _FOLD.sext(a, bits)
        if bits >= 64:
            return a
        return self.b.sext(self.b.trunc(a, ir.IntType(bits)), I64)

    def zext(self, a, bits):
        if isinstance(a, int):
            return _FOLD.zext(a, bits)
        if bits >= 64:
            return a
        return self.b.and_(a, const((1 << bits) - 1))

    def _count(self, name: str, a, intrinsic: str, *flags: int):
        if isinstance(a, int):
            return getattr(_FOLD, name)(a)
        fn = self._intrinsic(intrinsic, len(flags))
        return self.b.call(fn, [a, *[ir.Constant(I1, f) for f in flags]])

    # The flag 0 asks for a defined result (64) on a zero input.
    def clz(self, a):
        return self._count("clz", a, "ctlz", 0)

    def ctz(self, a):
        return self._count("ctz", a, "cttz", 0)

    def cpop(self, a):
        return self._count("cpop", a, "ctpop")

    # --- comparisons and selection ---
    def _cmp(self, name: str, op: str, signed: bool, a, b):
        if isinstance(a, int) and isinstance(b, int):
            return bool(getattr(_FOLD, name)(a, b))
        cmp = self.b.icmp_signed if signed else self.b.icmp_unsigned
        return cmp(op, self.v(a), self.v(b))

    def eq(self, a, b):
        return self._cmp("eq", "==", False, a, b)

    def ne(self, a, b):
        return self._cmp("ne", "!=", False, a, b)

    def lt(self, a, b):
        return self._cmp("lt", "<", True, a, b)

    def ltu(self, a, b):
        return self._cmp("ltu", "<", False, a, b)

    def ge(self, a, b):
        return self._cmp("ge", ">=", True, a, b)

    def geu(self, a, b):
        return self._cmp("geu", ">=", False, a, b)

    def both(self, a, b):
        if isinstance(a, bool) and isinstance(b, bool):
            return a and b
        if isinstance(a, bool) or isinstance(b, bool):
            known, other = (a, b) if isinstance(a, bool) else (b, a)
            return other if known else False
        return self.b.and_(a, b)

    def either(self, a, b):
        if isinstance(a, bool) and isinstance(b, bool):
            return a or b
        if isinstance(a, bool) or isinstance(b, bool):
            known, other = (a, b) if isinstance(a, bool) else (b, a)
            return True if known else other
        return self.b.or_(a, b)

    def select(self, c, a, b):
        if isinstance(c, bool):
            chosen = a if c else b
            return chosen & M64 if isinstance(chosen, int) else chosen
        return self.b.select(c, self.v(a), self.v(b))

    def flag(self, c):
        if isinstance(c, bool):
            return int(c)
        return self.b.zext(c, I64)
