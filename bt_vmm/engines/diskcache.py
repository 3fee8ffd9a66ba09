"""The on-disk cache of compiled machine code, shared by the fast tier
(its handlers) and the JIT (its batches), so a later process loads object
code instead of running LLVM.

BT_VMM_CACHE=off disables it; BT_VMM_CACHE=dir moves it (default:
$XDG_CACHE_HOME/bt-vmm, else ~/.cache/bt-vmm).  An entry is named by a hash
of what its caller says determines it plus the host (llvmlite and bt-vmm
versions, host CPU and features, the C layouts generated code depends on);
it is written atomically and carries a checksum, so a truncated or corrupt
file is a miss.  Entries live in 256 subdirectories by the first two hex
digits of their hash, each kept under its share of MAX_BYTES by deleting
its least recently used entries (a put scans its own subdirectory, at most
once a minute: one flat directory of 60,000 entries took 0.2 s to scan,
paid by whichever run wrote next).  Every failure to read or write is a
miss: the cache is an optimisation, never a reason to stop.
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
PRUNE_INTERVAL = 60.0   # seconds between scans of a subdirectory
_STAMP = ".pruned"      # its mtime: the last scan
_DIGEST = 48            # hex digits of a key's hash
SHARD_DIGITS = 2        # of which the first name its entry's subdirectory
LEGACY_BATCH = 256      # entries of the flat layout (before the subdirectories) deleted per scan


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
        return f"{kind}-{h.hexdigest()[:_DIGEST]}"

    def _path(self, key: str) -> pathlib.Path:
        """In the subdirectory named by the first digits of the key's hash
        (its kind and variant aside)."""
        assert self.directory is not None
        digest = next((part for part in key.split("-") if len(part) == _DIGEST), key)
        return self.directory / digest[:SHARD_DIGITS] / (key + SUFFIX)

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
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename: concurrent processes never see half an entry.
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(_MAGIC + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, path)
            self._prune(path.parent, path)
        except OSError:
            pass

    def copy_kind(self, kind: str, directory: pathlib.Path) -> None:
        """Copy the entries of ``kind`` into ``directory`` (to seed another cache)."""
        if self.enabled and self.directory.is_dir():
            for path in self.directory.glob(f"{'?' * SHARD_DIGITS}/{kind}-*{SUFFIX}"):
                (directory / path.parent.name).mkdir(exist_ok=True)
                shutil.copy2(path, directory / path.parent.name)

    def _prune(self, shard: pathlib.Path, kept: pathlib.Path) -> None:
        """Delete the least recently used entries of ``shard`` (but ``kept``,
        just written) while over its share of the cap."""
        stamp = shard / _STAMP
        try:
            if time.time() - stamp.stat().st_mtime < PRUNE_INTERVAL:
                return
        except OSError:
            pass   # never scanned
        stamp.touch()
        entries = []
        for e in os.scandir(shard):
            if e.name.endswith(".tmp") and time.time() - e.stat().st_mtime > 3600:
                pathlib.Path(e.path).unlink(missing_ok=True)   # left by a process that was killed
            elif e.name.endswith(SUFFIX) and e.path != str(kept):
                st = e.stat()
                entries.append((st.st_mtime, st.st_size, e.path))
        total = sum(size for _, size, _ in entries) + kept.stat().st_size
        for _, size, path in sorted(entries):
            if total <= self.max_bytes >> (4 * SHARD_DIGITS):
                break
            pathlib.Path(path).unlink(missing_ok=True)
            total -= size
        if shard != self.directory:
            self._drop_legacy()

    def _drop_legacy(self) -> None:
        """Delete some entries of the flat layout the subdirectories replaced."""
        dropped = 0
        with os.scandir(self.directory) as scan:
            for e in scan:
                if dropped == LEGACY_BATCH:
                    break
                if e.name.endswith((SUFFIX, ".tmp")) and e.is_file():
                    pathlib.Path(e.path).unlink(missing_ok=True)
                    dropped += 1
