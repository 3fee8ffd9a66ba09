"""User-mode runs of hand-written RV64I programs (no libc): syscalls, stack, faults."""
from __future__ import annotations

import io

import pytest

from .helpers import asm_program, run


def test_hello_writes_stdout_and_exits_with_status(engine, capfd):
    result = run(asm_program("hello"), engine=engine)
    assert (result.reason, result.status) == ("exit", 7)
    assert capfd.readouterr().out == "hello from asm\n"
    assert result.instructions == 9   # la is two instructions; both ecalls retire


def test_argv_and_auxv(engine, capfd):
    path = asm_program("args")
    result = run(path, ["one", "two words", ""], engine=engine, env=["A=1", "B=2"])
    assert result.status == 0, f"auxv check {result.status} failed"
    assert capfd.readouterr().out == f"{path}\none\ntwo words\n\n"


def test_bad_pointers_give_efault_and_the_process_survives(engine, capfd):
    result = run(asm_program("efault"), engine=engine)
    assert result.status == 0, f"call {result.status} did not return -EFAULT"
    assert capfd.readouterr().out == "ok\n"


def test_brk_mmap_mremap_munmap(engine):
    result = run(asm_program("memory"), engine=engine)
    assert result.status == 0, f"memory check {result.status} failed"


def test_unknown_syscall_is_enosys_and_named_once(engine, capfd):
    result = run(asm_program("enosys"), engine=engine)
    assert result.status == 0
    err = capfd.readouterr().err
    assert err.count("unsupported system call") == 1 and "1000" in err


@pytest.mark.parametrize(
    "which, status, signal, words",
    [
        ("s", 139, "SIGSEGV", ["load access fault at 0x0", "ld"]),
        ("w", 139, "SIGSEGV", ["store/AMO access fault at 0xfffffffffffffff0", "sd"]),
        ("i", 132, "SIGILL", ["illegal instruction"]),
        ("b", 133, "SIGTRAP", ["breakpoint", "ebreak"]),
        ("j", 139, "SIGSEGV", ["instruction access fault at 0x0", "not mapped"]),
    ],
)
def test_faults_end_the_run_like_a_signal(engine, which, status, signal, words):
    result = run(asm_program("faults"), [which], engine=engine)
    assert (result.reason, result.status) == ("signal", status)
    assert "\n" not in result.message
    assert result.message.startswith(signal)
    assert " at pc 0x" in result.message
    for word in words:
        assert word in result.message


def test_misaligned_amo_is_sigbus(engine):
    result = run(asm_program("amo", march="rv64ia"), engine=engine)
    assert (result.reason, result.status) == ("signal", 135)
    assert result.message.startswith("SIGBUS (store/AMO address misaligned at 0x")
    assert "amoadd.w" in result.message


def test_timeout_stops_a_sleeping_guest(engine):
    result = run(asm_program("sleep"), engine=engine, timeout=0.2)
    assert result.reason == "timeout" and result.status == 124


def test_syscall_trace_is_strace_style(engine):
    trace = io.StringIO()
    run(asm_program("hello"), engine=engine, syscall_trace=trace)
    assert trace.getvalue().splitlines() == ['write(1, "hello from asm\\n", 15) = 15', "exit(7) = ?"]
