"""Native chaining between translations: direct jumps through chain slots,
returns through the indirect-jump cache, and the on-disk object cache.  The
JIT must still leave the hart exactly as the reference interpreter does."""
from __future__ import annotations

from bt_vmm.isa import encode

from .common import USER, assert_same, ran_cold, run_both, translate_now

A0, A1, T0, T2, RA = 10, 11, 5, 7, 1


def calls_in_a_loop() -> list[int]:
    """t0 times: call F (a0 += a1, a1 += 1) and come back (F joins the
    loop's region through its jal; the return goes through the
    indirect-jump cache)."""
    return [
        encode("addi", rd=T0, rs1=0, imm=200),
        encode("jal", rd=RA, off=0x20 - 0x04),      # 0x04 loop
        encode("addi", rd=T0, rs1=T0, imm=-1),
        encode("bne", rs1=T0, rs2=0, off=-8),
        encode("jal", rd=0, off=0),                 # 0x10 end
        encode("addi", rd=0, rs1=0, imm=0),
        encode("addi", rd=0, rs1=0, imm=0),
        encode("addi", rd=0, rs1=0, imm=0),
        encode("add", rd=A0, rs1=A0, rs2=A1),       # 0x20 F
        encode("addi", rd=A1, rs1=A1, imm=1),
        encode("jalr", rd=0, rs1=RA, imm=0),
    ]


def test_calls_and_returns_stay_in_native_code():
    ref, jit, eng = run_both(USER, calls_in_a_loop(), hot=2, limit=200 * 6 + 1)
    assert_same(ref, jit)
    assert jit["x"][A0] == sum(range(200))
    assert eng.stats.ic_hits > 150 and eng.stats.cold_returns < 10


def test_a_branch_to_code_translated_later_is_chained():
    """The loop is translated before its second-half path T has run, so the
    branch to T leaves the region through a chain slot; once T has a
    translation of its own the slot points at it and the loop goes to T
    region to region, without the dispatcher (T jumps back to the loop
    header by jalr: T's region does not take the loop in)."""
    A2, T1 = 12, 6
    words = [
        encode("addi", rd=T0, rs1=0, imm=300),
        encode("addi", rd=T0, rs1=T0, imm=-1),      # 0x04 loop
        encode("blt", rs1=T0, rs2=T1, off=0x1c - 0x08),
        encode("addi", rd=A0, rs1=A0, imm=1),
        encode("jal", rd=0, off=0x14 - 0x10),
        encode("bne", rs1=T0, rs2=0, off=0x04 - 0x14),   # 0x14 next
        encode("jal", rd=0, off=0),
        encode("addi", rd=A2, rs1=A2, imm=1),       # 0x1c T
        encode("beq", rs1=T0, rs2=0, off=0x28 - 0x20),
        encode("jalr", rd=0, rs1=RA, imm=0),
        encode("jal", rd=0, off=0),                 # 0x28 end
    ]
    ref, jit, eng = run_both(USER, words, hot=2, regs={T1: 150, RA: USER.code + 0x04}, limit=1500)
    assert_same(ref, jit)
    assert (jit["x"][A0], jit["x"][A2]) == (150, 150)
    assert eng.stats.chain_hits > 0


def if_else_in_a_loop() -> list[int]:
    """300 iterations of a loop whose body is a forward if/else: odd t0
    adds 3 to a0, even t0 adds 5 to a2."""
    A2 = 12
    return [
        encode("addi", rd=T0, rs1=0, imm=300),
        encode("andi", rd=A1, rs1=T0, imm=1),       # 0x04 loop
        encode("beq", rs1=A1, rs2=0, off=12),
        encode("addi", rd=A0, rs1=A0, imm=3),       # 0x0c then
        encode("jal", rd=0, off=8),
        encode("addi", rd=A2, rs1=A2, imm=5),       # 0x14 else
        encode("addi", rd=T0, rs1=T0, imm=-1),      # 0x18 join
        encode("bne", rs1=T0, rs2=0, off=-24),
        encode("jal", rd=0, off=0),                 # 0x20 end
    ]


def test_hot_loop_with_if_else_body_is_one_region():
    ref, jit, eng = run_both(USER, if_else_in_a_loop(), hot=8, limit=300 * 6 + 1)
    assert_same(ref, jit)
    assert (jit["x"][A0], jit["x"][12]) == (150 * 3, 150 * 5)
    loop = [info for info in eng.cache.regions.values() if USER.code + 0x04 in info.starts]
    assert len(loop) == 1
    body = {USER.code + off for off in (0x0c, 0x14, 0x18)}
    assert body <= loop[0].starts
    assert not body & {vpc for vpc, _, _ in eng.cache.regions}   # and not translated again
    # the loop never leaves its region: no jump between regions per iteration
    assert eng.stats.chain_hits < 10


def test_misaligned_loads_take_the_fast_path_with_the_same_result():
    words = [
        encode("addi", rd=T0, rs1=0, imm=50),
        encode("ld", rd=A1, rs1=T2, imm=3),         # 0x04 loop: misaligned
        encode("add", rd=A0, rs1=A0, rs2=A1),
        encode("lw", rd=A1, rs1=T2, imm=1),
        encode("add", rd=A0, rs1=A0, rs2=A1),
        encode("addi", rd=T0, rs1=T0, imm=-1),
        encode("bne", rs1=T0, rs2=0, off=-20),
        encode("jal", rd=0, off=0),
    ]
    data = bytes(range(0x81, 0x91))
    ref, jit, _ = run_both(USER, words, hot=2, regs={T2: USER.data}, mem={USER.data: data}, limit=400)
    assert_same(ref, jit)
    expect = 50 * (int.from_bytes(data[3:11], "little") + int.from_bytes(data[1:5], "little", signed=True))
    assert jit["x"][A0] == expect % (1 << 64)


