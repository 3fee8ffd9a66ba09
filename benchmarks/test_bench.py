"""pytest-benchmark suite: the bundled guests on every engine, qemu-riscv64 and
native, side by side in one run (the same programs as `bt-vmm bench`).

    pytest benchmarks/ [--quick] [--scale 10] [--benchmark-json out.json]

Each result records the guest instruction count and MIPS in extra_info; for
qemu and native the instruction count is the one bt-vmm measured for the same
binary and size.  Not part of the test suite (testpaths = tests).
"""
from __future__ import annotations

import shutil

import pytest

from bt_vmm.bench import PROGRAMS, SIZES, build_native, guest_path, run_engine, run_process
from bt_vmm.engines import ENGINES

WORKLOADS = list(SIZES)
_counted: dict[tuple[str, int], int] = {}


def _record(benchmark, program: str, size: int, seconds: float, instructions: int, **extra) -> None:
    benchmark.extra_info.update(
        program=program, size=size, guest_instructions=instructions,
        mips=round(instructions / seconds / 1e6, 3) if seconds > 0 else 0.0, **extra,
    )


def _instructions(program: str, size: int, tmp_path) -> int:
    """Guest instructions of one run, from an engine run earlier in the session if any."""
    key = (program, size)
    if key not in _counted:
        fastest = "jit" if "jit" in ENGINES else next(iter(ENGINES))
        _counted[key] = run_engine(fastest, program, size, tmp_path).instructions
    return _counted[key]


@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_engine(benchmark, engine, program, size_of, tmp_path):
    size = size_of(program, getattr(ENGINES[engine], "bench_workload", "large"))
    m = benchmark.pedantic(run_engine, args=(engine, program, size, tmp_path), rounds=1, iterations=1)
    assert m.status == 0, m.output
    _counted[(program, size)] = m.instructions
    _record(benchmark, program, size, m.seconds, m.instructions, runner=engine, **m.engine_stats)


@pytest.mark.parametrize("workload", WORKLOADS)
@pytest.mark.parametrize("program", PROGRAMS)
def test_qemu(benchmark, program, workload, size_of, tmp_path):
    qemu = shutil.which("qemu-riscv64")
    if qemu is None:
        pytest.skip("qemu-riscv64 is not installed")
    size = size_of(program, workload)
    m = benchmark.pedantic(run_process, args=("qemu", [qemu, str(guest_path(program)), str(size)]), rounds=3)
    assert m.status == 0, m.output
    _record(benchmark, program, size, benchmark.stats.stats.min, _instructions(program, size, tmp_path),
            runner="qemu")


@pytest.mark.parametrize("workload", WORKLOADS)
@pytest.mark.parametrize("program", PROGRAMS)
def test_native(benchmark, program, workload, size_of, tmp_path):
    exe = build_native(program, tmp_path)
    if exe is None:
        pytest.skip("no host C compiler")
    size = size_of(program, workload)
    m = benchmark.pedantic(run_process, args=("native", [str(exe), str(size)]), rounds=3)
    assert m.status == 0, m.output
    _record(benchmark, program, size, benchmark.stats.stats.min, _instructions(program, size, tmp_path),
            runner="native")
