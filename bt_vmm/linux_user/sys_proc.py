"""Process, signal, time and identity system calls of a single-threaded process."""
from __future__ import annotations

import errno
import os
import resource
import time
from typing import TYPE_CHECKING

from bt_vmm.linux_user import abi
from bt_vmm.linux_user.fdtable import MAX_FDS
from bt_vmm.linux_user.loader import STACK_SIZE
from bt_vmm.linux_user.table import ProcessExit, einval, syscall

if TYPE_CHECKING:
    from bt_vmm.linux_user.process import Process

CLOCKS = {0, 1, 2, 3, 4, 5, 6, 7, 11}   # realtime .. boottime, TAI
TIMER_ABSTIME = 1
FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET = 0, 1, 9, 10
SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK = 0, 1, 2
UNBLOCKABLE = (1 << (abi.SIGKILL - 1)) | (1 << (abi.SIGSTOP - 1))
MINSIGSTKSZ = 2048
RLIMIT_STACK, RLIMIT_NOFILE, RLIM_NLIMITS = 3, 7, 16
GRND_FLAGS = 7
MAX_RANDOM = 33554431


# --- ending the process ---
@syscall(93, "int")
def exit(p: Process, status):
    raise ProcessExit(status & 0xFF)


@syscall(94, "int")
def exit_group(p: Process, status):
    raise ProcessExit(status & 0xFF)


# --- identity ---
def _const(nr: int, name: str, value) -> None:
    def fn(p: Process):
        return value(p)

    fn.__name__ = name
    syscall(nr)(fn)


for _nr, _name, _value in (
    (172, "getpid", lambda p: p.pid), (178, "gettid", lambda p: p.pid),
    (173, "getppid", lambda p: os.getppid()), (174, "getuid", lambda p: os.getuid()),
    (175, "geteuid", lambda p: os.geteuid()), (176, "getgid", lambda p: os.getgid()),
    (177, "getegid", lambda p: os.getegid()), (124, "sched_yield", lambda p: 0),
):
    _const(_nr, _name, _value)


@syscall(96, "ptr")
def set_tid_address(p: Process, tidptr):
    return p.pid


@syscall(99, "ptr size")
def set_robust_list(p: Process, head, length):
    if length != 24:   # sizeof(struct robust_list_head)
        raise einval("robust list size")
    return 0


@syscall(293, "ptr uint int uint")
def rseq(p: Process, rseq_ptr, length, flags, sig):
    # glibc treats ENOSYS as "no rseq" and carries on (as under qemu-user).
    raise OSError(errno.ENOSYS, "rseq not supported")


@syscall(259, "ptr ptr hex")
def riscv_flush_icache(p: Process, start, end, flags):
    return 0   # engines keep their code coherent with stores and system calls' writes


@syscall(160, "ptr")
def uname(p: Process, buf):
    host = os.uname()
    fields = ("Linux", host.nodename, host.release, host.version, "riscv64", "(none)")
    p.mem.write(buf, b"".join(os.fsencode(f)[: abi.UTSNAME_FIELD - 1].ljust(abi.UTSNAME_FIELD, b"\0") for f in fields))
    return 0


# --- resource limits and CPUs ---
def _rlimit(p: Process, res: int) -> tuple[int, int]:
    if res in p.rlimits:
        return p.rlimits[res]
    if res == RLIMIT_STACK:
        return STACK_SIZE, abi.RLIM_INFINITY
    if res == RLIMIT_NOFILE:
        return MAX_FDS, MAX_FDS
    return tuple(abi.RLIM_INFINITY if v == resource.RLIM_INFINITY else v for v in resource.getrlimit(res))


@syscall(261, "int int ptr ptr")
def prlimit64(p: Process, pid, res, new, old):
    if pid not in (0, p.pid):
        raise OSError(errno.ESRCH, "no such process")
    if not 0 <= res < RLIM_NLIMITS:
        raise einval("resource")
    limit = abi.RLIMIT.unpack(p.mem.read(new, abi.RLIMIT.size)) if new else None
    if limit is not None and limit[0] > limit[1]:
        raise einval("soft limit above hard limit")
    if old:
        p.mem.write(old, abi.RLIMIT.pack(*_rlimit(p, res)))
    if limit is not None:
        p.rlimits[res] = limit
    return 0


@syscall(123, "int uint ptr")
def sched_getaffinity(p: Process, pid, size, mask):
    if pid not in (0, p.pid):
        raise OSError(errno.ESRCH, "no such process")
    if size < 8 or size % 8:
        raise einval("cpu set size")
    p.mem.write(mask, (1).to_bytes(8, "little"))   # one hart
    return 8


# --- signals ---
def _check_sigsetsize(size: int) -> None:
    if size != 8:
        raise einval("sigset size")


@syscall(134, "sig ptr ptr size")
def rt_sigaction(p: Process, sig, act, oact, setsize):
    _check_sigsetsize(setsize)
    if not 1 <= sig <= abi.NSIG or (act and sig in (abi.SIGKILL, abi.SIGSTOP)):
        raise einval("signal")
    new = abi.SIGACTION.unpack(p.mem.read(act, abi.SIGACTION.size)) if act else None
    if oact:
        p.mem.write(oact, abi.SIGACTION.pack(*p.sigactions.get(sig, (abi.SIG_DFL, 0, 0))))
    if new is not None:
        p.sigactions[sig] = new
    return 0


