"""ELF loading for riscv64 guests, with every header field validated.

A small, strict parser of ELF64 little-endian files built on ``struct``
(pyelftools would do, but importing it costs every run about 15 ms).  The
file is hostile: every table and string is checked to lie inside the file
before it is read, and anything wrong becomes one BadProgram line.
"""
from __future__ import annotations

import os
import stat
import struct
from collections import namedtuple
from dataclasses import dataclass, field

from bt_vmm.errors import BadProgram

EM_RISCV = 243
ET_EXEC, ET_DYN = 2, 3
PT_LOAD, PT_INTERP = 1, 3
SHT_SYMTAB = 2
STT_NAMING = (0, 1, 2)   # STT_NOTYPE, STT_OBJECT, STT_FUNC: the types that name an address
MAX_SEGMENT = 1 << 40
MAX_FILE = 1 << 30   # read whole: a program larger than this is not one
ET_NAMES = ("ET_NONE", "ET_REL", "ET_EXEC", "ET_DYN", "ET_CORE")
HOST_MACHINES = {3: "EM_386", 40: "EM_ARM", 62: "EM_X86_64", 183: "EM_AARCH64"}

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
SHDR = struct.Struct("<IIQQQQIIQQ")
SYM = struct.Struct("<IBBHQQ")
_Ehdr = namedtuple(
    "_Ehdr", "ident type machine version entry phoff shoff flags ehsize phentsize phnum shentsize shnum shstrndx"
)
_Phdr = namedtuple("_Phdr", "type flags offset vaddr paddr filesz memsz align")
_Shdr = namedtuple("_Shdr", "name type flags addr offset size link info addralign entsize")


@dataclass
class Segment:
    vaddr: int
    paddr: int
    data: bytes     # file contents; memsz - len(data) bytes of zeros follow
    memsz: int
    flags: int      # PF_X=1, PF_W=2, PF_R=4
    file_offset: int


@dataclass
class Program:
    path: str
    entry: int
    segments: list[Segment]
    phoff: int
    phentsize: int
    phnum: int
    elf_type: str
    symbols: dict[str, int] = field(default_factory=dict)
    interp: str | None = None

    def vaddr_of_file_offset(self, offset: int) -> int | None:
        """Where the program headers end up in memory (for AT_PHDR)."""
        for seg in self.segments:
            if seg.file_offset <= offset < seg.file_offset + len(seg.data):
                return seg.vaddr + offset - seg.file_offset
        return None


class _Malformed(Exception):
    """A defect of the file; load_elf puts the path in front."""


