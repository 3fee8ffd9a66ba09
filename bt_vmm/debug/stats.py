"""``--stats``: how much guest code ran, how fast, and what the engine did."""
from __future__ import annotations

from typing import TextIO

from bt_vmm.machines.base import RunResult


def engine_stats(engine) -> dict[str, float | int]:
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
