"""The ``bt-vmm`` command: a thin layer over bt_vmm.api.

    bt-vmm run [options] PROGRAM [ARGS...]   run a guest; exit with its status
    bt-vmm disasm FILE                       objdump-style listing
    bt-vmm bench [options]                   benchmarks: engines vs qemu vs native

Whatever a guest or an input file does, the user sees one line
``bt-vmm: <message>``, never a traceback.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import re
import sys
from typing import Iterator, TextIO

from bt_vmm.engines import DEFAULT_ENGINE, compileserver
from bt_vmm.errors import VMMError

STATUS_USAGE = 2
STATUS_INTERRUPTED = 130
STATUS_INTERNAL = 3
_SIZE_RE = re.compile(r"^(\d+)([kKmMgG]?)(i?[bB])?$")


def parse_size(text: str) -> int:
    """'128M', '4G', '65536' -> bytes (binary units)."""
    m = _SIZE_RE.match(text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r} (use e.g. 128M, 4G)")
    return int(m.group(1)) << {"": 0, "k": 10, "m": 20, "g": 30}[m.group(2).lower()]


def _positive_int(text: str) -> int:
    value = int(text, 0)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value


def _parser(argv: list[str]) -> argparse.ArgumentParser:
    from bt_vmm.debug.trace import KINDS
    from bt_vmm.engines import ENGINE_NAMES

    parser = argparse.ArgumentParser(prog="bt-vmm", description="A RISC-V (RV64GC) virtual machine monitor.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a static riscv64 Linux program or a bare-metal (tohost) ELF")
    run.add_argument("--engine", choices=sorted(ENGINE_NAMES), default=DEFAULT_ENGINE)
    run.add_argument("--max-insns", type=_positive_int, metavar="N", help="stop after N instructions")
    run.add_argument("--timeout", type=_positive_float, metavar="S", help="stop after S seconds")
    run.add_argument("--trace", metavar="KINDS", default="", help=f"comma-separated: {','.join(KINDS)}")
    run.add_argument("--trace-file", metavar="F", help="write the trace to F (default: stderr)")
    run.add_argument("--stats", action="store_true", help="print instructions, time and MIPS on exit")
    run.add_argument("--tb-size", type=parse_size, metavar="SIZE",
                     help="JIT translation cache limit (e.g. 32M); flushed when full")
    run.add_argument("--stats-json", metavar="F", help="write the --stats figures to F as JSON")
    run.add_argument("--memory", type=parse_size, metavar="SIZE", help="guest RAM (default 128M bare metal)")
    run.add_argument("program", metavar="PROGRAM")
    run.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="the guest's arguments")

    dis = sub.add_parser("disasm", help="disassemble an ELF file like objdump -d")
    dis.add_argument("file", metavar="FILE")

    bench = sub.add_parser("bench", help="run the bundled benchmarks on every engine, qemu and native")
    if argv[:1] == ["bench"]:   # (its options only for it: importing bt_vmm.bench is start-up time)
        from bt_vmm.bench import add_arguments

        add_arguments(bench)
    return parser


def _error(message: str) -> None:
    sys.stderr.write(f"bt-vmm: {message}\n")
    sys.stderr.flush()


@contextlib.contextmanager
def _trace_stream(path: str | None) -> Iterator[TextIO]:
    """The trace destination, buffered: tracing writes a line per instruction."""
    if path is None:
        stream = open(sys.stderr.fileno(), "w", buffering=1 << 16, closefd=False)
    else:
        try:
            stream = open(path, "w", buffering=1 << 16)
        except OSError as exc:
            raise VMMError(f"cannot write trace file {path}: {exc.strerror}") from None
    try:
        yield stream
    finally:
        stream.close()


def _engine_options(args: argparse.Namespace) -> dict:
    if args.tb_size is None:
        return {}
    if args.engine != "jit":
        raise VMMError("--tb-size applies to the JIT engine (--engine jit)")
    return {"tb_size": args.tb_size}


def cmd_run(args: argparse.Namespace) -> int:
    from bt_vmm import api
    from bt_vmm.debug.stats import print_stats, run_stats
    from bt_vmm.debug.trace import TRACER_KINDS, Tracer, parse_kinds, program_symbols

    kinds = parse_kinds(args.trace)
    with contextlib.ExitStack() as stack:
        stream = stack.enter_context(_trace_stream(args.trace_file)) if kinds else None
        tracer = Tracer(kinds, stream) if kinds & set(TRACER_KINDS) else None
        vm = api.open(
            args.program, [args.program, *args.args], engine=args.engine, memory=args.memory,
            tracer=tracer, syscall_trace=stream if "syscalls" in kinds else None,
            engine_options=_engine_options(args),
        )
        stack.callback(vm.close, wait=False)   # the process ends next: no translation matters now
        if tracer is not None:
            tracer.attach(vm.hart, program_symbols(vm.machine.program.symbols))
        # What is alive now lives to the end: keep it out of the collector's
        # full passes (the JIT allocates heaps of short-lived IR objects).
        gc.freeze()
        result = vm.run(max_insns=args.max_insns, timeout=args.timeout)
        if stream is not None:
            stream.flush()
        if result.message:
            _error(result.message)
        if args.stats or args.stats_json:
            stats = run_stats(result, vm.machine.engine)
            if args.stats:
                print_stats(stats, sys.stderr)
            if args.stats_json:
                _write_json(args.stats_json, stats)
        return result.status


def _write_json(path: str, data: dict) -> None:
    try:
        with open(path, "w") as fh:
            json.dump(data, fh, indent=1)
    except OSError as exc:
        raise VMMError(f"cannot write {path}: {exc.strerror}") from None


def cmd_disasm(args: argparse.Namespace) -> int:
    from bt_vmm.isa.disasm import listing

    out = sys.stdout
    try:
        for line in listing(args.file):
            out.write(line + "\n")
        out.flush()
    except BrokenPipeError:  # `bt-vmm disasm x | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from bt_vmm.bench import main

    return main(args)


COMMANDS = {"run": cmd_run, "disasm": cmd_disasm, "bench": cmd_bench}


def _will_compile(argv: list[str]) -> bool:
    """Will the command compile guest code (run it on the JIT)?  A guess from
    its words, before the parser's imports: it only starts LLVM's compile
    server sooner (the JIT starts it anyway)."""
    if argv[:1] != ["run"]:
        return False
    for i, word in enumerate(argv):
        if word == "--trace" or word.startswith("--trace="):
            return False   # (the reference interpreter runs traced programs)
        if word.startswith("--engine"):
            return (word.partition("=")[2] or " ".join(argv[i + 1:i + 2])) == "jit"
    return DEFAULT_ENGINE == "jit"


def _start_compiler(argv: list[str], server: compileserver.CompileServer) -> str | None:
    """Start LLVM's compile server now (it loads on another core while the
    VMM starts) for a run on the JIT, unless the same command line ran to
    its end on this disk cache before: its code is on disk, and the server
    loading LLVM next to the guest would only slow it (nqueens and intmix
    ~1.5%); the first compile, if any, starts it.  The disk cache's key
    marking this command line as run (see _ran)."""
    if not _will_compile(argv):
        return None
    from bt_vmm.engines.diskcache import DiskCache, default_directory

    try:
        where = os.getcwd()
    except OSError:   # (removed under the command: relative paths name nothing then)
        where = ""
    disk = DiskCache(default_directory())
    key = disk.key("ran", where, *argv)
    server.deferred = disk.get(key) is not None
    server.start()
    return key


def _ran(key: str | None) -> None:
    from bt_vmm.engines.diskcache import DiskCache, default_directory

    if key is not None:
        DiskCache(default_directory()).put(key, b"")


def main(argv: list[str] | None = None) -> int:
    try:
        words = sys.argv[1:] if argv is None else argv
        ran = _start_compiler(words, compileserver.shared())
        args = _parser(words).parse_args(words)
        status = COMMANDS[args.command](args)
        if args.command == "run" and status != STATUS_INTERRUPTED:
            _ran(ran)
        return status
    except VMMError as exc:
        _error(str(exc))
        return exc.exit_status
    except KeyboardInterrupt:
        _error("interrupted")
        return STATUS_INTERRUPTED
    except Exception as exc:  # a VMM bug: still one line, the traceback on request
        if os.environ.get("BT_VMM_TRACEBACK"):
            raise
        _error(f"internal error: {type(exc).__name__}: {exc} (set BT_VMM_TRACEBACK=1 for details)")
        return STATUS_INTERNAL


def command() -> None:
    """The bt-vmm command: main(), then leave without tearing the interpreter
    down (freeing every object and module costs 10-20 ms, and a translation
    still in flight on the compile thread is of no use any more)."""
    code = main()
    compileserver.shared().stop()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):   # a closed pipe: nothing left to say
        pass
    os._exit(code)


if __name__ == "__main__":
    command()
