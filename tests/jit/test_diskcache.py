"""The one on-disk object cache (bt_vmm.engines.diskcache): keys, atomic
entries, corrupt files as misses, the size cap."""
from __future__ import annotations

import json
import os

from bt_vmm.engines import diskcache
from bt_vmm.engines.jit import replay
from bt_vmm.isa import encode
from bt_vmm.engines.diskcache import SUFFIX, DiskCache, default_directory

from .common import USER, assert_same, run_both
from .test_chaining import A0, A1, calls_in_a_loop


def test_round_trip_and_keys(tmp_path):
    cache = DiskCache(tmp_path)
    key = cache.key("jit", "O1", "some IR")
    assert key != cache.key("jit", "O2", "some IR") and key != cache.key("jit", "O1some IR")
    assert cache.get(key) is None
    cache.put(key, b"object code")
    assert cache.get(key) == b"object code"
    assert [p.relative_to(tmp_path).parts for p in tmp_path.rglob("*" + SUFFIX)] == [(key[4:6], key + SUFFIX)]


def test_truncated_or_corrupt_entries_are_misses(tmp_path):
    cache = DiskCache(tmp_path)
    for damage in (lambda b: b[:-3], lambda b: b[:-1] + bytes([b[-1] ^ 1]), lambda b: b""):
        key = cache.key("t", repr(damage))
        cache.put(key, b"x" * 100)
        path = cache._path(key)
        path.write_bytes(damage(path.read_bytes()))
        assert cache.get(key) is None and not path.exists()


def test_size_cap_drops_the_least_recently_used(tmp_path, monkeypatch):
    monkeypatch.setattr(diskcache, "PRUNE_INTERVAL", 0.0)
    monkeypatch.setattr(diskcache, "SHARD_DIGITS", 0)   # one directory: its share is the cap
    cache = DiskCache(tmp_path, max_bytes=2500)
    keys = [cache.key("t", str(i)) for i in range(4)]
    for i, key in enumerate(keys[:2]):
        cache.put(key, bytes(1000))
        os.utime(cache._path(key), (i, i))
    cache.get(keys[0])                 # used: now the newest
    cache.put(keys[2], bytes(1000))    # over the cap: keys[1] goes
    assert [cache.get(k) is not None for k in keys[:3]] == [True, False, True]


def test_directory_scanned_at_most_once_an_interval(tmp_path, monkeypatch):
    monkeypatch.setattr(diskcache, "SHARD_DIGITS", 0)
    cache = DiskCache(tmp_path, max_bytes=1500)
    keys = [cache.key("t", str(i)) for i in range(3)]
    cache.put(keys[0], bytes(1000))    # first put: scans (nothing to drop)
    cache.put(keys[1], bytes(1000))    # over the cap, but scanned moments ago
    assert all(cache.get(k) is not None for k in keys[:2])
    os.utime(tmp_path / diskcache._STAMP, (0, 0))   # the last scan was long ago
    cache.put(keys[2], bytes(1000))
    assert sum(cache.get(k) is not None for k in keys) == 1


def _same_shard(cache: DiskCache, n: int) -> list[str]:
    """``n`` keys whose entries share a subdirectory."""
    by_shard: dict[str, list[str]] = {}
    for i in range(100_000):
        key = cache.key("t", str(i))
        by_shard.setdefault(cache._path(key).parent.name, []).append(key)
        if len(by_shard[cache._path(key).parent.name]) == n:
            return by_shard[cache._path(key).parent.name]
    raise AssertionError("no shard filled")


def test_a_put_prunes_only_its_subdirectory_to_its_share(tmp_path, monkeypatch):
    monkeypatch.setattr(diskcache, "PRUNE_INTERVAL", 0.0)
    cache = DiskCache(tmp_path, max_bytes=256 * 2500)   # 2500 bytes a subdirectory
    a, b, c = _same_shard(cache, 3)
    others = [k for k in (cache.key("o", str(i)) for i in range(40)) if cache._path(k).parent != cache._path(a).parent]
    for key in others:
        cache.put(key, bytes(1000))
    for i, key in enumerate((a, b)):
        cache.put(key, bytes(1000))
        os.utime(cache._path(key), (i, i))
    cache.put(c, bytes(1000))    # its subdirectory is over its share: the oldest there goes
    assert [cache.get(k) is not None for k in (a, b, c)] == [False, True, True]
    assert all(cache.get(k) is not None for k in others)


def test_an_entry_larger_than_its_share_is_kept_once_written(tmp_path, monkeypatch):
    monkeypatch.setattr(diskcache, "PRUNE_INTERVAL", 0.0)
    cache = DiskCache(tmp_path, max_bytes=256 * 100)
    key = cache.key("t", "big")
    cache.put(key, bytes(1000))
    assert cache.get(key) == bytes(1000)


def test_entries_of_the_flat_layout_are_dropped(tmp_path, monkeypatch):
    monkeypatch.setattr(diskcache, "PRUNE_INTERVAL", 0.0)
    monkeypatch.setattr(diskcache, "LEGACY_BATCH", 2)
    legacy = [tmp_path / f"jit-{i:048x}{SUFFIX}" for i in range(3)]
    for path in legacy:
        path.write_bytes(b"old")
    cache = DiskCache(tmp_path)
    cache.put(cache.key("t", "1"), b"new")
    assert sum(p.exists() for p in legacy) == 1   # a batch at a time
    cache.put(cache.key("t", "2"), b"new")
    cache.put(cache.key("t", "3"), b"new")
    assert not any(p.exists() for p in legacy)


def test_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("BT_VMM_CACHE", "off")
    assert default_directory() is None
    monkeypatch.setenv("BT_VMM_CACHE", str(tmp_path))
    assert default_directory() == tmp_path


