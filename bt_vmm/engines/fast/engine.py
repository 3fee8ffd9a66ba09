"""The fast interpreter: pre-decoded guest instructions run by a native
threaded loop (csrc/fastinterp.c) through handlers compiled from the ISA
description (bt_vmm.engines.fast.handlers).

Python decodes each instruction once, on a pre-decode miss, together with
the straight-line code after it on the same page; everything it cannot
pre-decode (illegal encodings, an instruction crossing a page, a fetch
fault, tracing) is executed by the reference interpreter, which is also what
delivers faults and interrupts: the hart's state stays exactly the
reference interpreter's.
"""
from __future__ import annotations

from dataclasses import dataclass

from bt_vmm._core import ffi, lib
from bt_vmm.cpu.hart import Hart
from bt_vmm.engines.fast.compiler import SpecialKey, compiler
from bt_vmm.engines.fast.decodetab import decode_tables
from bt_vmm.engines.fast.handlers import layout_of
from bt_vmm.engines.fast.stencils import stencils
from bt_vmm.engines.reference import ReferenceInterpreter, Tracer, run_until_exit
from bt_vmm.isa import DECODER, Decoded, IllegalInstruction

M64 = (1 << 64) - 1
PAGE = 4096


@dataclass
class FastStats:
    """What --stats prints about the fast interpreter."""

    in_python: int = 0        # instructions pre-decoded in Python (the rest in C)
    specialised: int = 0      # of which got a handler of their own
    stepped: int = 0          # instructions the reference interpreter ran
    ctx: object = None

    @property
    def decoded(self) -> int:
        """Instructions pre-decoded."""
        return self.in_python + self.ctx.stat_decoded

    def summary(self) -> dict[str, float | int]:
        c, comp = self.ctx, compiler()
        return {
            "instructions pre-decoded": self.decoded,
            "instruction-specific handlers": self.specialised,
            "instructions run by the reference interpreter": self.stepped,
            "pre-decode misses": c.stat_misses,
            "entries invalidated by stores": c.stat_invalidated,
            "pre-decode flushes (fence.i)": c.stat_flushes,
            "blocks copied from stencils": c.stat_blocks,
            "chain slots linked (or relinked)": c.stat_links,
            "handler compile/load time (s)": round(comp.compile_seconds, 4),
            "handlers from the disk cache": int(comp.loaded_from_disk),
        }


class FastInterpreter:
    """Same contract as ReferenceInterpreter: run() executes until
    hart.exit_request is set and returns hart.exit_reason; the instruction
    limit is honoured exactly."""

    name = "fast"
    # bt-vmm bench: ~100 MIPS makes the large workloads (qemu-sized) take minutes.
    bench_workload = "medium"  # `bt-vmm bench` sizes for ~100+ MIPS

    def __init__(self, hart: Hart, tracer: Tracer | None = None, interp: ReferenceInterpreter | None = None):
        """``interp``: the reference interpreter to fall back on (a JIT passes
        the one whose stores it tracks)."""
        self.hart = hart
        self.tracer = tracer
        self.interp = interp or ReferenceInterpreter(hart, tracer)
        self.system = hart.ptr.machine_kind == lib.MACHINE_SYSTEM
        ctx = lib.fi_new(hart.ptr)
        if ctx == ffi.NULL:
            raise MemoryError("fast interpreter: cannot allocate the pre-decode table")
        self.ctx = ffi.gc(ctx, lib.fi_free)
        self.stats = FastStats(ctx=self.ctx)
        self._off = ffi.new("uint64_t *")
        self._handlers = compiler().generic_handlers(self.system) if tracer is None else {}
        if tracer is None:   # misses pre-decode in C, where the tables cover the code
            self.ctx.decoder = decode_tables(self.system).ptr
        if tracer is None:
            stencils(self.system).attach(self.ctx)

    def run(self) -> int:
        """Execute until hart.exit_request is set; returns hart.exit_reason."""
        # tracing sees every instruction: the reference interpreter
        return run_until_exit(self.hart.ptr, self.step_reference if self.tracer else lambda: self.run_steps(M64))

    def run_steps(self, max_steps: int) -> int:
        """Run at most ``max_steps`` pre-decoded instructions natively, then
        deal with why the loop stopped (decode a miss, deliver a fault, take
        an interrupt); returns the FI_* status of the native loop."""
        r = lib.fi_run(self.ctx, self.hart.ptr, max_steps)
        self.handle(r)
        return r

    def handle(self, r: int) -> None:
        """Deal with the FI_* status the native loop stopped with."""
        h = self.hart.ptr
        if r == lib.FI_FAULT:
            self.interp._deliver(h)
        elif r == lib.FI_IRQ:
            self.step_reference()   # takes the interrupt, as the reference interpreter would
        elif r == lib.FI_MISS and not self.predecode(h.pc):
            self.step_reference()

    def step_reference(self) -> Decoded | None:
        self.stats.stepped += 1
        return self.interp.step()

    # --- pre-decoding ---
    def predecode(self, pc: int) -> bool:
        """Pre-decode the instruction at pc and the straight-line code after
        it on its page; False when the one at pc cannot be.  (Following
        branches too decodes more code than runs: decoding, not the return
        to Python, is what a miss costs.)"""
        if lib.fi_pc_offset(self.hart.ptr, pc, self._off):
            return False
        off = self._off[0]
        page_end = (off | (PAGE - 1)) + 1
        todo: list[tuple[int, Decoded]] = []
        while len(todo) < lib.FI_DEC_RUN:   # (as the C pre-decoder does)
            d = self._decode_at(off, page_end)
            if d is None:
                break
            todo.append((off, d))
            off += d.length
            if d.spec.ends_block or off >= page_end:
                break
        self._install(todo)
        return bool(todo)

    def _decode_at(self, off: int, page_end: int) -> Decoded | None:
        ram = self.hart.ram
        if off + 2 > page_end:
            return None
        word = int.from_bytes(ram[off:off + 2], "little")
        if word & 3 == 3:
            if off + 4 > page_end:
                return None   # crosses a page: each half may map elsewhere
            word |= int.from_bytes(ram[off + 2:off + 4], "little") << 16
        try:
            return DECODER.decode(word)
        except IllegalInstruction:
            return None

    def _install(self, todo: list[tuple[int, Decoded]]) -> None:
        """Fill the entries (fn last: a filled fn means a whole entry)."""
        special: list[tuple[object, SpecialKey]] = []   # (entry, key) of those needing a handler of their own
        for off, d in todo:
            e = lib.fi_entry(self.ctx, off)
            e.raw, e.length = d.raw, d.length
            fn = self._handlers.get(d.spec.name)
            if fn is not None and layout_of(d.spec).fill(e, d.args):
                e.fn = fn
            else:
                special.append((e, (self.system, d.spec.name, d.args)))
        if special:
            comp = compiler()
            comp.specialise([key for _, key in special])
            for e, key in special:
                e.fn = comp.special[key]
            self.stats.specialised += len(special)
        self.stats.in_python += len(todo)
