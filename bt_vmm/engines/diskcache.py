"""The on-disk cache of compiled machine code, shared by the fast tier
(its handlers) and the JIT (its batches), so a later process loads object
code instead of running LLVM.

BT_VMM_CACHE=off disables it; BT_VMM_CACHE=dir moves it (default:
$XDG_CACHE_HOME/bt-vmm, else ~/.cache/bt-vmm).  An entry is named by a hash
of what its caller says determines it plus the host (llvmlite and bt-vmm
versions, host CPU and features, the C layouts generated code depends on);
it is written atomically and carries a checksum, so a truncated or corrupt
file is a miss.  The directory is kept under MAX_BYTES by deleting the
least recently used entries (checked at most once a minute: a scan of a
full directory costs tens of milliseconds).  Every failure to read or write is a miss: the
cache is an optimisation, never a reason to stop.
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import shutil
import tempfile
import time
from functools import cache

import llvmlite

import bt_vmm
from bt_vmm._core import ffi
from bt_vmm.engines.llvmsetup import CODEGEN_OPTIONS

OFF = ("off", "0", "no", "false")
MAX_BYTES = 256 << 20
SUFFIX = ".btc"
_MAGIC = b"btvmm-cache-1\n"
_SUM = 32   # sha256 of the payload, after the magic
PRUNE_INTERVAL = 60.0   # seconds between scans of the directory
_STAMP = ".pruned"      # its mtime: the last scan


def default_directory() -> pathlib.Path | None:
    """Where BT_VMM_CACHE says (None: off)."""
    setting = os.environ.get("BT_VMM_CACHE", "")
    if setting.lower() in OFF:
        return None
    if setting:
        return pathlib.Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "bt-vmm"


def _cpu() -> str:
    """The host CPU's model and features (what LLVM tunes code for), read
    without loading LLVM: the kernel's view of CPUID."""
    wanted = ("vendor_id", "cpu family", "model", "model name", "flags")
    try:
        lines = pathlib.Path("/proc/cpuinfo").read_text().split("\n\n")[0].splitlines()
    except OSError:
        import platform   # (only here: start-up time)

        return platform.machine() + " " + platform.processor()
    return "\n".join(line for line in lines if line.split(":")[0].strip() in wanted)


@cache
def _host() -> bytes:
    """What besides a caller's own inputs decides object code."""
    layouts = [(s, [(n, f.offset) for n, f in ffi.typeof(s).fields])
               for s in ("hart_t", "tlb_entry_t", "fi_ctx_t", "fi_entry_t", "jit_ctx_t", "jit_ic_t")]
    return "\n".join([llvmlite.__version__, bt_vmm.__version__, _cpu(), repr(layouts), *CODEGEN_OPTIONS]).encode()


def files_digest(paths) -> str:
    """A hash of source files (names and contents)."""
    h = hashlib.sha256()
    for p in sorted(pathlib.Path(p) for p in paths):
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


class DiskCache:
    """Entries by key in one directory (None: disabled)."""

    def __init__(self, directory: pathlib.Path | None, max_bytes: int = MAX_BYTES):
        self.directory = directory
        self.max_bytes = max_bytes

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    @staticmethod
    def key(kind: str, *parts: str | bytes) -> str:
        """The name of the entry determined by ``parts`` (and the host)."""
        h = hashlib.sha256(_host())
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            h.update(len(data).to_bytes(8, "little") + data)
        return f"{kind}-{h.hexdigest()[:48]}"

    def _path(self, key: str) -> pathlib.Path:
        assert self.directory is not None
        return self.directory / (key + SUFFIX)

    def get(self, key: str) -> bytes | None:
        if not self.enabled:
            return None
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        head, payload = data[:len(_MAGIC) + _SUM], data[len(_MAGIC) + _SUM:]
        if head != _MAGIC + hashlib.sha256(payload).digest():
            path.unlink(missing_ok=True)   # truncated or corrupt: a miss, and gone
            return None
        try:
            os.utime(path)   # recently used: pruned last
        except OSError:
            pass
        return payload

    def put(self, key: str, payload: bytes) -> None:
        if not self.enabled:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Write then rename: concurrent processes never see half an entry.
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(_MAGIC + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, self._path(key))
            self._prune()
        except OSError:
            pass

    def copy_kind(self, kind: str, directory: pathlib.Path) -> None:
        """Copy the entries of ``kind`` into ``directory`` (to seed another cache)."""
        if self.enabled and self.directory.is_dir():
            for path in self.directory.glob(f"{kind}-*{SUFFIX}"):
                shutil.copy2(path, directory)

    def _prune(self) -> None:
        """Delete the least recently used entries while over the cap."""
        stamp = self.directory / _STAMP
        try:
            if time.time() - stamp.stat().st_mtime < PRUNE_INTERVAL:
                return
        except OSError:
            pass   # never scanned
        stamp.touch()
        entries = []
        for e in os.scandir(self.directory):
            if e.name.endswith(".tmp") and time.time() - e.stat().st_mtime > 3600:
                pathlib.Path(e.path).unlink(missing_ok=True)   # left by a process that was killed
            elif e.name.endswith(SUFFIX):
                st = e.stat()
                entries.append((st.st_mtime, st.st_size, e.path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            pathlib.Path(path).unlink(missing_ok=True)
            total -= size
