"""LLVM's compile server (engines/compileserver.py): it compiles what LLVM
compiles in the VMM's process; its failures come back as one clear error
and never take the VMM down."""
import sys

import pytest

from bt_vmm._core import ffi
from bt_vmm.cli import _ran, _start_compiler, _will_compile
from bt_vmm.engines import compileserver
from bt_vmm.engines.compileserver import CompileError, CompileServer
from bt_vmm.engines.llvmsetup import compile_region
from bt_vmm.engines.native import NativeObject

from .common import USER, counting_loop, run_both

TWICE = "define i64 @twice(i64 %a) {\n  %b = shl i64 %a, 1\n  ret i64 %b\n}\n"


@pytest.fixture
def server():
    server = CompileServer()
    yield server
    server.stop()


def _twice(obj: bytes) -> int:
    code = NativeObject(obj)
    try:
        return ffi.cast("int64_t(*)(int64_t)", code.address("twice"))(21)
    finally:
        code.close()


def test_the_server_compiles_what_llvm_compiles_here(server):
    obj = server.compile("m", TWICE, 1)
    assert server._proc is not None and server._proc.poll() is None   # (it ran in the server)
    assert obj == compile_region("m", TWICE, 1)
    assert _twice(obj) == 42


def test_an_llvm_error_comes_back_and_the_server_goes_on(server):
    with pytest.raises(CompileError, match="(?s)cannot compile bad: .*error: expected type"):
        server.compile("bad", "define i64 @f( {", 1)
    pid = server._proc.pid
    assert _twice(server.compile("m", TWICE, 2)) == 42
    assert server._proc.pid == pid


def test_a_server_that_stopped_is_started_again(server):
    server.compile("m", TWICE, 1)
    first = server._proc
    first.kill()
    first.wait()
    assert _twice(server.compile("m", TWICE, 1)) == 42
    assert server._proc is not first


def test_a_server_that_dies_on_a_module_fails_it_with_the_reason(server, monkeypatch):
    """(LLVM aborting on a module: the server's exit and last words)"""
    dies = [sys.executable, "-c", "import sys; sys.stdin.read(1); sys.exit('LLVM ERROR: no good')"]
    monkeypatch.setattr(compileserver, "_command", lambda: dies)
    with pytest.raises(CompileError, match="stopped while compiling m: exit status 1; LLVM ERROR: no good"):
        server.compile("m", TWICE, 1)


def test_the_jit_compiles_through_the_shared_server(server, monkeypatch):
    compiled = []
    compile_there = server.compile
    monkeypatch.setattr(server, "compile", lambda name, text, level: compiled.append(name) or compile_there(name, text, level))
    monkeypatch.setattr(compileserver, "shared", lambda: server)
    ref, jit, eng = run_both(USER, counting_loop(), regs={7: USER.data}, limit=5000)
    assert jit == ref
    assert compiled and len(compiled) == eng.stats.regions


@pytest.mark.parametrize("how", ["environment", "no python"])
def test_without_a_server_llvm_compiles_here(how, monkeypatch):
    if how == "environment":
        monkeypatch.setenv("BT_VMM_COMPILE_SERVER", "0")
    else:
        monkeypatch.setattr(compileserver, "_command", lambda: ["/nonexistent/python"])
    server = CompileServer()
    assert _twice(server.compile("m", TWICE, 1)) == 42
    assert server._proc is None and not server.enabled


def test_a_stopped_server_leaves_compiling_here(server):
    server.compile("m", TWICE, 1)
    proc = server._proc
    server.stop()
    assert proc.poll() is not None
    assert _twice(server.compile("m", TWICE, 1)) == 42
    assert server._proc is proc   # (not started again)


@pytest.mark.parametrize("words, compiles", [
    (["run", "prog"], True),
    (["run", "--engine", "jit", "prog", "--engine", "interp"], True),
    (["run", "--engine=interp", "prog"], False),
    (["run", "--trace", "in_asm", "prog"], False),
    (["disasm", "prog"], False),
])
def test_the_command_starts_the_server_early_for_a_jit_run(words, compiles):
    assert _will_compile(words) == compiles


def test_a_command_line_that_ran_before_starts_the_server_only_to_compile(tmp_path, monkeypatch):
    """(its code is on disk: LLVM loading next to the guest would only slow it)"""
    monkeypatch.setenv("BT_VMM_CACHE", str(tmp_path))
    words = ["run", "prog.elf", "7"]
    servers = [CompileServer(), CompileServer(), CompileServer()]
    try:
        key = _start_compiler(words, servers[0])
        assert servers[0]._proc is not None
        _ran(key)
        assert _start_compiler(["run", "prog.elf", "8"], servers[1]) != key and servers[1]._proc is not None
        assert _start_compiler(words, servers[2]) == key
        assert servers[2]._proc is None
        assert _twice(servers[2].compile("m", TWICE, 1)) == 42 and servers[2]._proc is not None
    finally:
        for server in servers:
            server.stop()
