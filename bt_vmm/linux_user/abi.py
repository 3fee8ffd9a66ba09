"""riscv64 Linux user ABI: constants and structure layouts the syscalls use.

riscv64 uses the generic (asm-generic) definitions: errno numbers, open
flags, ioctl numbers and struct stat are the same as on the x86-64 host,
but we never rely on that for layouts: every structure is packed here.
"""
from __future__ import annotations

import os
import struct

M64 = (1 << 64) - 1
MAX_RW = 0x7FFFF000   # Linux caps one read or write at this many bytes

AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
AT_REMOVEDIR = 0x200
AT_EACCESS = 0x200
AT_EMPTY_PATH = 0x1000

# Open flags (asm-generic/fcntl.h).
O_FLAGS = {
    0o1: "O_WRONLY", 0o2: "O_RDWR", 0o100: "O_CREAT", 0o200: "O_EXCL", 0o400: "O_NOCTTY",
    0o1000: "O_TRUNC", 0o2000: "O_APPEND", 0o4000: "O_NONBLOCK", 0o10000: "O_DSYNC",
    0o40000: "O_DIRECT", 0o100000: "O_LARGEFILE", 0o200000: "O_DIRECTORY",
    0o400000: "O_NOFOLLOW", 0o1000000: "O_NOATIME", 0o2000000: "O_CLOEXEC",
    0o4000000: "__O_SYNC", 0o10000000: "O_PATH", 0o20000000: "__O_TMPFILE",
}
O_CLOEXEC = 0o2000000
O_CREAT, O_TMPFILE = 0o100, 0o20000000
O_LARGEFILE = 0o100000
# Guest open flags -> host os.O_* (the host may number some differently).
_HOST_OPEN = {
    0o1: os.O_WRONLY, 0o2: os.O_RDWR, 0o100: os.O_CREAT, 0o200: os.O_EXCL,
    0o400: os.O_NOCTTY, 0o1000: os.O_TRUNC, 0o2000: os.O_APPEND, 0o4000: os.O_NONBLOCK,
    0o10000: os.O_DSYNC, 0o200000: os.O_DIRECTORY, 0o400000: os.O_NOFOLLOW,
    0o4000000: getattr(os, "O_SYNC", 0), 0o10000000: getattr(os, "O_PATH", 0),
}


def host_open_flags(flags: int) -> int:
    """Translate guest open flags; unknown bits are dropped (Linux ignores them too)."""
    host = 0
    for bit, value in _HOST_OPEN.items():
        if flags & bit:
            host |= value
    if flags & 0o20000000 and hasattr(os, "O_TMPFILE"):  # O_TMPFILE includes O_DIRECTORY
        host |= os.O_TMPFILE
    return host | os.O_CLOEXEC  # the VMM never execs, but keep its fds private anyway


def guest_open_flags(host: int) -> int:
    """Host file status flags (F_GETFL) in the guest's numbering."""
    guest = host & 3
    for bit, value in _HOST_OPEN.items():
        if value > 2 and host & value == value:
            guest |= bit
    return guest


def format_open_flags(flags: int, access_mode: bool = True) -> str:
    """strace's spelling; ``access_mode`` for open's flags, where 0 means O_RDONLY."""
    parts = [] if flags & 3 or not access_mode else ["O_RDONLY"]
    rest = flags
    for bit, name in O_FLAGS.items():
        if flags & bit:
            parts.append(name)
            rest &= ~bit
    if rest:
        parts.append(f"0x{rest:x}")
    return "|".join(parts) or "0"


# Signals (asm-generic/signal.h).
SIGNAL_NAMES = {
    1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
    7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2",
    13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD",
    18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG",
    24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO",
    30: "SIGPWR", 31: "SIGSYS",
}
SIGKILL, SIGSTOP = 9, 19
# Signals whose default action is to ignore (or stop/continue, which a lone process survives).
DEFAULT_IGNORED = {17, 18, 19, 20, 21, 22, 23, 28}
NSIG = 64
SIG_DFL, SIG_IGN = 0, 1


def signal_name(sig: int) -> str:
    return SIGNAL_NAMES.get(sig, f"SIGRT{sig - 32}" if 32 <= sig <= NSIG else f"signal {sig}")


# struct stat, asm-generic/stat.h (128 bytes).
STAT = struct.Struct("<QQIIIIQQqiiqqQqQqQII")


def pack_stat(st: os.stat_result) -> bytes:
    return STAT.pack(
        st.st_dev & M64, st.st_ino & M64, st.st_mode, st.st_nlink & 0xFFFFFFFF, st.st_uid, st.st_gid,
        st.st_rdev & M64, 0, st.st_size, st.st_blksize, 0, st.st_blocks,
        *divmod(st.st_atime_ns, 10**9), *divmod(st.st_mtime_ns, 10**9),
        *divmod(st.st_ctime_ns, 10**9), 0, 0,
    )


TIMESPEC = struct.Struct("<qq")
TIMEVAL = struct.Struct("<qq")
# struct sigaction as the riscv64 kernel sees it: handler, flags, mask (no restorer).
SIGACTION = struct.Struct("<QQQ")
# stack_t: ss_sp, ss_flags (int, padded), ss_size.
STACK_T = struct.Struct("<Qi4xQ")
SS_DISABLE = 2
RLIMIT = struct.Struct("<QQ")
RLIM_INFINITY = M64
UTSNAME_FIELD = 65
STATX_SIZE = 256
TERMIOS_SIZE = 36   # kernel struct termios: 4 x u32, c_line, c_cc[19]
WINSIZE_SIZE = 8
TCGETS, TIOCGWINSZ = 0x5401, 0x5413
