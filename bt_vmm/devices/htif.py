"""HTIF, the host-target interface of Spike (and QEMU's spike machine).

The guest writes a command to the 64-bit word ``tohost``; the C core stops
the engine when it becomes nonzero and the machine hands the value here:

* device 0, command 0 (the upper 16 bits clear): an odd value ``code<<1 | 1``
  ends the run with ``code``; an even value is the address of a Spike-style
  system-call block ``magic_mem[8]`` = {number, arg0, arg1, ...}: write (64)
  and exit (93) are served, the result goes to magic_mem[0], and ``fromhost``
  is set to 1;
* device 1, command 1: the low byte is a character for the console; the
  host answers, as Spike's and QEMU's consoles do, by setting ``fromhost`` to
  the request's device and command with the payload ``0x100 | char``, which
  the guest's putchar waits for and clears.

Every guest value is checked: a block or buffer outside RAM is an error for
the guest (-EFAULT) or, for the block itself, the end of the run.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

SYS_WRITE = 64
SYS_EXIT = 93
EFAULT = 14
EBADF = 9
ENOSYS = 38
M64 = (1 << 64) - 1


class HtifError(Exception):
    """The guest made an HTIF request that cannot be served."""


@dataclass
class HtifExit:
    code: int


def write_stream(fd: int, data: bytes) -> None:
    """Write guest output to the host's stdout (fd 1) or stderr (fd 2)."""
    stream = sys.stdout if fd == 1 else sys.stderr
    stream.flush()
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:
        stream.write(data.decode(errors="replace"))
        stream.flush()


class Htif:
    def __init__(self, hart, tohost: int, fromhost: int | None) -> None:
        self.hart = hart
        self.tohost = tohost
        self.fromhost = fromhost

    def handle(self, value: int) -> HtifExit | None:
        """Serve one tohost command; an HtifExit ends the run."""
        device, command, payload = value >> 56, (value >> 48) & 0xFF, value & ((1 << 48) - 1)
        self._write_u64(self.tohost, 0)
        self.hart.ptr.tohost_value = 0
        if device == 1 and command == 1:
            write_stream(1, bytes([payload & 0xFF]))
            self._respond(value >> 48 << 48 | 0x100 | payload & 0xFF)
            return None
        if device != 0 or command != 0:
            raise HtifError(f"unsupported HTIF request 0x{value:x} (device {device}, command {command})")
        if payload & 1:
            return HtifExit(payload >> 1)
        return self._syscall(payload)

    def _syscall(self, block: int) -> HtifExit | None:
        try:
            number, a0, a1, a2 = (self._read_u64(block + 8 * i) for i in range(4))
        except ValueError:
            raise HtifError(f"HTIF system-call block at 0x{block:x} is outside RAM") from None
        if number == SYS_EXIT:
            return HtifExit(a0 & 0xFFFFFFFF)
        if number == SYS_WRITE:
            result = self._sys_write(a0, a1, a2)
        else:
            result = -ENOSYS
        self._write_u64(block, result & M64)
        self._respond(1)
        return None

    def _respond(self, value: int) -> None:
        """Answer a request through fromhost, when the program has one."""
        if self.fromhost is not None:
            self._write_u64(self.fromhost, value)

    def _sys_write(self, fd: int, buf: int, length: int) -> int:
        if fd not in (1, 2):
            return -EBADF
        try:
            data = self.hart.read_phys(buf, length)
        except ValueError:
            return -EFAULT
        write_stream(fd, data)
        return length

    def _read_u64(self, addr: int) -> int:
        return int.from_bytes(self.hart.read_phys(addr, 8), "little")

    def _write_u64(self, addr: int, value: int) -> None:
        self.hart.write_phys(addr, value.to_bytes(8, "little"))