@syscall(135, "int ptr ptr size")
def rt_sigprocmask(p: Process, how, set_, oset, setsize):
    _check_sigsetsize(setsize)
    new = p.mem.read_u64(set_) if set_ else None
    if new is not None and how not in (SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK):
        raise einval("how")
    if oset:
        p.mem.write_u64(oset, p.sigmask)
    if new is not None:
        mask = {SIG_BLOCK: p.sigmask | new, SIG_UNBLOCK: p.sigmask & ~new, SIG_SETMASK: new}[how]
        p.sigmask = mask & ~UNBLOCKABLE
        p.deliver_pending()
    return 0


@syscall(132, "ptr ptr")
def sigaltstack(p: Process, ss, old):
    new = abi.STACK_T.unpack(p.mem.read(ss, abi.STACK_T.size)) if ss else None
    if new is not None and not new[1] & abi.SS_DISABLE and new[2] < MINSIGSTKSZ:
        raise OSError(errno.ENOMEM, "alternate stack too small")
    if old:
        p.mem.write(old, abi.STACK_T.pack(*p.altstack))
    if new is not None:
        p.altstack = new
    return 0


def _signal(p: Process, target_ok: bool, sig: int) -> int:
    if not target_ok:
        raise OSError(errno.ESRCH, "no such process")
    if not 0 <= sig <= abi.NSIG:
        raise einval("signal")
    if sig:
        p.send_signal(sig)
    return 0


@syscall(129, "int sig")
def kill(p: Process, pid, sig):
    return _signal(p, pid in (0, -1, p.pid, -p.pid), sig)


@syscall(130, "int sig")
def tkill(p: Process, tid, sig):
    return _signal(p, tid == p.pid, sig)


@syscall(131, "int int sig")
def tgkill(p: Process, tgid, tid, sig):
    return _signal(p, tgid == p.pid and tid == p.pid, sig)


# --- futex: one thread, so nobody else can ever wake a waiter ---
@syscall(98, "ptr int uint ptr ptr uint")
def futex(p: Process, uaddr, op, val, timeout, uaddr2, val3):
    cmd = op & 0x7F   # without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME
    if cmd in (FUTEX_WAKE, FUTEX_WAKE_BITSET):
        return 0
    if cmd not in (FUTEX_WAIT, FUTEX_WAIT_BITSET):
        raise OSError(errno.ENOSYS, "futex operation not supported")
    if p.mem.read_u32(uaddr) != val:
        raise OSError(errno.EAGAIN, "value changed")
    if not timeout:
        raise ProcessExit(3, 0, "deadlock: futex wait with no other thread to wake it", reason="error")
    seconds = _read_timespec(p, timeout)
    if cmd == FUTEX_WAIT_BITSET:   # absolute timeout on CLOCK_MONOTONIC (or REALTIME)
        clock = time.CLOCK_REALTIME if op & 256 else time.CLOCK_MONOTONIC
        seconds -= time.clock_gettime(clock)
    p.sleep(max(0.0, seconds))
    raise OSError(errno.ETIMEDOUT, "timed out")


# --- time ---
def _read_timespec(p: Process, addr: int) -> float:
    sec, nsec = abi.TIMESPEC.unpack(p.mem.read(addr, abi.TIMESPEC.size))
    if sec < 0 or not 0 <= nsec < 10**9:
        raise einval("timespec")
    return sec + nsec / 1e9


def _write_timespec(p: Process, addr: int, ns: int) -> None:
    p.mem.write(addr, abi.TIMESPEC.pack(*divmod(ns, 10**9)))


def _clock(clk: int) -> int:
    if clk not in CLOCKS:
        raise einval("clock")
    return clk


@syscall(113, "int ptr")
def clock_gettime(p: Process, clk, tp):
    _write_timespec(p, tp, time.clock_gettime_ns(_clock(clk)))
    return 0


@syscall(114, "int ptr")
def clock_getres(p: Process, clk, tp):
    if tp:
        _write_timespec(p, tp, int(time.clock_getres(_clock(clk)) * 1e9))
    return 0


@syscall(169, "ptr ptr")
def gettimeofday(p: Process, tv, tz):
    if tv:
        sec, ns = divmod(time.time_ns(), 10**9)
        p.mem.write(tv, abi.TIMEVAL.pack(sec, ns // 1000))
    if tz:
        p.mem.write(tz, bytes(8))
    return 0


def _sleep(p: Process, seconds: float, rem: int) -> int:
    left = p.sleep(seconds)
    if left > 0:
        if rem:
            _write_timespec(p, rem, int(left * 1e9))
        raise OSError(errno.EINTR, "interrupted")
    return 0


@syscall(101, "ptr ptr")
def nanosleep(p: Process, req, rem):
    return _sleep(p, _read_timespec(p, req), rem)


@syscall(115, "int int ptr ptr")
def clock_nanosleep(p: Process, clk, flags, req, rem):
    seconds = _read_timespec(p, req)
    if flags & TIMER_ABSTIME:
        return _sleep(p, max(0.0, seconds - time.clock_gettime(_clock(clk))), 0)
    _clock(clk)
    return _sleep(p, seconds, rem)


@syscall(278, "ptr size uint")
def getrandom(p: Process, buf, length, flags):
    if flags & ~GRND_FLAGS:
        raise einval("getrandom flags")
    n = min(length, MAX_RANDOM)
    if n:
        p.mem.check(buf, n)   # before generating up to 32 MiB for a bad pointer
        p.mem.write(buf, os.urandom(n))
    return n
