"""A persistent cache of compiled batches, so a second run of the same
program skips LLVM (optimisation and code generation, about two thirds of
the compile time).

An entry is the relocatable object LLVM produced for one batch, named by a
hash of everything that determines it: the batch's IR text (guest code,
mode, hart layout offsets), the optimisation level, the host CPU the code
was generated for, and the versions of llvmlite, bt-vmm and the JIT's own
source.  BT_VMM_JIT_CACHE=off disables it; BT_VMM_JIT_CACHE=dir moves it
(default: $XDG_CACHE_HOME/bt-vmm/jit, else ~/.cache/bt-vmm/jit).
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import tempfile
from functools import lru_cache

import llvmlite
from llvmlite import binding as llvm

import bt_vmm

OFF = ("off", "0", "no", "false")


def default_directory() -> pathlib.Path | None:
    setting = os.environ.get("BT_VMM_JIT_CACHE", "")
    if setting.lower() in OFF:
        return None
    if setting:
        return pathlib.Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "bt-vmm" / "jit"


@lru_cache(maxsize=None)
def _environment() -> bytes:
    """What besides the IR text decides the object code."""
    here = pathlib.Path(__file__).resolve().parent
    sources = b"".join(p.read_bytes() for p in sorted(here.glob("*.py")))
    return "\n".join([
        llvmlite.__version__, bt_vmm.__version__, llvm.get_host_cpu_name(),
        llvm.get_host_cpu_features().flatten(), hashlib.sha256(sources).hexdigest(),
    ]).encode()


class DiskCache:
    """Objects by key in one directory; every failure to read or write is a
    miss (the cache is an optimisation, never a reason to stop)."""

    def __init__(self, directory: pathlib.Path | None):
        self.directory = directory

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    def key(self, ir_text: str, opt_level: int) -> str:
        h = hashlib.sha256(_environment())
        h.update(f"\nO{opt_level}\n".encode())
        h.update(ir_text.encode())
        return h.hexdigest()

    def _path(self, key: str) -> pathlib.Path:
        assert self.directory is not None
        return self.directory / f"{key}.o"

    def get(self, key: str) -> bytes | None:
        if not self.enabled:
            return None
        try:
            data = self._path(key).read_bytes()
        except OSError:
            return None
        return data

    def put(self, key: str, obj: bytes) -> None:
        if not self.enabled:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Write then rename: concurrent runs never see half an object.
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(obj)
            os.replace(tmp, self._path(key))
        except OSError:
            pass
