"""The reference interpreter: the ISA description evaluated on concrete values.

Straightforward and slow on purpose: it is the oracle the other engines are
compared against.  Semantics run on Python ints (always kept in 0..2**64-1);
memory, CSRs and traps go through the C core, exactly the helpers the JIT
calls.
"""
from __future__ import annotations

from typing import Callable

from bt_vmm._core import ffi, lib
from bt_vmm.cpu.callouts import CALLOUT_ID
from bt_vmm.cpu.hart import Hart
from bt_vmm.isa import DECODER, Decoded, IllegalInstruction

M64 = (1 << 64) - 1
SIGN = 1 << 63
FS_MASK = 3 << 13


def _signed(v: int) -> int:
    return v - (1 << 64) if v & SIGN else v


class Trap(Exception):
    """Raised by the backend when a helper recorded an exception in the hart."""


class Concrete:
    """The evaluating backend of the builder protocol (bt_vmm.isa.builder)."""

    def __init__(self, hart: Hart):
        self.h = hart.ptr
        self._x = self.h.x
        self._f = self.h.f
        self._out = ffi.new("uint64_t *")
        self._callouts: dict[str, Callable] = {}
        self.pc = 0
        self.length = 4
        self.next_pc = 0
        self.raw = 0       # bits of the instruction being executed

    # --- registers ---
    def x(self, r: int) -> int:
        return self._x[r]

    def set_x(self, r: int, v: int) -> None:
        if r:
            self._x[r] = v & M64

    def f(self, r: int) -> int:
        return self._f[r]

    def set_f(self, r: int, v: int) -> None:
        self._f[r] = v & M64
        self.h.mstatus |= FS_MASK  # FS = Dirty

    # --- arithmetic ---
    def add(self, a, b):
        return (a + b) & M64

    def sub(self, a, b):
        return (a - b) & M64

    def mul(self, a, b):
        return (a * b) & M64

    def mulh(self, a, b):
        return ((_signed(a & M64) * _signed(b & M64)) >> 64) & M64

    def mulhu(self, a, b):
        return ((a & M64) * (b & M64)) >> 64

    def mulhsu(self, a, b):
        return ((_signed(a & M64) * (b & M64)) >> 64) & M64

    def div(self, a, b):
        a, b = _signed(a & M64), _signed(b & M64)
        q = abs(a) // abs(b)
        return (q if (a < 0) == (b < 0) else -q) & M64

    def divu(self, a, b):
        return (a & M64) // (b & M64)

    def rem(self, a, b):
        a, b = _signed(a & M64), _signed(b & M64)
        r = abs(a) % abs(b)
        return (r if a >= 0 else -r) & M64

    def remu(self, a, b):
        return (a & M64) % (b & M64)

    def and_(self, a, b):
        return a & b & M64

    def or_(self, a, b):
        return (a | b) & M64

    def xor(self, a, b):
        return (a ^ b) & M64

    def shl(self, a, n):
        return (a << n) & M64

    def shr(self, a, n):
        return (a & M64) >> n

    def sar(self, a, n):
        return (_signed(a & M64) >> n) & M64

    def sext(self, a, bits):
        a &= (1 << bits) - 1
        return (a - (1 << bits)) & M64 if a >> (bits - 1) else a

    def zext(self, a, bits):
        return a & ((1 << bits) - 1)

    def clz(self, a):
        return 64 - (a & M64).bit_length()

    def ctz(self, a):
        a &= M64
        return (a & -a).bit_length() - 1 if a else 64

    def cpop(self, a):
        return (a & M64).bit_count()

    # --- comparisons ---
    def eq(self, a, b):
        return (a - b) & M64 == 0

    def ne(self, a, b):
        return (a - b) & M64 != 0

    def lt(self, a, b):
        return _signed(a & M64) < _signed(b & M64)

    def ltu(self, a, b):
        return a & M64 < b & M64

    def ge(self, a, b):
        return _signed(a & M64) >= _signed(b & M64)

    def geu(self, a, b):
        return a & M64 >= b & M64

    def both(self, a, b):
        return a and b

    def either(self, a, b):
        return a or b

    def select(self, c, a, b):
        return (a if c else b) & M64

    def flag(self, c):
        return 1 if c else 0

    # --- memory ---
    def load(self, addr, size, signed=False, for_store=False):
        load = lib.bt_load_for_store if for_store else lib.bt_load
        if load(self.h, addr & M64, size, self._out):
            raise Trap
        v = self._out[0]
        return self.sext(v, 8 * size) if signed and size < 8 else v

    def store(self, addr, v, size):
        if lib.bt_store(self.h, addr & M64, size, v & ((1 << (8 * size)) - 1)):
            raise Trap

    # --- control flow ---
    def jump(self, target):
        self.next_pc = target & M64

    def branch(self, c, target):
        if c:
            self.next_pc = target & M64

    # --- callouts ---
    def call(self, name, *args):
        fn = self._callouts.get(name)
        if fn is None:
            fn = self._callouts[name] = getattr(lib, "bt_" + name)
        self.h.insn_bits = self.raw  # tval if the callout finds the instruction illegal
        self.h.stat_callouts[CALLOUT_ID[name]] += 1
        result = fn(self.h, *[a & M64 for a in args])
        if self.h.exc_pending:
            raise Trap
        return result


