"""Reusing a region compiled by an earlier run without translating it again.

What the translator emits for a region is decided by its key, the plan
settings and the answers its plan gives while it works (the instruction
bits at each pc, which blocks have run, where other regions start, how hot
a block is).  Only the code answers decide whether the machine code is
correct for a run: the others shape the region (which blocks it holds,
where it chains on) and vary with timing from run to run.  So a compiled
region is stored in the disk cache with the log of the code it fetched,
and a later request for the same key and settings reuses it when its plan
fetches the same code at every pc in the log; no IR is built at all
(building it costs far more than LLVM's share on a warm cache).
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Callable

from bt_vmm.engines.jit.region import RegionInfo, RegionPlan

Key = tuple[int, int, int]
QUESTIONS = ("fetch", "executed", "entries", "heat")
SETTINGS = ("machine_kind", "mode", "ram_window", "store_window", "max_insns", "max_block")


def _plain(value: Any) -> Any:
    """The JSON form of an answer (tuples become lists)."""
    return [_plain(v) for v in value] if isinstance(value, (tuple, list)) else value


def signature(plans: dict[Key, RegionPlan]) -> str:
    """What besides the answers decides the batch: its keys and settings."""
    return json.dumps([[list(k), [getattr(p, s) for s in SETTINGS]] for k, p in plans.items()])


def recording(plans: dict[Key, RegionPlan], log: list) -> dict[Key, RegionPlan]:
    """The plans, each fetch they answer appended to ``log`` with its
    answer (the code questions: the only ones same_code looks at)."""
    def asking(index: int, fetch: Callable) -> Callable:
        def answer(*args):
            result = fetch(*args)
            log.append([index, "fetch", list(args), _plain(result)])
            return result
        return answer

    return {key: dataclasses.replace(plan, fetch=asking(i, plan.fetch)) for i, (key, plan) in enumerate(plans.items())}


def same_code(log: list, plans: dict[Key, RegionPlan]) -> bool:
    """Do ``plans`` fetch the code the log holds at each pc it fetched?  (A
    log that is not one, e.g. a damaged entry, does not.)"""
    ordered = list(plans.values())
    try:
        for index, question, args, answer in log:
            if not 0 <= index < len(ordered) or question not in QUESTIONS \
                    or not all(isinstance(a, int) for a in args):
                return False
            if question == "fetch" and _plain(ordered[index].fetch(*args)) != answer:
                return False
    except (TypeError, ValueError):
        return False
    return True


def pack(log: list, regions: dict[Key, RegionInfo], obj: bytes) -> bytes:
    described = [[list(key), {f.name: _described(getattr(info, f.name)) for f in dataclasses.fields(info)}]
                 for key, info in regions.items()]
    return json.dumps({"log": log, "regions": described}).encode() + b"\n" + obj


def unpack(entry: bytes | None) -> tuple[list, dict[Key, RegionInfo], bytes] | None:
    """(log, regions, object code) of a stored batch; None: unusable."""
    header, _, obj = (entry or b"").partition(b"\n")
    try:
        data = json.loads(header)
        regions = {tuple(key): _restored(fields) for key, fields in data["regions"]}
        return (data["log"], regions, obj) if obj and regions and isinstance(data["log"], list) else None
    except (ValueError, KeyError, TypeError):
        return None


def _described(value: Any) -> Any:
    return sorted(value) if isinstance(value, set) else _plain(value)


def _restored(fields: dict) -> RegionInfo:
    info = RegionInfo(**fields)
    for f in dataclasses.fields(info):
        value = getattr(info, f.name)
        if f.name in ("pages", "starts", "entry_points"):
            setattr(info, f.name, set(value))
        elif f.name == "code":
            info.code = [tuple(c) for c in value]
    return info
