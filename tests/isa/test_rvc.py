"""RVC: each compressed instruction behaves exactly as its 32-bit expansion,
and reserved encodings are illegal."""
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from bt_vmm.isa import DECODER, REGISTRY, encode

from .fields import encoding_fields
from .harness import CODE, DATA, M64, run_insns, trap_cause

NARROW = sorted(n for n, c in REGISTRY.compressed.items() if c.target in REGISTRY.insns)
MEMORY = {"lw", "ld", "sw", "sd", "fld", "fsd"}
CONTROL = {"jal", "jalr", "beq", "bne"}
WINDOW = 1024  # bytes of data compared after the run


def _state(h):
    p = h.ptr
    return {
        "x": list(p.x), "f": list(p.f), "pc": p.pc,
        "trap": (p.mcause, p.mtval, p.mepc), "mem": h.read_phys(DATA, WINDOW),
    }


@pytest.mark.parametrize("name", NARROW)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_behaves_as_expansion(engine, name, data):
    cspec = REGISTRY.compressed[name]
    fields = data.draw(encoding_fields(cspec.encoding))
    assume(cspec.valid is None or cspec.valid(**fields))
    expanded = cspec.expand(**fields)
    target = cspec.target
    if target in MEMORY:  # every register points into the data window (sp offsets reach 504)
        values = [DATA + 8 * data.draw(st.integers(0, (WINDOW - 512) // 8 - 1)) for _ in range(31)]
    else:
        values = data.draw(st.lists(st.integers(0, M64), min_size=31, max_size=31))
    assume(expanded.get("off") != 4)  # a taken branch by 4 looks like falling through
    regs = dict(zip(range(1, 32), values))
    fregs = dict(enumerate(data.draw(st.lists(st.integers(0, M64), min_size=32, max_size=32))))
    mem = {DATA: data.draw(st.binary(min_size=WINDOW, max_size=WINDOW))}

    short = _state(run_insns(engine, [encode(name, **fields)], regs, fregs, steps=1, mem=mem))
    long = _state(run_insns(engine, [encode(target, **expanded)], regs, fregs, steps=1, mem=mem))

    # The only differences allowed come from the length: the fall-through pc
    # and a link register hold pc + 2 instead of pc + 4.
    if long["pc"] == CODE + 4:
        long["pc"] = CODE + 2
    if target in ("jal", "jalr") and expanded["rd"]:
        long["x"][expanded["rd"]] -= 2
    assert short == long


RESERVED = {
    0x0000: "all-zero parcel",
    0x0004: "c.addi4spn with nzuimm=0",
    0x2005: "c.addiw with rd=0",
    0x6101: "c.addi16sp with nzimm=0",
    0x6281: "c.lui with nzimm=0",
    0x4002: "c.lwsp with rd=0",
    0x6002: "c.ldsp with rd=0",
    0x8002: "c.jr with rs1=0",
    0x8000: "quadrant 0, funct3=100",
    0x9C41: "c.subw/c.addw space, funct2=10",
    0x9C61: "c.subw/c.addw space, funct2=11",
}


@pytest.mark.parametrize("parcel", sorted(RESERVED), ids=lambda p: f"{p:04x}")
def test_reserved_encodings_are_illegal(engine, parcel):
    h = run_insns(engine, [parcel], steps=1)
    assert trap_cause(h) == 2, RESERVED[parcel]
    assert (h.ptr.mtval, h.ptr.mepc) == (parcel, CODE)


# Encodings checked against GNU objdump -M no-aliases.
KNOWN = [
    (0x1141, "c.addi", "addi", {"rd": 2, "rs1": 2, "imm": -16}),
    (0x7139, "c.addi16sp", "addi", {"rd": 2, "rs1": 2, "imm": -64}),
    (0x0808, "c.addi4spn", "addi", {"rd": 10, "rs1": 2, "imm": 16}),
    (0x8082, "c.jr", "jalr", {"rd": 0, "rs1": 1, "imm": 0}),
    (0x9502, "c.jalr", "jalr", {"rd": 1, "rs1": 10, "imm": 0}),
    (0x852E, "c.mv", "add", {"rd": 10, "rs1": 0, "rs2": 11}),
    (0x952E, "c.add", "add", {"rd": 10, "rs1": 10, "rs2": 11}),
    (0x9002, "c.ebreak", "ebreak", {}),
    (0x0001, "c.nop", "addi", {"rd": 0, "rs1": 0, "imm": 0}),
    (0x557D, "c.li", "addi", {"rd": 10, "rs1": 0, "imm": -1}),
    (0x757D, "c.lui", "lui", {"rd": 10, "upper": -4096}),
    (0x6582, "c.ldsp", "ld", {"rd": 11, "rs1": 2, "imm": 0}),
    (0xE42A, "c.sdsp", "sd", {"rs2": 10, "rs1": 2, "imm": 8}),
    (0x6588, "c.ld", "ld", {"rd": 10, "rs1": 11, "imm": 8}),
    (0x41C8, "c.lw", "lw", {"rd": 10, "rs1": 11, "imm": 4}),
    (0x8D0D, "c.sub", "sub", {"rd": 10, "rs1": 10, "rs2": 11}),
    (0x9D2D, "c.addw", "addw", {"rd": 10, "rs1": 10, "rs2": 11}),
    (0x050E, "c.slli", "slli", {"rd": 10, "rs1": 10, "shamt": 3}),
    (0x957D, "c.srai", "srai", {"rd": 10, "rs1": 10, "shamt": 63}),
    (0xC111, "c.beqz", "beq", {"rs1": 10, "rs2": 0, "off": 4}),
    (0xA001, "c.j", "jal", {"rd": 0, "off": 0}),
    (0x357D, "c.addiw", "addiw", {"rd": 10, "rs1": 10, "imm": -1}),
    (0x2588, "c.fld", "fld", {"rd": 10, "rs1": 11, "imm": 8}),
    (0xA82A, "c.fsdsp", "fsd", {"rs2": 10, "rs1": 2, "imm": 16}),
]


@pytest.mark.parametrize("parcel,cname,target,fields", KNOWN, ids=[k[1] for k in KNOWN])
def test_known_encodings(parcel, cname, target, fields):
    if target not in REGISTRY.insns:
        pytest.skip(f"{target} is not registered")
    d = DECODER.decode(parcel)
    assert (d.cspec.name, d.spec.name, d.fields, d.length) == (cname, target, fields, 2)
