"""The process VM's address space: checked guest access and the memory map.

Guest virtual address = offset into the hart's one RAM buffer.  Every pointer
and length a guest passes to a system call goes through GuestMemory, which
refuses anything below the NULL guard or past the end of the buffer, so the
VMM never touches host memory outside the guest's (GuestFault -> -EFAULT).

AddressSpace keeps the bookkeeping Linux does for brk and mmap: the program
break grows up from the end of the loaded image, mappings are placed
top-down below the stack, and freed memory reads back as zeros.
"""
from __future__ import annotations

import bisect
import errno
import mmap
import struct
from collections.abc import Callable

PAGE = 4096
PATH_MAX = 4096


def page_up(n: int) -> int:
    return (n + PAGE - 1) & ~(PAGE - 1)


def page_down(n: int) -> int:
    return n & ~(PAGE - 1)


class GuestFault(Exception):
    """A guest pointer or length does not name guest memory (-EFAULT)."""


class GuestMemory:
    """Bounds-checked access to the guest's buffer (addresses are offsets)."""

    def __init__(self, ram: mmap.mmap, low_guard: int, wrote: Callable[[int, int], None] = lambda addr, n: None):
        """``wrote(addr, n)``: told of every write made here or through a
        view (see filled), so that code there is seen afresh (bt_wrote)."""
        self.ram = ram
        self.size = len(ram)
        self.low = low_guard
        self.wrote = wrote

    def check(self, addr: int, n: int) -> int:
        """The offset of [addr, addr+n), or GuestFault if any byte is not guest memory."""
        if n < 0 or addr < self.low or addr > self.size or n > self.size - addr:
            raise GuestFault(addr)
        return addr

    def valid(self, addr: int, n: int) -> bool:
        return n >= 0 and self.low <= addr <= self.size and n <= self.size - addr

    def read(self, addr: int, n: int) -> bytes:
        off = self.check(addr, n)
        return self.ram[off : off + n]

    def write(self, addr: int, data: bytes) -> None:
        off = self.check(addr, len(data))
        self.ram[off : off + len(data)] = data
        self.wrote(addr, len(data))

    def filled(self, addr: int, n: int) -> None:
        """[addr, addr+n) was written other than by write() (host I/O through a view, a move)."""
        self.wrote(addr, n)

    def view(self, addr: int, n: int) -> memoryview:
        """A zero-copy window for host I/O straight into or out of guest memory."""
        off = self.check(addr, n)
        return memoryview(self.ram)[off : off + n]

    def read_u32(self, addr: int) -> int:
        return struct.unpack("<I", self.read(addr, 4))[0]

    def read_u64(self, addr: int) -> int:
        return struct.unpack("<Q", self.read(addr, 8))[0]

    def write_u64(self, addr: int, value: int) -> None:
        self.write(addr, struct.pack("<Q", value & (2**64 - 1)))

    def read_cstr(self, addr: int, limit: int = PATH_MAX) -> bytes:
        """A NUL-terminated string of at most ``limit`` bytes (ENAMETOOLONG if longer)."""
        self.check(addr, 1)
        end = min(self.size, addr + limit)
        nul = self.ram.find(b"\0", addr, end)
        if nul < 0:
            if end == self.size:
                raise GuestFault(addr)
            raise OSError(errno.ENAMETOOLONG, "name too long")
        return self.ram[addr:nul]

    def zero(self, addr: int, n: int) -> None:
        """Make [addr, addr+n) read as zeros; whole pages are handed back to the host."""
        self.check(addr, n)
        host_page = mmap.PAGESIZE   # madvise works in host pages, which may be larger
        lo, hi = -(-addr // host_page) * host_page, (addr + n) // host_page * host_page
        if lo < hi:
            self.ram.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
            self._fill(addr, lo)
            self._fill(hi, addr + n)
        else:
            self._fill(addr, addr + n)
        self.wrote(addr, n)

    def _fill(self, lo: int, hi: int) -> None:
        if lo < hi:
            self.ram[lo:hi] = bytes(hi - lo)


class AddressSpace:
    """brk and mmap bookkeeping over the flat guest buffer.

    ``maps`` holds disjoint page-aligned [start, end) ranges in address order;
    the break area [brk_start, brk) is kept apart from it.
    """

    def __init__(self, mem: GuestMemory, brk_start: int, mmap_top: int):
        self.mem = mem
        self.brk_start = self.brk = page_up(brk_start)
        self.mmap_top = page_down(mmap_top)
        self.starts: list[int] = []
        self.ends: list[int] = []

    # --- queries ---
    def overlaps(self, lo: int, hi: int) -> bool:
        i = bisect.bisect_right(self.starts, lo)
        if i and self.ends[i - 1] > lo:
            return True
        return i < len(self.starts) and self.starts[i] < hi

    def mapped(self, lo: int, hi: int) -> bool:
        """True when every byte of [lo, hi) belongs to one mapping or to the break area."""
        if self.brk_start <= lo and hi <= page_up(self.brk):
            return True
        i = bisect.bisect_right(self.starts, lo) - 1
        while i >= 0 and i < len(self.starts) and self.starts[i] <= lo < self.ends[i]:
            lo = self.ends[i]
            if lo >= hi:
                return True
            i += 1
        return False

    def find_free(self, length: int) -> int | None:
        """Top-down first fit between the break and the stack, as Linux places mmaps."""
        top = self.mmap_top
        for start, end in zip(reversed(self.starts), reversed(self.ends)):
            if end <= top and top - end >= length:
                break
            top = min(top, start)
        floor = page_up(self.brk)
        return top - length if top - length >= floor else None

    # --- changes ---
    def add(self, lo: int, hi: int) -> None:
        """Map [lo, hi) (page-aligned), replacing whatever was there, zero-filled."""
        self.remove(lo, hi, release=False)
        i = bisect.bisect_left(self.starts, lo)
        self.starts.insert(i, lo)
        self.ends.insert(i, hi)
        self.mem.zero(lo, hi - lo)

    def remove(self, lo: int, hi: int, release: bool = True) -> None:
        """Unmap [lo, hi), splitting mappings that straddle its ends.

        Released pages go back to the host (they read as zeros if mapped again).
        """
        starts, ends = [], []
        for s, e in zip(self.starts, self.ends):
            if e <= lo or s >= hi:
                starts.append(s), ends.append(e)
                continue
            if release:
                self.mem.zero(max(s, lo), min(e, hi) - max(s, lo))
            if s < lo:
                starts.append(s), ends.append(lo)
            if e > hi:
                starts.append(hi), ends.append(e)
        self.starts, self.ends = starts, ends

    def set_brk(self, new: int) -> int:
        """Move the break if the new one is free; return the break either way."""
        if new < self.brk_start or new > self.mmap_top:
            return self.brk
        old_end, new_end = page_up(self.brk), page_up(new)
        if new_end > old_end and self.overlaps(old_end, new_end):
            return self.brk
        if new_end < old_end:
            self.mem.zero(new_end, old_end - new_end)
        elif new_end > old_end:
            self.mem.zero(old_end, new_end - old_end)
        self.brk = new
        return self.brk

    def brk_overlaps(self, lo: int, hi: int) -> bool:
        return lo < page_up(self.brk) and hi > self.brk_start