def run_until_exit(h, advance: Callable[[], object]) -> int:
    """Every engine's run loop: call ``advance`` (which runs at least one
    instruction or takes a trap, within the limit) until an exit is requested
    or the instruction limit is reached; returns hart.exit_reason."""
    while not h.exit_request & lib.EXIT_REQ_STOP:
        if h.minstret >= h.insn_limit:
            h.exit_reason = lib.EXIT_LIMIT
            break
        advance()
    return h.exit_reason


class Tracer:
    """Hooks the interpreter calls when tracing is on (bt_vmm.debug.trace)."""

    def insn(self, pc: int, decoded: Decoded) -> None: ...
    def trap(self, pc: int, cause: int, tval: int, interrupt: bool) -> None: ...


class ReferenceInterpreter:
    """Runs a hart one instruction at a time until something stops it."""

    name = "interp"
    bench_workload = "small"   # ~1 MIPS: `bt-vmm bench` gives it the small sizes

    def __init__(self, hart: Hart, tracer: Tracer | None = None):
        self.hart = hart
        self.s = Concrete(hart)
        self.tracer = tracer
        self._fetched = ffi.new("uint64_t *")

    def run(self) -> int:
        """Execute until hart.exit_request is set; returns hart.exit_reason."""
        return run_until_exit(self.hart.ptr, self.step)

    def step(self) -> Decoded | None:
        """Take a pending interrupt or execute one instruction (the caller
        checks exit_request and the limit); returns the instruction if it
        retired, None after a trap or an interrupt."""
        h, s, tracer = self.hart.ptr, self.s, self.tracer
        if h.machine_kind == lib.MACHINE_SYSTEM:
            irq = lib.bt_pending_interrupt(h)
            if irq:
                if tracer:
                    tracer.trap(h.pc, irq - 1, 0, True)
                lib.bt_take_interrupt(h, irq - 1)
                return None
        pc = h.pc
        try:
            if lib.bt_fetch(h, pc, self._fetched):
                raise Trap
            d = DECODER.decode(self._fetched[0])
            if d.spec.fp and not h.mstatus & FS_MASK:
                raise IllegalInstruction(d.raw)
            if tracer:
                tracer.insn(pc, d)
            s.pc, s.length, s.next_pc, s.raw = pc, d.length, pc + d.length, d.raw
            d.spec.semantics(s, *d.args)
        except IllegalInstruction as exc:
            lib.bt_raise(h, lib.EXC_ILLEGAL_INSN, exc.raw)
            self._deliver(h)
            return None
        except Trap:
            self._deliver(h)
            return None
        h.pc = s.next_pc & M64
        h.minstret += 1
        return d

    def _deliver(self, h) -> None:
        if self.tracer:
            self.tracer.trap(h.pc, h.exc_cause, h.exc_tval, False)
        lib.bt_take_exception(h)
