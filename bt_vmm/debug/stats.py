"""``--stats``: how much guest code ran, how fast, and what the engine did."""
from __future__ import annotations

from typing import TextIO

from bt_vmm._core import lib
from bt_vmm.cpu.callouts import callout_counts
from bt_vmm.machines.base import RunResult


def engine_stats(engine) -> dict[str, float | int | str]:
    """An engine's own counters, if it keeps any (the JIT: compile times, caches)."""
    stats = getattr(engine, "stats", None)
    summary = getattr(stats, "summary", None)
    return dict(summary()) if callable(summary) else {}


def run_stats(result: RunResult, engine) -> dict[str, float | int | str]:
    rows: dict[str, float | int | str] = {
        "engine": getattr(engine, "name", type(engine).__name__),
        "instructions": result.instructions,
        "time (s)": round(result.seconds, 4),
        "MIPS": round(result.mips, 3),
    }
    rows.update(engine_stats(engine))
    rows.update(hart_stats(getattr(engine, "hart", None), result.instructions))
    return rows


def hart_stats(hart, instructions: int) -> dict[str, float | int]:
    """What every engine counts in the hart: TLB misses (system machines: a
    page walk, or an access the TLB does not cache such as MMIO; generated
    code counts no hits, which stay off its fast path), and callouts by kind."""
    if hart is None:
        return {}
    h = hart.ptr
    rows: dict[str, float | int] = {}
    if h.machine_kind == lib.MACHINE_SYSTEM:
        rows["TLB misses"] = h.stat_tlb_misses
        rows["TLB misses per 1,000 instructions"] = round(1000 * h.stat_tlb_misses / max(1, instructions), 3)
    rows.update({f"callouts: {name}": n for name, n in callout_counts(h).items()})
    return rows


def print_stats(rows: dict[str, float | int | str], out: TextIO) -> None:
    """A two-column table (plain text when ``out`` is not a terminal)."""
    from rich.console import Console   # (not imported for --stats-json alone: start-up time)
    from rich.table import Table

    table = Table(title="bt-vmm --stats", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    for key, value in rows.items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    Console(file=out, highlight=False).print(table)
