"""File-system and descriptor system calls, emulated on the host's files.

Paths are the host's; relative ones resolve against the guest's own cwd.
Every guest buffer is checked (GuestMemory) before host I/O touches it.
"""
from __future__ import annotations

import errno
import fcntl
import os
import struct
from typing import TYPE_CHECKING

from bt_vmm.linux_user import abi, hostlibc
from bt_vmm.linux_user.fdtable import MAX_FDS
from bt_vmm.linux_user.table import einval, syscall

if TYPE_CHECKING:
    from bt_vmm.linux_user.process import Process

MAX_DENTS = 1 << 20
PROC_EXE = (b"/proc/self/exe", b"/proc/thread-self/exe")
F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC = 0, 1, 2, 3, 4, 1030
FD_CLOEXEC = 1
_PROC_DEV = os.stat("/proc").st_dev if os.path.isdir("/proc") else None


def _guard_vmm(host: int) -> int:
    """Refuse /proc/<pid>/mem and friends: they would reach the VMM's own memory."""
    if _PROC_DEV is not None and os.fstat(host).st_dev == _PROC_DEV:
        target = os.readlink(f"/proc/self/fd/{host}")
        if target.rsplit("/", 1)[-1] in ("mem", "pagemap", "environ", "auxv"):
            os.close(host)
            raise OSError(errno.EACCES, "VMM memory is not the guest's")
    return host


# --- opening and closing ---
@syscall(56, "dirfd path oflags mode")
def openat(p: Process, dirfd, path, flags, mode):
    host = os.open(path, abi.host_open_flags(flags), mode & 0o7777, dir_fd=p.at(dirfd, path))
    return p.fds.install(_guard_vmm(host), cloexec=bool(flags & abi.O_CLOEXEC))


@syscall(57, "fd")
def close(p: Process, fd):
    p.fds.close(fd)
    return 0


@syscall(23, "fd")
def dup(p: Process, fd):
    return p.fds.dup(fd)


@syscall(24, "fd fd fflags")
def dup3(p: Process, old, new, flags):
    if flags & ~abi.O_CLOEXEC or old == new:
        raise einval("dup3 flags")
    return p.fds.dup_to(old, new, bool(flags))


@syscall(59, "ptr fflags")
def pipe2(p: Process, fds, flags):
    if flags & ~(abi.O_CLOEXEC | 0o4000 | 0o40000):
        raise einval("pipe2 flags")
    p.mem.check(fds, 8)
    r, w = os.pipe2(abi.host_open_flags(flags & 0o4000))
    rfd = p.fds.install(r, bool(flags & abi.O_CLOEXEC))
    wfd = p.fds.install(w, bool(flags & abi.O_CLOEXEC))
    p.mem.write(fds, struct.pack("<ii", rfd, wfd))
    return 0


@syscall(25, "fd int hex")
def fcntl_(p: Process, fd, cmd, arg):
    host = p.fds.host(fd)
    desc = p.fds.fds[fd]
    if cmd in (F_DUPFD, F_DUPFD_CLOEXEC):
        if not 0 <= arg < MAX_FDS:
            raise einval("fd out of range")
        return p.fds.dup(fd, minimum=arg, cloexec=cmd == F_DUPFD_CLOEXEC)
    if cmd == F_GETFD:
        return FD_CLOEXEC if desc.cloexec else 0
    if cmd == F_SETFD:
        desc.cloexec = bool(arg & FD_CLOEXEC)
        return 0
    if cmd == F_GETFL:
        return abi.guest_open_flags(fcntl.fcntl(host, fcntl.F_GETFL))
    if cmd == F_SETFL:
        fcntl.fcntl(host, fcntl.F_SETFL, abi.host_open_flags(arg & (0o2000 | 0o4000)) & ~os.O_CLOEXEC)
        return 0
    raise einval(f"fcntl command {cmd}")


@syscall(29, "fd hex ptr")
def ioctl(p: Process, fd, request, arg):
    host = p.fds.host(fd)
    size = {abi.TCGETS: abi.TERMIOS_SIZE, abi.TIOCGWINSZ: abi.WINSIZE_SIZE}.get(request)
    if size is None:
        raise OSError(errno.ENOTTY, "unsupported ioctl")
    p.mem.check(arg, size)
    p.mem.write(arg, fcntl.ioctl(host, request, bytes(size)))
    return 0


# --- reading and writing ---
@syscall(63, "fd ptr size")
def read(p: Process, fd, buf, count):
    return _readv(p, fd, [(buf, min(count, abi.MAX_RW))])


@syscall(64, "fd buf size")
def write(p: Process, fd, buf, count):
    return os.write(p.fds.host(fd), p.buffer(buf, min(count, abi.MAX_RW)))


@syscall(65, "fd ptr int")
def readv(p: Process, fd, iov, count):
    return _readv(p, fd, p.iovec_ranges(iov, count))


def _readv(p: Process, fd: int, ranges: list[tuple[int, int]]) -> int:
    views = [p.buffer(base, length) for base, length in ranges]
    host = p.fds.host(fd)
    p.wait_readable(host)   # a terminal or pipe read must not outlast Ctrl-C
    n = os.readv(host, views)
    for base, length in ranges:
        p.mem.filled(base, length)
    return n


