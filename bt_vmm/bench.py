"""``bt-vmm bench``: the bundled guest programs on every engine, qemu-riscv64
and the host-native build, side by side in one run.

Every runner is timed as a whole process (wall clock: start-up, loading and
compilation included) on the same binary and size, --repeat times in
interleaved rounds, keeping each runner's fastest.  bt-vmm's engines report
the guest instructions they retired; qemu's and native's MIPS use the count
bt-vmm measured for the same binary and arguments.  The outputs (a checksum
line) must agree, or the row is flagged.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

GUESTS = pathlib.Path(__file__).resolve().parent / "guests"
SOURCES = GUESTS / "src"
# --system: the integer programs built bare-metal (M-mode, HTIF), each
# size built in and named in the file (guests/rebuild.sh): NAME-SIZE.elf,
# run by the system VM and by qemu-system-riscv64 -M spike.
BARE = GUESTS / "bare"
BARE_MEMORY = "128M"
QEMU_SYSTEM = ["-M", "spike", "-bios", "none", "-nographic", "-m", BARE_MEMORY, "-kernel"]
# Same flags as guests/rebuild.sh, so both builds compute the same checksums.
NATIVE_FLAGS = ["-O2", "-ffp-contract=off"]

# Three workloads per program, one per engine speed class (each engine
# declares its class as ``bench_workload``; qemu and native run every size
# that is run, so each row is compared at the same size).  "small": about 3.5
# million guest instructions, a few seconds in the reference interpreter
# (~1 MIPS); "medium": about 15 times more, for the fast interpreter tier;
# "large": qemu-riscv64 takes about a second, long enough for whole-process
# times (start-up and compilation included) to mean something.
SIZES = {
    "small": {"intmix": 300, "sha256": 36, "qsort": 25000, "nqueens": 10, "matmul": 70, "nbody": 5000},
    "medium": {"intmix": 4500, "sha256": 540, "qsort": 350000, "nqueens": 12, "matmul": 170,
               "nbody": 75000},
    "large": {"intmix": 200000, "sha256": 120000, "qsort": 10000000, "nqueens": 14, "matmul": 1000,
              "nbody": 1000000},
}
PROGRAMS = list(SIZES["small"])
FIRST_RUN = "jit-first"   # the runner name of the JIT's first runs (--first-run)
INTEGER = ("intmix", "sha256", "qsort", "nqueens", "matmul")


@dataclass
class Measurement:
    runner: str          # an engine name, "qemu" or "native"
    seconds: float
    output: str
    status: int
    instructions: int = 0            # retired guest instructions (engines only)
    engine_stats: dict = field(default_factory=dict)


@dataclass
class ProgramResult:
    program: str
    size: int
    runs: list[Measurement]

    @property
    def instructions(self) -> int:
        """The guest instruction count, from the first engine that ran it."""
        return next((m.instructions for m in self.runs if m.instructions), 0)

    def get(self, runner: str) -> Measurement | None:
        return next((m for m in self.runs if m.runner == runner), None)

    def mips(self, m: Measurement) -> float:
        return self.instructions / m.seconds / 1e6 if m.seconds > 0 else 0.0

    @property
    def expected_output(self) -> str:
        native = self.get("native")
        return native.output if native else self.runs[0].output


def guest_path(program: str) -> pathlib.Path:
    return GUESTS / f"{program}.elf"


def bare_guests(programs: list[str]) -> list[tuple[str, int, pathlib.Path]]:
    """(program, size, ELF) of the bare-metal builds of ``programs``."""
    found = []
    for path in sorted(BARE.glob("*.elf")):
        name, _, size = path.stem.rpartition("-")
        if name in programs and size.isdigit():
            found.append((name, int(size), path))
    return found


def run_engine(engine: str, program: str, size: int, workdir: pathlib.Path,
               cache: pathlib.Path | None = None, label: str | None = None,
               guest: list[str] | None = None) -> Measurement:
    """One whole ``bt-vmm run`` process: its wall time includes Python start-up,
    loading and compilation, like qemu's and native's.  ``cache``: the disk
    cache it uses instead of the default one; ``label``: its runner name;
    ``guest``: what follows the options (default: the program's Linux build
    and its size)."""
    label = label or engine
    stats_file = workdir / f"{program}.{label}.json"
    cmd = [sys.executable, "-m", "bt_vmm", "run", "--engine", engine, "--stats-json", str(stats_file),
           *(guest or [str(guest_path(program)), str(size)])]
    m = run_process(label, cmd, {"BT_VMM_CACHE": str(cache)} if cache else {})
    if m.status == 0:
        stats = json.loads(stats_file.read_text())
        m.instructions = stats.pop("instructions")
        m.engine_stats = stats
    return m


def run_first(program: str, size: int, workdir: pathlib.Path, guest: list[str] | None = None) -> Measurement:
    """The JIT's first run of a program: no translations on disk.  Its cache
    is a fresh directory seeded with the fast tier's handlers, stencils and
    pre-decoding tables (its "fast" kinds), which depend on the bt-vmm
    version alone (not on the program) and are not the JIT's compilation."""
    from bt_vmm.engines.diskcache import DiskCache, default_directory
    from bt_vmm.engines.fast.compiler import DISK_KIND

    with tempfile.TemporaryDirectory(dir=workdir) as cache:
        DiskCache(default_directory()).copy_kind(DISK_KIND, pathlib.Path(cache))
        return run_engine("jit", program, size, workdir, pathlib.Path(cache), FIRST_RUN, guest)


