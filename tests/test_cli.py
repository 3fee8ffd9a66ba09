"""The bt-vmm command: exit statuses, one-line errors, tracing, stats, bench."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from bt_vmm.cli import main, parse_size

from guestbuild import build

HELLO = r"""
#include <stdio.h>
int main(int argc, char **argv) {
    printf("hello from %s with %d args\n", argv[0], argc - 1);
    return 3;
}
"""
SEGV = "int main(void) { *(volatile int *)8 = 1; return 0; }\n"
SIGILL = "int main(void) { __asm__ volatile(\".4byte 0\"); return 0; }\n"  # all-zero bits: illegal
LOOP = r"""
#include <stdio.h>
int main(void) {
    puts("ready");
    fflush(stdout);
    for (volatile long i = 0;; i++)
        ;
}
"""
BARE = r"""
    .section .text.init
    .globl _start
_start:
    li a0, 42
    slli a0, a0, 1
    ori a0, a0, 1
    la t1, tohost
    sd a0, 0(t1)
1:  j 1b
    .data
    .align 6
    .globl tohost
tohost: .dword 0
    .globl fromhost
fromhost: .dword 0
"""

SV39 = r"""
    .globl _start
_start:
    li t0, -1                  # PMP: all of memory RWX for S-mode
    csrw pmpaddr0, t0
    li t0, 0x1f
    csrw pmpcfg0, t0
    la t0, root                # one Sv39 gigapage: identity map of 0x80000000
    li t1, (0x80000000 >> 12 << 10) | 0xcf   # D A X W R V
    sd t1, 16(t0)
    srli t0, t0, 12
    li t1, 8 << 60
    or t0, t0, t1
    csrw satp, t0
    sfence.vma
    li t0, 0x1800              # mstatus.MPP = S
    csrc mstatus, t0
    li t0, 0x800
    csrs mstatus, t0
    la t0, supervisor
    csrw mepc, t0
    mret
supervisor:
    la t1, tohost
    li a0, 1                   # exit code 0
    sd a0, 0(t1)
1:  j 1b
    .data
    .align 6
    .globl tohost
tohost: .dword 0
    .align 12
root: .zero 4096
"""

# One RWX segment at 0x80000000 (-n: no page alignment, no headers in it).
BARE_FLAGS = ["-nostdlib", "-nostartfiles", "-Wl,-n,--no-warn-rwx-segments", "-Wl,-Ttext=0x80000000"]


@pytest.fixture(scope="module")
def guests(tmp_path_factory):
    """The test programs, built once (and cached across runs by guestbuild)."""
    src = tmp_path_factory.mktemp("src")
    built = {}
    for name, text in {"hello": HELLO, "segv": SEGV, "sigill": SIGILL, "loop": LOOP}.items():
        path = src / f"cli_{name}.c"
        path.write_text(text)
        built[name] = str(build("user", [path], ["-O2", "-static"], f"cli_{name}"))
    for name, text in {"bare": BARE, "sv39": SV39}.items():
        (src / f"cli_{name}.S").write_text(text)
        built[name] = str(build("bare", [src / f"cli_{name}.S"], BARE_FLAGS, f"cli_{name}"))
    return built


def one_line_error(err: str) -> str:
    """stderr must be exactly one `bt-vmm: ...` line (never a traceback)."""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("bt-vmm: ")
    assert "Traceback" not in err
    return lines[0]


# --- running programs ---

def test_run_returns_the_guests_status_and_output(guests, engine, capfd):
    assert main(["run", "--engine", engine, guests["hello"], "a", "b"]) == 3
    out, err = capfd.readouterr()
    assert out == f"hello from {guests['hello']} with 2 args\n"
    assert err == ""


def test_guest_options_after_the_program_belong_to_the_guest(guests, engine, capfd):
    assert main(["run", "--engine", engine, guests["hello"], "--stats", "-x"]) == 3
    out, err = capfd.readouterr()
    assert "with 2 args" in out and err == ""


def test_bare_metal_program_exits_through_tohost(guests, engine, capfd):
    assert main(["run", "--engine", engine, guests["bare"]]) == 42


def test_segfault_ends_like_sigsegv_with_the_faulting_instruction(guests, engine, capfd):
    assert main(["run", "--engine", engine, guests["segv"]]) == 128 + signal.SIGSEGV
    line = one_line_error(capfd.readouterr().err)
    assert "SIGSEGV" in line and "0x8" in line
    assert "at pc 0x" in line and "sw " in line and ",8(zero)" in line


def test_illegal_instruction_ends_like_sigill(guests, engine, capfd):
    assert main(["run", "--engine", engine, guests["sigill"]]) == 128 + signal.SIGILL
    line = one_line_error(capfd.readouterr().err)
    assert "SIGILL" in line and "illegal instruction" in line


def test_max_insns_stops_a_runaway_guest(guests, engine, capfd):
    assert main(["run", "--engine", engine, "--max-insns", "50000", guests["loop"]]) == 124
    assert "--max-insns" in one_line_error(capfd.readouterr().err)


def test_timeout_stops_a_runaway_guest(guests, engine, capfd):
    assert main(["run", "--engine", engine, "--timeout", "0.3", guests["loop"]]) == 124
    assert "--timeout" in one_line_error(capfd.readouterr().err)


def test_ctrl_c_stops_the_guest_promptly(guests, engine):
    """Also inside native engines, which do not return to Python's loop."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bt_vmm", "run", "--engine", engine, guests["loop"]],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout.readline() == "ready\n"  # the guest is running
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("bt-vmm did not stop on SIGINT")
    assert proc.returncode == 130
    assert "interrupted" in one_line_error(err)