@syscall(66, "fd ptr int")
def writev(p: Process, fd, iov, count):
    return os.writev(p.fds.host(fd), p.iovecs(iov, count))


@syscall(67, "fd ptr size long")
def pread64(p: Process, fd, buf, count, offset):
    n = os.preadv(p.fds.host(fd), [p.buffer(buf, min(count, abi.MAX_RW))], offset)
    p.mem.filled(buf, n)
    return n


@syscall(68, "fd buf size long")
def pwrite64(p: Process, fd, buf, count, offset):
    return os.pwritev(p.fds.host(fd), [p.buffer(buf, min(count, abi.MAX_RW))], offset)


@syscall(62, "fd long int")
def lseek(p: Process, fd, offset, whence):
    return os.lseek(p.fds.host(fd), offset, whence)


# --- metadata ---
@syscall(80, "fd ptr")
def fstat(p: Process, fd, statbuf):
    p.mem.write(statbuf, abi.pack_stat(os.fstat(p.fds.host(fd))))
    return 0


@syscall(79, "dirfd path ptr hex")
def newfstatat(p: Process, dirfd, path, statbuf, flags):
    if flags & ~(abi.AT_SYMLINK_NOFOLLOW | abi.AT_EMPTY_PATH | 0x800):  # 0x800: AT_NO_AUTOMOUNT
        raise einval("newfstatat flags")
    if path == b"" and flags & abi.AT_EMPTY_PATH:
        st = os.fstat(p.at(dirfd))
    else:
        follow = not flags & abi.AT_SYMLINK_NOFOLLOW
        st = os.stat(path, dir_fd=p.at(dirfd, path), follow_symlinks=follow)
    p.mem.write(statbuf, abi.pack_stat(st))
    return 0


@syscall(291, "dirfd path hex hex ptr")
def statx(p: Process, dirfd, path, flags, mask, buf):
    p.mem.check(buf, abi.STATX_SIZE)
    p.mem.write(buf, hostlibc.statx(p.at(dirfd, path), path, flags & 0xFFFFFFFF, mask & 0xFFFFFFFF))
    return 0


@syscall(61, "fd ptr size")
def getdents64(p: Process, fd, dirp, count):
    count = min(count, MAX_DENTS)
    p.mem.check(dirp, count)   # before the host consumes directory entries
    data = hostlibc.getdents64(p.fds.host(fd), count)
    p.mem.write(dirp, data)
    return len(data)


@syscall(48, "dirfd path int")
def faccessat(p: Process, dirfd, path, mode):
    hostlibc.faccessat(p.at(dirfd, path), path, mode, 0)
    return 0


@syscall(439, "dirfd path int hex")
def faccessat2(p: Process, dirfd, path, mode, flags):
    if flags & ~(abi.AT_EACCESS | abi.AT_SYMLINK_NOFOLLOW | abi.AT_EMPTY_PATH):
        raise einval("faccessat2 flags")
    hostlibc.faccessat(p.at(dirfd, path), path, mode, flags)
    return 0


@syscall(78, "dirfd path ptr int")
def readlinkat(p: Process, dirfd, path, buf, size):
    if size <= 0:
        raise einval("readlink buffer size")
    if path in PROC_EXE or path == f"/proc/{p.pid}/exe".encode():
        target = os.fsencode(p.exe)   # the guest program, not the Python running the VMM
    else:
        target = os.readlink(path, dir_fd=p.at(dirfd, path))
    data = target[:size]
    p.mem.write(buf, data)
    return len(data)


# --- directories and names ---
@syscall(34, "dirfd path mode")
def mkdirat(p: Process, dirfd, path, mode):
    os.mkdir(path, mode & 0o7777, dir_fd=p.at(dirfd, path))
    return 0


@syscall(35, "dirfd path hex")
def unlinkat(p: Process, dirfd, path, flags):
    if flags & ~abi.AT_REMOVEDIR:
        raise einval("unlinkat flags")
    (os.rmdir if flags else os.unlink)(path, dir_fd=p.at(dirfd, path))
    return 0


@syscall(276, "dirfd path dirfd path uint")
def renameat2(p: Process, olddir, old, newdir, new, flags):
    hostlibc.renameat2(p.at(olddir, old), old, p.at(newdir, new), new, flags)
    return 0


@syscall(17, "ptr size")
def getcwd(p: Process, buf, size):
    path = os.fsencode(os.readlink(f"/proc/self/fd/{p.cwd_fd}")) + b"\0"
    if len(path) > size:
        raise OSError(errno.ERANGE, "buffer too small")
    p.mem.write(buf, path)
    return len(path)


@syscall(49, "path")
def chdir(p: Process, path):
    _set_cwd(p, os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=p.at(abi.AT_FDCWD, path)))
    return 0


@syscall(50, "fd")
def fchdir(p: Process, fd):
    _set_cwd(p, os.open(".", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=p.fds.host(fd)))
    return 0


def _set_cwd(p: Process, new: int) -> None:
    os.close(p.cwd_fd)
    p.cwd_fd = new
