"""Build and run the bare-metal test programs of tests/guests/bare."""
from __future__ import annotations

import hashlib
import pathlib

from bt_vmm.machines.bare import BareMachine
from bt_vmm.machines.base import RunResult
from tests.guestbuild import build

GUESTS = pathlib.Path(__file__).resolve().parent.parent / "guests" / "bare"
FLAGS = ["-nostdlib", "-nostartfiles", "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany",
         "-static", f"-T{GUESTS / 'link.ld'}", f"-I{GUESTS}"]


def _shared_inputs_flag() -> str:
    """The headers and link.ld are inputs as well: a define carrying their
    hash puts them into the build cache's key."""
    digest = hashlib.sha256(b"".join((GUESTS / name).read_bytes() for name in ("harness.h", "paging.h", "link.ld")))
    return f"-DHARNESS_HASH=0x{digest.hexdigest()[:12]}"


def build_bare(name: str) -> pathlib.Path:
    """Assemble tests/guests/bare/<name>.S into an ELF (cached)."""
    return build("bare", [GUESTS / f"{name}.S"], FLAGS + [_shared_inputs_flag()], name)


def run_bare(engine: str, name: str, max_insns: int = 2_000_000, **kwargs) -> RunResult:
    machine = BareMachine(str(build_bare(name)), engine=engine, **kwargs)
    return machine.run(max_insns=max_insns)


def assert_passes(engine: str, name: str) -> None:
    result = run_bare(engine, name)
    assert (result.reason, result.status, result.message) == ("exit", 0, ""), (
        f"{name}: failed check {result.status} ({result.reason}: {result.message})"
    )