def test_python_dash_m_is_the_command(guests):
    proc = subprocess.run([sys.executable, "-m", "bt_vmm", "run", guests["hello"]], capture_output=True, text=True)
    assert proc.returncode == 3
    assert "with 0 args" in proc.stdout


# --- input errors: one line, status 2 ---

def test_a_file_that_is_not_elf(tmp_path, capfd):
    bad = tmp_path / "notelf"
    bad.write_bytes(b"#!/bin/sh\necho hi\n")
    assert main(["run", str(bad)]) == 2
    assert "not an ELF" in one_line_error(capfd.readouterr().err)


def test_a_truncated_elf(guests, tmp_path, capfd):
    cut = tmp_path / "truncated"
    cut.write_bytes(open(guests["hello"], "rb").read()[:300])
    assert main(["run", str(cut)]) == 2
    one_line_error(capfd.readouterr().err)


def test_an_elf_for_another_machine(capfd):
    assert main(["run", sys.executable]) == 2
    assert "RISC-V" in one_line_error(capfd.readouterr().err)


def test_a_missing_program(tmp_path, capfd):
    assert main(["run", str(tmp_path / "nothing")]) == 2
    one_line_error(capfd.readouterr().err)


def test_an_unknown_trace_kind(guests, capfd):
    assert main(["run", "--trace", "in_asm,bogus", guests["hello"]]) == 2
    assert "bogus" in one_line_error(capfd.readouterr().err)


