"""Stencils for the fast tier's copy-and-patch blocks (see fi_stencil_t in
csrc/fastinterp.h).

A stencil is one spec's generic handler compiled inline into a piece of a
block: ``i64 st(hart_t *h, fi_ctx_t *c)`` runs the handler and, when the
instruction went straight on, jumps to the next piece; otherwise it retires
the instructions before it and returns to the loop (FI_BLOCK_LEFT).  A store
that rewrites pre-decoded code drops the page's blocks and makes its piece
leave (the handler returns with the sync bit): no piece checks its entry.
What differs between copies (the instruction's pc, bits and operand
fields, the next piece...) are holes: references to ``hole_*`` symbols,
which LLVM's large code model makes 64-bit absolute values the C core fills
in when it copies the piece, so a piece computes with its fields as
constants.  Everything else is the handler's own code, derived from the one
ISA description; one module holds every stencil, compiled once per bt-vmm
version and host and kept in the disk cache beside the handlers.

Branches and jumps are pieces too: a taken one leaves the block
(FI_BLOCK_LEFT), one that always jumps ends it.  Where a jump or a block's
end leaves for may be chained (fi_chain_t): the piece goes straight to the
copied block its slot names, doing the loop's checks itself (budget, exit
request, the JIT's count of cold entries), so a loop of copied blocks
stays in copied code.  Instructions that end a block by a callout (CSR
accesses, ecall, fence.i, mret...) get no stencil: they run from the loop,
which keeps h->pc and minstret exact for them.
"""
from __future__ import annotations

import bisect
import json
import struct
from functools import cache

from bt_vmm.engines.jit import textir as ir

from bt_vmm._core import ffi, lib
from bt_vmm.engines.diskcache import DiskCache, default_directory, files_digest
from bt_vmm.engines.fast.compiler import compiler, source_digest
from bt_vmm.engines.fast.handlers import SMALL_SLOTS, WIDE_SLOTS, HandlerEmitter, NeedsConcrete, RtInt, layout_of
from bt_vmm.engines.jit.layout import offset
from bt_vmm.engines.llvmsetup import init_llvm
from bt_vmm.engines.native import NativeObject
from bt_vmm.errors import VMMError
from bt_vmm.isa import REGISTRY

DISK_KIND = "fast-stencils"   # "fast-": seeded with the handlers into a first run's cache (bench)
ARENA_SIZE = 16 << 20         # bytes of copied blocks per hart (then the loop runs the rest)
HOLES = {"hole_pc": lib.FI_HOLE_PC, "hole_raw": lib.FI_HOLE_RAW,
         "hole_nextpc": lib.FI_HOLE_NEXTPC, "hole_retired": lib.FI_HOLE_RETIRED, "hole_cont": lib.FI_HOLE_CONT,
         "hole_chain": lib.FI_HOLE_CHAIN,
         **{f"hole_small{i}": lib.FI_HOLE_SMALL + i for i in range(SMALL_SLOTS)},
         **{f"hole_wide{i}": lib.FI_HOLE_WIDE + i for i in range(WIDE_SLOTS)}}
END = "st_end"
R_X86_64_64 = 1


def _fi(field: str) -> int:
    return ffi.offsetof("fi_ctx_t", field)


def _jit(field: str) -> int:
    return ffi.offsetof("jit_ctx_t", field)


def _retire(tag: str, status: int) -> str:
    """IR: count the instructions before this one, stop at its pc, return status."""
    return f"""
  %m{tag} = getelementptr i8, ptr %h, i64 {offset("minstret")}
  %mv{tag} = load i64, ptr %m{tag}, align 8
  %mn{tag} = add i64 %mv{tag}, ptrtoint (ptr @hole_retired to i64)
  store i64 %mn{tag}, ptr %m{tag}, align 8
  %p{tag} = getelementptr i8, ptr %h, i64 {offset("pc")}
  store i64 ptrtoint (ptr @hole_pc to i64), ptr %p{tag}, align 8
  ret i64 {status}"""


def _leave(next_pc: str, slot: str, status: int) -> str:
    """IR: leave the block at this piece (see FI_BLOCK_LEFT, DONE): what
    the loop needs, then retire the instructions before it."""
    return f"""
  %bn = getelementptr i8, ptr %c, i64 {_fi("block_next")}
  store i64 {next_pc}, ptr %bn, align 8
  %bs = getelementptr i8, ptr %c, i64 {_fi("block_slot")}
  store ptr {slot}, ptr %bs, align 8{_retire("l", status)}"""


