"""The process VM's checked guest access and brk/mmap bookkeeping (no guest code)."""
from __future__ import annotations

import errno
import mmap

import pytest

from bt_vmm.linux_user.memory import PAGE, AddressSpace, GuestFault, GuestMemory

SIZE = 16 << 20
LOW = 0x10000


@pytest.fixture
def mem():
    return GuestMemory(mmap.mmap(-1, SIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS), LOW)


@pytest.mark.parametrize(
    "addr, n",
    [(0, 1), (LOW - 1, 1), (LOW - 1, 2), (SIZE, 1), (SIZE - 4, 5), (2**64 - 8, 16), (LOW, -1), (SIZE + 1, 0)],
)
def test_out_of_bounds_is_a_fault(mem, addr, n):
    with pytest.raises(GuestFault):
        mem.check(addr, n)
    assert not mem.valid(addr, n)


@pytest.mark.parametrize("addr, n", [(LOW, 1), (LOW, SIZE - LOW), (SIZE - 1, 1), (SIZE, 0)])
def test_in_bounds(mem, addr, n):
    assert mem.check(addr, n) == addr


def test_strings(mem):
    mem.write(LOW, b"abc\0")
    assert mem.read_cstr(LOW) == b"abc"
    mem.write(LOW, b"x" * 5000)
    with pytest.raises(OSError) as info:
        mem.read_cstr(LOW)
    assert info.value.errno == errno.ENAMETOOLONG
    mem.write(SIZE - 3, b"abc")   # runs off the end of guest memory
    with pytest.raises(GuestFault):
        mem.read_cstr(SIZE - 3)


def test_mmaps_are_placed_top_down_and_holes_reused(mem):
    space = AddressSpace(mem, brk_start=0x20000, mmap_top=SIZE - (1 << 20))
    a = space.find_free(2 * PAGE)
    space.add(a, a + 2 * PAGE)
    b = space.find_free(PAGE)
    space.add(b, b + PAGE)
    assert a == SIZE - (1 << 20) - 2 * PAGE and b == a - PAGE
    space.remove(a, a + PAGE)   # a hole at the top of a, split from its second page
    assert space.mapped(a + PAGE, a + 2 * PAGE) and not space.mapped(a, a + 2 * PAGE)
    assert space.find_free(PAGE) == a
    assert space.find_free(2 * PAGE) == b - 2 * PAGE
    assert space.find_free(SIZE) is None


def test_memory_reads_zero_when_mapped_again(mem):
    space = AddressSpace(mem, brk_start=0x20000, mmap_top=SIZE // 2)
    a = space.find_free(4 * PAGE)
    space.add(a, a + 4 * PAGE)
    mem.write(a + 100, b"dirty")
    mem.write(a + 3 * PAGE - 2, b"edge")
    space.remove(a, a + 4 * PAGE)
    space.add(a, a + 4 * PAGE)
    assert mem.read(a, 4 * PAGE) == bytes(4 * PAGE)


def test_brk_grows_until_a_mapping(mem):
    space = AddressSpace(mem, brk_start=0x20100, mmap_top=SIZE // 2)
    assert space.brk == 0x21000   # page-aligned start, like Linux's
    space.add(0x40000, 0x41000)
    assert space.set_brk(0x30000) == 0x30000
    assert space.set_brk(0x40800) == 0x30000   # would run into the mapping
    assert space.set_brk(0x100) == 0x30000     # below the start: refused
    mem.write(0x2f000, b"x")
    assert space.set_brk(0x22000) == 0x22000
    assert space.set_brk(0x30000) == 0x30000
    assert mem.read(0x2f000, 1) == b"\0"       # shrunk and regrown: fresh zeros


def test_every_write_is_reported():
    """What the engines hear of (bt_wrote): writes, zeroing, host I/O into a view."""
    seen = []
    mem = GuestMemory(mmap.mmap(-1, SIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS), LOW,
                      lambda addr, n: seen.append((addr, n)))
    mem.write(LOW + 8, b"abcd")
    mem.zero(LOW + 3 * PAGE, 2 * PAGE)
    mem.view(LOW + 16, 4)[:] = b"wxyz"
    mem.filled(LOW + 16, 4)
    assert seen == [(LOW + 8, 4), (LOW + 3 * PAGE, 2 * PAGE), (LOW + 16, 4)]
