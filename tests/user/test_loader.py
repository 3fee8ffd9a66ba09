"""The process image: where the store floor (hart_t.store_floor) goes."""
from __future__ import annotations

import functools
import pathlib

import pytest

import bt_vmm
from bt_vmm.engines.jit import JitEngine
from bt_vmm.linux_user.loader import PIE_BASE, store_floor
from bt_vmm.machines.elf import Program, Segment
from bt_vmm.machines.user import UserMachine

from .helpers import MEMORY

R, W, X = 4, 2, 1


def program(*segments: tuple[int, int, int], elf_type: str = "ET_EXEC") -> Program:
    """A program of (vaddr, memsz, flags) segments."""
    return Program("p", 0x10000, [Segment(v, v, b"", n, f, 0) for v, n, f in segments], 0, 56, 0, elf_type)


@pytest.mark.parametrize("segments,floor", [
    ([(0x10000, 0x6060C, R | X), (0x71DC0, 0xAAB8, R | W)], 0x71000),   # text, then data pages above
    ([(0x10000, 0x1000, R | X), (0x11000, 0x100, R | W)], 0x11000),      # data right at the page after
    ([(0x10000, 0x1800, R | X), (0x11800, 0x100, R | W)], 0),            # data on the code's last page
    ([(0x20000, 0x1000, R | X), (0x10000, 0x100, R | W)], 0),            # data below the code
    ([(0x10000, 0x1000, R | W)], 0),                                     # no code
    ([(2**64 - 0x1000, 0x2000, R | X)], 0),                              # beyond the address space
])
def test_the_floor_is_the_page_after_the_code_with_the_data_above(segments, floor):
    assert store_floor(program(*segments)) == floor


def test_a_static_pie_floor_is_where_it_is_loaded():
    pie = program((0x0, 0x3000, R | X), (0x4000, 0x100, R | W), elf_type="ET_DYN")
    assert store_floor(pie) == PIE_BASE + 0x3000


def test_a_program_runs_with_its_floor_on_the_jit():
    """The bundled qsort (it checks its result: status 1 if unsorted)
    stores above its floor from hot code; its own code lies below."""
    path = pathlib.Path(bt_vmm.__file__).parent / "guests" / "qsort.elf"
    jit = functools.partial(JitEngine, background=False, disk_cache=None)   # (it translates on this thread)
    machine = UserMachine(str(path), [str(path), "30000"], env=[], engine=jit, memory=MEMORY)
    try:
        floor = machine.hart.ptr.store_floor
        assert floor == store_floor(machine.program) and floor % 4096 == 0 and floor > 0
        result = machine.run(max_insns=200_000_000)
        stats = machine.engine.stats
    finally:
        machine.close()
    assert (result.reason, result.status) == ("exit", 0)
    assert stats.regions > 0 and stats.flushes == 0
    assert machine.hart.ptr.store_floor == floor and stats.summary()["store floor"] == hex(floor)