def _chain(next_pc: str, jumped: bool) -> str:
    """IR from label ``chain``: go to the block this piece's slot names if
    it is where the piece leaves for and the loop would go on there (see
    fi_chain_t); else on at label ``left``.  ``jumped``: it left by a jump,
    which the JIT counts (jit_entered_cold), and it retired (the end piece
    stands for no instruction)."""
    hot = ""
    if jumped:
        hot_size = ffi.sizeof("jit_hot_t")
        hot = f"""
  %j.p = getelementptr i8, ptr %c, i64 {_fi("jit")}
  %j = load ptr, ptr %j.p, align 8
  %nojit = icmp eq ptr %j, null
  br i1 %nojit, label %go.chain, label %count
count:
  %smc.p = getelementptr i8, ptr %j, i64 {_jit("smc_count")}
  %smc = load i64, ptr %smc.p, align 8
  %inst.p = getelementptr i8, ptr %j, i64 {_jit("install_ready")}
  %inst = load atomic i64, ptr %inst.p monotonic, align 8
  %busy = or i64 %smc, %inst
  %half = lshr i64 {next_pc}, 1
  %mix = mul i64 %half, {lib.JIT_HASH - (1 << 64)}
  %top = lshr i64 %mix, {lib.JIT_HOT_SHIFT}
  %slot.i = and i64 %top, {lib.JIT_HOT_SIZE - 1}
  %slot.o = mul i64 %slot.i, {hot_size}
  %slot.a = add i64 %slot.o, {_jit("hot")}
  %he = getelementptr i8, ptr %j, i64 %slot.a
  %hpc = load i64, ptr %he, align 8
  %hc.p = getelementptr i8, ptr %he, i64 {ffi.offsetof("jit_hot_t", "count")}
  %hc = load i64, ptr %hc.p, align 8
  %hn.p = getelementptr i8, ptr %he, i64 {ffi.offsetof("jit_hot_t", "next")}
  %hn = load i64, ptr %hn.p, align 8
  %hc1 = add i64 %hc, 1
  %counted = icmp eq i64 %hpc, {next_pc}
  %cold = icmp ult i64 %hc1, %hn
  %idle = icmp eq i64 %busy, 0
  %cold.idle = and i1 %cold, %idle
  %still = and i1 %counted, %cold.idle
  br i1 %still, label %bump, label %left
bump:
  store i64 %hc1, ptr %hc.p, align 8
  br label %go.chain"""
    return f"""
chain:
  %to = load i64, ptr @hole_chain, align 8
  %linked = icmp eq i64 {next_pc}, %to
  br i1 %linked, label %budget, label %left
budget:
  %cm = getelementptr i8, ptr %h, i64 {offset("minstret")}
  %cmv = load i64, ptr %cm, align 8
  %cmr = add i64 %cmv, ptrtoint (ptr @hole_retired to i64)
  %cmn = add i64 %cmr, {int(jumped)}
  %cn.p = getelementptr i8, ptr @hole_chain, i64 {ffi.offsetof("fi_chain_t", "count")}
  %cn = load i64, ptr %cn.p, align 8
  %cend = add i64 %cmn, %cn
  %stop.p = getelementptr i8, ptr %c, i64 {_fi("stop")}
  %stop = load i64, ptr %stop.p, align 8
  %fits = icmp ule i64 %cend, %stop
  %xr.p = getelementptr i8, ptr %h, i64 {offset("exit_request")}
  %xr = load atomic i64, ptr %xr.p monotonic, align 8
  %quiet = icmp eq i64 %xr, 0
  %odd = and i64 %to, 1
  %even = icmp eq i64 %odd, 0
  %fits.quiet = and i1 %fits, %quiet
  %may = and i1 %fits.quiet, %even
  br i1 %may, label {"%jit" if jumped else "%go.chain"}, label %left{"" if not jumped else chr(10) + "jit:"}{hot}
go.chain:
  store i64 %cmn, ptr %cm, align 8
  %code.p = getelementptr i8, ptr @hole_chain, i64 {ffi.offsetof("fi_chain_t", "code")}
  %code = load ptr, ptr %code.p, align 8
  %r.chain = musttail call i64 %code(ptr %h, ptr %c)
  ret i64 %r.chain"""


def _stencil(name: str, handler: str, jumps: bool) -> str:
    """``jumps``: the instruction may jump (a branch, jal, jalr): where it
    leaves for may be chained to."""
    leave = f"""
  br label %{"chain" if jumps else "left"}{_chain("%next", True) if jumps else ""}
left:{_leave("%next", "@hole_chain" if jumps else "null", lib.FI_BLOCK_LEFT)}"""
    return f"""
define i64 @{name}(ptr noalias %h, ptr noalias %c) nounwind "no-jump-tables"="true" {{
entry:
  %next = call i64 @{handler}(ptr %h, ptr %c, i64 ptrtoint (ptr @hole_pc to i64), ptr null)
  %straight = icmp eq i64 %next, ptrtoint (ptr @hole_nextpc to i64)
  br i1 %straight, label %go, label %out
go:
  %r = musttail call i64 @hole_cont(ptr %h, ptr %c)
  ret i64 %r
out:{leave}
}}"""


