"""RV64A: LR/SC reservations, every AMO, alignment and access faults."""
import pytest

from bt_vmm.isa import encode

from .harness import DATA, M64, read_mem, run_insns, trap_cause, x

ADDR, SRC, DST, TMP = 10, 11, 12, 13  # a0 = address, a1 = operand, a2 = result, a3
LOAD_MISALIGNED, STORE_MISALIGNED, LOAD_ACCESS, STORE_ACCESS = 4, 6, 5, 7
SIZE = {"w": 4, "d": 8}


def lr(sz, rd=DST, rs1=ADDR):
    return encode(f"lr.{sz}", rd=rd, rs1=rs1, aq=0, rl=0)


def sc(sz, rd=DST, rs1=ADDR, rs2=SRC):
    return encode(f"sc.{sz}", rd=rd, rs1=rs1, rs2=rs2, aq=1, rl=1)


def amo(name, rd=DST, rs1=ADDR, rs2=SRC):
    return encode(name, rd=rd, rs1=rs1, rs2=rs2, aq=0, rl=1)


def run(engine, words, addr=DATA, src=0, initial=0, size=8, **kw):
    mem = {DATA: initial.to_bytes(size, "little")}
    return run_insns(engine, words, regs={"a0": addr, "a1": src, "a2": 0x5A5A}, mem=mem, **kw)


# --- LR/SC ---

@pytest.mark.parametrize("sz", ["w", "d"])
def test_lr_sc_succeeds(engine, sz):
    h = run(engine, [lr(sz, rd=TMP), sc(sz)], src=0x1122334455667788, initial=0xFFFFFFFF_87654321)
    assert trap_cause(h) is None
    assert x(h, DST) == 0
    loaded = 0xFFFFFFFF87654321  # lr.w sign-extends the word; lr.d reads it all
    assert x(h, TMP) == loaded
    expected = 0xFFFFFFFF_55667788 if sz == "w" else 0x1122334455667788
    assert read_mem(h, DATA, 8) == expected


@pytest.mark.parametrize("sz", ["w", "d"])
def test_sc_without_lr_fails(engine, sz):
    h = run(engine, [sc(sz)], src=7, initial=3)
    assert x(h, DST) == 1
    assert read_mem(h, DATA, 8) == 3


def test_second_sc_fails(engine):
    h = run(engine, [lr("d", rd=TMP), sc("d"), encode("addi", rd=SRC, rs1=0, imm=9), sc("d", rd=TMP)],
            src=5)
    assert (x(h, DST), x(h, TMP)) == (0, 1)
    assert read_mem(h, DATA, 8) == 5


@pytest.mark.parametrize("offset,size,kept", [
    (0, 8, False), (4, 4, False), (7, 1, False),  # a store changing the reserved bytes
    (64, 8, True),                                # elsewhere leaves it alone
])
def test_store_between_breaks_reservation(engine, offset, size, kept):
    store = {1: "sb", 4: "sw", 8: "sd"}[size]
    words = [lr("d", rd=TMP), encode(store, rs1=ADDR, rs2=0, imm=offset), sc("d")]
    h = run(engine, words, src=0xAB, initial=0x0123456789ABCDEF)
    assert x(h, DST) == (0 if kept else 1)
    assert (read_mem(h, DATA, 1) == 0xAB) == kept


def test_store_of_the_same_value_keeps_reservation(engine):
    """The reservation holds the value LR read (as QEMU's does): a store
    that leaves it as it was does not break it, which the spec allows."""
    words = [lr("d", rd=TMP), encode("sd", rs1=ADDR, rs2=TMP, imm=0), sc("d")]
    h = run(engine, words, src=0xAB, initial=0x1111)
    assert x(h, DST) == 0
    assert read_mem(h, DATA, 8) == 0xAB


def test_sc_after_lr_of_a_changed_word_fails(engine):
    """lr.w reserves the word's value: a store to its upper neighbour
    leaves it, one to the word itself breaks it."""
    upper = [lr("w", rd=TMP), encode("sw", rs1=ADDR, rs2=0, imm=4), sc("w")]
    assert x(run(engine, upper, src=7, initial=0x1111_2222_3333_4444), DST) == 0
    lower = [lr("w", rd=TMP), encode("sh", rs1=ADDR, rs2=0, imm=2), sc("w")]
    assert x(run(engine, lower, src=7, initial=0x1111_2222_3333_4444), DST) == 1


def test_amo_breaks_reservation(engine):
    h = run(engine, [lr("w", rd=TMP), amo("amoadd.w", rd=0), sc("w")], src=1)
    assert x(h, DST) == 1


