"""The bare-metal machine: loading, HTIF, devices, and how runs end."""
import pytest

from bt_vmm.errors import BadProgram, VMMError
from bt_vmm.machines.bare import BareMachine
from tests.guestbuild import build
from tests.priv.guests import FLAGS, GUESTS, run_bare


def test_htif_write_uart_and_exit_code(engine, capfd):
    result = run_bare(engine, "io")
    assert (result.reason, result.status) == ("exit", 7)
    assert capfd.readouterr().out == "hello htif\nuart ok\n"


def _build_asm(tmp_path, name, text, flags=FLAGS):
    src = tmp_path / f"{name}.S"
    src.write_text(text)
    return str(build("bare", [src], flags, name))


def test_missing_tohost_is_a_bad_program(tmp_path):
    elf = _build_asm(tmp_path, "notohost", ".globl _start\n_start: j _start\n",
                     ["-nostdlib", "-march=rv64gc", "-mabi=lp64d", f"-T{GUESTS / 'link.ld'}"])
    with pytest.raises(BadProgram, match="no 'tohost' symbol"):
        BareMachine(elf)


def test_segment_outside_ram_is_a_bad_program(tmp_path):
    text = ".globl _start\n_start: j _start\n.data\n.globl tohost\ntohost: .dword 0\n"
    elf = _build_asm(tmp_path, "lowlink", text,
                     ["-nostdlib", "-march=rv64gc", "-mabi=lp64d", "-Wl,-Ttext=0x1000"])
    with pytest.raises(BadProgram, match="outside RAM"):
        BareMachine(elf)


def test_program_larger_than_memory_is_a_bad_program():
    from tests.priv.guests import build_bare
    with pytest.raises(BadProgram, match="outside RAM"):
        BareMachine(str(build_bare("vm")), memory=4096)


def test_bad_memory_size():
    from tests.priv.guests import build_bare
    with pytest.raises(VMMError, match="multiple of 4096"):
        BareMachine(str(build_bare("io")), memory=1000)


def test_unfetchable_trap_handler_stops_the_run(engine, tmp_path):
    text = """
    .globl _start
    _start:
        li t0, 0x1000
        csrw mtvec, t0
        jr t0
    .data
    .globl tohost
    tohost: .dword 0
    """
    elf = _build_asm(tmp_path, "trap_loop", text,
                     ["-nostdlib", "-march=rv64gc", "-mabi=lp64d", f"-T{GUESTS / 'link.ld'}"])
    result = BareMachine(elf, engine=engine).run(max_insns=1000)
    assert result.reason == "error"
    assert "trap handler at 0x1000 traps on itself (cause 1)" in result.message


def test_instruction_limit(engine, tmp_path):
    text = ".globl _start\n_start: j _start\n.data\n.globl tohost\ntohost: .dword 0\n"
    elf = _build_asm(tmp_path, "spin", text,
                     ["-nostdlib", "-march=rv64gc", "-mabi=lp64d", f"-T{GUESTS / 'link.ld'}"])
    result = BareMachine(elf, engine=engine).run(max_insns=500)
    assert (result.reason, result.instructions) == ("limit", 500)


class MmuTracer:
    def __init__(self):
        self.walks = []

    def insn(self, pc, decoded): ...
    def trap(self, pc, cause, tval, interrupt): ...

    def mmu(self, vaddr, acc, paddr, cause):
        self.walks.append((vaddr, acc, paddr, cause))


def test_trace_mmu_reports_each_walk(engine):
    from tests.priv.guests import build_bare
    tracer = MmuTracer()
    result = BareMachine(str(build_bare("vm")), engine=engine, tracer=tracer).run(max_insns=2_000_000)
    assert (result.reason, result.status) == ("exit", 0)
    walks = set(tracer.walks)
    assert (0x40004000, 0, 0, 13) in walks           # invalid PTE: load page fault
    assert (0x40004008, 1, 0, 15) in walks           # store page fault
    page_a = next(p for v, a, p, c in walks if v == 0x40000000 and a == 0 and c is None)
    assert page_a & 0xFFF == 0 and page_a >= 0x80000000


def test_htif_console_putchar_answers_in_fromhost(engine, tmp_path, capfd):
    """Device 1, command 1 prints the byte and, as Spike and QEMU do, answers
    with fromhost = the request's device and command | 0x100 | byte."""
    from tests.priv.guests import _shared_inputs_flag
    text = r"""
    #include "harness.h"
    #define PUTCHAR ((1 << 56) | (1 << 48))
    test_main:
        la s0, message
        la s1, tohost
        la s2, fromhost
    1:  lbu s3, 0(s0)
        beqz s3, 4f
        li t0, PUTCHAR
        or t0, t0, s3
        sd t0, 0(s1)
    2:  ld t1, 0(s2)                /* wait for the answer, then take it */
        beqz t1, 2b
        sd zero, 0(s2)
        li t0, PUTCHAR | 0x100
        or t0, t0, s3
        beq t1, t0, 3f
        FAIL 1
    3:  ld t0, 0(s1)                /* the host cleared tohost */
        CHECK 2, t0, 0
        addi s0, s0, 1
        j 1b
    4:  PASS
    .data
    message: .asciz "OK\n"
    """
    elf = _build_asm(tmp_path, "putchar", text, FLAGS + [_shared_inputs_flag()])
    result = BareMachine(elf, engine=engine).run(max_insns=10_000)
    assert (result.reason, result.status, result.message) == ("exit", 0, "")
    assert capfd.readouterr().out == "OK\n"
