"""Translation of a region of guest code into one LLVM function.

A region starts at a hot pc and grows through direct branch targets that
have run before, hottest first (by the cold tier's entry counts), up to a
size cap: a loop's blocks join before the colder code around it, and code
that never ran is not worth compiling.  Each guest block gets an entry check
(exit request, instruction budget) and a body emitted by running the ISA
description's semantics over this backend, so branches between blocks of
the region are plain IR branches: a loop stays in native code with its
guest registers in SSA values (allocas that mem2reg promotes).

The function is ``i64 f(hart_t *h, jit_ctx_t *c)``, entered at h->pc: its
first block or any loop header, through that block's check (so that a
loop left for an exit request or a new translation is entered again where
it stopped).  Other blocks are not entry points: an extra way in would
give every block phis for every guest register, which costs hot loops
registers.  It returns a JIT_* status with
h->pc, h->minstret and every written register stored back; on JIT_FAULT
h->pc is the faulting instruction and the exception is pending, exactly as
the reference interpreter leaves the hart before it delivers the trap.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from itertools import count
from typing import Callable

from bt_vmm.engines.jit import textir as ir

from bt_vmm._core import ffi, lib
from bt_vmm.cpu.csrs import csr_number
from bt_vmm.engines.jit import fastfp
from bt_vmm.engines.jit.backend import I1, I8, I64, PTR, IRValues, const
from bt_vmm.engines.jit.layout import offset
from bt_vmm.isa import DECODER, IllegalInstruction
from bt_vmm.isa.effects import control_flow, register_effects

M64 = (1 << 64) - 1
PAGE = 4096
FS_MASK = 3 << 13
I32 = ir.IntType(32)
VOID = ir.VoidType()
CTX_CODE_PAGES = ffi.offsetof("jit_ctx_t", "code_pages")
CTX_IC = ffi.offsetof("jit_ctx_t", "ic")
IC_ENTRY = ffi.sizeof("jit_ic_t")
CHAIN, INDIRECT = "chain", "indirect"   # exits that continue in another translation
MAX_GUARDED = 4   # instructions a short forward branch may skip and still become selects
SLOW_OPS = frozenset({"div", "divu", "rem", "remu"})   # not worth running when skipped
# Instructions a region grows to at the first tier (compile time grows with
# it).  A region compiled again at the top tier has the same blocks, but may
# hold up to lib.JIT_REGION_MAX: a block the first tier's cap cut short is
# translated to its end (intmix's main loop, bigger than a region: -7%).
FIRST_TIER_MAX = 256
MAX_RETURN_SITES = 16   # cases of an indirect jump's switch over the region's return sites
# CSRs whose accesses change nothing a translation depends on (only FP state,
# which in-place FP reads from the hart): no need to leave the region.
# Quiet FP compares save and restore fflags around each compare.
FP_CSRS = frozenset(csr_number(name) for name in ("fflags", "frm", "fcsr"))

# Signatures of the C helpers generated code calls besides callouts.
HELPERS = {
    "bt_jit_load": ir.FunctionType(I32, [PTR, I64, I64, I64, PTR]),
    "bt_jit_store": ir.FunctionType(I32, [PTR, PTR, I64, I64, I64]),
    "bt_raise": ir.FunctionType(VOID, [PTR, I64, I64]),
}


def _tbaa_tags(module: ir.Module) -> dict[str, ir.MDValue]:
    """Type-based alias tags: guest RAM and the hart are disjoint memory
    (llvmlite dedupes identical metadata, so every region shares them)."""
    root = module.add_metadata([ir.MetaDataString(module, "bt-vmm")])
    tags = {}
    for name in ("guest", "hart"):
        node = module.add_metadata([ir.MetaDataString(module, name), root, const(0)])
        tags[name] = module.add_metadata([node, node, const(0)])
    return tags


class Untranslatable(Exception):
    """The region cannot be translated (e.g. a callout with no C function)."""


@dataclass
class RegionPlan:
    """What the translator needs to know about the hart and the cache."""

    machine_kind: int
    mode: int                    # bt_jit_mode: priv | FS-on << 2
    fetch: Callable[[int], tuple[int, int] | None]  # vpc -> (raw bits, paddr) or None
    executed: Callable[[int], bool]  # has the block at this vpc run? Only those join the region
    entries: Callable[[int, int], bool] = lambda vpc, paddr: False
    # (vpc, paddr) starts another region (translated, or built before it in the batch):
    # branch there through the dispatcher instead of translating it again
    heat: Callable[[int], int] = lambda vpc: 0
    # entries into the block at vpc the cold tier counted, log2 (0: not counted, e.g.
    # only reached by falling through: it inherits the heat of its predecessor)
    loop: Callable[[int, int], bool] = lambda vpc, paddr: False
    # (vpc, paddr) is the header of a loop of a region translated already,
    # and that region does not lead back here
    ram_window: tuple[int, int] = (0, 0)
    # process VM: (lowest address, its distance to the last 8-byte slot) of
    # the guest's RAM, fixed for the hart's life: constants in the bounds check
    store_window: tuple[int, int] | None = None
    # process VM: the same from the store floor (hart_t.store_floor) up, for
    # stores: no page there holds code, so they check no watch byte
    max_insns: int = FIRST_TIER_MAX
    max_block: int = 64

    def __post_init__(self) -> None:
        # The dispatcher's sample period relies on it (see jit_ctx_t).
        if not 0 < self.max_insns <= lib.JIT_REGION_MAX:
            raise ValueError(f"max_insns {self.max_insns}: a region holds 1..{lib.JIT_REGION_MAX} instructions")


@dataclass
class Block:
    start: int
    check: ir.Block
    body: ir.Block


@dataclass
class RegionInfo:
    name: str
    entry: int
    instructions: int = 0
    blocks: int = 0
    pages: set[int] = field(default_factory=set)   # physical page numbers
    address: int = 0                               # of the compiled function
    chains: list[int] = field(default_factory=list)  # target pc of each chain slot
    chain_global: str = ""                         # the i64 array of chain slots
    chain_base: int = 0                            # its address, once compiled
    starts: set[int] = field(default_factory=set)  # virtual pcs of its blocks
    entry_points: set[int] = field(default_factory=set)  # where it may be entered: entry, loop headers
    loops: set[int] = field(default_factory=set)   # its loop headers (targets of backward branches)
    level: int = 0                                 # the optimisation level it was compiled at
    code_size: int = 0                             # machine code bytes of its object
    code: list[tuple[int, int]] = field(default_factory=list)   # (paddr, bits) translated


@dataclass
class _Stub:
    block: ir.Block
    target: int
    source: int                 # pc of the branch
    external: bool
    origin: int = 0             # start of the block it leaves
    known: dict[int, int] = field(default_factory=dict)   # integer registers holding constants the block set
    written: frozenset[int] | None = None   # registers the block wrote before (None: any may have changed)


class RegionEmitter(fastfp.InlineFP, IRValues):
    """Emits one region function; implements the builder protocol for the
    instruction being translated (bt_vmm.isa.builder)."""

    HELPERS = HELPERS
    missing_function = Untranslatable

    def __init__(self, module: ir.Module, name: str, entry: int, plan: RegionPlan):
        self.module, self.plan = module, plan
        self.system = plan.machine_kind == lib.MACHINE_SYSTEM
        self.fs_on = bool(plan.mode & 4)
        self.info = RegionInfo(name, entry, chain_global=name + "_chain")
        self.fn = ir.Function(module, ir.FunctionType(I64, [PTR, PTR]), name)
        self.fn.attributes.add("nounwind")
        self.h, self.ctx = self.fn.args
        self._tbaa = _tbaa_tags(module)
        for arg in self.fn.args:   # the hart and the JIT context: distinct, never guest RAM
            arg.add_attribute("noalias")
            arg.add_attribute("nonnull")
        self._allocas = self.fn.append_basic_block("allocas")
        self._ab = ir.IRBuilder(self._allocas)
        self._init = self.fn.append_basic_block("init")
        self.b = ir.IRBuilder()
        self.blocks: dict[int, Block] = {}
        self._queue: list[tuple[float, int, int]] = []   # (-heat, order, vpc): blocks to add
        self._order = count()
        self._heat = float("inf")   # of the block being emitted
        self._stubs: list[_Stub] = []
        self._deferred: list[tuple[str, ir.Block, ir.Block]] = []  # (kind, block, continuation)
        self.xslots: dict[int, ir.AllocaInstr] = {}
        self.fslots: dict[int, ir.AllocaInstr] = {}
        self.xdirty: set[int] = set()
        self.fdirty: set[int] = set()
        # What holds in this block: register values, ("x" | "f", r); FS made
        # dirty, ("fs", "dirty"); sums of a value and a constant, ("sum",
        # value); addresses known to pass the process VM's check,
        # ("accessed", address, aligned)
        self._values: dict[tuple, object] = {}
        self._fields: dict[str, ir.AllocaInstr] = {}
        # minstret plus the region's size (see _fill_check): bounded by the
        # budget with one compare
        self.icount = self._ab.alloca(I64, name="icount")
        self.exit_pc = self._ab.alloca(I64, name="exit_pc")
        self.leave = self._ab.alloca(I1, name="leave")
        self.out = self._ab.alloca(I64, name="out")
        self.chain_slot = self._ab.alloca(I64, name="chain_slot")
        self._exits: dict[int | str, ir.Block] = {}   # JIT_* status, CHAIN or INDIRECT
        # the instruction being translated (the protocol's pc and length)
        self.pc, self.length, self.raw = entry, 4, 0
        self._next = None
        self._called = False
        self._leave_used = False
        self._wrote = False   # has the instruction written a register yet?
        self._links = False   # has it written its return address (a call)?
        self._guard_end = None   # where it goes on after instructions it may skip (see _guard)
        self._origin = entry     # the block being emitted: its start
        self._written: set[int] | None = set()   # the integer registers it has written (None: any)
        self._entry_constants: dict[int, dict[int, int]] = {}   # see _constants
        self._leaders: set[int] = set()
        self._return_sites: set[int] = set()   # after the region's calls
        self._indirects: list[ir.SwitchInstr] = []   # its indirect jumps, cases added at the end

    # ------------------------------------------------------------------
    # hart fields and C functions
    def field_ptr(self, name: str, extra: int = 0) -> ir.Value:
        return self.b.gep(self.h, [const(offset(name) + extra)], source_etype=I8)

    def load_field(self, name: str, extra: int = 0) -> ir.Value:
        instr = self.b.load(self.field_ptr(name, extra), typ=I64)
        instr.set_metadata("tbaa", self._tbaa["hart"])
        return instr

    def store_field(self, name: str, value, extra: int = 0) -> None:
        self.b.store(self.v(value), self.field_ptr(name, extra)).set_metadata("tbaa", self._tbaa["hart"])

    def _entry_value(self, name: str) -> ir.Value:
        """A value computed once at function entry (see _fill_init)."""
        if name not in self._fields:
            self._fields[name] = self._ab.alloca(I64, name=name)
        return self.b.load(self._fields[name], typ=I64)

    def _entry_ptr(self, name: str) -> ir.Value:
        return self.b.inttoptr(self._entry_value(name), PTR)

    # ------------------------------------------------------------------
    # registers (builder protocol)
    def _slot(self, slots: dict, r: int, prefix: str) -> ir.AllocaInstr:
        if r not in slots:
            slots[r] = self._ab.alloca(I64, name=f"{prefix}{r}")
        return slots[r]

    def _get(self, slots: dict, r: int, prefix: str):
        # Within a guest block, a register's last value is reused (constants
        # stay Python ints and fold): less IR for LLVM to chew through.
        key = (prefix, r)
        if key not in self._values:
            self._values[key] = self.b.load(self._slot(slots, r, prefix), typ=I64)
        return self._values[key]

    def _set(self, slots: dict, r: int, prefix: str, v) -> None:
        self._wrote = True
        self.b.store(self.v(v), self._slot(slots, r, prefix))
        self._values[(prefix, r)] = v

    def x(self, r: int):
        return 0 if r == 0 else self._get(self.xslots, r, "x")

    def set_x(self, r: int, v) -> None:
        if isinstance(v, int) and v == (self.pc + self.length) & M64:
            self._links = True
        if r:
            self._set(self.xslots, r, "x", v)
            self.xdirty.add(r)
            if self._written is not None:
                self._written.add(r)

    def f(self, r: int):
        return self._get(self.fslots, r, "f")

    def set_f(self, r: int, v) -> None:
        self._set(self.fslots, r, "f", v)
        self.fdirty.add(r)
        # FS = dirty once per block: only a sensitive callout (which starts
        # the block's values afresh) could clear it again.
        if ("fs", "dirty") not in self._values:
            self.store_field("mstatus", self.b.or_(self.load_field("mstatus"), const(FS_MASK)))
            self._values[("fs", "dirty")] = True

    # ------------------------------------------------------------------
    # memory (builder protocol)
    def _fast_address(self, addr: ir.Value, size: int, tlb: str, must_align: bool = False, store: bool = False):
        """(hit condition, host pointer, pointer to the watch byte of the
        page, or None when a store need not check it) of the inline fast
        path."""
        if not self.system:
            # Process VM: guest address = offset into RAM, bounds-checked
            # with one compare (the last 7 bytes of RAM take the slow path).
            # Misaligned accesses inside RAM touch the same bytes as the slow
            # path (a store checks the next page's watch byte too); AMOs must
            # be aligned: the slow path raises the fault.  Stores above the
            # store floor check no watch byte: their window starts there (a
            # store below takes the slow path; the program's code lies
            # there, its data above), which saved 3-10% (nqueens 10%).  An
            # address this block has already accessed (and left the region
            # had it failed) is known to pass.
            window = self.plan.store_window if store else None
            if (known := self._values.get(("stored" if window else "accessed", addr, must_align))) is not None:
                return True, *known
            if window and (loaded := self._values.get(("accessed", addr, must_align))) is not None:
                # (loaded already, so in RAM: above the floor is all a store needs)
                return self.b.icmp_unsigned(">=", addr, const(window[0])), loaded[0], None
            lo, last = window or self.plan.ram_window
            inside = self.b.icmp_unsigned("<=", self.b.sub(addr, const(lo)), const(last))
            if must_align:
                inside = self.b.and_(inside, self.b.icmp_unsigned("==", self.b.and_(addr, const(size - 1)), const(0)))
            host = self.b.gep(self._entry_ptr("ram_biased"), [addr], source_etype=I8)
            if window:
                return inside, host, None
            page = self.b.gep(self._entry_ptr("pages_biased"), [self.b.lshr(addr, const(12))], source_etype=I8)
            return inside, host, page
        # (A store TLB entry of a page holding code never hits: TLB_WATCHED.)
        hit, host = self._tlb_lookup(self.field_ptr(tlb), addr, size)
        return hit, self.b.inttoptr(host, PTR), None

    def _likely(self, cond: ir.Value, fast: ir.Block, slow: ir.Block) -> None:
        self.b.cbranch(cond, fast, slow).set_weights([1000, 1])

    def _guest(self, instr: ir.Instruction) -> ir.Instruction:
        """Tag a guest RAM access: it never aliases the hart or the context,
        so LLVM may keep hart fields (the reservation) in registers across it."""
        instr.set_metadata("tbaa", self._tbaa["guest"])
        return instr

    def _begin_memory(self) -> None:
        if not self._leave_used:
            self._leave_used = True
            self.b.store(ir.Constant(I1, 0), self.leave)

    def _slow_status(self, status: ir.Value) -> None:
        """After a slow-path helper: fault exit on 1, and leave after this
        instruction on 2; continues in a fresh block."""
        ok = self.fn.append_basic_block("slow_ok")
        self.b.cbranch(self.b.icmp_signed("==", status, ir.Constant(I32, 1)), self._fault_block(), ok)
        self.b.position_at_end(ok)
        wants_leave = self.b.icmp_signed("==", status, ir.Constant(I32, 2))
        self.b.store(self.b.or_(self.b.load(self.leave, typ=I1), wants_leave), self.leave)

    def _leaves_before(self) -> bool:
        """Does a slow access leave the region before its instruction?  In a
        process VM it does: the slow path is rare there (outside RAM, a
        misaligned AMO, a store to a watched page), and the cold tier then
        runs the instruction, so the code needs no helper call, no status
        check and no result join: a third less IR to compile, and loops
        that LLVM's O2 makes faster than with the join (nqueens 14%,
        sha256 7%).  Only while the instruction has written no register
        yet: the exit must leave the state as it was before it."""
        return not self.system and not self._wrote

    def _leave_before(self) -> ir.Block:
        return self._exit_block(lib.JIT_STOP, self.pc)

    def add(self, a, b):
        """base + c1 + c2 is base + (c1 + c2), and base itself when that is
        0, within a block, and the same sum is the same value: a pointer
        bumped after an access and used with the opposite offset, or a field
        loaded and then stored (x += 1), gives the same address, checked once."""
        if isinstance(a, int) or not isinstance(b, int):
            return super().add(a, b)
        base, offset = self._values.get(("sum", a), (a, 0))
        total = (offset + b) & M64
        if total == 0:
            return base
        if (result := self._values.get(("sum of", base, total))) is None:
            result = super().add(base, total)
            self._values[("sum", result)] = (base, total)
            self._values[("sum of", base, total)] = result
        return result

    def _accessed(self, addr: ir.Value, must_align: bool, host: ir.Value, page: ir.Value | None) -> None:
        """A process VM's access at addr passed its check or left the region:
        later accesses in the block there need none (a store in the store
        window: stores neither)."""
        self._values[("accessed", addr, must_align)] = (host, page)
        if page is None:
            self._values[("stored", addr, must_align)] = (host, None)

    def load(self, addr, size, signed=False, for_store=False):
        addr = self.v(addr)
        hit, host, page = self._fast_address(addr, size, "tlb_store" if for_store else "tlb_load", for_store)
        if hit is True:
            return self._load_host(host, size, signed)
        if self._leaves_before():
            value = self._load_or_leave(hit, host, size, signed, self._leave_before())
            self._accessed(addr, for_store, host, page)
            return value
        self._begin_memory()

        def slow_path() -> ir.Value:
            self.store_field("pc", self.pc)
            status = self._helper("bt_jit_load", self.h, addr, const(size), const(int(for_store)), self.out)
            self._slow_status(status)
            return self.b.load(self.out, typ=I64)

        return self._load_diamond(hit, host, size, signed, slow_path)

    def store(self, addr, v, size):
        addr, value = self.v(addr), self.v(v)
        hit, host, page = self._fast_address(addr, size, "tlb_store", store=True)
        if self._leaves_before():
            self._store_or_leave(self.c(hit), host, page, value, size, self._leave_before())
            self._accessed(addr, False, host, page)
            return
        self._begin_memory()

        def slow_path() -> None:
            self.store_field("pc", self.pc)
            self._slow_status(self._helper("bt_jit_store", self.ctx, self.h, addr, const(size), value))

        self._store_diamond(self.c(hit), host, page, value, size, slow_path)

    # ------------------------------------------------------------------
    # control flow (builder protocol)
    def jump(self, target) -> None:
        self._next = target & M64 if isinstance(target, int) else target

    def branch(self, c, target) -> None:
        if isinstance(c, bool):
            if c:
                self.jump(target)
        elif isinstance(self._next, int) and isinstance(target, int):
            self._next = ("cond", c, target & M64, self._next)
        else:
            self._next = self.b.select(c, self.v(target), self._next_value())

    def _next_value(self) -> ir.Value:
        if isinstance(self._next, tuple):
            _, c, taken, fall = self._next
            return self.b.select(c, const(taken), const(fall))
        return self.v(self._next)

    # ------------------------------------------------------------------
    # callouts (builder protocol)
    def call(self, name: str, *args):
        if args and fastfp.inlinable(name, args[-1]):
            return self._inline_fp(name, args, lambda: self._callout(name, *args))
        return self._callout(name, *args)

    def _callout(self, name: str, *args):
        # Instructions that change privileged state or control flow are
        # marked ends_block; their callouts may touch any hart state, so
        # registers go to memory around them and the block ends after them.
        # Other callouts (FP helpers, LR/SC) only see their arguments and CSRs.
        self.settle_fp()
        sensitive = self._spec.ends_block and not (name == "csr" and args[0] in FP_CSRS)
        self._called |= sensitive
        if sensitive:
            self._written = None   # (registers reload after it)
            self._deferred_block("flush")
            self.store_field("minstret", self.b.sub(self._retired_count(), self._entry_value("reach")))
        self.store_field("pc", self.pc)
        result = self._call_callout(name, args)
        ok = self.fn.append_basic_block("call_ok")
        pending = self.b.icmp_unsigned("!=", self.load_field("exc_pending"), const(0))
        self.b.cbranch(pending, self._fault_block(), ok)
        self.b.position_at_end(ok)
        if sensitive:
            self._deferred_block("reload")
            self._values.clear()
            # The callout may have written minstret: count on from its value.
            self._base = self.b.sub(self.b.add(self.load_field("minstret"), self._entry_value("reach")),
                                    const(self._retired))
        return result

    def _deferred_block(self, kind: str) -> None:
        """Go through a block filled in at the end, once the region's register
        sets are known: write back before a callout, reload after it."""
        blk = self.fn.append_basic_block(kind)
        after = self.fn.append_basic_block(kind + "_done")
        self.b.branch(blk)
        self._deferred.append((kind, blk, after))
        self.b.position_at_end(after)

    # ------------------------------------------------------------------
    # exits
    def _exit_block(self, status: int | str, pc, counted: bool = False, slot: int | None = None) -> ir.Block:
        """A block that leaves the function with ``status`` at ``pc``; it
        stores the instruction count unless the icount slot already has it.
        CHAIN exits go on through chain slot ``slot``, INDIRECT ones through
        the indirect-jump cache, when the target is translated."""
        blk = self.fn.append_basic_block(f"to{status}")
        b = self._settled_at(blk) if self.fp_pending else ir.IRBuilder(blk)
        b.store(self.v(pc), self.exit_pc)
        if not counted:
            b.store(b.add(self._base, const(self._retired)) if self._retired else self._base, self.icount)
        if slot is not None:
            b.store(const(slot), self.chain_slot)
        if status not in self._exits:
            self._exits[status] = self.fn.append_basic_block(f"exit_{status}")
        b.branch(self._exits[status])
        return blk

    def _settled_at(self, blk: ir.Block) -> ir.IRBuilder:
        """A builder after FP flags are settled at the start of ``blk`` (an
        exit from a block that still has some to settle)."""
        here = self.b.block
        self.b.position_at_end(blk)
        self.settle_fp()
        after = ir.IRBuilder(self.b.block)
        self.b.position_at_end(here)
        self.fp_pending = True   # still, on the path that goes on
        return after

    def _tail_call(self, fn_addr: ir.Value, stat: str) -> None:
        """Enter the translation at ``fn_addr`` (0: none) in place of this
        function, or return JIT_OK to the dispatcher."""
        go, back = self.fn.append_basic_block("chain"), self.fn.append_basic_block("to_dispatcher")
        self._likely(self.b.icmp_unsigned("!=", fn_addr, const(0)), go, back)
        self.b.position_at_end(go)
        counter = self.b.gep(self.ctx, [const(ffi.offsetof("jit_ctx_t", stat))], source_etype=I8)
        self.b.store(self.b.add(self.b.load(counter, typ=I64), const(1)), counter)
        fn = self.b.inttoptr(fn_addr, ir.FunctionType(I64, [PTR, PTR]).as_pointer())
        self.b.ret(self.b.call(fn, [self.h, self.ctx], tail="musttail"))
        self.b.position_at_end(back)
        self.b.ret(const(lib.JIT_OK))

    def _chain(self) -> None:
        slots = ir.GlobalVariable(self.module, ir.ArrayType(I64, len(self.info.chains)), self.info.chain_global)
        slots.initializer = ir.Constant(slots.value_type, None)
        slot = self.b.load(self.chain_slot, typ=I64)
        self._tail_call(self.b.load(self.b.gep(slots, [const(0), slot]), typ=I64), "stat_chain")

    def _indirect(self, pc: ir.Value) -> None:
        index = self.b.and_(self.b.lshr(pc, const(1)), const(lib.JIT_IC_SIZE - 1))
        entry = self.b.add(self.b.mul(index, const(IC_ENTRY)), const(CTX_IC))

        def ic_field(name: str) -> ir.Value:
            at = self.b.add(entry, const(ffi.offsetof("jit_ic_t", name)))
            return self.b.load(self.b.gep(self.ctx, [at], source_etype=I8), typ=I64)

        mode = const(self.plan.mode)
        if self.system:   # (and the TLB epoch: see jit_ic_t)
            mode = self.b.or_(mode, self.b.shl(self.load_field("tlb_epoch"), const(3)))
        hit = self.b.and_(self.b.icmp_unsigned("==", ic_field("vpc"), pc),
                          self.b.icmp_unsigned("==", ic_field("mode"), mode))
        self._tail_call(self.b.select(hit, ic_field("fn"), const(0)), "stat_ic_hit")

    def _fault_block(self) -> ir.Block:
        return self._exit_block(lib.JIT_FAULT, self.pc)

    def _goto(self, target: int, external: bool) -> ir.Block:
        """A branch to guest pc ``target``: inside the region when allowed
        (growing the region), else an exit to the dispatcher."""
        stub = _Stub(self.fn.append_basic_block("goto"), target, self.pc, external, self._origin,
                     {key[1]: v for key, v in self._values.items() if key[0] == "x" and isinstance(v, int)},
                     None if self._written is None else frozenset(self._written))
        self._stubs.append(stub)
        if (not external and target not in self.blocks and self._allowed(self.pc, target)
                and self.plan.executed(target)
                and (fetched := self.plan.fetch(target)) and not self._elsewhere(target, fetched[1])):
            heapq.heappush(self._queue, (-(self.plan.heat(target) or self._heat), next(self._order), target))
        return stub.block

    def _elsewhere(self, target: int, paddr: int) -> bool:
        """Is the code at ``target`` left to another region?  One that starts
        there (see RegionPlan.entries), or a loop translated already that
        this code enters (a forward branch: not one of its own loops): in
        a region of its own a loop keeps the host's registers to itself
        (sha256's rounds loop ran 8% slower inside the region of its whole
        function), and a copy would only make this region bigger to
        compile."""
        return self.plan.entries(target, paddr) or (target > self.pc and self.plan.loop(target, paddr))

    def _allowed(self, source: int, target: int) -> bool:
        """May a direct branch stay inside the region?  In a system VM only
        within the entry's page: the page keeps the virtual to physical
        mapping the region was keyed by.  (Its loops come back to the
        dispatcher for pending interrupts at the end of each quantum, see
        JIT_SYSTEM_QUANTUM.)"""
        return not self.system or target // PAGE == self.info.entry // PAGE

    # ------------------------------------------------------------------
    # translation
    def translate(self) -> RegionInfo:
        if self.plan.fetch(self.info.entry) is None:
            # (a 32-bit instruction across the entry's page, or RAM's end: a
            # region of no instruction would leave for its own entry, and
            # the dispatcher would enter it again for ever; the cold tier
            # runs it, or raises its fetch fault)
            raise Untranslatable(f"no instruction to translate at {self.info.entry:#x}")
        self._leaders = self._find_leaders()
        heapq.heappush(self._queue, (-self._heat, next(self._order), self.info.entry))
        while self._queue and self.info.instructions < self.plan.max_insns:
            heat, _, start = heapq.heappop(self._queue)
            if start not in self.blocks:
                self._heat = -heat
                self._new_block(start)
                self._emit_block(self.blocks[start])
        self._finish()
        self.info.blocks = len(self.blocks)
        self.info.starts = set(self.blocks)
        return self.info

    def _find_leaders(self) -> set[int]:
        """Where the direct branches and jumps of the code the region may
        grow into go (the code that ran, reachable from the entry): a block
        that runs into one ends there and goes on in the block there, so
        that no code is translated twice (a loop entered in its middle, a
        loop after the code before it)."""
        leaders: set[int] = set()
        todo, seen, budget = [self.info.entry], set(), self.plan.max_insns
        while todo and budget > 0:
            pc = todo.pop()
            while pc not in seen and budget > 0 and (fetched := self.plan.fetch(pc)) is not None \
                    and (flow := control_flow(fetched[0])) is not None:
                seen.add(pc)
                budget -= 1
                nxt = (pc + (4 if fetched[0] & 3 == 3 else 2)) & M64
                if not (flow.targets or flow.indirect or not flow.falls_through):
                    pc = nxt
                    continue
                targets = [t for t in ((pc + off) & M64 for off in flow.targets)
                           if self._allowed(pc, t) and self.plan.executed(t)]
                leaders.update(targets)
                todo += targets
                if self._allowed(pc, nxt) and self.plan.executed(nxt):   # a fall-through, a return site
                    todo.append(nxt)
                break
        return leaders

    def _new_block(self, start: int) -> None:
        self.blocks[start] = Block(start, self.fn.append_basic_block(f"chk_{start:x}"),
                                   self.fn.append_basic_block(f"b_{start:x}"))

    def _end_block(self) -> None:
        """Before a block's last branch: its FP flags settled, its
        instructions counted."""
        self.settle_fp()
        self.b.store(self._retired_count(), self.icount)

    def _retired_count(self) -> ir.Value:
        """The count now (minstret plus the region's size): the block's
        starting count plus what retired since."""
        return self.b.add(self._base, const(self._retired)) if self._retired else self._base

    def _emit_block(self, blk: Block) -> None:
        self.b.position_at_end(blk.body)
        self._values.clear()
        self._origin, self._written = blk.start, set()
        self.fp_pending = False
        self._base, self._retired = self.b.load(self.icount, typ=I64), 0
        pc, first = blk.start, self.info.instructions
        while True:
            fetched = self.plan.fetch(pc)
            if fetched is None:  # outside RAM or another page: the dispatcher decides
                self._end_block()
                self.b.branch(self._goto(pc, external=True))
                break
            raw, paddr = fetched
            self._translated(paddr, raw)
            nxt = self._emit_insn(pc, raw)
            if nxt is None:
                break
            pc = nxt
            if self.info.instructions - first >= self.plan.max_block or pc // PAGE != blk.start // PAGE \
                    or self.info.instructions >= self.plan.max_insns \
                    or (pc in self._leaders and pc != self._guard_end):
                self._end_block()
                self.b.branch(self._goto(pc, external=False))
                break

    def _translated(self, paddr: int, raw: int) -> None:
        """Count an instruction into the region, with the code it was
        translated from (checked when installed, kept in the disk cache)."""
        self.info.code.append((paddr, raw))
        self.info.pages.update({paddr // PAGE, (paddr + (3 if raw & 3 == 3 else 1)) // PAGE})
        self.info.instructions += 1

    def _fill_check(self, blk: Block) -> None:
        """Entry points and loop headers: stop for an exit request, or when the
        instruction budget or the dispatcher's next sample (see jit_ctx_t)
        could come before the next check (the interpreter then finishes the
        budget).  Every cycle of the region passes a loop header, so no path
        between checks runs more than the region's instructions: the count
        the region keeps is minstret plus that many, so one compare with
        check_limit (the load folded in) does it all.  An exit request sets
        check_limit to 0."""
        self.b.position_at_end(blk.check)
        limit = self.b.load_volatile(self.field_ptr("check_limit"), 8, typ=I64)
        stop = self.b.icmp_unsigned(">", self.b.load(self.icount, typ=I64), limit)
        br = self.b.cbranch(stop, self._exit_block(lib.JIT_CHECKED, blk.start, counted=True), blk.body)
        br.set_weights([1, 1000])

    def _illegal(self, raw: int) -> None:
        self._helper("bt_raise", self.h, const(lib.EXC_ILLEGAL_INSN), const(raw))
        self.b.branch(self._fault_block())

    def _emit_insn(self, pc: int, raw: int) -> int | None:
        """Emit one instruction; the pc the block continues at, or None when
        it ends here."""
        self.pc, self.raw, self.length = pc, raw, 4 if raw & 3 == 3 else 2
        self._called, self._leave_used, self._wrote, self._links = False, False, False, False
        self._guard_end = None
        try:
            d = DECODER.decode(raw)
            self.raw, self._spec = d.raw, d.spec
            if d.spec.fp and not self.fs_on:
                raise IllegalInstruction(d.raw)
            fall = (pc + d.length) & M64
            self._next = fall
            d.spec.semantics(self, *d.args)
        except IllegalInstruction as exc:
            self._illegal(exc.raw)
            return None
        self._retired += 1
        if self._leave_used:
            cont = self.fn.append_basic_block("cont")
            stop = self._exit_block(lib.JIT_STOP, self._next_value())
            self.b.cbranch(self.b.load(self.leave, typ=I1), stop, cont)
            self.b.position_at_end(cont)
        nxt = self._next
        if nxt == fall and not d.spec.ends_block and not self._called:
            return fall
        if isinstance(nxt, tuple) and (skipped := self._skippable(fall, nxt[2])):
            self._guard(nxt[1], skipped)
            self._guard_end = nxt[2]   # (a leader, but the block goes on there)
            return nxt[2]
        self._end_block()
        if isinstance(nxt, int):
            self.b.branch(self._goto(nxt, self._called))
        elif isinstance(nxt, tuple):
            _, c, taken, fallthrough = nxt
            self.b.cbranch(c, self._goto(taken, self._called), self._goto(fallthrough, self._called))
        else:
            chained = not self._called
            leave = self._exit_block(INDIRECT if chained else lib.JIT_OK, nxt)
            if chained:
                self._indirects.append(self.b.switch(nxt, leave))
            else:
                self.b.branch(leave)
        if self._links and not self.system:
            self._return_site(fall)
        return None

    def _skippable(self, fall: int, target: int) -> list[tuple] | None:
        """A short forward branch over instructions that only compute on
        integer registers (RISC-V has no conditional move: compilers branch
        around them): (pc, paddr, raw, decoded, effects) of each, when the
        region may run them whatever the branch does (as selects, not a
        branch the host mispredicts on data like crc's low bit)."""
        if not fall < target <= fall + 4 * MAX_GUARDED or target // PAGE != fall // PAGE \
                or self.info.instructions + (target - fall) // 2 > self.plan.max_insns:
            return None
        body, pc = [], fall
        while pc < target:
            fetched = self.plan.fetch(pc)
            if fetched is None:
                return None
            raw, paddr = fetched
            try:
                d = DECODER.decode(raw)
            except IllegalInstruction:
                return None
            effects = register_effects(d, pc)
            if effects is None or effects.ops & SLOW_OPS:
                return None
            body.append((pc, paddr, raw, d, effects))
            pc += d.length
        return body if pc == target else None

    def _guard(self, skip: ir.Value, body: list) -> None:
        """Run ``body`` (see _skippable) and keep its register writes unless
        ``skip``; its instructions retire unless ``skip``."""
        written = sorted(set().union(*(effects.writes for *_, effects in body)))
        before = {r: self.x(r) for r in written}
        for pc, paddr, raw, d, _ in body:
            self.pc, self.raw, self.length = pc, d.raw, d.length
            self._translated(paddr, raw)
            d.spec.semantics(self, *d.args)
        for r in written:
            self.set_x(r, self.select(skip, before[r], self.x(r)))
        self._base = self.b.add(self._base, self.b.select(skip, const(0), const(len(body))))

    def _return_site(self, pc: int) -> None:
        """A call's return address: into the region if it has run, so that
        returns from calls inside the region (recursion, leaf calls) stay
        in it, through the switch of its indirect jumps."""
        if pc not in self.blocks and self.plan.executed(pc) and (fetched := self.plan.fetch(pc)) \
                and not self.plan.entries(pc, fetched[1]):
            self._return_sites.add(pc)
            heapq.heappush(self._queue, (-(self.plan.heat(pc) or self._heat), next(self._order), pc))

    # ------------------------------------------------------------------
    # the parts that need the whole region
    def _finish(self) -> None:
        self.fp_pending = False   # (every block settled at its end)
        headers = {self.info.entry}
        for stub in self._stubs:
            self.b.position_at_end(stub.block)
            if not stub.external and stub.target in self.blocks and self._allowed(stub.source, stub.target):
                # Forward edges skip the check: a cycle needs a backward edge.
                backward = stub.target <= stub.source
                target = self.blocks[stub.target]
                self.b.branch(target.check if backward else target.body)
                if backward:
                    self.info.loops.add(stub.target)
            elif not self.system and not stub.external:
                # Process VM: on to the target's translation through a chain slot.
                self.info.chains.append(stub.target)
                self.b.branch(self._exit_block(CHAIN, stub.target, counted=True, slot=len(self.info.chains) - 1))
            else:
                self.b.branch(self._exit_block(lib.JIT_OK, stub.target, counted=True))
        headers |= self.info.loops
        inner = [stub for stub in self._stubs if not stub.external and stub.target in self.blocks
                 and self._allowed(stub.source, stub.target)]
        sites = sorted(pc for pc in self._return_sites if pc in self.blocks)[:MAX_RETURN_SITES]
        for switch in self._indirects:
            for pc in sites:
                switch.add_case(const(pc), self.blocks[pc].check)
        headers.update(sites if self._indirects else ())
        self.info.entry_points = headers
        self._entry_constants = self._constants(inner, set(sites) if self._indirects else set())
        for start, blk in self.blocks.items():
            if start in headers:
                self._fill_check(blk)
            else:
                ir.IRBuilder(blk.check).unreachable()
        for kind, blk, after in self._deferred:
            self.b.position_at_end(blk)
            if kind == "flush":
                self._write_back()
            else:
                self._load_registers()
            self.b.branch(after)
        self._fill_init()
        for status, blk in self._exits.items():
            self.b.position_at_end(blk)
            self._write_back()
            self.store_field("minstret", self.b.sub(self.b.load(self.icount, typ=I64), const(self.info.instructions)))
            pc = self.b.load(self.exit_pc, typ=I64)
            self.store_field("pc", pc)
            if status == CHAIN:
                self._chain()
            elif status == INDIRECT:
                self._indirect(pc)
            else:
                if status == lib.JIT_CHECKED:   # (which region a sample finds)
                    hot_region = self.b.gep(self.ctx, [const(ffi.offsetof("jit_ctx_t", "hot_region"))], source_etype=I8)
                    self.b.store(self.b.ptrtoint(self.fn, I64), hot_region)
                self.b.ret(const(status))
        self._ab.branch(self._init)

    def _register_fields(self):
        yield from ((self.xslots[r], "x", 8 * r, r in self.xdirty) for r in sorted(self.xslots))
        yield from ((self.fslots[r], "f", 8 * r, r in self.fdirty) for r in sorted(self.fslots))

    def _write_back(self) -> None:
        for slot, name, extra, dirty in self._register_fields():
            if dirty:
                self.store_field(name, self.b.load(slot, typ=I64), extra)

    def _load_registers(self) -> None:
        for slot, name, extra, _ in self._register_fields():
            self.b.store(self.load_field(name, extra), slot)

    def _fill_init(self) -> None:
        self.b.position_at_end(self._init)
        self._load_registers()
        self.b.store(self.b.add(self.load_field("minstret"), const(self.info.instructions)), self.icount)
        base = self.load_field("ram_base")
        ram, pages = self.load_field("ram"), self.b.load(self.b.gep(self.ctx, [const(CTX_CODE_PAGES)], source_etype=I8), typ=I64)
        values = {
            "ram_biased": self.b.sub(ram, base),
            "pages_biased": self.b.sub(pages, self.b.lshr(base, const(12))),
            "reach": const(self.info.instructions),
        }
        for name, slot in self._fields.items():
            self.b.store(values[name], slot)
        entry = self._enter(self.info.entry)
        if len(self.info.entry_points) == 1:
            self.b.branch(entry)
            return
        where = self.b.switch(self.load_field("pc"), entry)
        for start in sorted(self.info.entry_points - {self.info.entry}):
            where.add_case(const(start), self._enter(start))

    def _constants(self, inner: list[_Stub], unknown: set[int]) -> dict[int, dict[int, int]]:
        """For each block that branches inside the region reach, the integer
        registers holding the same constant on every one of them (a forward
        data flow over the blocks: what each branch's block set, and what it
        left of what held when it started; a block reached only through
        blocks not known yet stays unknown, and gets no check).  ``unknown``:
        blocks reached otherwise too (return sites, through indirect jumps).
        Entering stays correct whatever this finds (see _enter): a wrong
        constant would only make the region stop at that entry."""
        into: dict[int, list[_Stub]] = {}
        for stub in inner:
            into.setdefault(stub.target, []).append(stub)
        held: dict[int, dict[int, int] | None] = {b: None if b in into and b not in unknown else {} for b in self.blocks}
        changed = True
        while changed:   # values only shrink once set: this ends
            changed = False
            for start, stubs in into.items():
                if start in unknown:
                    continue
                meet = None
                for stub in stubs:
                    before = held[stub.origin]
                    if before is None:
                        continue   # not reached yet: no constraint
                    out = dict(stub.known) if stub.written is None else \
                        {**{r: c for r, c in before.items() if r not in stub.written}, **stub.known}
                    meet = out if meet is None else {r: c for r, c in meet.items() if out.get(r) == c}
                if meet is not None and meet != held[start]:
                    held[start], changed = meet, True
        return {start: consts for start, consts in held.items() if consts and start in into}

    def _enter(self, start: int) -> ir.Block:
        """Where the function goes in at ``start``: its check, after checking
        that the registers the region's own branches always bring there as
        constants hold them (then LLVM knows them: loop-invariant values set
        before a loop, like intmix's divisors, fold into its code).  If
        they do not, the region stops before ``start`` and the cold tier
        runs on."""
        consts = self._entry_constants.get(start)
        target = self.blocks[start].check
        if not consts:
            return target
        blk = self.fn.append_basic_block(f"enter_{start:x}")
        b = ir.IRBuilder(blk)
        ok = None
        for r, c in sorted(consts.items()):
            same = b.icmp_unsigned("==", b.load(self.xslots[r], typ=I64), const(c))
            ok = same if ok is None else b.and_(ok, same)
        holds = self.fn.append_basic_block(f"enter_{start:x}_ok")
        b.cbranch(ok, holds, self._exit_block(lib.JIT_STOP, start, counted=True)).set_weights([1000, 1])
        b.position_at_end(holds)
        for r, c in sorted(consts.items()):
            b.store(const(c), self.xslots[r])
        b.branch(target)
        return blk
