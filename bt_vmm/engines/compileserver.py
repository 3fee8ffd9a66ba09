"""LLVM in a process of its own: the JIT's compile server.

A run's first regions wait for LLVM: loading llvmlite costs ~25 ms of
Python and the first compile ~10 ms more, and until the regions are in,
the guest runs in the fast tier at a fifth of their speed.  A server
process started with the VMM loads LLVM and warms it up on the other core
while the VMM starts (none of it holds the VMM's GIL), then compiles each
region's IR to an object the VMM loads (native.py): sha256's, qsort's and
intmix's first runs took 2-4% less time.  LLVM failing on a module (an
abort, a crash) stops the server, not the VMM; the next compile starts a
new one.

One server per VMM process, shared by its engines (LLVM compiled one
module at a time in-process too).  BT_VMM_COMPILE_SERVER=0, or a server
that cannot start, compiles in the VMM's process instead.  The server's
own side is llvmserver.
"""
from __future__ import annotations

import atexit
import importlib.util
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
from typing import BinaryIO

from bt_vmm.engines.llvmserver import OK, REPLY, REQUEST, read_exactly
from bt_vmm.engines.llvmsetup import compile_region


class CompileError(RuntimeError):
    """LLVM could not compile a module (a translator bug), or its server stopped."""


def _command() -> list[str]:
    """The server's command line: this Python, isolated and without site
    (~20 ms of .pth processing), given the directories of bt_vmm and
    llvmlite."""
    spec = importlib.util.find_spec("llvmlite")
    if spec is None or spec.origin is None:
        raise OSError("llvmlite is not installed")
    paths = [str(pathlib.Path(__file__).resolve().parents[2]), str(pathlib.Path(spec.origin).parents[1])]
    code = (f"import sys; sys.path[:0] = {paths!r}; from bt_vmm.engines.llvmserver import serve; "
            "serve(sys.stdin.buffer, sys.stdout.buffer)")
    return [sys.executable, "-I", "-S", "-c", code]


class CompileServer:
    """The client: starts the server, sends it modules, takes their objects."""

    def __init__(self) -> None:
        self.enabled = os.environ.get("BT_VMM_COMPILE_SERVER", "1") != "0"
        self.deferred = False   # start() does nothing: the first compile starts the server
        self._forget()

    def _forget(self) -> None:
        """No server (also a fork's child: the server is its parent's)."""
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._errors: BinaryIO | None = None   # the server's stderr: why it stopped

    def start(self) -> None:
        """Start the server unless it runs, so that LLVM loads meanwhile
        (never waits: a compile holding the lock has a server)."""
        if not self.deferred and self._lock.acquire(blocking=False):
            try:
                self._running()
            finally:
                self._lock.release()

    def _running(self) -> subprocess.Popen | None:
        """The server, started if needed; None: compile here."""
        if not self.enabled:
            return None
        if self._proc is None:
            errors = tempfile.TemporaryFile()
            try:
                self._proc = subprocess.Popen(_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                              stderr=errors)
            except OSError:
                errors.close()
                self.enabled = False
            else:
                self._errors = errors
        return self._proc

    def compile(self, name: str, text: str, level: int) -> bytes:
        """The object code of module ``name`` (see llvmsetup.compile_region)."""
        request = name.encode(), text.encode()
        with self._lock:
            for _ in range(2):   # a server that stopped for another reason gets a second chance
                proc = self._running()
                if proc is None:
                    return compile_region(name, text, level)
                reply = self._exchange(proc, level, *request)
                if reply is not None:
                    break
                why = self._stopped(proc)
            else:
                raise CompileError(f"LLVM's compile server stopped while compiling {name}: {why}")
        status, payload = reply
        if status != OK:
            raise CompileError(f"LLVM cannot compile {name}: {payload.decode(errors='replace')}")
        return payload

    @staticmethod
    def _exchange(proc: subprocess.Popen, level: int, name: bytes, text: bytes) -> tuple[int, bytes] | None:
        try:
            proc.stdin.write(REQUEST.pack(level, len(name), len(text)) + name + text)
            proc.stdin.flush()
            header = read_exactly(proc.stdout, REPLY.size)
            if header is None:
                return None
            status, size = REPLY.unpack(header)
            payload = read_exactly(proc.stdout, size)
        except OSError:   # (a closed pipe)
            return None
        return None if payload is None else (status, payload)

    def _stopped(self, proc: subprocess.Popen) -> str:
        """Why the server stopped (its exit and its last words); forget it."""
        proc.kill()
        status = proc.wait()
        self._errors.seek(0)
        last = self._errors.read().decode(errors="replace").strip().splitlines()[-1:]
        self._errors.close()
        self._proc = None
        exit_text = f"killed by signal {-status}" if status < 0 else f"exit status {status}"
        return "; ".join([exit_text, *last])

    def stop(self) -> None:
        """Stop the server for good, now: at exit, not a moment of CPU after
        the VMM (a compile in flight gets no reply; it would compile here)."""
        self.enabled = False
        if (proc := self._proc) is not None:
            proc.kill()
            proc.wait()


_SERVER = CompileServer()
os.register_at_fork(after_in_child=_SERVER._forget)
atexit.register(_SERVER.stop)


def shared() -> CompileServer:
    """The process's compile server."""
    return _SERVER
