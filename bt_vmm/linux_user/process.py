"""The emulated Linux process: its kernel-side state and the syscall entry.

``Process.dispatch`` is what the user-mode machine calls for each ``ecall``:
it decodes the arguments as the table declares them, runs the
implementation, and turns every guest-caused failure into an errno: a bad
pointer is -EFAULT, a host error is its errno, an impossible value -EINVAL.
Ending the process (exit, a fatal signal) raises ProcessExit.
"""
from __future__ import annotations

import errno
import os
import select
import sys
import time
from typing import Callable, TextIO

from bt_vmm.linux_user import abi
from bt_vmm.linux_user.fdtable import FdTable
from bt_vmm.linux_user.memory import AddressSpace, GuestFault, GuestMemory
from bt_vmm.linux_user.sysnames import SYSCALL_NAMES
from bt_vmm.linux_user.table import SYSCALLS, ProcessExit, decode_args, format_args, format_result

SLEEP_SLICE = 0.05    # a sleeping guest still notices --timeout and Ctrl-C


class Process:
    """Kernel-side state of the one guest process."""

    def __init__(
        self,
        mem: GuestMemory,
        space: AddressSpace,
        exe: str,
        trace: TextIO | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ):
        self.mem = mem
        self.space = space
        self.exe = os.path.realpath(exe)
        self.fds = FdTable()
        # The guest's cwd is a directory fd of its own: chdir never moves the VMM.
        self.cwd_fd = os.open(".", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        self.pid = os.getpid()
        self.sigactions: dict[int, tuple[int, int, int]] = {}
        self.sigmask = 0
        self.pending = 0
        self.altstack = (0, abi.SS_DISABLE, 0)
        self.rlimits: dict[int, tuple[int, int]] = {}
        self.trace = trace
        self.should_stop = should_stop
        self._warned: set[int] = set()

    def close(self) -> None:
        self.fds.close_all()
        os.close(self.cwd_fd)

    # --- the system-call entry ---
    def dispatch(self, nr: int, raw: list[int]) -> int:
        """Run system call ``nr``; returns the value for a0 (negative errno on failure)."""
        spec = SYSCALLS.get(nr)
        if spec is None:
            return self._unsupported(nr, raw)
        try:
            result = spec.fn(self, *decode_args(self.mem, spec.kinds, raw))
        except GuestFault:
            result = -errno.EFAULT
        except OSError as exc:
            result = -(exc.errno or errno.EIO)
        except (OverflowError, ValueError):   # a value the host cannot even represent
            result = -errno.EINVAL
        except ProcessExit:
            self._trace(spec.name, format_args(self.mem, spec.kinds, raw), "?")
            raise
        if self.trace:
            self._trace(spec.name, format_args(self.mem, spec.kinds, raw), format_result(result, spec.returns))
        return result

    def _unsupported(self, nr: int, raw: list[int]) -> int:
        name = SYSCALL_NAMES.get(nr, f"syscall_{nr}")
        if nr not in self._warned:
            self._warned.add(nr)
            label = f"{name} ({nr})" if nr in SYSCALL_NAMES else str(nr)
            print(f"bt-vmm: unsupported system call {label} returns ENOSYS", file=sys.stderr)
        self._trace(name, ", ".join(f"0x{v:x}" for v in raw), format_result(-errno.ENOSYS, "int"))
        return -errno.ENOSYS

    def _trace(self, name: str, args: str, result: str) -> None:
        if self.trace:
            print(f"{name}({args}) = {result}", file=self.trace, flush=True)

    # --- helpers the implementations share ---
    def at(self, dirfd: int, path: bytes = b"") -> int | None:
        """The host directory fd a *at() call resolves ``path`` against."""
        if path.startswith(b"/"):
            return None
        return self.cwd_fd if dirfd == abi.AT_FDCWD else self.fds.host(dirfd)

    def buffer(self, addr: int, n: int) -> memoryview | bytearray:
        """A guest buffer for host I/O; an empty one needs no valid address."""
        return self.mem.view(addr, n) if n else bytearray()

    def iovecs(self, iov: int, count: int) -> list[memoryview | bytearray]:
        return [self.buffer(base, length) for base, length in self.iovec_ranges(iov, count)]

    def iovec_ranges(self, iov: int, count: int) -> list[tuple[int, int]]:
        """(base, length) of each of the guest's iovecs."""
        if not 0 <= count <= 1024:
            raise OSError(errno.EINVAL, "bad iovec count")
        data = self.mem.read(iov, 16 * count) if count else b""
        ranges, total = [], 0
        for i in range(count):
            base, length = int.from_bytes(data[16 * i : 16 * i + 8], "little"), int.from_bytes(
                data[16 * i + 8 : 16 * i + 16], "little"
            )
            total += length
            if total > abi.MAX_RW:
                raise OSError(errno.EINVAL, "iovec too long")
            ranges.append((base, length))
        return ranges

    def wait_readable(self, host: int) -> None:
        """Block until ``host`` has input, but give up (EINTR) when the run must stop."""
        poller = select.poll()
        poller.register(host, select.POLLIN)
        while not poller.poll(SLEEP_SLICE * 1000):
            if self.should_stop():
                raise OSError(errno.EINTR, "interrupted")

    def sleep(self, seconds: float) -> float:
        """Sleep, giving up early when the run is asked to stop; returns the time left."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.should_stop():
                return left
            time.sleep(min(left, SLEEP_SLICE))
        return 0.0

    # --- signals: no handlers run; a signal either is ignored, stays pending, or ends the process ---
    def send_signal(self, sig: int) -> None:
        if self.sigmask & (1 << (sig - 1)) and sig not in (abi.SIGKILL, abi.SIGSTOP):
            self.pending |= 1 << (sig - 1)
            return
        handler = self.sigactions.get(sig, (abi.SIG_DFL, 0, 0))[0]
        if handler == abi.SIG_IGN or (handler == abi.SIG_DFL and sig in abi.DEFAULT_IGNORED):
            return
        note = "" if handler == abi.SIG_DFL else " (bt-vmm does not run guest signal handlers)"
        raise ProcessExit(128 + sig, sig, f"guest terminated by {abi.signal_name(sig)}{note}")

    def deliver_pending(self) -> None:
        ready = self.pending & ~self.sigmask
        for sig in range(1, abi.NSIG + 1):
            if ready & (1 << (sig - 1)):
                self.pending &= ~(1 << (sig - 1))
                self.send_signal(sig)


# Register the implementations (each module adds its calls to SYSCALLS).
from bt_vmm.linux_user import sys_fs, sys_mm, sys_proc  # noqa: E402,F401
