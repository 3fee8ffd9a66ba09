"""Memory-management system calls over the flat guest buffer (AddressSpace).

There are no page permissions in the process VM: mprotect is accepted,
and every page of the buffer above the NULL guard is accessible.  What is
kept exact is what programs observe: addresses handed out, fresh memory
reading as zeros, file contents in file-backed mappings, mremap moving data.
"""
from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING

from bt_vmm.linux_user.memory import PAGE, page_up
from bt_vmm.linux_user.table import einval, syscall

if TYPE_CHECKING:
    from bt_vmm.linux_user.process import Process

MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE = 1, 2, 3
MAP_FIXED, MAP_ANONYMOUS, MAP_FIXED_NOREPLACE = 0x10, 0x20, 0x100000
PROT_WRITE = 2
MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP = 1, 2, 4
MADV_DONTNEED = 4


def _check_range(p: Process, addr: int, length: int, err: int = errno.EINVAL) -> int:
    """Page-aligned [addr, addr+length) inside the buffer; returns the rounded length."""
    if addr % PAGE:
        raise einval("unaligned address")
    length = page_up(length)
    if not p.mem.valid(addr, length):
        raise OSError(err, "range outside the address space")
    return length


@syscall(214, "ptr", returns="ptr")
def brk(p: Process, addr):
    return p.space.set_brk(addr) if addr else p.space.brk


@syscall(222, "ptr size hex hex fd size", returns="ptr")
def mmap(p: Process, addr, length, prot, flags, fd, offset):
    if length == 0 or offset % PAGE or flags & 0xF not in (MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE):
        raise einval("bad mmap arguments")
    if length > p.mem.size:
        raise OSError(errno.ENOMEM, "mapping too large")
    length = page_up(length)
    host = None
    if not flags & MAP_ANONYMOUS:
        host = p.fds.host(fd)
        if flags & 0xF != MAP_PRIVATE and prot & PROT_WRITE:
            raise OSError(errno.ENODEV, "shared writable file mappings are not supported")
    start = _place(p, addr, length, flags)
    p.space.add(start, start + length)
    if host is not None:
        try:
            os.preadv(host, [p.mem.view(start, length)], offset)
            p.mem.filled(start, length)
        except (OSError, OverflowError):   # OverflowError: an offset the host cannot take
            p.space.remove(start, start + length)
            raise OSError(errno.EACCES, "file cannot be mapped") from None
    return start


def _place(p: Process, addr: int, length: int, flags: int) -> int:
    space = p.space
    if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE):
        _check_range(p, addr, length, errno.ENOMEM)
        if flags & MAP_FIXED_NOREPLACE and (
            space.overlaps(addr, addr + length) or space.brk_overlaps(addr, addr + length)
        ):
            raise OSError(errno.EEXIST, "range in use")
        return addr
    # A hint is honoured when the range is free, as Linux does.
    if addr and addr % PAGE == 0 and space.brk <= addr and addr + length <= space.mmap_top:
        if not space.overlaps(addr, addr + length):
            return addr
    start = space.find_free(length)
    if start is None:
        raise OSError(errno.ENOMEM, "address space exhausted")
    return start


@syscall(215, "ptr size")
def munmap(p: Process, addr, length):
    if length == 0:
        raise einval("empty range")
    length = _check_range(p, addr, length)
    p.space.remove(addr, addr + length)
    return 0


@syscall(216, "ptr size size hex ptr", returns="ptr")
def mremap(p: Process, old, old_size, new_size, flags, new_addr):
    if flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) or new_size == 0:
        raise einval("bad mremap flags")
    if flags & (MREMAP_FIXED | MREMAP_DONTUNMAP):
        raise einval("MREMAP_FIXED and MREMAP_DONTUNMAP are not supported")
    old_size = _check_range(p, old, old_size)
    new_size = page_up(new_size)
    space = p.space
    if not space.mapped(old, old + old_size):
        raise OSError(errno.EFAULT, "not a mapping")
    if new_size <= old_size:
        space.remove(old + new_size, old + old_size)
        return old
    grow_lo, grow_hi = old + old_size, old + new_size
    if (
        grow_hi <= space.mmap_top
        and not space.overlaps(grow_lo, grow_hi)
        and not space.brk_overlaps(grow_lo, grow_hi)
    ):
        space.add(grow_lo, grow_hi)
        return old
    if not flags & MREMAP_MAYMOVE:
        raise OSError(errno.ENOMEM, "cannot grow in place")
    dest = space.find_free(new_size)
    if dest is None:
        raise OSError(errno.ENOMEM, "address space exhausted")
    space.add(dest, dest + new_size)
    p.mem.ram.move(dest, old, old_size)
    p.mem.filled(dest, old_size)
    space.remove(old, old + old_size)
    return dest


@syscall(226, "ptr size hex")
def mprotect(p: Process, addr, length, prot):
    _check_range(p, addr, length, errno.ENOMEM)
    return 0


@syscall(233, "ptr size int")
def madvise(p: Process, addr, length, advice):
    length = _check_range(p, addr, length, errno.ENOMEM)
    if advice == MADV_DONTNEED:   # private anonymous memory reads back as zeros
        p.mem.zero(addr, length)
    return 0
