"""Build guest programs with Debian's riscv64 cross toolchains, cached by content.

A build is keyed by the hash of its sources, flags and compiler, so the cache
in tests/.build survives between runs and never serves a stale binary.
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent
CACHE = ROOT / ".build"

TOOLCHAINS = {
    "user": "riscv64-linux-gnu-gcc",     # static glibc programs for the process VM
    "bare": "riscv64-unknown-elf-gcc",   # bare-metal programs (picolibc available)
}


def toolchain(kind: str) -> str:
    cc = TOOLCHAINS[kind]
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} is not installed (.ci/run installs it)")
    return cc


def build(kind: str, sources: list[pathlib.Path | str], flags: list[str], name: str) -> pathlib.Path:
    """Compile and link ``sources`` into a cached ELF and return its path."""
    cc = toolchain(kind)
    paths = [pathlib.Path(s) for s in sources]
    digest = hashlib.sha256()
    for part in [cc, *flags, *(p.name for p in paths)]:
        digest.update(part.encode() + b"\0")
    for p in paths:
        digest.update(p.read_bytes())
    out_dir = CACHE / digest.hexdigest()[:16]
    out = out_dir / f"{name}.elf"
    if out.exists():
        return out
    out_dir.mkdir(parents=True, exist_ok=True)
    # One temporary name per process: test workers may build the same
    # program at the same moment; each renames a whole file into place.
    tmp = out_dir / f"{name}.elf.{os.getpid()}.tmp"
    cmd = [cc, *flags, *map(str, paths), "-o", str(tmp)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"guest build failed: {' '.join(cmd)}\n{proc.stderr}")
    os.replace(tmp, out)
    return out
