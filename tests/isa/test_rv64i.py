"""RV64I: arithmetic edge cases, shifts, W-ops, control flow, loads and stores."""
import pytest

from bt_vmm.isa import encode

from .harness import CODE, DATA, M64, RAM_BASE, RAM_SIZE, TRAP_VEC, alu, read_mem, run_insns, trap_cause, x

MIN = 1 << 63
NEG1 = M64


def neg(v: int) -> int:
    return -v & M64


ALU_CASES = [
    ("add", M64, 1, 0),
    ("add", MIN - 1, 1, MIN),
    ("sub", 0, 1, NEG1),
    ("sub", MIN, 1, MIN - 1),
    ("slt", NEG1, 0, 1),
    ("sltu", NEG1, 0, 0),
    ("slt", MIN, MIN - 1, 1),
    ("sltu", 0, NEG1, 1),
    ("xor", 0xF0F0, 0xFF00, 0x0FF0),
    ("or", 0xF0, 0x0F, 0xFF),
    ("and", 0xF0, 0x3C, 0x30),
    # shift amounts: by 63, and only the low 6 bits of rs2 count
    ("sll", 1, 63, MIN),
    ("sll", 1, 64, 1),
    ("srl", MIN, 63, 1),
    ("srl", MIN, 0x7F, 1),
    ("sra", MIN, 63, NEG1),
    ("sra", MIN, 64, MIN),
    # W forms: low word computed, result sign-extended; shifts use 5 bits
    ("addw", 0x7FFFFFFF, 1, 0xFFFFFFFF80000000),
    ("addw", 0x1_00000000, 0x1_00000000, 0),
    ("subw", 0x80000000, 1, 0x7FFFFFFF),
    ("sllw", 1, 31, 0xFFFFFFFF80000000),
    ("sllw", 1, 32, 1),
    ("srlw", 0xFFFFFFFF_80000000, 31, 1),
    ("srlw", 0xFFFFFFFF_80000000, 0, 0xFFFFFFFF80000000),
    ("sraw", 0x80000000, 31, NEG1),
    ("sraw", 0x1_7FFFFFFF, 1, 0x3FFFFFFF),
]


@pytest.mark.parametrize("name,a,b,expected", ALU_CASES)
def test_reg_reg(engine, name, a, b, expected):
    assert alu(engine, name, a, b) == expected


IMM_CASES = [
    ("addi", MIN - 1, dict(imm=1), MIN),
    ("addi", 0, dict(imm=-2048), neg(2048)),
    ("slti", NEG1, dict(imm=0), 1),
    ("sltiu", 5, dict(imm=-1), 1),  # the immediate is sign-extended, then compared unsigned
    ("xori", 0x0F, dict(imm=-1), neg(0x10)),
    ("ori", 0, dict(imm=-1), NEG1),
    ("andi", NEG1, dict(imm=0x7FF), 0x7FF),
    ("slli", 1, dict(shamt=63), MIN),
    ("srli", NEG1, dict(shamt=63), 1),
    ("srai", MIN, dict(shamt=63), NEG1),
    ("addiw", 0x7FFFFFFF, dict(imm=1), 0xFFFFFFFF80000000),
    ("addiw", 0xFFFFFFFF_00000000, dict(imm=0), 0),
    ("slliw", 3, dict(shamt=31), 0xFFFFFFFF80000000),
    ("srliw", NEG1, dict(shamt=0), NEG1),  # sext of the word, even with no shift
    ("srliw", NEG1, dict(shamt=31), 1),
    ("sraiw", 0x80000000, dict(shamt=4), 0xFFFFFFFFF8000000),
]


@pytest.mark.parametrize("name,a,imm,expected", IMM_CASES)
def test_reg_imm(engine, name, a, imm, expected):
    assert alu(engine, name, a, **imm) == expected


def test_x0_is_zero(engine):
    h = run_insns(engine, [encode("addi", rd=0, rs1=0, imm=5), encode("add", rd=10, rs1=0, rs2=0)])
    assert x(h, 0) == 0 and x(h, 10) == 0


def test_lui_sign_extends(engine):
    h = run_insns(engine, [encode("lui", rd=10, upper=-(1 << 31))])
    assert x(h, 10) == 0xFFFFFFFF80000000


def test_auipc(engine):
    h = run_insns(engine, [encode("addi", rd=0, rs1=0, imm=0), encode("auipc", rd=10, upper=-4096)])
    assert x(h, 10) == CODE + 4 - 4096


def test_jal_links_and_jumps(engine):
    h = run_insns(engine, [encode("jal", rd=1, off=-8)], steps=1)
    assert x(h, 1) == CODE + 4
    assert h.ptr.pc == CODE - 8


def test_jalr_clears_bit0_and_links_from_old_rs1(engine):
    h = run_insns(engine, [encode("jalr", rd=5, rs1=5, imm=3)], regs={"t0": DATA}, steps=1)
    assert x(h, 5) == CODE + 4
    assert h.ptr.pc == DATA + 2


BRANCHES = [  # (name, a, b, taken)
    ("beq", 5, 5, True), ("beq", 5, 6, False),
    ("bne", 5, 6, True), ("bne", NEG1, NEG1, False),
    ("blt", NEG1, 0, True), ("blt", 0, NEG1, False), ("blt", 3, 3, False),
    ("bge", 0, NEG1, True), ("bge", 3, 3, True), ("bge", MIN, 0, False),
    ("bltu", 0, NEG1, True), ("bltu", NEG1, 0, False),
    ("bgeu", NEG1, 0, True), ("bgeu", 0, 1, False), ("bgeu", 7, 7, True),
]