def load_elf(path: str) -> Program:
    """The riscv64 executable at ``path``, or BadProgram saying what is wrong with it."""
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):   # /dev/zero would never end
                raise BadProgram(f"{path}: not a regular file")
            if st.st_size > MAX_FILE:
                raise BadProgram(f"{path}: {st.st_size} bytes: too large for a program (at most {MAX_FILE})")
            image = fh.read()
    except OSError as exc:
        raise BadProgram(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return _parse(path, image)
    except _Malformed as exc:
        raise BadProgram(f"{path}: {exc}") from None


def _parse(path: str, image: bytes) -> Program:
    hdr = _header(image)
    segments, interp = _segments(image, hdr)
    return Program(
        path, hdr.entry, segments, hdr.phoff, hdr.phentsize, hdr.phnum, ET_NAMES[hdr.type],
        _symbols(image, hdr), interp,
    )


def _span(image: bytes, offset: int, size: int, what: str) -> bytes:
    # Python ints do not wrap, so a huge offset or size cannot sneak past this.
    if offset + size > len(image):
        raise _Malformed(f"truncated: {what} runs past the end of the file")
    return image[offset : offset + size]


def _table(image: bytes, offset: int, count: int, entsize: int, record: struct.Struct, what: str) -> list[tuple]:
    if count and entsize != record.size:
        raise _Malformed(f"{what} entries are {entsize} bytes, not {record.size}")
    return list(record.iter_unpack(_span(image, offset, count * record.size, what)))


def _cstring(table: bytes, offset: int, what: str) -> str:
    end = table.find(b"\0", offset)
    if end < 0:
        raise _Malformed(f"{what} is not a NUL-terminated string inside its table")
    return table[offset:end].decode("latin-1")   # as pyelftools: never fails, one char a byte


def _header(image: bytes) -> _Ehdr:
    if image[:4] != b"\x7fELF":
        raise _Malformed("not an ELF file")
    hdr = _Ehdr._make(EHDR.unpack(_span(image, 0, EHDR.size, "ELF header")))
    if hdr.ident[4:6] != b"\x02\x01":
        raise _Malformed("not a 64-bit little-endian ELF (riscv64 needs ELFCLASS64, LSB)")
    if hdr.machine != EM_RISCV:
        raise _Malformed(f"ELF for {HOST_MACHINES.get(hdr.machine, f'machine {hdr.machine}')}, not RISC-V")
    if hdr.type not in (ET_EXEC, ET_DYN):
        name = ET_NAMES[hdr.type] if hdr.type < len(ET_NAMES) else f"0x{hdr.type:x}"
        raise _Malformed(f"ELF type {name} is not an executable")
    return hdr


def _segments(image: bytes, hdr: _Ehdr) -> tuple[list[Segment], str | None]:
    segments, interp = [], None
    for ph in map(_Phdr._make, _table(image, hdr.phoff, hdr.phnum, hdr.phentsize, PHDR, "program header table")):
        if ph.type == PT_INTERP:
            interp = _cstring(_span(image, ph.offset, ph.filesz, "PT_INTERP"), 0, "PT_INTERP")
        if ph.type != PT_LOAD or ph.memsz == 0:
            continue
        if ph.filesz > ph.memsz or ph.memsz > MAX_SEGMENT:
            raise _Malformed(f"segment at 0x{ph.vaddr:x} has impossible sizes")
        data = _span(image, ph.offset, ph.filesz, f"segment at 0x{ph.vaddr:x}")
        segments.append(Segment(ph.vaddr, ph.paddr, data, ph.memsz, ph.flags, ph.offset))
    if not segments:
        raise _Malformed("no loadable segments")
    return segments, interp


def _section(sections: list[_Shdr], index: int, what: str) -> _Shdr:
    if index >= len(sections):
        raise _Malformed(f"{what} {index} is out of range ({len(sections)} sections)")
    return sections[index]


def _symbols(image: bytes, hdr: _Ehdr) -> dict[str, int]:
    """Named functions, objects and untyped labels of .symtab; the first definition wins."""
    # e_shnum 0 with e_shoff set is the extended numbering of files with 0xff00+ sections,
    # which linked executables never have: read as no sections, like e_shstrndx SHN_UNDEF.
    if hdr.shoff == 0 or hdr.shnum == 0 or hdr.shstrndx == 0:
        return {}
    sections = [
        _Shdr._make(row)
        for row in _table(image, hdr.shoff, hdr.shnum, hdr.shentsize, SHDR, "section header table")
    ]
    shstrtab = _section(sections, hdr.shstrndx, "e_shstrndx")
    names = _span(image, shstrtab.offset, shstrtab.size, "section-name string table")
    symtab = next((s for s in sections if _cstring(names, s.name, "a section name") == ".symtab"), None)
    if symtab is None or symtab.type != SHT_SYMTAB:
        return {}
    if symtab.size % SYM.size:
        raise _Malformed(f".symtab size {symtab.size} is not a whole number of symbols")
    strtab = _section(sections, symtab.link, ".symtab's string table")
    strings = _span(image, strtab.offset, strtab.size, ".symtab's string table")
    symbols: dict[str, int] = {}
    for name, info, _other, _shndx, value, _size in _table(
        image, symtab.offset, symtab.size // SYM.size, symtab.entsize, SYM, ".symtab"
    ):
        if name and (info & 0xF) in STT_NAMING and (label := _cstring(strings, name, "a symbol name")):
            symbols.setdefault(label, value)
    return symbols
