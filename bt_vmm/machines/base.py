"""What every machine shares: a hart, an engine, and the run loop around it.

The engine runs guest code until the hart's exit_request is set; the machine
decides what that exit means (a system call to emulate, the end of the run,
a limit) and either resumes the engine or returns a RunResult.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterator

from bt_vmm._core import lib
from bt_vmm.cpu.hart import Hart
from bt_vmm.engines import engine_class

M64 = (1 << 64) - 1


@dataclass
class RunResult:
    """How a run ended.  ``status`` is what bt-vmm exits with."""

    reason: str          # exit | signal | limit | timeout | interrupted | error
    status: int
    message: str = ""
    instructions: int = 0
    seconds: float = 0.0

    @property
    def mips(self) -> float:
        return self.instructions / self.seconds / 1e6 if self.seconds > 0 else 0.0


class Machine:
    """Base class: subclasses load a program and interpret the engine's exits."""

    def __init__(self, hart: Hart, engine: str | Callable = "interp", tracer=None):
        """``engine``: a name from bt_vmm.engines.ENGINES, or a factory
        taking (hart, tracer), e.g. a partial carrying engine options."""
        self.hart = hart
        factory = engine_class(engine) if isinstance(engine, str) else engine
        self.engine = factory(hart, tracer)
        self.tracer = tracer

    # --- subclass hooks ---
    def handle_exit(self, reason: int) -> RunResult | None:
        """Deal with an engine exit; return a result to stop, None to resume."""
        raise NotImplementedError

    # --- the run loop ---
    def run(self, max_insns: int | None = None, timeout: float | None = None) -> RunResult:
        h = self.hart.ptr
        start_insns = h.minstret
        h.insn_limit = M64 if max_insns is None else min(M64, start_insns + max_insns)
        expired = threading.Event()
        timer = None
        if timeout is not None:
            timer = threading.Timer(timeout, self._expire, (expired,))
            timer.daemon = True
            timer.start()
        interrupted = threading.Event()
        t0 = time.perf_counter()
        with self._sigint_stops_guest(interrupted):
            try:
                result = self._loop(expired, interrupted, max_insns, timeout)
            finally:
                if timer:
                    timer.cancel()
        result.instructions = h.minstret - start_insns
        result.seconds = time.perf_counter() - t0
        return result

    def _loop(self, expired, interrupted, max_insns, timeout) -> RunResult:
        h = self.hart.ptr
        while True:
            reason = self.engine.run()
            h.exit_request = 0
            h.exit_reason = lib.EXIT_NONE
            if reason == lib.EXIT_LIMIT:
                return RunResult("limit", 124, f"stopped after {max_insns} instructions (--max-insns)")
            if reason == lib.EXIT_REQUEST:
                if expired.is_set():
                    return RunResult("timeout", 124, f"stopped after {timeout} s (--timeout)")
                if interrupted.is_set():
                    return RunResult("interrupted", 130, "interrupted (Ctrl-C)")
                continue
            if reason == lib.EXIT_MMIO_ERROR:
                err = self.hart.mmio_error
                return RunResult("error", 3, f"device model failed at pc 0x{h.pc:x}: {err!r}")
            result = self.handle_exit(reason)
            if result is not None:
                return result

    def close(self, wait: bool = True) -> None:
        """Stop the engine's background work (``wait``: until it has
        stopped), then drop the hart."""
        close = getattr(self.engine, "close", None)
        if close is not None:
            close(wait)
        self.hart.close()

    def request_exit(self) -> None:
        """Ask the engine to stop at the next instruction boundary (thread-safe)."""
        h = self.hart.ptr
        h.exit_reason = lib.EXIT_REQUEST
        lib.bt_request_exit(h, lib.EXIT_REQ_STOP)

    def _expire(self, expired: threading.Event) -> None:
        expired.set()
        self.request_exit()

    @contextlib.contextmanager
    def _sigint_stops_guest(self, interrupted: threading.Event) -> Iterator[None]:
        """Ctrl-C sets the hart's exit request.

        Python runs signal handlers only when the main thread is back in the
        interpreter loop, which a native engine may not be for a long time.
        Python's C-level handler also writes the signal number to the wakeup
        fd at once, so a watcher thread reading it stops the guest promptly.
        """
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def stop(*_):
            interrupted.set()
            self.request_exit()

        def watch(fd: int) -> None:
            while data := os.read(fd, 64):
                if signal.SIGINT in data:
                    stop()

        previous = signal.signal(signal.SIGINT, stop)
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        previous_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        watcher = threading.Thread(target=watch, args=(read_fd,), daemon=True, name="bt-vmm-sigint")
        watcher.start()
        try:
            yield
        finally:
            signal.set_wakeup_fd(previous_fd)
            signal.signal(signal.SIGINT, previous)
            os.close(write_fd)  # the watcher sees end-of-file and returns
            watcher.join()
            os.close(read_fd)