@pytest.mark.parametrize("name,a,b,taken", BRANCHES)
def test_branches(engine, name, a, b, taken):
    h = run_insns(engine, [encode(name, rs1=11, rs2=12, off=-0x1000)], regs={"a1": a, "a2": b}, steps=1)
    assert h.ptr.pc == (CODE - 0x1000 if taken else CODE + 4)


LOADS = [  # memory holds 0x8899aabbccddeeff then 0x01..08
    ("lb", 0, 0xFFFFFFFFFFFFFFFF), ("lbu", 0, 0xFF),
    ("lb", 8, 0x01),
    ("lh", 0, 0xFFFFFFFFFFFFEEFF), ("lhu", 0, 0xEEFF),
    ("lw", 0, 0xFFFFFFFFCCDDEEFF), ("lwu", 0, 0xCCDDEEFF),
    ("lw", 8, 0x04030201),
    ("ld", 0, 0x8899AABBCCDDEEFF),
    # misaligned accesses are allowed (as on QEMU's virt board)
    ("lh", 7, 0x0188), ("lw", 5, 0x0188_99AA), ("lwu", 6, 0x0201_8899), ("ld", 3, 0x03020188_99AABBCC),
]


@pytest.mark.parametrize("name,offset,expected", LOADS)
def test_loads(engine, name, offset, expected):
    data = bytes.fromhex("ffeeddccbbaa9988") + bytes(range(1, 9))
    h = run_insns(engine, [encode(name, rd=10, rs1=11, imm=offset - 16)],
                  regs={"a1": DATA + 16}, mem={DATA: data})
    assert trap_cause(h) is None
    assert x(h, 10) == expected


@pytest.mark.parametrize("name,size", [("sb", 1), ("sh", 2), ("sw", 4), ("sd", 8)])
@pytest.mark.parametrize("offset", [0, 3, 7])
def test_stores_write_only_their_bytes(engine, name, size, offset):
    h = run_insns(engine, [encode(name, rs1=11, rs2=12, imm=offset)],
                  regs={"a1": DATA, "a2": 0x0102030405060708}, mem={DATA: b"\xee" * 24})
    assert trap_cause(h) is None
    expected = bytearray(b"\xee" * 24)
    expected[offset : offset + size] = (0x0102030405060708).to_bytes(8, "little")[:size]
    assert h.read_phys(DATA, 24) == bytes(expected)


def test_load_outside_ram_faults(engine):
    h = run_insns(engine, [encode("ld", rd=10, rs1=11, imm=8)], regs={"a1": 0x1000, "a0": 77})
    assert trap_cause(h) == 5
    assert (h.ptr.mtval, h.ptr.mepc, x(h, 10)) == (0x1008, CODE, 77)


def test_store_outside_ram_faults(engine):
    h = run_insns(engine, [encode("sw", rs1=11, rs2=0, imm=0)], regs={"a1": 0x1000})
    assert trap_cause(h) == 7
    assert h.ptr.mtval == 0x1000


def test_misaligned_store_across_ram_end_writes_nothing(engine):
    end = RAM_BASE + RAM_SIZE
    h = run_insns(engine, [encode("sd", rs1=11, rs2=12, imm=0)], regs={"a1": end - 4, "a2": NEG1})
    assert trap_cause(h) == 7
    assert read_mem(h, end - 4, 4) == 0


def test_an_instruction_whose_second_half_is_past_ram_end_faults(engine):
    """A 32-bit instruction in RAM's last two bytes: the fetch of its second
    half faults (instruction access fault, mtval the missing half's
    address); no engine reads past RAM (the pre-decoders stop at its end)."""
    end = RAM_BASE + RAM_SIZE
    h = run_insns(engine, [encode("jal", rd=0, off=end - 2 - CODE)], mem={end - 2: bytes([0x13, 0x05])}, steps=4)
    assert trap_cause(h) == 1
    assert (h.ptr.mtval, h.ptr.mepc) == (end, end - 2)


def test_a_jump_to_an_instruction_across_a_page_boundary_runs_it(engine):
    """A 32-bit instruction in a page's last two bytes, reached by a jump:
    it runs (no region can start there: the JIT leaves it to its cold tier
    instead of spinning on a region of no instruction)."""
    at = CODE + 0xFFE
    code = encode("addi", rd=10, rs1=0, imm=42).to_bytes(4, "little") + encode("jal", rd=0, off=0).to_bytes(4, "little")
    h = run_insns(engine, [encode("jal", rd=0, off=at - CODE)], mem={at: code}, steps=3)
    assert x(h, 10) == 42 and h.ptr.pc == at + 4


@pytest.mark.parametrize("word,cause,tval", [
    (encode("ecall"), 11, 0),
    (encode("ebreak"), 3, 0),  # tval 0, as on QEMU 7.2
    (0xFFFFFFFF, 2, 0xFFFFFFFF),
    (0x00000000, 2, 0),
])
def test_traps(engine, word, cause, tval):
    h = run_insns(engine, [word], steps=2)
    assert trap_cause(h) == cause
    assert (h.ptr.mtval, h.ptr.mepc, h.ptr.pc) == (tval, CODE, TRAP_VEC)