def test_bad_option_values_are_usage_errors(guests, capfd):
    for argv in (["--memory", "lots"], ["--max-insns", "0"], ["--timeout", "-1"], ["--engine", "nope"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["run", *argv, guests["hello"]])
        assert exit_info.value.code == 2


def test_parse_size():
    assert parse_size("128M") == 128 << 20
    assert parse_size("4G") == 4 << 30
    assert parse_size("64k") == 64 << 10
    assert parse_size("4096") == 4096


# --- diagnostics ---

def test_stats_reports_instructions_and_mips(guests, engine, capfd):
    assert main(["run", "--engine", engine, "--stats", guests["hello"]]) == 3
    err = capfd.readouterr().err
    assert "instructions" in err and "MIPS" in err and engine in err


def test_trace_in_asm_shows_blocks_with_disassembly(guests, engine, capfd):
    assert main(["run", "--engine", engine, "--trace", "in_asm", "--max-insns", "2000", guests["hello"]]) == 124
    err = capfd.readouterr().err
    assert "IN: _start" in err
    assert "jal" in err and "<__libc_start_main>" in err


def test_trace_int_names_causes(guests, engine, capfd):
    assert main(["run", "--engine", engine, "--trace", "int", guests["hello"]]) == 3
    assert "environment call from U-mode" in capfd.readouterr().err


def test_trace_exec_and_cpu_go_to_the_trace_file(guests, engine, tmp_path, capfd):
    trace = tmp_path / "trace.txt"
    argv = ["run", "--engine", engine, "--trace", "exec,cpu", "--trace-file", str(trace), "--max-insns", "3"]
    assert main([*argv, guests["hello"]]) == 124
    text = trace.read_text()
    assert text.count("Trace 0x") == 3
    assert "x10/a0" in text and " pc " in text
    assert "Trace" not in capfd.readouterr().err


def test_trace_mmu_shows_page_walks(guests, engine, capfd):
    assert main(["run", "--engine", engine, "--trace", "mmu", guests["sv39"]]) == 0
    err = capfd.readouterr().err
    walks = [l for l in err.splitlines() if l.startswith("mmu: ")]
    assert any(l.startswith("mmu: fetch 0x800000") and "-> 0x800000" in l for l in walks), err
    assert any(l.startswith("mmu: store 0x80") for l in walks), err


def test_trace_syscalls(guests, engine, capfd):
    assert main(["run", "--engine", engine, "--trace", "syscalls", guests["hello"]]) == 3
    assert "write" in capfd.readouterr().err


# --- disasm and bench ---

def test_disasm_prints_a_listing(guests, capfd):
    assert main(["disasm", guests["hello"]]) == 0
    out = capfd.readouterr().out
    assert "Disassembly of section .text:" in out
    assert "<main>:" in out


def test_disasm_rejects_a_foreign_elf(capfd):
    assert main(["disasm", sys.executable]) == 2
    one_line_error(capfd.readouterr().err)


def test_bench_runs_every_engine_and_checks_outputs(capfd):
    from bt_vmm.engines import ENGINES

    assert main(["bench", "--quick", "--repeat", "1", "--programs", "nqueens", "--no-qemu"]) == 0
    out = capfd.readouterr().out
    assert "nqueens" in out and "MISMATCH" not in out
    for engine in ENGINES:
        assert engine in out


def test_bench_plot(tmp_path, capfd):
    pytest.importorskip("matplotlib")
    png = tmp_path / "bench.png"
    assert main(["bench", "--quick", "--repeat", "1", "--programs", "nqueens", "--no-qemu", "--no-native", "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stats_json_holds_the_same_figures(guests, engine, tmp_path, capfd):
    out = tmp_path / "stats.json"
    assert main(["run", "--engine", engine, "--stats-json", str(out), guests["hello"]]) == 3
    import json

    stats = json.loads(out.read_text())
    assert stats["engine"] == engine and stats["instructions"] > 1000


def test_tb_size_is_a_jit_option(guests, capfd):
    assert main(["run", "--engine", "interp", "--tb-size", "1M", guests["hello"]]) == 2
    assert "--tb-size" in one_line_error(capfd.readouterr().err)
    assert main(["run", "--engine", "jit", "--tb-size", "64k", guests["hello"], "x"]) == 3
    assert "with 1 args" in capfd.readouterr().out


def test_bench_keeps_each_runners_fastest_run_and_any_failure():
    from bt_vmm.bench import Measurement, _best
    runs = [Measurement("jit", s, "ok\n", 0) for s in (1.5, 1.2, 1.3)]
    assert _best(runs).seconds == 1.2
    broken = Measurement("jit", 0.1, "", 1)
    assert _best(runs + [broken]) is broken


def test_bench_first_run_starts_without_translations(tmp_path, capfd):
    from bt_vmm.bench import FIRST_RUN, run_first
    m = run_first("nqueens", 13, tmp_path)   # (long enough to compile, on a loaded machine too)
    assert m.status == 0 and m.runner == FIRST_RUN and m.output.startswith("nqueens 13 ")
    assert m.engine_stats["compile batches"] > 0 and m.engine_stats["batches from the disk cache"] == 0
    assert main(["bench", "--quick", "--repeat", "1", "--programs", "nqueens", "--engines", "jit",
                 "--first-run", "--no-qemu", "--no-native"]) == 0
    assert any(FIRST_RUN in line and "ok" in line for line in capfd.readouterr().out.splitlines())


def test_bench_system_runs_the_bare_metal_builds(tmp_path, capfd):
    """--system: every integer program has a bare-metal build, named with its
    size, and the system VM's JIT runs one to the checksum qemu-system
    prints (qemu-system itself only where installed)."""
    import shutil

    from bt_vmm.bench import INTEGER, bare_guests, bench_bare
    guests = bare_guests(list(INTEGER))
    assert sorted(name for name, _, _ in guests) == sorted(INTEGER)
    name, size, elf = next(g for g in guests if g[0] == "nqueens")
    result = bench_bare(name, size, elf, tmp_path, shutil.which("qemu-system-riscv64"))
    assert all(m.status == 0 and m.output == result.expected_output for m in result.runs)
    assert result.get("jit").output == f"nqueens {size} 0000000000011ff0\n" and result.instructions > 0
    assert main(["bench", "--system", "--repeat", "1", "--quick", "--programs", "nqueens", "--engines", "jit",
                 "--no-qemu", "--no-native"]) == 0
    assert "--system" in capfd.readouterr().out


def test_disk_cache_seeds_another_with_one_kind(tmp_path):
    from bt_vmm.engines.diskcache import DiskCache
    src, dst = DiskCache(tmp_path / "a"), tmp_path / "b"
    dst.mkdir()
    src.put(src.key("fast", "handlers"), b"H")
    src.put(src.key("jit", "region"), b"R")
    src.copy_kind("fast", dst)
    assert DiskCache(dst).get(src.key("fast", "handlers")) == b"H"
    assert DiskCache(dst).get(src.key("jit", "region")) is None


def _stats_json(args: list[str], tmp_path, name: str) -> dict:
    import json

    out = tmp_path / f"{name}.json"
    main(["run", "--stats-json", str(out), *args])
    return json.loads(out.read_text())


def test_stats_count_callouts_by_kind_alike_under_every_engine(guests, tmp_path, capfd):
    """Every engine makes the same callouts (programs without FP arithmetic,
    which the JIT computes in place): Linux system calls in a process VM,
    CSR accesses, trap returns, fences in a bare-metal one."""
    from tests.priv.guests import build_bare

    for program in (guests["hello"], str(build_bare("traps"))):
        runs = [_stats_json(["--engine", e, program], tmp_path, e) for e in ("interp", "fast", "jit")]
        counts = [{k: v for k, v in run.items() if k.startswith("callouts: ")} for run in runs]
        assert counts[0]["callouts: ecall"] > 0
        assert counts[0] == counts[1] == counts[2]
    assert counts[0]["callouts: mret"] > 0 and counts[0]["callouts: csr"] > counts[0]["callouts: mret"]
    assert all(run["TLB misses"] > 0 for run in runs)   # (a system machine: its TLB's figures too)