def _end() -> str:
    """The piece after a block's last: on to the next pc, chained or not."""
    next_pc = "ptrtoint (ptr @hole_pc to i64)"
    return f"""
define i64 @{END}(ptr noalias %h, ptr noalias %c) nounwind "no-jump-tables"="true" {{
entry:
  br label %chain{_chain(next_pc, False)}
left:{_leave(next_pc, "@hole_chain", lib.FI_BLOCK_DONE)}
}}"""


def _hole(name: str) -> ir.Value:
    return ir.Value(ir.IntType(64), f"ptrtoint (ptr @{name} to i64)")


class _Emitter(HandlerEmitter):
    """A handler whose instruction's fields, bits and length are holes (a
    piece computes with them as constants, not loads from its entry); it
    notes whether its instruction always jumps (the pieces after it could
    never run: the block ends there) and whether it calls out."""

    jumps = calls_out = False

    def __init__(self, *args):
        super().__init__(*args)
        self.raw = _hole("hole_raw")
        self._next = _hole("hole_nextpc")
        self.length = RtInt(self, self.b.sub(self._next, self.pc.ir))

    def _fields(self) -> list[RtInt]:
        return [RtInt(self, _hole(f"hole_{kind}{i}")) for kind, i in layout_of(self.spec).slots]

    def jump(self, target) -> None:
        self.jumps = True
        super().jump(target)

    def call(self, name: str, *args):
        self.calls_out = True
        return super().call(name, *args)


def _module_text(target, system: bool) -> tuple[str, dict[str, tuple[str, bool]]]:
    """A machine kind's stencils' module, and for each stencil (spec name,
    ends a block)."""
    module = ir.Module(name="fast_stencils")
    module.triple = target.triple
    specs: dict[str, tuple[str, bool]] = {}
    stencils = []
    for i, spec in enumerate(REGISTRY.insns.values()):
        if not layout_of(spec).generic:
            continue
        emitter = _Emitter(module, f"h{i}", spec, system)
        try:
            emitter.emit()
        except NeedsConcrete:
            emitter.fn.blocks.clear()
            continue
        if spec.ends_block and emitter.calls_out:
            emitter.fn.blocks.clear()   # (left as an unused declaration)
            continue
        emitter.fn.attributes.add("alwaysinline")
        emitter.fn.linkage = "internal"   # only inlined
        specs[f"st{i}"] = (spec.name, emitter.jumps)
        stencils.append(_stencil(f"st{i}", f"h{i}", spec.ends_block))
    parts = [str(module), "@hole_chain = external global [24 x i8], align 8",
             *(f"@{h} = external global i8, align 1" for h in HOLES if h not in ("hole_cont", "hole_chain")),
             "declare i64 @hole_cont(ptr, ptr)",
             *stencils, _end()]
    return "\n".join(parts), specs


def _compile(target, text: str) -> bytes:
    llvm = init_llvm()
    mod = llvm.parse_assembly(text)
    mod.verify()
    pb = llvm.create_pass_builder(target, llvm.PipelineTuningOptions(speed_level=2))
    pb.getModulePassManager().run(mod, pb)
    return target.emit_object(mod)


