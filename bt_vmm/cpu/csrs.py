"""CSR names and numbers (privileged spec, tables 2.2-2.6), for the
disassembler and the API.  Which CSRs exist and how they behave is decided
by the C core (csrc/priv.c); this table only names them."""
from __future__ import annotations

_FIXED = {
    # unprivileged floating point and counters
    "fflags": 0x001, "frm": 0x002, "fcsr": 0x003,
    "cycle": 0xC00, "time": 0xC01, "instret": 0xC02,
    # supervisor
    "sstatus": 0x100, "sie": 0x104, "stvec": 0x105, "scounteren": 0x106,
    "senvcfg": 0x10A, "sscratch": 0x140, "sepc": 0x141, "scause": 0x142,
    "stval": 0x143, "sip": 0x144, "stimecmp": 0x14D, "satp": 0x180,
    "scontext": 0x5A8,
    # machine information
    "mvendorid": 0xF11, "marchid": 0xF12, "mimpid": 0xF13, "mhartid": 0xF14,
    "mconfigptr": 0xF15,
    # machine trap set-up and handling
    "mstatus": 0x300, "misa": 0x301, "medeleg": 0x302, "mideleg": 0x303,
    "mie": 0x304, "mtvec": 0x305, "mcounteren": 0x306, "menvcfg": 0x30A,
    "mcountinhibit": 0x320, "mscratch": 0x340, "mepc": 0x341, "mcause": 0x342,
    "mtval": 0x343, "mip": 0x344, "mtinst": 0x34A, "mtval2": 0x34B,
    "mseccfg": 0x747,
    # machine counters
    "mcycle": 0xB00, "minstret": 0xB02,
    # debug and trigger
    "tselect": 0x7A0, "tdata1": 0x7A1, "tdata2": 0x7A2, "tdata3": 0x7A3,
    "tinfo": 0x7A4, "tcontrol": 0x7A5, "mcontext": 0x7A8,
    "dcsr": 0x7B0, "dpc": 0x7B1, "dscratch0": 0x7B2, "dscratch1": 0x7B3,
}


def _numbered() -> dict[str, int]:
    table = {}
    for n in range(3, 32):
        table[f"hpmcounter{n}"] = 0xC00 + n
        table[f"mhpmcounter{n}"] = 0xB00 + n
        table[f"mhpmevent{n}"] = 0x320 + n
    for n in range(0, 16, 2):  # RV64: odd pmpcfg registers do not exist
        table[f"pmpcfg{n}"] = 0x3A0 + n
    for n in range(64):
        table[f"pmpaddr{n}"] = 0x3B0 + n
    return table


CSR_NUMBERS: dict[str, int] = {**_FIXED, **_numbered()}
CSR_NAMES: dict[int, str] = {num: name for name, num in CSR_NUMBERS.items()}


def csr_name(number: int) -> str:
    """The CSR's name, or its number in hex (as objdump prints unknown CSRs)."""
    return CSR_NAMES.get(number, f"0x{number:x}")


def csr_number(name: str) -> int:
    """The number of a CSR given by name (or as a number in any Python base)."""
    if name in CSR_NUMBERS:
        return CSR_NUMBERS[name]
    try:
        number = int(name, 0)
    except ValueError:
        raise KeyError(f"no CSR named {name!r}") from None
    if not 0 <= number < 0x1000:
        raise KeyError(f"CSR number {name} is outside 0..0xfff")
    return number