def run_process(runner: str, cmd: list[str], env: dict[str, str] | None = None) -> Measurement:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={"PATH": os.environ.get("PATH", ""), **(env or {})})
    return Measurement(runner, time.perf_counter() - t0, proc.stdout, proc.returncode)


def build_native(program: str, workdir: pathlib.Path) -> pathlib.Path | None:
    """The host build of a benchmark (None without a host C compiler)."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        return None
    exe = workdir / f"{program}.native"
    subprocess.run([cc, *NATIVE_FLAGS, "-o", str(exe), str(SOURCES / f"{program}.c"), "-lm"], check=True)
    return exe


def bench_program(
    program: str, size: int, engines: list[str], workdir: pathlib.Path, qemu: str | None, native: bool,
    repeat: int = 1, first_run: bool = False,
) -> ProgramResult:
    """Every runner ``repeat`` times, in interleaved rounds (so a noisy
    moment on a shared machine hits them alike); each keeps its fastest
    run, and a failed run if any failed.  ``first_run``: the JIT's first
    run too (see run_first)."""
    exe = build_native(program, workdir) if native else None
    runners: list[Callable[[], Measurement]] = [partial(run_engine, e, program, size, workdir) for e in engines]
    if first_run:
        runners.append(partial(run_first, program, size, workdir))
    if qemu:
        runners.append(partial(run_process, "qemu", [qemu, str(guest_path(program)), str(size)]))
    if exe is not None:
        runners.append(partial(run_process, "native", [str(exe), str(size)]))
    return _interleaved(program, size, runners, repeat)


def bench_bare(program: str, size: int, elf: pathlib.Path, workdir: pathlib.Path, qemu_system: str | None,
               repeat: int = 1, first_run: bool = False) -> ProgramResult:
    """A bare-metal build on the system VM's JIT (and its first run) and on
    qemu-system-riscv64 (runner "qemu"), as bench_program does."""
    guest = ["--memory", BARE_MEMORY, str(elf)]
    runners: list[Callable[[], Measurement]] = [partial(run_engine, "jit", program, size, workdir, guest=guest)]
    if first_run:
        runners.append(partial(run_first, program, size, workdir, guest))
    if qemu_system:
        runners.append(partial(run_process, "qemu", [qemu_system, *QEMU_SYSTEM, str(elf)]))
    return _interleaved(program, size, runners, repeat)


def _interleaved(program: str, size: int, runners: list[Callable[[], Measurement]], repeat: int) -> ProgramResult:
    rounds = [[run() for run in runners] for _ in range(max(1, repeat))]
    return ProgramResult(program, size, [_best(list(tries)) for tries in zip(*rounds)])


def _best(tries: list[Measurement]) -> Measurement:
    failed = [m for m in tries if m.status != 0]
    return failed[0] if failed else min(tries, key=lambda m: m.seconds)


# --- reporting ---

def _ratio(a: Measurement | None, b: Measurement | None) -> str:
    """How many times longer ``a`` took than ``b``."""
    if a is None or b is None or b.seconds <= 0:
        return "-"
    ratio = a.seconds / b.seconds
    # (two decimals where they matter: 0.95x is not 1.0x)
    return f"{ratio:.2f}x" if ratio < 10 else f"{ratio:.1f}x" if ratio < 1000 else f"{ratio:.0f}x"


def _compile_seconds(m: Measurement) -> str:
    value = m.engine_stats.get("compile time total (s)")
    return "-" if value is None else f"{value:.3f}"


def table(results: list[ProgramResult], title: str = "bt-vmm bench: guest MIPS and time ratios (lower ratio is faster)"):
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    for col in ("program", "size", "guest insns", "runner", "seconds", "MIPS", "vs native", "vs qemu",
                "compile s", "output"):
        t.add_column(col, justify="left" if col in ("program", "runner", "output") else "right")
    for r in results:
        native, qemu = r.get("native"), r.get("qemu")
        for i, m in enumerate(r.runs):
            ok = m.status == 0 and m.output == r.expected_output
            t.add_row(
                r.program if i == 0 else "", str(r.size) if i == 0 else "",
                f"{r.instructions:,}" if i == 0 else "", m.runner, f"{m.seconds:.3f}",
                f"{r.mips(m):,.1f}", _ratio(m, native) if m is not native else "1.0x",
                _ratio(m, qemu) if m is not qemu else "1.0x", _compile_seconds(m),
                "ok" if ok else f"MISMATCH (status {m.status})",
            )
        t.add_section()
    return t


def markdown(results: list[ProgramResult]) -> str:
    """The same figures as a Markdown table (for the README)."""
    runners = list(dict.fromkeys(m.runner for r in results for m in r.runs))
    head = ["program", "guest insns"] + [f"{x} MIPS" for x in runners]
    engines = [x for x in runners if x not in ("qemu", "native")]
    head += [f"{x} vs native" for x in engines] + [f"{x} vs qemu" for x in engines]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        cells = [r.program, f"{r.instructions:,}"]
        cells += [f"{r.mips(m):,.1f}" if (m := r.get(x)) else "-" for x in runners]
        cells += [_ratio(r.get(x), r.get("native")) for x in engines]
        cells += [_ratio(r.get(x), r.get("qemu")) for x in engines]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(results: list[ProgramResult], path: str) -> bool:
    """A bar chart of MIPS per program and runner (needs matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    runners = list(dict.fromkeys(m.runner for r in results for m in r.runs))
    width = 0.8 / len(runners)
    fig, ax = plt.subplots(figsize=(max(10, 0.8 * len(results)), 5.5))
    for i, runner in enumerate(runners):
        values = [r.mips(m) if (m := r.get(runner)) else 0 for r in results]
        ax.bar([j + i * width for j in range(len(results))], values, width, label=runner)
    labels = [f"{r.program}\n{r.size:,}" for r in results]  # one group per program and size
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(results))], labels, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("guest MIPS (log scale)")
    ax.set_title("bt-vmm bench: whole-process guest MIPS, each runner at the engine's workload size")
    ax.legend(ncol=len(runners), loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


# --- the command ---

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engines", nargs="+", metavar="ENGINE", help="engines to run (default: all)")
    parser.add_argument("--programs", nargs="+", metavar="NAME", choices=PROGRAMS,
                        help=f"programs to run (default: all of {', '.join(PROGRAMS)})")
    parser.add_argument("--quick", action="store_true", help="about a tenth of the default sizes")
    parser.add_argument("--repeat", type=int, default=3, metavar="N",
                        help="run everything N times, interleaved, and keep each runner's fastest (default 3)")
    parser.add_argument("--size", type=float, default=1.0, metavar="SCALE",
                        help="scale the default sizes (not nqueens' board size)")
    parser.add_argument("--no-qemu", action="store_true", help="skip qemu-riscv64")
    parser.add_argument("--no-native", action="store_true", help="skip the host-native build")
    parser.add_argument("--first-run", action="store_true",
                        help=f"also time the JIT's first run of each program, with no translations on disk "
                             f"(runner {FIRST_RUN}; the large sizes)")
    parser.add_argument("--system", action="store_true",
                        help="also the system VM: the integer programs' bare-metal builds on the JIT and on "
                             "qemu-system-riscv64 -M spike")
    parser.add_argument("--plot", metavar="PNG", help="write a bar chart (needs matplotlib)")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")


def sizes_for(workload: str, quick: bool, scale: float) -> dict[str, int]:
    """The sizes of a workload; nqueens' board grows about 6x per square, so it
    is not scaled, only made two squares smaller by --quick."""
    scale = scale / 10 if quick else scale
    return {p: (n - 2 * quick) if p == "nqueens" else max(1, round(n * scale))
            for p, n in SIZES[workload].items()}


def engines_by_workload(engines: list[str]) -> dict[str, list[str]]:
    """Which engines run which workload (the reference interpreter: small)."""
    from bt_vmm.engines import ENGINES

    groups: dict[str, list[str]] = {workload: [] for workload in SIZES}
    for name in engines:
        groups[getattr(ENGINES[name], "bench_workload", "large")].append(name)
    return groups


def main(args: argparse.Namespace) -> int:
    from rich.console import Console

    from bt_vmm.engines import ENGINES
    from bt_vmm.errors import VMMError

    engines = args.engines or list(ENGINES)
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        raise VMMError(f"unknown engine {', '.join(unknown)}; choose from {', '.join(ENGINES)}")
    programs = args.programs or PROGRAMS
    qemu = None if args.no_qemu else shutil.which("qemu-riscv64")
    console = Console(stderr=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="bt-vmm-bench-") as tmp:
        for program in programs:
            for workload, group in engines_by_workload(engines).items():
                if not group:
                    continue
                size = sizes_for(workload, args.quick, args.size)[program]
                console.print(f"[dim]running {program} {size} on {', '.join(group)}...[/dim]")
                results.append(bench_program(program, size, group, pathlib.Path(tmp), qemu,
                                             not args.no_native, args.repeat,
                                             args.first_run and workload == "large"))
        system = []
        if args.system:
            qemu_system = None if args.no_qemu else shutil.which("qemu-system-riscv64")
            for program, size, elf in bare_guests(programs):
                console.print(f"[dim]running {program} {size} bare-metal...[/dim]")
                system.append(bench_bare(program, size, elf, pathlib.Path(tmp), qemu_system, args.repeat,
                                         args.first_run))
    out = Console(width=None if sys.stdout.isatty() else 160)  # no truncation in a pipe
    out.print(table(results))
    if system:
        out.print(table(system, "bt-vmm bench --system: bare-metal builds on the system VM's JIT and on "
                                "qemu-system-riscv64 -M spike (runner qemu)"))
    if args.markdown:
        print(markdown(results), flush=True)
        if system:
            print(markdown(system), flush=True)
    if args.plot:
        if plot(results, args.plot):
            out.print(f"plot written to {args.plot}")
        else:
            console.print("matplotlib is not installed: no plot (pip install matplotlib)")
    bad = [r.program for r in results + system for m in r.runs if m.status != 0 or m.output != r.expected_output]
    return 1 if bad else 0
