"""Hostile program files: every one is refused with a one-line BadProgram."""
from __future__ import annotations

import io
import pathlib
import struct
import sys

import pytest
from elftools.elf.elffile import ELFFile
from guestbuild import build
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bt_vmm
from bt_vmm.errors import BadProgram, VMMError
from bt_vmm.machines.elf import load_elf
from bt_vmm.machines.user import UserMachine

from .helpers import HERE, MEMORY, asm_program, c_program

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


def edited(tmp_path, edit) -> pathlib.Path:
    """A copy of the RV64I hello program (which has a .symtab) after ``edit(image)``."""
    image = bytearray(asm_program("hello").read_bytes())
    edit(image)
    path = tmp_path / "edited.elf"
    path.write_bytes(image)
    return path


def load_headers(image: bytearray) -> list[int]:
    """File offsets of the PT_LOAD program headers."""
    phoff, = struct.unpack_from("<Q", image, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", image, 0x36)
    offsets = (phoff + i * phentsize for i in range(phnum))
    return [off for off in offsets if struct.unpack_from("<I", image, off)[0] == PT_LOAD]


def patched(tmp_path, edit) -> pathlib.Path:
    """A copy of the RV64I hello program with its first PT_LOAD header edited."""
    return edited(tmp_path, lambda image: edit(image, load_headers(image)[0]))


def parse_refused(path) -> str:
    """The ELF parser alone refuses ``path`` with one line naming it."""
    with pytest.raises(BadProgram) as info:
        load_elf(str(path))
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


def section_header(image: bytearray, name: str) -> int:
    """File offset of section ``name``'s header, located by pyelftools."""
    elf = ELFFile(io.BytesIO(bytes(image)))
    return elf["e_shoff"] + elf.get_section_index(name) * elf["e_shentsize"]


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


def test_code_at_the_top_of_the_64_bit_space(tmp_path):
    """(Where the page after the code would not fit in 64 bits.)"""
    def every_load(image: bytearray) -> None:
        for i, off in enumerate(load_headers(image)):
            struct.pack_into("<I", image, off + 4, 5)   # R X: no data segment below the code
            struct.pack_into("<Q", image, off + 16, 2**64 - 0x100 + 0x10 * i)
    assert "outside the process address space" in refused(edited(tmp_path, every_load))


def test_segment_in_the_null_guard(tmp_path):
    path = patched(tmp_path, lambda img, off: struct.pack_into("<Q", img, off + 16, 0x1000))
    refused(path)


def test_segment_with_impossible_sizes(tmp_path):
    path = patched(tmp_path, lambda img, off: struct.pack_into("<Q", img, off + 40, 1 << 62))
    refused(path)


def test_missing_file(tmp_path):
    assert "cannot read" in refused(tmp_path / "nope.elf")


def test_the_default_address_space_is_2_gib():
    """(where the JIT's bounds check still compares with an immediate)"""
    machine = UserMachine(str(asm_program("hello")), ["hello"], env=[])
    try:
        assert machine.hart.ptr.ram_size == 2 << 30
        assert (2 << 30) - (1 << 20) < machine.hart.ptr.x[2] < 2 << 30   # the stack at its top
    finally:
        machine.close()


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


# --- the ELF parser's own checks ---

E_PHOFF, E_SHOFF, E_PHENTSIZE, E_SHENTSIZE, E_SHNUM, E_SHSTRNDX = 0x20, 0x28, 0x36, 0x3A, 0x3C, 0x3E
SH_LINK, SH_OFFSET = 40, 24
SYM_SIZE = 24
PT_INTERP = 3


def test_section_header_table_past_the_end(tmp_path):
    path = edited(tmp_path, lambda img: struct.pack_into("<Q", img, E_SHOFF, len(img) - 64))
    assert "section header table" in parse_refused(path)


def test_symbol_table_past_the_end(tmp_path):
    def move_symtab(img):
        struct.pack_into("<Q", img, section_header(img, ".symtab") + SH_OFFSET, len(img) - SYM_SIZE)
    assert ".symtab" in parse_refused(edited(tmp_path, move_symtab))


def test_section_name_table_index_out_of_range(tmp_path):
    def bad_index(img):
        shnum, = struct.unpack_from("<H", img, E_SHNUM)
        struct.pack_into("<H", img, E_SHSTRNDX, shnum)
    assert "e_shstrndx" in parse_refused(edited(tmp_path, bad_index))


def test_symbol_string_table_index_out_of_range(tmp_path):
    def bad_link(img):
        struct.pack_into("<I", img, section_header(img, ".symtab") + SH_LINK, 1000)
    assert "string table 1000 is out of range" in parse_refused(edited(tmp_path, bad_link))


def test_symbol_name_outside_its_string_table(tmp_path):
    def bad_name(img):
        symtab = ELFFile(io.BytesIO(bytes(img))).get_section_by_name(".symtab")
        index = next(i for i, sym in enumerate(symtab.iter_symbols()) if sym.name == "_start")
        struct.pack_into("<I", img, symtab["sh_offset"] + index * SYM_SIZE, 1 << 31)   # its st_name
    assert "symbol name" in parse_refused(edited(tmp_path, bad_name))


@pytest.mark.parametrize("field, size", [(E_PHENTSIZE, 32), (E_PHENTSIZE, 64), (E_SHENTSIZE, 56)])
def test_table_entries_of_the_wrong_size(tmp_path, field, size):
    path = edited(tmp_path, lambda img: struct.pack_into("<H", img, field, size))
    assert f"entries are {size} bytes" in parse_refused(path)


def with_interp(name: bytes):
    """An edit turning the first program header into a PT_INTERP naming ``name``, put at the file's end."""
    def edit(img):
        phoff, = struct.unpack_from("<Q", img, E_PHOFF)
        struct.pack_into("<IIQ", img, phoff, PT_INTERP, 4, len(img))   # p_type, p_flags (R), p_offset
        struct.pack_into("<Q", img, phoff + 32, len(name))   # p_filesz
        img.extend(name)
    return edit


def test_interpreter_without_its_terminator(tmp_path):
    assert "PT_INTERP" in parse_refused(edited(tmp_path, with_interp(b"/lib/ld-linux-riscv64.so.1")))


def test_interpreter_past_the_end(tmp_path):
    def beyond(img):
        with_interp(b"/lib/ld.so\0")(img)
        del img[-4:]
    assert "PT_INTERP" in parse_refused(edited(tmp_path, beyond))


def test_interpreter_is_read(tmp_path):
    path = edited(tmp_path, with_interp(b"/lib/ld.so\0"))
    assert load_elf(str(path)).interp == "/lib/ld.so"
    assert "interpreter '/lib/ld.so'" in refused(path)


def test_every_truncation_is_refused(tmp_path):
    """The section header table is the file's last part, so any cut leaves something outside."""
    image = asm_program("hello").read_bytes()
    path = tmp_path / "cut.elf"
    for size in range(len(image)):
        path.write_bytes(image[:size])
        parse_refused(path)


def pyelftools_view(path) -> tuple:
    """What pyelftools reads from ``path``, in the shape of our Program's fields."""
    with open(path, "rb") as fh:
        elf = ELFFile(io.BytesIO(fh.read()))
    loads = [ph for ph in elf.iter_segments() if ph["p_type"] == "PT_LOAD" and ph["p_memsz"]]
    segments = [(ph["p_vaddr"], ph["p_paddr"], ph.data(), ph["p_memsz"], ph["p_flags"], ph["p_offset"]) for ph in loads]
    symbols: dict[str, int] = {}
    table = elf.get_section_by_name(".symtab")
    for sym in table.iter_symbols() if table is not None else ():
        if sym.name and sym["st_info"]["type"] in ("STT_OBJECT", "STT_FUNC", "STT_NOTYPE"):
            symbols.setdefault(sym.name, sym["st_value"])
    header = (elf["e_entry"], elf["e_phoff"], elf["e_phentsize"], elf["e_phnum"], elf["e_type"])
    return header, segments, symbols


@pytest.mark.parametrize("program, known", [
    pytest.param(lambda: pathlib.Path(bt_vmm.__file__).parent / "guests" / "intmix.elf", set(),
                 id="bundled-intmix-stripped"),
    pytest.param(lambda: c_program("hello"), {"main", "_start", "puts"}, id="static-glibc-hello"),
])
def test_valid_programs_read_as_pyelftools_reads_them(program, known):
    path = program()
    ours = load_elf(str(path))
    header, segments, symbols = pyelftools_view(path)
    assert (ours.entry, ours.phoff, ours.phentsize, ours.phnum, ours.elf_type) == header
    assert [(s.vaddr, s.paddr, s.data, s.memsz, s.flags, s.file_offset) for s in ours.segments] == segments
    assert ours.symbols == symbols and ours.interp is None
    assert known <= symbols.keys()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), min_size=1, max_size=8))
def test_mutated_files_parse_or_are_refused(tmp_path, edits):
    """Byte edits anywhere (headers, section headers, .symtab, strings): one line or a Program."""
    image = bytearray(asm_program("hello").read_bytes())
    for pos, byte in edits:
        image[pos % len(image)] = byte
    path = tmp_path / "mutant.elf"
    path.write_bytes(image)
    try:
        load_elf(str(path))
    except BadProgram as exc:
        assert "\n" not in str(exc)


def test_a_device_is_not_read_as_a_program():
    assert "not a regular file" in refused("/dev/zero")


def test_interpreter_name_stays_on_one_line(tmp_path):
    path = edited(tmp_path, with_interp(b"/lib/ld\nfake.so\0"))
    assert "dynamically linked" in refused(path)   # (refused checks: one line)
