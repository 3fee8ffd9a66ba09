"""Host libc calls Python's os module lacks (statx, getdents64, renameat2, faccessat).

Their structures (struct statx, linux_dirent64) are the same on every Linux
architecture, so the host's bytes are the guest's bytes.
"""
from __future__ import annotations

import ctypes
import os

_libc = ctypes.CDLL(None, use_errno=True)
_c = ctypes
_SIGNATURES = {
    "statx": (_c.c_int, [_c.c_int, _c.c_char_p, _c.c_int, _c.c_uint, _c.c_void_p]),
    "getdents64": (_c.c_ssize_t, [_c.c_int, _c.c_void_p, _c.c_size_t]),
    "renameat2": (_c.c_int, [_c.c_int, _c.c_char_p, _c.c_int, _c.c_char_p, _c.c_uint]),
    "faccessat": (_c.c_int, [_c.c_int, _c.c_char_p, _c.c_int, _c.c_int]),
}
for _name, (_restype, _argtypes) in _SIGNATURES.items():
    getattr(_libc, _name).restype = _restype
    getattr(_libc, _name).argtypes = _argtypes
AT_FDCWD = -100


def _call(name: str, *args) -> int:
    result = getattr(_libc, name)(*args)
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def _dir(fd: int | None) -> int:
    return AT_FDCWD if fd is None else fd


def statx(dirfd: int | None, path: bytes, flags: int, mask: int) -> bytes:
    buf = ctypes.create_string_buffer(256)
    _call("statx", _dir(dirfd), path, flags, mask, buf)
    return buf.raw


def getdents64(fd: int, count: int) -> bytes:
    buf = ctypes.create_string_buffer(count)
    n = _call("getdents64", fd, buf, count)
    return buf.raw[:n]


def renameat2(olddir: int | None, old: bytes, newdir: int | None, new: bytes, flags: int) -> None:
    _call("renameat2", _dir(olddir), old, _dir(newdir), new, flags)


def faccessat(dirfd: int | None, path: bytes, mode: int, flags: int) -> None:
    _call("faccessat", _dir(dirfd), path, mode, flags)
