"""A 16550A UART as on QEMU's virt board (0x10000000): transmit to a host
stream, receive from a byte queue the machine feeds.

Only what drivers (OpenSBI, Linux's 8250, picolibc stubs) touch is modelled:
the divisor latch, IER/IIR, LCR/MCR/LSR/MSR and the scratch register.  The
FIFO is the receive queue; transmission is immediate, so THR is always empty.
"""
from __future__ import annotations

from collections import deque
from typing import Callable

UART_BASE = 0x10000000
UART_SIZE = 0x100

RBR_THR, IER, IIR_FCR, LCR, MCR, LSR, MSR, SCR = range(8)
LCR_DLAB = 0x80
LSR_DR = 0x01
LSR_THRE = 0x20
LSR_TEMT = 0x40
IER_RDI = 0x01
IER_THRI = 0x02
IIR_NONE = 0x01
IIR_THRI = 0x02
IIR_RDI = 0x04
IIR_FIFO = 0xC0
MSR_IDLE = 0xB0   # DCD, DSR and CTS asserted: a terminal is attached


class Uart16550:
    def __init__(self, output: Callable[[bytes], None]) -> None:
        self.output = output
        self.rx: deque[int] = deque()
        self.ier = self.lcr = self.mcr = self.scr = 0
        self.fcr = 0
        self.divisor = 1

    def feed(self, data: bytes) -> None:
        """Queue host input for the guest to read."""
        self.rx.extend(data)

    @property
    def irq(self) -> bool:
        """The interrupt line (for a PLIC to sample)."""
        return self._iir() != IIR_NONE

    def _iir(self) -> int:
        if self.ier & IER_RDI and self.rx:
            return IIR_RDI
        if self.ier & IER_THRI:
            return IIR_THRI
        return IIR_NONE

    def read(self, offset: int, size: int) -> int:
        dlab = self.lcr & LCR_DLAB
        if offset == RBR_THR:
            if dlab:
                return self.divisor & 0xFF
            return self.rx.popleft() if self.rx else 0
        if offset == IER:
            return self.divisor >> 8 if dlab else self.ier
        if offset == IIR_FCR:
            return self._iir() | (IIR_FIFO if self.fcr & 1 else 0)
        if offset == LCR:
            return self.lcr
        if offset == MCR:
            return self.mcr
        if offset == LSR:
            return LSR_THRE | LSR_TEMT | (LSR_DR if self.rx else 0)
        if offset == MSR:
            return MSR_IDLE
        if offset == SCR:
            return self.scr
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        value &= 0xFF
        dlab = self.lcr & LCR_DLAB
        if offset == RBR_THR:
            if dlab:
                self.divisor = self.divisor & 0xFF00 | value
            else:
                self.output(bytes([value]))
        elif offset == IER:
            if dlab:
                self.divisor = self.divisor & 0xFF | value << 8
            else:
                self.ier = value & 0x0F
        elif offset == IIR_FCR:
            self.fcr = value
            if value & 2:
                self.rx.clear()
        elif offset == LCR:
            self.lcr = value
        elif offset == MCR:
            self.mcr = value
        elif offset == SCR:
            self.scr = value
