"""Static glibc programs (riscv64-linux-gnu-gcc -static -O2) under the process VM.

The differential tests run the same binary under Debian's qemu-riscv64 and
require the same stdout and exit status.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess

import pytest

from .helpers import c_program, run

ENV = ["GREETING=hi"]


def qemu(path, args: list[str]) -> tuple[str, int]:
    if shutil.which("qemu-riscv64") is None:
        pytest.skip("qemu-riscv64 is not installed (.ci/run installs qemu-user)")
    proc = subprocess.run(
        ["qemu-riscv64", str(path), *args], capture_output=True, text=True, timeout=120,
        env=dict(e.split("=", 1) for e in ENV),
    )
    status = 128 - proc.returncode if proc.returncode < 0 else proc.returncode   # killed by a signal
    return proc.stdout, status


def bt_vmm(path, args: list[str], engine: str, capfd) -> tuple[str, int]:
    capfd.readouterr()
    result = run(path, args, engine=engine, env=ENV)
    return capfd.readouterr().out, result.status


def test_hello(engine, capfd):
    assert bt_vmm(c_program("hello"), [], engine, capfd) == ("Hello, world!\n", 3)


@pytest.mark.parametrize(
    "name, args, status",
    [
        ("strings", [], 0), ("malloc", [], 0), ("float", [], 0), ("misc", [], 5),
        ("misc", ["pending"], 143), ("abort", [], 134), ("segv", [], 139),
    ],
    ids=["strings", "malloc", "float", "misc", "pending-signal", "abort", "segv"],
)
def test_same_as_qemu(engine, capfd, name, args, status):
    path = c_program(name)
    ours = bt_vmm(path, args, engine, capfd)
    assert ours == qemu(path, args)
    assert ours[1] == status


def test_file_io_same_as_qemu(engine, capfd, tmp_path):
    path = c_program("fileio")
    (tmp_path / "ours").mkdir()
    (tmp_path / "qemu").mkdir()
    ours = bt_vmm(path, [str(tmp_path / "ours")], engine, capfd)
    assert ours == qemu(path, [str(tmp_path / "qemu")])
    assert ours[1] == 0 and ours[0].endswith("done\n")
    assert list((tmp_path / "ours").iterdir()) == []


def test_argv_env_auxv(engine, capfd):
    path = c_program("env")
    out, status = bt_vmm(path, ["a b", "", "c"], engine, capfd)
    assert status == 0
    assert out.splitlines() == [
        "argc 4", "argv[1] a b", "argv[2] ", "argv[3] c", "env 1 GREETING=hi",
        "pagesz 4096 4096", "hwcap 0x112d", "clktck 100 100", "secure 0", "execfn 1",
        "random 1", "uid 1", "phdr 1", "exe env.elf",
    ]


def test_abort_is_sigabrt(engine, capfd):
    result = run(c_program("abort"), engine=engine)
    assert (result.reason, result.status) == ("signal", 134)
    assert "SIGABRT" in result.message
    assert capfd.readouterr().out == "about to abort\n"


def test_null_dereference_is_sigsegv_with_a_one_line_report(engine):
    result = run(c_program("segv"), engine=engine)
    assert (result.reason, result.status) == ("signal", 139)
    assert "\n" not in result.message
    assert result.message.startswith("SIGSEGV (load access fault at 0x0) at pc 0x")
    assert result.message.endswith("lw a0,0(s0)") or "lw" in result.message


def test_bad_pointers_through_libc_give_efault(engine, capfd):
    out, status = bt_vmm(c_program("efault"), [], engine, capfd)
    lines = out.splitlines()
    assert status == 0 and lines[-1] == "still alive"
    assert len(lines) == 20
    assert all(line.split()[1] == "EFAULT" for line in lines[:-1]), out


def test_syscall_trace_of_file_io(engine, capfd, tmp_path):
    trace = io.StringIO()
    result = run(c_program("fileio"), [str(tmp_path)], engine=engine, syscall_trace=trace)
    assert result.status == 0
    lines = trace.getvalue().splitlines()
    for expected in [
        'openat(AT_FDCWD, "data.txt", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3',
        'mkdirat(AT_FDCWD, "sub", 0755) = 0',
        'mkdirat(AT_FDCWD, "sub", 0755) = -1 EEXIST (File exists)',
        'openat(AT_FDCWD, "missing", O_RDONLY) = -1 ENOENT (No such file or directory)',
        'unlinkat(AT_FDCWD, "sub/second", 0x0) = 0',
        "exit_group(0) = ?",
    ]:
        assert expected in lines


def test_stat_and_statx_layouts(engine, capfd, tmp_path):
    target = tmp_path / "file"
    target.write_bytes(b"x" * 12345)
    os.link(target, tmp_path / "second-link")
    os.utime(target, ns=(1_600_000_000_123_456_789, 1_700_000_000_987_654_321))
    st = os.stat(target)
    out, status = bt_vmm(c_program("stat"), [str(target)], engine, capfd)
    assert status == 0
    assert out.splitlines() == [
        f"stat {st.st_dev} {st.st_ino} {st.st_mode:o} 2 {st.st_uid} {st.st_gid} 12345 {st.st_blksize} "
        f"{st.st_blocks} 1600000000 123456789 1700000000 987654321",
        f"statx {st.st_ino} {st.st_mode:o} 2 12345 1700000000 987654321",
    ]
