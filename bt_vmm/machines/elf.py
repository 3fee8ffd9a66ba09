"""ELF loading for riscv64 guests, with every header field validated.

pyelftools parses; we check what a hostile file could make us do wrong
(segments past the end of the file, overlapping or absurd sizes, the wrong
machine) and turn every parse error into one BadProgram line.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from bt_vmm.errors import BadProgram

EM_RISCV = 243
PT_LOAD = "PT_LOAD"
MAX_SEGMENT = 1 << 40


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


def load_elf(path: str) -> Program:
    try:
        with open(path, "rb") as fh:
            image = fh.read()
    except OSError as exc:
        raise BadProgram(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return _parse(path, image)
    except BadProgram:
        raise
    except (ELFError, ValueError, KeyError, IndexError, AssertionError, OverflowError) as exc:
        raise BadProgram(f"{path}: malformed ELF: {exc}") from None
    except Exception as exc:  # pyelftools raises assorted errors on hostile input
        raise BadProgram(f"{path}: malformed ELF ({type(exc).__name__}: {exc})") from None


def _parse(path: str, image: bytes) -> Program:
    if image[:4] != b"\x7fELF":
        raise BadProgram(f"{path}: not an ELF file")
    elf = ELFFile(io.BytesIO(image))
    if elf.elfclass != 64 or not elf.little_endian:
        raise BadProgram(f"{path}: not a 64-bit little-endian ELF (riscv64 needs ELFCLASS64, LSB)")
    if elf["e_machine"] not in ("EM_RISCV", EM_RISCV):
        raise BadProgram(f"{path}: ELF for {elf['e_machine']}, not RISC-V")
    if elf["e_type"] not in ("ET_EXEC", "ET_DYN"):
        raise BadProgram(f"{path}: ELF type {elf['e_type']} is not an executable")
    segments = []
    interp = None
    for ph in elf.iter_segments():
        if ph["p_type"] == "PT_INTERP":
            interp = ph.get_interp_name()
        if ph["p_type"] != PT_LOAD or ph["p_memsz"] == 0:
            continue
        off, filesz, memsz = ph["p_offset"], ph["p_filesz"], ph["p_memsz"]
        if filesz > memsz or memsz > MAX_SEGMENT:
            raise BadProgram(f"{path}: segment at 0x{ph['p_vaddr']:x} has impossible sizes")
        if off + filesz > len(image):
            raise BadProgram(f"{path}: truncated: segment at 0x{ph['p_vaddr']:x} runs past the end of the file")
        segments.append(
            Segment(ph["p_vaddr"], ph["p_paddr"], image[off : off + filesz], memsz, ph["p_flags"], off)
        )
    if not segments:
        raise BadProgram(f"{path}: no loadable segments")
    symbols = {}
    symtab = elf.get_section_by_name(".symtab")
    if symtab is not None and hasattr(symtab, "iter_symbols"):
        for sym in symtab.iter_symbols():
            if sym.name and sym["st_info"]["type"] in ("STT_OBJECT", "STT_FUNC", "STT_NOTYPE"):
                symbols.setdefault(sym.name, sym["st_value"])
    return Program(
        path, elf["e_entry"], segments, elf["e_phoff"], elf["e_phentsize"], elf["e_phnum"],
        elf["e_type"], symbols, interp,
    )
