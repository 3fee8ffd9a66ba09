"""The compile thread: translations are built off the guest's thread, so
the guest goes on running (in the cold tier, or in code already translated)
while LLVM works; with two cores, compile time leaves the critical path.

Most of a build is LLVM's (which runs without the GIL); the IR is built in
Python, so the guest's thread competes for the GIL only when it returns to
Python, which it does rarely once code is hot.  A thread runs only while
there is work: nothing to stop when an engine is dropped.  It is not a
daemon: the interpreter waits for a build in flight before it exits (LLVM
must not be running while the process tears down).
"""
from __future__ import annotations

import heapq
import sys
import threading
from typing import Callable, Generic, TypeVar

T = TypeVar("T")

# While a build runs, the guest's thread waits for the GIL at most this long
# when it needs Python (the default 5 ms would stall it at every return).
SWITCH_INTERVAL = 0.0002
_running = 0          # compile threads alive in the process
_default_interval = sys.getswitchinterval()
_interval_lock = threading.Lock()


def _count_running(delta: int) -> None:
    global _running
    with _interval_lock:
        _running += delta
        sys.setswitchinterval(min(_default_interval, SWITCH_INTERVAL) if _running else _default_interval)


class CompileThread(Generic[T]):
    """Runs jobs on one background thread, most urgent first (then in the
    order submitted); ``notify`` is called (on that thread) after each
    result is ready for ``take``.  A job that raises gives its exception as
    its result."""

    def __init__(self, notify: Callable[[], None], settle: float = 0.0):
        """``settle``: before starting a job, wait up to this many seconds
        for the results ready to be taken (so a job sees what they changed)."""
        self._notify = notify
        self._settle = settle
        self._lock = threading.Lock()
        self._taken = threading.Condition(self._lock)
        self._jobs: list[tuple[int, int, Callable[[], T]]] = []   # (priority, order, job)
        self._order = 0
        self._done: list[T | BaseException] = []
        self._thread: threading.Thread | None = None

    def submit(self, job: Callable[[], T], priority: int = 0) -> None:
        """Queue ``job``; lower ``priority`` runs sooner."""
        with self._lock:
            self._order += 1
            heapq.heappush(self._jobs, (priority, self._order, job))
            if self._thread is None:
                # The short switch interval from the start: the thread's first
                # steps already compete with this one for the GIL.
                _count_running(1)
                self._thread = threading.Thread(target=self._work, name="bt-vmm-jit")
                self._thread.start()

    def cancel(self) -> None:
        """Drop the jobs not started yet."""
        with self._lock:
            self._jobs.clear()

    def take(self) -> list[T | BaseException]:
        """The results finished since the last call, in submission order."""
        with self._lock:
            done, self._done = self._done, []
            self._taken.notify_all()
        return done

    def publish(self, result: T) -> None:
        """A result of the running job ready before the job ends (on the
        compile thread, from inside the job)."""
        with self._lock:
            self._done.append(result)
        self._notify()

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def wait(self) -> None:
        """Until every submitted job has finished (tests, shutdown)."""
        while (thread := self._thread) is not None:
            thread.join()

    def _work(self) -> None:
        try:
            while True:
                with self._lock:
                    if self._settle and self._jobs:
                        self._taken.wait_for(lambda: not self._done, timeout=self._settle)
                    if not self._jobs:
                        self._thread = None
                        return
                    _, _, job = heapq.heappop(self._jobs)
                try:
                    result: T | BaseException = job()
                except BaseException as exc:   # re-raised on the guest's thread
                    result = exc
                self.publish(result)
        finally:
            _count_running(-1)
