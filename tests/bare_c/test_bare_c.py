"""Bare-metal C programs (picolibc, stdout and exit through HTIF) under each
engine, and the same ELFs under Debian's qemu-system-riscv64 -M spike: both
must print the expected text and exit with the expected status."""
from __future__ import annotations

import hashlib
import pathlib
import shutil
import subprocess

import pytest

from bt_vmm.machines.bare import BareMachine
from tests.guestbuild import build

HERE = pathlib.Path(__file__).resolve().parent
HTIF = HERE.parent.parent / "bt_vmm" / "guests" / "src" / "bare" / "htif.c"   # (the bench's bare-metal guests' too)
# picolibc.ld with "flash" (code, rodata, the .data image) and "ram" both in
# RAM; --crt0=hosted is the start-up that calls exit(main()).
FLAGS = [
    "--specs=picolibc.specs", "--crt0=hosted", "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany",
    "-O2", "-Wall", "-Werror",
    "-Wl,--defsym=__flash=0x80000000", "-Wl,--defsym=__flash_size=0x100000",
    "-Wl,--defsym=__ram=0x80100000", "-Wl,--defsym=__ram_size=0x100000",
    # bare.h is an input too: its hash in a define puts it into the cache key
    f"-DBARE_H_HASH=0x{hashlib.sha256((HERE / 'bare.h').read_bytes()).hexdigest()[:12]}",
]
MAX_INSNS = 1_000_000

EXPECTED: dict[str, tuple[str, int]] = {
    "printf": ("""\
int 0 -42 4000000000 2147483647
long -9000000000 -9223372036854775808 18446744073709551615
hex beef 0x123456789abc 0000CAFE 10
width [   42] [42   ] [00042] [+42]
str [risc] [       v] [vmm     ] [abc] Z
double 3.141593 -0.500 6.022141e+23 1e-05
more 0.3333333333 1e+06 2.67 -0.000000
sqrt 1.414213562373
snprintf 7 [x-7-2.2] 7
to stderr
""", 5),
    "mtrap": ("""\
ecall: cause 11 tval 0x0
ecall: ok
unimp: cause 2 tval 0xc0001073
unimp: ok
bad mret: cause 2 tval 0x30208073
bad mret: ok
c.lwsp x0: cause 2 tval 0x4002
c.lwsp x0: ok
c.ebreak: cause 3 tval 0x0
c.ebreak: ok
load from 8: cause 5 tval 0x8
load from 8: ok
mcause after: 5
""", 0),
    "modes": ("""\
medeleg 0x104
S ecall: M-mode handler, cause 9, from mode 1
S ecall: ok
S csrr mstatus: S-mode handler, cause 2, from mode 1
S csrr mstatus: ok
S csrr mstatus tval: ok
U ecall: S-mode handler, cause 8, from mode 0
U ecall: ok
U csrr sstatus: S-mode handler, cause 2, from mode 0
U csrr sstatus: ok
U csrr sstatus tval: ok
U ebreak: M-mode handler, cause 3, from mode 0
U ebreak: ok
""", 0),
    "sv39": ("""\
alias before: A=0 D=0
read through alias: 0x1234
alias read: ok
after read: A=1 D=0
alias write seen at the identity address: ok
after write: A=1 D=1
unmapped load: cause 13 stval 0x40006000
unmapped load: ok
faulting load leaves rd: ok
read-only store: cause 15 stval 0x40007010
read-only store: ok
read-only alias read: ok
read-only alias: A=1 D=0
""", 0),
    "timer": ("""\
mtime advances: ok
MTIP clear while mtimecmp is in the future: ok
MTIP set once mtime reaches mtimecmp: ok
MTIP clear again: ok
no interrupt while disabled: ok
tick 1: mcause 0x8000000000000007 MPIE 1 MIE in handler 0
timer interrupt cause: ok
tick 2: mcause 0x8000000000000007 MPIE 1 MIE in handler 0
timer interrupt cause: ok
tick 3: mcause 0x8000000000000007 MPIE 1 MIE in handler 0
timer interrupt cause: ok
""", 0),
}


def program(name: str) -> pathlib.Path:
    """tests/bare_c/<name>.c linked with the HTIF stdio hook (cached)."""
    return build("bare", [HTIF, HERE / f"{name}.c"], FLAGS, name)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_program_under_bt_vmm(engine, name, capfd):
    result = BareMachine(str(program(name)), engine=engine).run(max_insns=MAX_INSNS)
    out, status = EXPECTED[name]
    assert (result.reason, result.status, result.message) == ("exit", status, "")
    assert capfd.readouterr().out == out


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_program_under_qemu_spike(name):
    if shutil.which("qemu-system-riscv64") is None:
        pytest.skip("qemu-system-riscv64 is not installed (.ci/run installs qemu-system-misc)")
    elf = program(name)
    proc = subprocess.run(
        ["qemu-system-riscv64", "-machine", "spike", "-bios", "none", "-kernel", str(elf), "-nographic"],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=30,
    )
    assert (proc.stdout.decode(), proc.returncode) == EXPECTED[name]