# --- reading the object (ELF64 little-endian, x86-64) ---
def _sections(obj: bytes) -> list[tuple[int, int, int, int, int, int]]:
    """(name offset, type, file offset, size, link, info) of each section."""
    shoff, = struct.unpack_from("<Q", obj, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", obj, 0x3A)
    out = []
    for i in range(shnum):
        name, typ, _flags, _addr, off, size, link, info = struct.unpack_from("<IIQQQQII", obj, shoff + i * shentsize)
        out.append((name, typ, off, size, link, info))
    return out


def _pieces(obj: bytes, stencil_names) -> dict[str, tuple[int, list[tuple[int, int, int]]]]:
    """For each stencil function: (size, holes as (offset in the function,
    kind, addend))."""
    sections = _sections(obj)
    symtab_index = next(i for i, s in enumerate(sections) if s[1] == 2)   # SHT_SYMTAB
    _, _, sym_off, sym_size, strtab_index, _ = sections[symtab_index]
    strtab = sections[strtab_index][2]

    def cstr(at: int) -> str:
        return obj[at:obj.index(b"\0", at)].decode()

    symbols = []
    for at in range(sym_off, sym_off + sym_size, 24):
        name, _info, _other, shndx, value, size = struct.unpack_from("<IBBHQQ", obj, at)
        symbols.append((cstr(strtab + name), shndx, value, size))
    wanted = set(stencil_names)
    # per section: the stencils' (start, name, size), by start
    starts: dict[int, list[tuple[int, str, int]]] = {}
    for name, shndx, value, size in symbols:
        if name in wanted:
            starts.setdefault(shndx, []).append((value, name, size))
    for functions in starts.values():
        functions.sort()
    holes: dict[str, list[tuple[int, int, int]]] = {f[1]: [] for fs in starts.values() for f in fs}
    for _, typ, off, size, link, info in sections:
        if typ != 4 or link != symtab_index or info not in starts:   # SHT_RELA of a stencil section
            continue
        functions = starts[info]
        for at in range(off, off + size, 24):
            r_offset, r_info, addend = struct.unpack_from("<QQq", obj, at)
            sym = symbols[r_info >> 32][0]
            if sym not in HOLES:
                continue
            if r_info & 0xFFFFFFFF != R_X86_64_64:
                raise VMMError(f"stencils: unexpected relocation type {r_info & 0xFFFFFFFF} for {sym}")
            i = bisect.bisect_right(functions, (r_offset, "\U0010ffff")) - 1
            if i >= 0 and r_offset < functions[i][0] + functions[i][2]:
                holes[functions[i][1]].append((r_offset - functions[i][0], HOLES[sym], addend))
    return {name: (size, holes[name]) for fs in starts.values() for _, name, size in fs}


def _jump(code: bytes, holes: list[tuple[int, int, int]]) -> tuple[int, int]:
    """(offset, length) of the jump to the next piece (movabs $cont, %reg;
    jmp *%reg), (0, 0) if there is no such jump."""
    for at, kind, addend in holes:
        if kind != lib.FI_HOLE_CONT or addend or at < 2:
            continue
        rex, mov = code[at - 2], code[at - 1]
        reg = (mov - 0xB8) | (rex & 1) << 3
        jmp = bytes([0xFF, 0xE0 + (reg & 7)])
        if rex in (0x48, 0x49) and 0xB8 <= mov <= 0xBF:
            if reg < 8 and code[at + 8:at + 10] == jmp:
                return at - 2, 12
            if reg >= 8 and code[at + 8:at + 11] == b"\x41" + jmp:
                return at - 2, 13
    return 0, 0


class Stencils:
    """The process's stencils, loaded: what fi_set_stencils takes."""

    def __init__(self, obj: bytes, specs: dict[str, list], system: bool):
        self._object = NativeObject(obj, {name: 1 << 40 for name in HOLES})   # (any value: holes are filled per copy)
        handlers = compiler().generic_handlers(system)
        pieces = _pieces(obj, [*specs, END])
        if END not in pieces:
            raise VMMError("stencils: the end piece is missing from the object")
        table = sorted((handlers[spec], name, ends) for name, (spec, ends) in specs.items()
                       if name in pieces and spec in handlers)
        self.table = ffi.new("fi_stencil_t[]", len(table))
        self.end = ffi.new("fi_stencil_t *")
        for slot, (fn, name, ends) in zip(self.table, table):
            self._fill(slot, fn, name, pieces[name], ends)
        self._fill(self.end, 0, END, pieces[END], True)

    def _fill(self, slot, fn: int, name: str, piece, ends: bool) -> None:
        size, holes = piece
        address = self._object.address(name)
        if len(holes) > lib.FI_STENCIL_HOLES or not address:
            raise VMMError(f"stencils: {name} has {len(holes)} holes (at most {lib.FI_STENCIL_HOLES})")
        code = bytes(ffi.buffer(ffi.cast("uint8_t *", address), size))
        slot.fn, slot.code, slot.size = fn, address, size
        slot.jump_at, slot.jump_len = _jump(code, holes)
        slot.ends = int(ends)
        slot.nholes = len(holes)
        slot.chains = int(any(kind == lib.FI_HOLE_CHAIN for _, kind, _ in holes))
        for i, (at, kind, addend) in enumerate(holes):
            slot.holes[i].at, slot.holes[i].kind, slot.holes[i].addend = at, kind, addend

    def attach(self, ctx) -> bool:
        """Give the fast tier's context its stencils; False if it cannot have them."""
        return lib.fi_set_stencils(ctx, self.table, len(self.table), self.end, ARENA_SIZE) == 0


@cache
def stencils(system: bool) -> Stencils:
    """The process's stencils for a machine kind: from the disk cache, else
    compiled (and stored; an entry whose object does not load is compiled
    again)."""
    disk = DiskCache(default_directory())
    kind = "system" if system else "user"
    key = disk.key(DISK_KIND, kind, source_digest(), files_digest([__file__]))   # (and this module)
    header, _, obj = (disk.get(key) or b"").partition(b"\n")
    try:
        return Stencils(obj, json.loads(header), system)
    except (ValueError, TypeError, VMMError):
        target = compiler().target
        text, specs = _module_text(target, system)
        obj = _compile(target, text)
        disk.put(key, json.dumps(specs).encode() + b"\n" + obj)
        return Stencils(obj, specs, system)
