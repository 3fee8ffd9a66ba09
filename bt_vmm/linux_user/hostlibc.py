"""Host libc calls Python's os module lacks (statx, getdents64, renameat2, faccessat).

Their structures (struct statx, linux_dirent64) are the same on every Linux
architecture, so the host's bytes are the guest's bytes.  ctypes and the
library are loaded at the first call (~1 ms of start-up that most guests,
which never make these calls, do not pay).
"""
from __future__ import annotations

import os
from functools import cache

AT_FDCWD = -100


@cache
def _libc():
    """(ctypes, the host's libc with the signatures set)."""
    import ctypes as c

    libc = c.CDLL(None, use_errno=True)
    signatures = {
        "statx": (c.c_int, [c.c_int, c.c_char_p, c.c_int, c.c_uint, c.c_void_p]),
        "getdents64": (c.c_ssize_t, [c.c_int, c.c_void_p, c.c_size_t]),
        "renameat2": (c.c_int, [c.c_int, c.c_char_p, c.c_int, c.c_char_p, c.c_uint]),
        "faccessat": (c.c_int, [c.c_int, c.c_char_p, c.c_int, c.c_int]),
    }
    for name, (restype, argtypes) in signatures.items():
        getattr(libc, name).restype = restype
        getattr(libc, name).argtypes = argtypes
    return c, libc


def _call(name: str, *args) -> int:
    ctypes, libc = _libc()
    result = getattr(libc, name)(*args)
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def _buffer(size: int):
    return _libc()[0].create_string_buffer(size)


def _dir(fd: int | None) -> int:
    return AT_FDCWD if fd is None else fd


def statx(dirfd: int | None, path: bytes, flags: int, mask: int) -> bytes:
    buf = _buffer(256)
    _call("statx", _dir(dirfd), path, flags, mask, buf)
    return buf.raw


def getdents64(fd: int, count: int) -> bytes:
    buf = _buffer(count)
    n = _call("getdents64", fd, buf, count)
    return buf.raw[:n]


def renameat2(olddir: int | None, old: bytes, newdir: int | None, new: bytes, flags: int) -> None:
    _call("renameat2", _dir(olddir), old, _dir(newdir), new, flags)


def faccessat(dirfd: int | None, path: bytes, mode: int, flags: int) -> None:
    _call("faccessat", _dir(dirfd), path, mode, flags)
