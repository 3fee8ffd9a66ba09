"""Hostile program files: every one is refused with a one-line BadProgram."""
from __future__ import annotations

import struct
import sys

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bt_vmm.errors import BadProgram, VMMError
from bt_vmm.machines.user import UserMachine
from guestbuild import build

from .helpers import HERE, MEMORY, asm_program

PT_LOAD = 1


def load(path) -> None:
    machine = UserMachine(str(path), [str(path)], env=[], memory=MEMORY)
    machine.close()


def refused(path) -> str:
    with pytest.raises(BadProgram) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


def patched(tmp_path, edit) -> str:
    """A copy of the RV64I hello program with its first PT_LOAD header edited."""
    image = bytearray(asm_program("hello").read_bytes())
    phoff, = struct.unpack_from("<Q", image, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", image, 0x36)
    for i in range(phnum):
        off = phoff + i * phentsize
        if struct.unpack_from("<I", image, off)[0] == PT_LOAD:
            edit(image, off)
            break
    path = tmp_path / "patched.elf"
    path.write_bytes(image)
    return path


def test_not_an_elf(tmp_path):
    path = tmp_path / "script.sh"
    path.write_text("#!/bin/sh\necho hi\n")
    assert "not an ELF file" in refused(path)


def test_truncated(tmp_path):
    image = asm_program("hello").read_bytes()
    for size in (3, 40, 100, len(image) // 2):
        path = tmp_path / f"cut{size}.elf"
        path.write_bytes(image[:size])
        refused(path)


def test_not_risc_v(tmp_path):
    assert "not RISC-V" in refused(sys.executable)


def test_wrong_class(tmp_path):
    image = bytearray(asm_program("hello").read_bytes())
    image[4] = 1   # ELFCLASS32
    path = tmp_path / "class32.elf"
    path.write_bytes(image)
    refused(path)


def test_dynamically_linked():
    path = build("user", [HERE / "c" / "hello.c"], ["-O2"], "hello-dynamic")
    assert "link with -static" in refused(path)


def test_segment_beyond_the_address_space(tmp_path):
    path = patched(tmp_path, lambda img, off: struct.pack_into("<Q", img, off + 16, 1 << 40))
    assert "outside the process address space" in refused(path)


def test_segment_in_the_null_guard(tmp_path):
    path = patched(tmp_path, lambda img, off: struct.pack_into("<Q", img, off + 16, 0x1000))
    refused(path)


def test_segment_with_impossible_sizes(tmp_path):
    path = patched(tmp_path, lambda img, off: struct.pack_into("<Q", img, off + 40, 1 << 62))
    refused(path)


def test_missing_file(tmp_path):
    assert "cannot read" in refused(tmp_path / "nope.elf")


def test_memory_size_is_checked():
    with pytest.raises(VMMError):
        UserMachine(str(asm_program("hello")), ["hello"], env=[], memory=12345)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 255), st.integers(0, 255)), min_size=1, max_size=8))
def test_mutated_headers_load_or_are_refused(tmp_path, edits):
    image = bytearray(asm_program("hello").read_bytes())
    for pos, byte in edits:
        image[pos % 128] = byte   # ELF header and the first program headers
    path = tmp_path / "mutant.elf"
    path.write_bytes(image)
    try:
        load(path)
    except BadProgram as exc:
        assert "\n" not in str(exc)