def test_jit_survives_a_corrupt_cache(tmp_path):
    run_both(USER, calls_in_a_loop(), hot=2, limit=1201, disk_cache=tmp_path)
    for p in tmp_path.glob("*/jit-*" + SUFFIX):
        p.write_bytes(p.read_bytes()[:40])
    ref, jit, eng = run_both(USER, calls_in_a_loop(), hot=2, limit=1201, disk_cache=tmp_path)
    assert_same(ref, jit)
    assert eng.stats.disk_hits == 0 and eng.stats.batches > 0


def test_stored_batch_is_not_used_for_different_code(tmp_path):
    """The same keys over other instructions: the stored translation's log
    no longer replays, so the batch is translated again (and right)."""
    words = calls_in_a_loop()
    run_both(USER, words, hot=2, limit=1201, disk_cache=tmp_path)
    words[8] = encode("sub", rd=A0, rs1=A0, rs2=A1)   # F subtracts instead of adding
    ref, jit, eng = run_both(USER, words, hot=2, limit=1201, disk_cache=tmp_path)
    assert_same(ref, jit)
    assert jit["x"][A0] == (-sum(range(200))) % (1 << 64)
    assert eng.stats.batches > 0 and eng.stats.disk_hits < eng.stats.batches


def test_unreadable_stored_batches_are_misses():
    assert replay.unpack(None) is None
    assert replay.unpack(b'{"log": [], "regions": [[[1, 1, 0], {"bogus": 1}]]}\nOBJ') is None
    assert replay.unpack(b"not json\nOBJ") is None
    assert replay.unpack(b'{"log": 5, "regions": []}\nOBJ') is None


def test_a_log_that_is_not_one_does_not_replay():
    from bt_vmm.engines.jit.region import RegionPlan
    plan = RegionPlan(0, 0, fetch=lambda vpc: (0x13, vpc), executed=lambda vpc: True)
    plans = {(0x1000, 0x1000, 0): plan}
    assert replay.same_code([[0, "fetch", [0x1000], [0x13, 0x1000]]], plans)
    for log in ([[0, "fetch", ["x"], None]], [[0, "fetch", [1, 2, 3], None]], [[3, "fetch", [1], None]],
                [[0, "__class__", [], None]], [[0, "fetch"]], [5]):
        assert not replay.same_code(log, plans)


def test_only_code_answers_decide_reuse():
    """Which blocks ran, where regions start and heat vary with timing; they
    shape a region but do not make its code wrong, so they do not block reuse."""
    from bt_vmm.engines.jit.region import RegionPlan
    plan = RegionPlan(0, 0, fetch=lambda vpc: (0x13, vpc), executed=lambda vpc: False)
    plans = {(0x1000, 0x1000, 0): plan}
    assert replay.same_code([[0, "fetch", [0x1000], [0x13, 0x1000]], [0, "executed", [0x1004], True]], plans)
    assert not replay.same_code([[0, "fetch", [0x1000], [0x33, 0x1000]]], plans)
    assert not replay.same_code([[0, "fetch", [0x1000], None]], plans)


def test_warm_run_takes_the_top_tier_from_the_disk_cache(tmp_path):
    """Once a region was optimised harder and stored, a later run starts
    with that version instead of compiling the first tier again."""
    words = calls_in_a_loop()
    _, _, first = run_both(USER, words, hot=2, limit=4801, disk_cache=tmp_path, tier_up=2)
    optimised = {key for key, info in first.cache.regions.items() if info.level == 2}
    assert optimised
    ref, jit, second = run_both(USER, words, hot=2, limit=4801, disk_cache=tmp_path, tier_up=2)
    assert_same(ref, jit)
    assert second.stats.disk_hits == second.stats.batches > 0
    assert {key for key, info in second.cache.regions.items() if info.level == 2} == optimised
    assert second.stats.batches == first.stats.batches - len(optimised)   # no tier-up builds


def test_a_stored_region_whose_object_does_not_load_is_translated_again(tmp_path):
    """An entry that is whole (its checksum holds) but whose machine code is
    not an object we can load: the region is compiled again, not a crash."""
    run_both(USER, calls_in_a_loop(), hot=2, limit=1201, disk_cache=tmp_path)
    cache = DiskCache(tmp_path)
    for path in tmp_path.glob("*/jit-*" + SUFFIX):
        key = path.name[:-len(SUFFIX)]
        log, regions, _ = replay.unpack(cache.get(key))
        cache.put(key, replay.pack(log, regions, b"\x7fELF not an object"))
    ref, jit, eng = run_both(USER, calls_in_a_loop(), hot=2, limit=1201, disk_cache=tmp_path)
    assert_same(ref, jit)
    assert eng.stats.disk_hits == 0 and eng.stats.batches > 0


def test_damaged_handler_entries_are_compiled_again(tmp_path, monkeypatch):
    from bt_vmm.engines.fast import compiler as handler_compiler
    monkeypatch.setenv("BT_VMM_CACHE", str(tmp_path))
    handler_compiler.HandlerCompiler().generic_handlers(False)
    cache = DiskCache(tmp_path)
    [path] = tmp_path.glob("*/" + handler_compiler.DISK_KIND + "-*" + SUFFIX)
    key = path.name[:-len(SUFFIX)]
    names, _ = handler_compiler._unpack(cache.get(key))
    cache.put(key, json.dumps(names).encode() + b"\n" + b"\x7fELF truncated")
    again = handler_compiler.HandlerCompiler()
    handlers = again.generic_handlers(False)
    assert not again.loaded_from_disk and all(handlers.values())
    third = handler_compiler.HandlerCompiler()   # the entry was stored again, whole
    assert third.generic_handlers(False) and third.loaded_from_disk
