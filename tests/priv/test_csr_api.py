"""bt_csr_peek / bt_csr_poke (the API's CSR access) and the CSR name table."""
from bt_vmm._core import ffi, lib
from bt_vmm.cpu.csrs import csr_name, csr_number
from bt_vmm.cpu.hart import Hart


def _hart() -> Hart:
    return Hart(0x80000000, 1 << 16, lib.MACHINE_SYSTEM)


def peek(h: Hart, name: str) -> int:
    out = ffi.new("uint64_t *")
    assert lib.bt_csr_peek(h.ptr, csr_number(name), out) == 0
    return out[0]


def test_peek_poke_apply_warl_rules_without_privilege_checks():
    h = _hart()
    h.ptr.priv = lib.PRV_U                       # no privilege check applies
    assert lib.bt_csr_poke(h.ptr, csr_number("medeleg"), (1 << 64) - 1) == 0
    assert peek(h, "medeleg") == 0xB3FF
    assert lib.bt_csr_poke(h.ptr, csr_number("minstret"), 1234) == 0
    assert peek(h, "minstret") == 1234
    assert lib.bt_csr_poke(h.ptr, csr_number("mhartid"), 1) == -1   # read-only
    assert lib.bt_csr_peek(h.ptr, 0x7C0, ffi.new("uint64_t *")) == -1  # no such CSR


def test_csr_names_round_trip():
    assert csr_number("satp") == 0x180 and csr_name(0x180) == "satp"
    assert csr_name(0x3B5) == "pmpaddr5" and csr_name(0x7C0) == "0x7c0"
    assert csr_number("0x341") == 0x341
