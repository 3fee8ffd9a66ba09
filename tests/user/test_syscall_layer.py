"""Hostile system-call arguments straight into the syscall layer: every call
returns a value or ends the process; none raises, none reaches host memory."""
from __future__ import annotations

import errno
import mmap
import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bt_vmm.linux_user.memory import AddressSpace, GuestMemory
from bt_vmm.linux_user.process import Process
from bt_vmm.linux_user.table import SYSCALLS, ProcessExit

SIZE = 16 << 20
LOW = 0x10000
M64 = (1 << 64) - 1
# Calls that would write host paths into guest memory (which a later call could
# then use as a path), or remove/rename files, are exercised by the C tests instead.
EXCLUDED = {17, 35, 78, 276}

addresses = st.sampled_from([0, 8, LOW - 1, LOW, LOW + 0x123, SIZE - 8, SIZE - 1, SIZE, 2**63, M64 - 7])
values = st.one_of(
    st.integers(0, 8), addresses, st.integers(0, M64),
    st.sampled_from([(-100) & M64, M64, 0x7FFFFFFF, 1 << 31, 4096, 0x22, 0x32, 0o101]),
)


@pytest.fixture
def process(tmp_path):
    ram = mmap.mmap(-1, SIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    mem = GuestMemory(ram, LOW)
    mem.write(LOW, b"fz\0" * ((SIZE - LOW) // 3))   # every string in guest memory is "fz"
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        p = Process(mem, AddressSpace(mem, LOW + 0x10000, SIZE - (1 << 20)), "/bin/true",
                    should_stop=lambda: True)   # sleeps return at once
    finally:
        os.chdir(cwd)
    for fd in (0, 1, 2):   # keep the test's own stdio out of reach
        p.fds.close(fd)
    yield p
    p.close()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(sorted(set(SYSCALLS) - EXCLUDED)), st.lists(values, min_size=6, max_size=6)),
                min_size=1, max_size=6))
def test_random_calls_return_a_result(process, calls):
    for nr, args in calls:
        try:
            result = process.dispatch(nr, args)
        except ProcessExit:
            return
        assert isinstance(result, int)
        assert -4096 < result < 2**64, (SYSCALLS[nr].name, args, result)


def test_efault_for_every_pointer_argument(process):
    """Each pointer-taking call given an address in the NULL guard fails with EFAULT."""
    checked = 0
    for nr, spec in SYSCALLS.items():
        if nr in EXCLUDED or "path" not in spec.kinds:
            continue
        args = [(-100) & M64] * 6
        args[spec.kinds.index("path")] = 8
        assert process.dispatch(nr, args) == -errno.EFAULT, spec.name
        checked += 1
    assert checked >= 6


def test_blocking_read_gives_way_to_a_stop_request(process):
    r, w = os.pipe()
    fd = process.fds.install(r)
    assert process.dispatch(63, [fd, LOW, 16, 0, 0, 0]) == -errno.EINTR   # nothing to read; run stopping
    os.write(w, b"abc")
    assert process.dispatch(63, [fd, LOW, 16, 0, 0, 0]) == 3
    assert process.mem.read(LOW, 3) == b"abc"
    os.close(w)
    assert process.dispatch(63, [fd, LOW, 16, 0, 0, 0]) == 0   # end of file


def test_guest_cannot_close_the_vmm_stdio():
    """Closing guest fd 1 forgets it; the host's fd 1 stays open."""
    from bt_vmm.linux_user.fdtable import FdTable

    table = FdTable()
    table.close(1)
    os.fstat(1)
    r, w = os.pipe()
    assert table.install(r) == 1   # the lowest free guest number, backed by its own host fd
    assert table.host(1) == r
    table.close_all()
    os.close(w)


@pytest.mark.parametrize("path", ["/proc/self/mem", "/proc/{pid}/mem", "/proc/thread-self/mem"])
def test_vmm_memory_files_are_refused(process, path):
    process.mem.write(LOW, path.format(pid=os.getpid()).encode() + b"\0")
    assert process.dispatch(56, [(-100) & M64, LOW, 2, 0, 0, 0]) == -errno.EACCES   # O_RDWR


def test_proc_self_exe_is_the_guest_program(process):
    process.mem.write(LOW, b"/proc/self/exe\0")
    n = process.dispatch(78, [(-100) & M64, LOW, LOW + 64, 256, 0, 0])
    assert process.mem.read(LOW + 64, n) == os.fsencode(os.path.realpath("/bin/true"))


def test_trace_of_a_buffer_ending_at_the_top_of_memory(process):
    import io
    process.trace = io.StringIO()
    process.dispatch(64, [99, SIZE - 32, 100, 0, 0, 0])   # write(99, last 32 bytes, 100)
    assert process.trace.getvalue().startswith("write(99, ")


def test_mmap_offset_the_host_cannot_take_leaves_no_mapping(process, tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 4096)
    fd = process.dispatch(56, [(-100) & M64, _put_path(process, str(path)), 0, 0, 0, 0])
    result = process.dispatch(222, [0, 4096, 1, 2, fd, M64 - 4095])   # offset 2**64 - 4096
    assert -4096 < result < 0
    assert process.space.starts == []


def test_getrandom_checks_the_buffer_first(process):
    assert process.dispatch(278, [SIZE - 8, 1 << 20, 0, 0, 0, 0]) == -errno.EFAULT


def test_bare_fromhost_outside_ram_is_a_bad_program():
    from bt_vmm.errors import BadProgram
    from bt_vmm.machines.bare import RAM_BASE, _check_layout
    from bt_vmm.machines.elf import Program
    program = Program("p", RAM_BASE, [], 0, 0, 0, "ET_EXEC", {"tohost": RAM_BASE, "fromhost": 8})
    with pytest.raises(BadProgram, match="fromhost"):
        _check_layout("p", program, 1 << 20)


def _put_path(process, path: str) -> int:
    addr = SIZE - 4096
    process.mem.write(addr, os.fsencode(path) + b"\0")
    return addr
