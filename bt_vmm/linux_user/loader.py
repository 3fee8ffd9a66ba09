"""Process start-up: the ELF image in guest memory and the initial stack.

The stack is laid out as Linux's create_elf_tables does it: strings at the
top (execfn, then environment, then arguments), 16 random bytes, then from
a 16-byte aligned sp upwards: argc, argv[], NULL, envp[], NULL, auxv pairs,
AT_NULL.
"""
from __future__ import annotations

import os
import struct

from bt_vmm.errors import BadProgram
from bt_vmm.linux_user.memory import PAGE, GuestMemory
from bt_vmm.machines.elf import Program

STACK_SIZE = 8 << 20
PF_X, PF_W = 1, 2
PIE_BASE = 0x40000   # where a static-pie (ET_DYN without interpreter) is placed

AT_NULL, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_BASE, AT_FLAGS, AT_ENTRY = 0, 3, 4, 5, 6, 7, 8, 9
AT_UID, AT_EUID, AT_GID, AT_EGID, AT_HWCAP, AT_CLKTCK = 11, 12, 13, 14, 16, 17
AT_SECURE, AT_RANDOM, AT_HWCAP2, AT_EXECFN = 23, 25, 26, 31
# What Linux reports for an RV64IMAFDC hart: one bit per single-letter extension.
HWCAP_IMAFDC = sum(1 << (ord(c) - ord("A")) for c in "IMAFDC")
CLK_TCK = 100


def load_bias(program: Program) -> int:
    """Where the program's addresses are placed relative to its own."""
    return PIE_BASE if program.elf_type == "ET_DYN" else 0


def store_floor(program: Program) -> int:
    """The process VM's store floor (hart_t.store_floor): the page after
    the program's code, when its data, heap and stack all lie above; else
    0 (none: translated stores check every page).  (A program whose
    segments do not fit the address space gets none: loading refuses it.)"""
    code = [seg.vaddr + seg.memsz for seg in program.segments if seg.flags & PF_X]
    if not code:
        return 0
    floor = -(-max(code) // PAGE) * PAGE
    if any(seg.vaddr < floor for seg in program.segments if seg.flags & PF_W):
        return 0
    floor += load_bias(program)
    return floor if floor < 1 << 64 else 0


def load_image(mem: GuestMemory, program: Program, stack_bottom: int) -> tuple[int, int]:
    """Copy the PT_LOAD segments in; returns (load bias, end of the image)."""
    if program.interp is not None:
        raise BadProgram(
            f"{program.path}: dynamically linked (interpreter {program.interp!r}); "
            "bt-vmm runs static programs: link with -static"
        )
    bias = load_bias(program)
    end = 0
    for seg in program.segments:
        lo, hi = seg.vaddr + bias, seg.vaddr + bias + seg.memsz
        if lo < mem.low or hi > stack_bottom:
            raise BadProgram(
                f"{program.path}: segment 0x{seg.vaddr:x}-0x{seg.vaddr + seg.memsz:x} lies outside "
                f"the process address space 0x{mem.low:x}-0x{stack_bottom:x}"
            )
        mem.write(lo, seg.data)
        end = max(end, hi)
    if not mem.low <= program.entry + bias < end:
        raise BadProgram(f"{program.path}: entry point 0x{program.entry:x} is outside the program")
    return bias, end


def build_stack(
    mem: GuestMemory, top: int, program: Program, bias: int, argv: list[str], env: list[str]
) -> int:
    """Write argc/argv/envp/auxv below ``top``; returns the initial sp."""
    strings = sum(len(os.fsencode(s)) + 1 for s in (*argv, *env))
    if strings > STACK_SIZE // 4:   # Linux's limit, so the stack keeps room to grow
        raise BadProgram(f"{program.path}: arguments and environment too large ({strings} bytes)")
    p = top - 8   # Linux leaves the last word of the stack zero

    def push_bytes(data: bytes) -> int:
        nonlocal p
        p -= len(data)
        mem.write(p, data)
        return p

    execfn = push_bytes(os.fsencode(program.path) + b"\0")
    env_ptrs = [push_bytes(os.fsencode(s) + b"\0") for s in reversed(env)][::-1]
    arg_ptrs = [push_bytes(os.fsencode(s) + b"\0") for s in reversed(argv)][::-1]
    p &= ~15
    random_bytes = push_bytes(os.urandom(16))
    phdr = program.vaddr_of_file_offset(program.phoff)
    auxv = [
        (AT_HWCAP, HWCAP_IMAFDC), (AT_PAGESZ, PAGE), (AT_CLKTCK, CLK_TCK),
        (AT_PHDR, 0 if phdr is None else phdr + bias), (AT_PHENT, program.phentsize),
        (AT_PHNUM, program.phnum), (AT_BASE, 0), (AT_FLAGS, 0), (AT_ENTRY, program.entry + bias),
        (AT_UID, os.getuid()), (AT_EUID, os.geteuid()), (AT_GID, os.getgid()),
        (AT_EGID, os.getegid()), (AT_SECURE, 0), (AT_RANDOM, random_bytes), (AT_HWCAP2, 0),
        (AT_EXECFN, execfn), (AT_NULL, 0),
    ]
    words = [len(argv), *arg_ptrs, 0, *env_ptrs, 0, *(v for pair in auxv for v in pair)]
    sp = (p - 8 * len(words)) & ~15
    mem.write(sp, struct.pack(f"<{len(words)}Q", *words))
    return sp
