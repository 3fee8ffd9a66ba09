"""Guest file descriptors, translated to host ones.

Guest fds 0, 1 and 2 start out as the host's own stdin/stdout/stderr but are
not owned: closing them in the guest only forgets them, so a guest can never
close (or, through a later open, reuse) a descriptor the VMM itself holds.
Every other guest fd owns a host fd of its own (dup gives a new host fd).
"""
from __future__ import annotations

import errno
import os
from dataclasses import dataclass

MAX_FDS = 1024   # RLIMIT_NOFILE as the guest sees it


@dataclass
class FileDesc:
    host: int
    owned: bool
    cloexec: bool = False


class FdError(OSError):
    pass


class FdTable:
    def __init__(self) -> None:
        self.fds: dict[int, FileDesc] = {n: FileDesc(n, owned=False) for n in (0, 1, 2)}

    def host(self, fd: int) -> int:
        """The host fd behind a guest fd, or EBADF."""
        try:
            return self.fds[fd].host
        except KeyError:
            raise FdError(errno.EBADF, "bad file descriptor") from None

    def _lowest_free(self, minimum: int = 0) -> int:
        fd = minimum
        while fd in self.fds:
            fd += 1
        if fd >= MAX_FDS:
            raise FdError(errno.EMFILE, "too many open files")
        return fd

    def install(self, host: int, cloexec: bool = False, minimum: int = 0) -> int:
        """Give an owned host fd the lowest free guest number (closes it on failure)."""
        try:
            fd = self._lowest_free(minimum)
        except FdError:
            os.close(host)
            raise
        self.fds[fd] = FileDesc(host, owned=True, cloexec=cloexec)
        return fd

    def close(self, fd: int) -> None:
        desc = self.fds.pop(fd, None)
        if desc is None:
            raise FdError(errno.EBADF, "bad file descriptor")
        if desc.owned:
            os.close(desc.host)

    def dup(self, fd: int, minimum: int = 0, cloexec: bool = False) -> int:
        return self.install(os.dup(self.host(fd)), cloexec, minimum)

    def dup_to(self, fd: int, new: int, cloexec: bool) -> int:
        if not 0 <= new < MAX_FDS:
            raise FdError(errno.EBADF, "bad file descriptor")
        host = os.dup(self.host(fd))
        if new in self.fds:
            self.close(new)
        self.fds[new] = FileDesc(host, owned=True, cloexec=cloexec)
        return new

    def close_all(self) -> None:
        for fd in list(self.fds):
            self.close(fd)