def test_second_run_loads_objects_from_the_disk_cache(tmp_path):
    runs = [run_both(USER, calls_in_a_loop(), hot=2, limit=1201, disk_cache=tmp_path) for _ in range(2)]
    (ref1, jit1, first), (ref2, jit2, second) = runs
    assert_same(ref1, jit1)
    assert_same(ref2, jit2)
    assert first.stats.disk_hits == 0 and list(tmp_path.glob("*/jit-*.btc"))
    assert second.stats.disk_hits == first.stats.batches > 0


def test_no_disk_cache_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("BT_VMM_CACHE", "off")
    from bt_vmm.engines.diskcache import default_directory
    assert default_directory() is None
    _, _, eng = run_both(USER, calls_in_a_loop(), hot=2, limit=1201, disk_cache=None)
    assert eng.stats.batches > 0 and eng.stats.disk_hits == 0


def recursion_in_a_loop() -> list[int]:
    """t0 times: call R(10), which calls itself down to 0 (a1 counts the
    calls; the return address lives on the stack at sp)."""
    sp, t0, a0, a1 = 2, 5, 10, 11
    return [
        encode("addi", rd=t0, rs1=0, imm=30),
        encode("addi", rd=a0, rs1=0, imm=10),        # 0x04 loop
        encode("jal", rd=RA, off=0x18 - 0x08),      # 0x08
        encode("addi", rd=t0, rs1=t0, imm=-1),
        encode("bne", rs1=t0, rs2=0, off=-12),
        encode("jal", rd=0, off=0),                 # 0x14 end
        encode("beq", rs1=a0, rs2=0, off=0x38 - 0x18),   # 0x18 R
        encode("addi", rd=sp, rs1=sp, imm=-16),
        encode("sd", rs1=sp, rs2=RA, imm=0),
        encode("addi", rd=a0, rs1=a0, imm=-1),
        encode("addi", rd=a1, rs1=a1, imm=1),
        encode("jal", rd=RA, off=0x18 - 0x2C),      # 0x2c
        encode("ld", rd=RA, rs1=sp, imm=0),         # 0x30 the return site
        encode("addi", rd=sp, rs1=sp, imm=16),
        encode("jalr", rd=0, rs1=RA, imm=0),        # 0x38
    ]


def test_returns_to_a_call_site_inside_the_region_stay_in_it():
    """R's returns to itself are cases of its region's own switch, not
    exits through the indirect-jump cache (only those to the loop are)."""
    ref, jit, eng = run_both(USER, recursion_in_a_loop(), hot=40, regs={2: USER.data + 0x1000},
                             ranges=[(USER.data, 0x1000)], limit=30 * 100 + 50)
    assert_same(ref, jit)
    assert jit["x"][11] == 300
    assert eng.stats.ic_hits <= 30   # each of the 300 returns would be one, were R's not in its region
    assert any(USER.code + 0x30 in info.entry_points for info in eng.cache.regions.values())


def test_a_loop_bigger_than_a_region_is_not_translated_again_from_each_entry():
    """A 300-instruction loop body: its first region is cut at the size cap,
    so its exit leads to a second region, whose own exit lands inside the
    first's code.  The region from there is a bridge: it runs to the
    first region's entry and chains there, instead of copying the loop
    once more (and being cut short again, at another entry: copying alone
    translated 2048 instructions for this loop)."""
    body = 300
    words = [encode("addi", rd=T0, rs1=0, imm=30)] + [encode("addi", rd=A0, rs1=A0, imm=1)] * body + [
        encode("addi", rd=T0, rs1=T0, imm=-1),
        encode("bne", rs1=T0, rs2=0, off=-4 * (body + 1)),
        encode("jal", rd=0, off=0),
    ]
    ref, jit, eng = run_both(USER, words, hot=2, limit=30 * (body + 2) + 1)
    assert_same(ref, jit)
    assert jit["x"][A0] == 30 * body
    assert eng.cache.stats.guest_insns < 4 * body


def rotated_loop() -> list[int]:
    """gcc's loop shape: enter at the condition (t0 times round a1 += 1)."""
    return [
        encode("addi", rd=T0, rs1=0, imm=50),
        encode("jal", rd=0, off=0x10 - 0x04),       # 0x04: to the condition
        encode("addi", rd=A1, rs1=A1, imm=1),       # 0x08 the loop's header
        encode("addi", rd=T0, rs1=T0, imm=-1),
        encode("bne", rs1=T0, rs2=0, off=0x08 - 0x10),   # 0x10 the condition
        encode("jal", rd=0, off=0),                 # 0x14 end
    ]


def test_a_block_inside_a_translated_region_is_a_bridge_into_it():
    """The dispatcher reaching the condition of a rotated loop whose region
    is in (from the jump before it): the region from there runs to the
    loop's header and chains there, instead of being a second copy of the
    loop (qsort's insertion sort and partition loop were compiled twice)."""
    h, eng = ran_cold(rotated_loop(), limit=30)
    loop = translate_now(eng, USER.code + 0x08)
    assert eng.cache.covered[eng._key(USER.code + 0x10)] is loop
    bridge = translate_now(eng, USER.code + 0x10)
    assert bridge.instructions <= 2 and USER.code + 0x08 in bridge.chains
    ref, jit, eng = run_both(USER, rotated_loop(), hot=2, limit=200)
    assert_same(ref, jit)
    assert jit["x"][A1] == 50