def test_sc_to_other_address_fails(engine):
    words = [lr("d", rd=TMP), encode("addi", rd=ADDR, rs1=ADDR, imm=8), sc("d")]
    h = run(engine, words, src=0xAB)
    assert x(h, DST) == 1
    assert read_mem(h, DATA + 8, 8) == 0


@pytest.mark.parametrize("word,cause", [
    (lr("w"), LOAD_MISALIGNED), (lr("d"), LOAD_MISALIGNED),
    (sc("w"), STORE_MISALIGNED), (sc("d"), STORE_MISALIGNED),
    (amo("amoadd.w"), STORE_MISALIGNED), (amo("amoswap.d"), STORE_MISALIGNED),
])
def test_misaligned_atomics_fault(engine, word, cause):
    h = run(engine, [word], addr=DATA + 2, src=1)
    assert trap_cause(h) == cause
    assert h.ptr.mtval == DATA + 2
    assert x(h, DST) == 0x5A5A  # rd untouched
    assert read_mem(h, DATA, 16) == 0


@pytest.mark.parametrize("word,cause", [
    (lr("d"), LOAD_ACCESS), (amo("amoor.w"), STORE_ACCESS),
])
def test_atomics_outside_ram_fault(engine, word, cause):
    h = run(engine, [word], addr=0x1000)
    assert trap_cause(h) == cause
    assert h.ptr.mtval == 0x1000


# --- AMOs: (name, memory before, rs2) -> (memory after, rd) ---

def neg(v: int) -> int:
    return -v & M64


AMO_CASES = [
    ("amoswap.d", 5, 9, 9, 5),
    ("amoadd.d", M64, 2, 1, M64),
    ("amoxor.d", 0xF0, 0xFF, 0x0F, 0xF0),
    ("amoand.d", 0xF0, 0x3C, 0x30, 0xF0),
    ("amoor.d", 0xF0, 0x0F, 0xFF, 0xF0),
    ("amomin.d", neg(1), 1, neg(1), neg(1)),
    ("amomax.d", neg(1), 1, 1, neg(1)),
    ("amominu.d", neg(1), 1, 1, neg(1)),
    ("amomaxu.d", neg(1), 1, neg(1), neg(1)),
    # W forms: 32-bit memory, rd sign-extended, comparisons on the low words
    ("amoswap.w", 0x80000000, 0x1_00000007, 7, 0xFFFFFFFF80000000),
    ("amoadd.w", 0xFFFFFFFF, 0x1_00000001, 0, M64),
    ("amoxor.w", 0x0000FFFF, 0xFFFFFFFF, 0xFFFF0000, 0xFFFF),
    ("amoand.w", 0x80000001, 0x3, 1, 0xFFFFFFFF80000001),
    ("amoor.w", 0x1, 0x80000000, 0x80000001, 1),
    ("amomin.w", 0x80000000, 0x1_00000001, 0x80000000, 0xFFFFFFFF80000000),
    ("amomax.w", 0x80000000, 0x1_00000001, 1, 0xFFFFFFFF80000000),
    ("amominu.w", 0x80000000, 0xFFFFFFFF_00000001, 1, 0xFFFFFFFF80000000),
    ("amomaxu.w", 0x80000000, 0xFFFFFFFF_00000001, 0x80000000, 0xFFFFFFFF80000000),
    ("amomaxu.w", 0x1, 0x1_00000000, 1, 1),
]


@pytest.mark.parametrize("name,before,src,after,rd", AMO_CASES)
def test_amo(engine, name, before, src, after, rd):
    size = SIZE[name[-1]]
    h = run(engine, [amo(name)], src=src, initial=before | (0xDEADBEEF << 32 if size == 4 else 0))
    assert trap_cause(h) is None
    assert x(h, DST) == rd
    assert read_mem(h, DATA, size) == after
    if size == 4:
        assert read_mem(h, DATA + 4, 4) == 0xDEADBEEF  # the neighbouring word is untouched


def test_amo_rd_equals_rs2(engine):
    h = run(engine, [amo("amoadd.d", rd=SRC, rs2=SRC)], src=3, initial=10)
    assert (x(h, SRC), read_mem(h, DATA, 8)) == (10, 13)


def test_amo_rd_zero_still_stores(engine):
    h = run(engine, [amo("amoswap.d", rd=0)], src=3, initial=10)
    assert (x(h, 0), read_mem(h, DATA, 8)) == (0, 3)
