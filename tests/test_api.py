"""The embedding API: open, run with limits, inspect and change guest state."""
from __future__ import annotations

import pytest

import bt_vmm
from bt_vmm.errors import BadProgram, VMMError

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
BARE = r"""
    .globl _start
_start:
    li t0, 0x1800          # mstatus.MPP = M
    csrs mstatus, t0
    li a0, 7
    csrw mscratch, a0
    la t1, tohost
    li a1, 15               # exit code 7: (7 << 1) | 1
    sd a1, 0(t1)
1:  j 1b
    .data
    .align 6
    .globl tohost
tohost: .dword 0
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
