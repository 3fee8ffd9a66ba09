"""The system-call table: number -> implementation, with typed arguments.

An implementation is declared once with the kinds of its arguments:

    @syscall(56, "dirfd path oflags mode")
    def openat(p, dirfd, path, flags, mode): ...

The kinds say how a raw register becomes a Python value (an ``int`` argument
is the low 32 bits, sign-extended, as the kernel reads it; a ``path`` is read
from guest memory) and how strace-style tracing prints it.
"""
from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from typing import Callable

from bt_vmm.linux_user.abi import AT_FDCWD, O_CREAT, O_TMPFILE, format_open_flags, signal_name
from bt_vmm.linux_user.memory import GuestFault, GuestMemory

M64 = (1 << 64) - 1


@dataclass(frozen=True)
class SyscallSpec:
    nr: int
    name: str
    kinds: tuple[str, ...]
    fn: Callable
    returns: str   # "int" or "ptr" (how the trace prints the result)


SYSCALLS: dict[int, SyscallSpec] = {}


class ProcessExit(Exception):
    """The guest process ended: exit status (128+signal for a fatal signal)."""

    def __init__(self, status: int, signal: int = 0, message: str = "", reason: str | None = None):
        super().__init__(message)
        self.status = status
        self.signal = signal
        self.message = message
        self.reason = reason or ("signal" if signal else "exit")   # as RunResult.reason


def syscall(nr: int, kinds: str = "", returns: str = "int") -> Callable:
    def register(fn: Callable) -> Callable:
        SYSCALLS[nr] = SyscallSpec(nr, fn.__name__.rstrip("_"), tuple(kinds.split()), fn, returns)
        return fn

    return register


def einval(why: str) -> OSError:
    """The error for an argument value the kernel would reject."""
    return OSError(errno.EINVAL, why)


def s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


def s64(v: int) -> int:
    v &= M64
    return v - (1 << 64) if v >> 63 else v


# How each kind decodes a raw 64-bit register.
_DECODE: dict[str, Callable[[GuestMemory, int], object]] = {
    "fd": lambda m, v: s32(v), "dirfd": lambda m, v: s32(v), "int": lambda m, v: s32(v),
    "sig": lambda m, v: s32(v), "oflags": lambda m, v: v & 0xFFFFFFFF,
    "fflags": lambda m, v: v & 0xFFFFFFFF,
    "uint": lambda m, v: v & 0xFFFFFFFF, "mode": lambda m, v: v & 0xFFFFFFFF,
    "long": lambda m, v: s64(v), "size": lambda m, v: v & M64, "ptr": lambda m, v: v & M64,
    "buf": lambda m, v: v & M64, "hex": lambda m, v: v & M64,
    "path": lambda m, v: m.read_cstr(v),
}


def decode_args(mem: GuestMemory, kinds: tuple[str, ...], raw: list[int]) -> list:
    return [_DECODE[k](mem, v) for k, v in zip(kinds, raw)]


def _quote(data: bytes, limit: int = 32) -> str:
    text = data[:limit].decode("latin-1").encode("unicode_escape").decode().replace('"', '\\"')
    return f'"{text}"' + ("..." if len(data) > limit else "")


def format_args(mem: GuestMemory, kinds: tuple[str, ...], raw: list[int]) -> str:
    out = []
    for i, (kind, v) in enumerate(zip(kinds, raw)):
        if kind == "dirfd" and s32(v) == AT_FDCWD:
            out.append("AT_FDCWD")
        elif kind in ("fd", "dirfd", "int", "long"):
            out.append(str(s32(v) if kind != "long" else s64(v)))
        elif kind in ("oflags", "fflags"):
            out.append(format_open_flags(v & 0xFFFFFFFF, access_mode=kind == "oflags"))
        elif kind == "mode":
            if i and kinds[i - 1] == "oflags" and not raw[i - 1] & (O_CREAT | O_TMPFILE):
                continue   # open's mode only matters when it creates
            out.append(f"0{v & 0xFFFFFFFF:o}")
        elif kind == "sig":
            out.append(signal_name(s32(v)))
        elif kind == "path":
            out.append(_format_string(mem, v))
        elif kind == "buf" and i + 1 < len(raw) and mem.valid(v, min(raw[i + 1], 33)):
            out.append(_quote(mem.read(v, min(raw[i + 1], 33))))
        elif kind in ("ptr", "buf", "hex"):
            out.append("NULL" if v == 0 and kind != "hex" else f"0x{v:x}")
        else:
            out.append(str(v & M64))
    return ", ".join(out)


def _format_string(mem: GuestMemory, v: int) -> str:
    try:
        return _quote(mem.read_cstr(v), limit=256)
    except (OSError, GuestFault):
        return f"0x{v:x}"


def format_result(result: int, returns: str) -> str:
    if -4096 < result < 0:
        code = -result
        return f"-1 {errno.errorcode.get(code, str(code))} ({os.strerror(code)})"
    return f"0x{result:x}" if returns == "ptr" else str(result)
