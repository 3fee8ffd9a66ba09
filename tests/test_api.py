"""The embedding API: open, run with limits, inspect and change guest state."""
from __future__ import annotations

import pytest

import bt_vmm
from bt_vmm.errors import BadProgram, VMMError
from bt_vmm.isa import encode

from guestbuild import build
from test_cli import BARE_FLAGS

COUNTER = r"""
#include <stdio.h>
volatile long counter = 5;
char message[32] = "untouched";
int main(int argc, char **argv) {
    for (int i = 0; i < 1000; i++)
        counter += i;
    printf("%s %ld\n", message, counter);
    return argc;
}
"""
TOHOST = """
    sd a1, 0(t1)            # a1: (exit status << 1) | 1
1:  j 1b
    .data
    .align 6
    .globl tohost
tohost: .dword 0
"""
BARE = r"""
    .globl _start
_start:
    li t0, 0x1800          # mstatus.MPP = M
    csrs mstatus, t0
    li a0, 7
    csrw mscratch, a0
    la t1, tohost
    li a1, 15               # exit 7
""" + TOHOST
PATCHED = r"""
    .option norvc           # (the patch is a 4-byte instruction)
    .globl _start
_start:
    li t0, 20000
    li a0, 0
    .globl patch
patch:
    addi a0, a0, 1          # the host rewrites this into a0 += 2
    addi t0, t0, -1
    bnez t0, patch
    la t1, result
    sd a0, 0(t1)
    la t1, tohost
    li a1, 1                # exit 0
""" + TOHOST + """
    .globl result
result: .dword 0
"""


@pytest.fixture(scope="module")
def counter(tmp_path_factory):
    src = tmp_path_factory.mktemp("api") / "api_counter.c"
    src.write_text(COUNTER)
    return str(build("user", [src], ["-O1", "-static"], "api_counter"))


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    src = tmp_path_factory.mktemp("api") / "api_bare.S"
    src.write_text(BARE)
    return str(build("bare", [src], BARE_FLAGS, "api_bare"))


def test_run_to_completion_and_read_the_result(counter, engine, capfd):
    with bt_vmm.open(counter, argv=["counter", "x", "y"], engine=engine) as vm:
        result = vm.run()
        assert (result.reason, result.status) == ("exit", 3)
        assert result.instructions == vm.instructions > 1000
        addr = vm.symbol("counter")
        assert int.from_bytes(vm.read_memory(addr, 8), "little") == 5 + sum(range(1000))
    assert capfd.readouterr().out == "untouched 499505\n"


def test_stop_at_an_instruction_limit_inspect_and_resume(counter, engine, capfd):
    with bt_vmm.open(counter, engine=engine) as vm:
        entry = vm.pc
        first = vm.run(max_insns=10)
        assert first.reason == "limit" and first.instructions == 10
        assert vm.instructions == 10 and vm.pc != entry
        assert vm.reg("sp") == vm.reg("x2") and vm.reg("zero") == 0
        # Change the guest's memory before it prints, then let it finish.
        vm.write_memory(vm.symbol("message"), b"patched\0")
        assert vm.run().status == 1
    assert capfd.readouterr().out == "patched 499505\n"


@pytest.fixture(scope="module")
def patched(tmp_path_factory):
    src = tmp_path_factory.mktemp("api") / "api_patched.S"
    src.write_text(PATCHED)
    return str(build("bare", [src], BARE_FLAGS, "api_patched"))


def _patched_midway(program: str, engine: str) -> int:
    with bt_vmm.open(program, engine=engine) as vm:
        assert vm.run(max_insns=30_000).reason == "limit"   # the loop is hot by now
        vm.write_memory(vm.symbol("patch"), encode("addi", rd=10, rs1=10, imm=2).to_bytes(4, "little"))
        assert vm.run().status == 0
        return int.from_bytes(vm.read_memory(vm.symbol("result"), 8), "little")


def test_code_written_through_the_api_runs_as_written(patched, engine):
    """Every engine runs the host's patch of code it has run (and copied,
    translated) already, as the reference interpreter does."""
    expected = _patched_midway(patched, "interp")
    assert expected == 9_999 + 2 * 10_001   # 3 set-up instructions, 3 a pass: 9,999 passes before the patch
    assert _patched_midway(patched, engine) == expected


def test_system_calls_writing_over_code_that_ran_drop_it(counter):
    """A user-mode process's own writes (read(), mmap, brk...) reach guest
    memory outside the engines' store paths: over code that ran, every tier
    drops its code (as at fence.i); over data, nothing happens."""
    with bt_vmm.open(counter, engine="jit") as vm:
        entry = vm.pc
        vm.run(max_insns=5_000)
        hart, mem = vm.machine.hart.ptr, vm.machine.mem
        epoch = hart.code_epoch
        mem.write(vm.symbol("message"), b"data\0")
        assert hart.code_epoch == epoch
        mem.write(entry, mem.read(entry, 4))
        assert hart.code_epoch == epoch + 1


def test_registers_and_pc_can_be_set(counter, engine):
    with bt_vmm.open(counter, engine=engine) as vm:
        vm.set_reg("a0", 0x1234)
        vm.set_reg("fa0", 0x3FF0000000000000)
        assert vm.reg("a0") == 0x1234 and vm.reg("x10") == 0x1234
        assert vm.reg("fa0") == 0x3FF0000000000000
        vm.pc = vm.symbol("main")
        assert vm.reg("pc") == vm.symbol("main")
        with pytest.raises(KeyError):
            vm.reg("nosuch")


def test_bare_metal_csrs_and_exit(bare, engine):
    with bt_vmm.open(bare, engine=engine) as vm:
        assert vm.csr("mhartid") == 0
        assert vm.csr("misa") >> 62 == 2  # MXL = 64
        result = vm.run()
        assert (result.reason, result.status) == ("exit", 7)
        assert vm.csr("mscratch") == 7 == vm.csr(0x340)
        assert vm.csr("mstatus") & 0x1800 == 0x1800
        vm.set_csr("mscratch", 99)
        assert vm.csr("mscratch") == 99
        with pytest.raises(KeyError):
            vm.csr("nosuch")


def test_memory_outside_ram_is_an_error(bare):
    with bt_vmm.open(bare) as vm:
        with pytest.raises(ValueError):
            vm.read_memory(0x1000, 8)


def test_open_rejects_what_it_cannot_run(tmp_path, bare):
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x7fELF" + b"\0" * 20)
    with pytest.raises(BadProgram):
        bt_vmm.open(str(junk))
    with pytest.raises(VMMError):
        bt_vmm.open(bare, argv=["bare", "arg"])


def test_package_exports():
    assert bt_vmm.open is bt_vmm.api.open
    assert "interp" in bt_vmm.ENGINES
    assert bt_vmm.RunResult("exit", 0, instructions=10, seconds=1e-6).mips == pytest.approx(10.0)
