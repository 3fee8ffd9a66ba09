"""What an instruction's semantics do, found by running them over a builder
that only records.

register_effects: whether they stay within the integer registers (no
memory, no control flow, no callouts, no FP state), which registers they
write and which operations they use.  A translator may execute such an
instruction speculatively: it has no effect but its register writes, and it
cannot fault.

control_flow: where it may go next, as far as the instruction alone says
(the static targets of direct branches and jumps).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from bt_vmm.isa import DECODER, IllegalInstruction
from bt_vmm.isa.decoder import Decoded

M64 = (1 << 64) - 1

# The builder protocol's operations on values: pure functions of their inputs.
VALUE_OPS = frozenset({
    "add", "sub", "mul", "mulh", "mulhu", "mulhsu", "div", "divu", "rem", "remu",
    "and_", "or_", "xor", "shl", "shr", "sar", "sext", "zext", "clz", "ctz", "cpop",
    "eq", "ne", "lt", "ltu", "ge", "geu", "both", "either", "select", "flag",
})


@dataclass(frozen=True)
class RegisterEffects:
    writes: frozenset[int]   # integer registers written (x0 left out)
    ops: frozenset[str]      # value operations used


class _Effect(Exception):
    """The semantics reached beyond the integer registers."""


class _Opaque:
    """A builder whose register values are opaque (x0 reads as 0)."""

    _VALUE = object()

    def __init__(self, pc: int, length: int):
        self.pc, self.length = pc, length

    def x(self, r: int):
        return 0 if r == 0 else self._VALUE


class _Recorder(_Opaque):
    """Records writes and operations, and stops at anything with an effect."""

    def __init__(self, pc: int, length: int):
        super().__init__(pc, length)
        self.writes: set[int] = set()
        self.ops: set[str] = set()

    def set_x(self, r: int, v) -> None:
        if r:
            self.writes.add(r)

    def __getattr__(self, name: str):
        if name not in VALUE_OPS:
            raise _Effect(name)
        self.ops.add(name)
        return lambda *args: self._VALUE


def register_effects(d: Decoded, pc: int) -> RegisterEffects | None:
    """The effects of decoded instruction ``d`` at ``pc`` if it only
    computes on integer registers, else None."""
    if d.spec.fp or d.spec.ends_block:
        return None
    rec = _Recorder(pc, d.length)
    try:
        d.spec.semantics(rec, *d.args)
    except _Effect:
        return None
    return RegisterEffects(frozenset(rec.writes), frozenset(rec.ops))


@dataclass(frozen=True)
class ControlFlow:
    targets: tuple[int, ...]   # offsets from the instruction's pc of its direct targets
    falls_through: bool        # may go on at the next instruction
    indirect: bool             # may go to a computed address (jalr)


class _FlowRecorder(_Opaque):
    """Records the jumps and branches; the pc (0) and constants added to it
    stay known, so direct targets come out as offsets."""

    def __init__(self, length: int):
        super().__init__(0, length)
        self.targets: list[int] = []
        self.jumps = False      # unconditionally
        self.indirect = False

    def add(self, a, b):
        return (a + b) & M64 if isinstance(a, int) and isinstance(b, int) else self._VALUE

    def jump(self, target) -> None:
        self.jumps = True
        self._to(target)

    def branch(self, c, target) -> None:
        self._to(target)

    def _to(self, target) -> None:
        if isinstance(target, int):
            self.targets.append(target)
        else:
            self.indirect = True

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: self._VALUE


@lru_cache(maxsize=1 << 14)
def control_flow(raw: int) -> ControlFlow | None:
    """Where the instruction with bits ``raw`` goes (None: illegal)."""
    try:
        d = DECODER.decode(raw)
    except IllegalInstruction:
        return None
    rec = _FlowRecorder(d.length)
    d.spec.semantics(rec, *d.args)
    offsets = tuple(t - (1 << 64) if t >> 63 else t for t in rec.targets)
    return ControlFlow(offsets, not rec.jumps, rec.indirect)
