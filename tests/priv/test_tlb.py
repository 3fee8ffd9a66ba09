"""What the V2M TLB keeps across satp writes and sfence.vma: the flushes are
selective (tests/guests/bare/asid.S checks what each must drop; these
check that mappings outside its reach stay cached)."""
import struct

import pytest

from bt_vmm._core import ffi, lib
from bt_vmm.cpu.hart import Hart

RAM = 0x80000000
ROOT, L1, L0 = RAM + 0x1000, RAM + 0x2000, RAM + 0x3000
OWN, GLOBAL, OTHER = 0x40000000, 0x40001000, 0x40002000   # virtual pages of the window
V, R, W, G, A, D = 0x1, 0x2, 0x4, 0x20, 0x40, 0x80
SATP = 0x180
SV39 = 8 << 60


def _pte(paddr: int, flags: int) -> bytes:
    return struct.pack("<Q", paddr >> 12 << 10 | flags)


@pytest.fixture
def hart():
    h = Hart(RAM, 1 << 22, lib.MACHINE_SYSTEM)
    h.write_phys(ROOT + 8, _pte(L1, V))
    h.write_phys(L1, _pte(L0, V))
    h.write_phys(L0, _pte(RAM + 0x10000, V | R | W | A | D))
    h.write_phys(L0 + 8, _pte(RAM + 0x11000, V | R | W | G | A | D))
    h.write_phys(L0 + 16, _pte(RAM + 0x12000, V | R | W | A | D))
    h.ptr.priv = lib.PRV_S
    _write_satp(h, asid=1)
    yield h
    h.close()


def _write_satp(h: Hart, asid: int) -> None:
    assert lib.bt_csr_poke(h.ptr, SATP, SV39 | asid << 44 | ROOT >> 12) == 0


def _load_all(h: Hart) -> None:
    out = ffi.new("uint64_t *")
    for vaddr in (OWN, GLOBAL, OTHER):
        assert lib.bt_translate(h.ptr, vaddr, lib.ACC_LOAD, out) == 0


def _cached(h: Hart) -> set[int]:
    """The virtual pages the load TLB holds."""
    return {v for v in (OWN, GLOBAL, OTHER) if h.ptr.tlb_load[(v >> 12) % lib.TLB_SIZE].page == v}


def test_the_walks_fill_the_tlb(hart):
    _load_all(hart)
    assert _cached(hart) == {OWN, GLOBAL, OTHER}


def test_another_asid_keeps_global_mappings(hart):
    _load_all(hart)
    _write_satp(hart, asid=2)
    assert _cached(hart) == {GLOBAL}


def test_rewriting_the_same_satp_keeps_everything(hart):
    _load_all(hart)
    _write_satp(hart, asid=1)
    assert _cached(hart) == {OWN, GLOBAL, OTHER}


@pytest.mark.parametrize("vaddr, asid, flags, kept", [
    (0, 0, 0, set()),                      # sfence.vma: everything
    (0, 1, 2, {GLOBAL}),                   # sfence.vma x0, asid: that ASID's own mappings
    (0, 7, 2, {OWN, GLOBAL, OTHER}),       # ... of another ASID: nothing here
    (OWN, 0, 1, {GLOBAL, OTHER}),          # sfence.vma addr: that page
    (GLOBAL, 0, 1, {OWN, OTHER}),          # ... global or not
    (GLOBAL, 1, 3, {OWN, GLOBAL, OTHER}),  # sfence.vma addr, asid: never a global mapping
    (OTHER, 1, 3, {OWN, GLOBAL}),
])
def test_each_form_of_sfence_vma_drops_what_it_names(hart, vaddr, asid, flags, kept):
    _load_all(hart)
    lib.bt_sfence_vma(hart.ptr, vaddr, asid, flags)
    assert _cached(hart) == kept
