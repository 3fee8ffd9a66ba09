"""The C core's loader of LLVM object code (csrc/objload.c, engines/native.py)."""
import struct

import pytest

from bt_vmm._core import ffi, lib
from bt_vmm.engines.llvmsetup import compile_region
from bt_vmm.engines.native import NativeObject
from bt_vmm.errors import VMMError

IR = """
@counter = global i64 41
@table = constant [3 x i64] [i64 10, i64 20, i64 30]
declare i64 @bt_jit_mode(ptr)
define i64 @bump() {
  %v = load i64, ptr @counter
  %n = add i64 %v, 1
  store i64 %n, ptr @counter
  ret i64 %n
}
define i64 @pick(i64 %i) {
  %p = getelementptr [3 x i64], ptr @table, i64 0, i64 %i
  %v = load i64, ptr %p
  ret i64 %v
}
define i64 @mode_of(ptr %h) {
  %m = call i64 @bt_jit_mode(ptr %h)
  ret i64 %m
}
"""


def _object(ir_text: str = IR) -> bytes:
    return compile_region("native_test", ir_text, 1)


def _call(obj: NativeObject, name: str, sig: str, *args):
    return ffi.cast(sig, obj.address(name))(*args)


def test_loaded_code_runs_with_its_data_and_calls_into_the_core():
    obj = NativeObject(_object())
    try:
        assert _call(obj, "bump", "int64_t(*)(void)") == 42
        assert _call(obj, "bump", "int64_t(*)(void)") == 43   # its data is writable
        assert [_call(obj, "pick", "int64_t(*)(int64_t)", i) for i in range(3)] == [10, 20, 30]
        hart = ffi.new("hart_t *")
        hart.priv = 3
        assert _call(obj, "mode_of", "int64_t(*)(hart_t *)", hart) == lib.bt_jit_mode(hart)
        assert obj.code_size > 0 and obj.address("no_such_symbol") == 0
    finally:
        obj.close()


def test_each_object_has_data_of_its_own():
    first, second = NativeObject(_object()), NativeObject(_object())
    try:
        _call(first, "bump", "int64_t(*)(void)")
        assert _call(second, "bump", "int64_t(*)(void)") == 42
    finally:
        first.close()
        second.close()


def test_an_undefined_symbol_is_a_clear_error():
    text = IR.replace("@bt_jit_mode", "@bt_no_such_helper")
    with pytest.raises(VMMError, match="undefined symbol bt_no_such_helper"):
        NativeObject(_object(text))


def _first_rela(obj: bytes) -> int:
    """File offset of the first relocation entry of the object."""
    shoff, = struct.unpack_from("<Q", obj, 0x28)
    shnum, = struct.unpack_from("<H", obj, 0x3C)
    for i in range(shnum):
        sh_type, = struct.unpack_from("<I", obj, shoff + 64 * i + 4)
        if sh_type == 4:   # SHT_RELA
            offset, = struct.unpack_from("<Q", obj, shoff + 64 * i + 24)
            return offset
    raise AssertionError("no relocations")


@pytest.mark.parametrize("damage, message", [
    (lambda o: b"", "not an x86-64 relocatable ELF object"),
    (lambda o: b"\x7fELF" + b"\0" * 100, "not an x86-64 relocatable ELF object"),
    (lambda o: o[:200], "bad section headers"),
    (lambda o: o[:0x12] + b"\xf3\x00" + o[0x14:], "not an x86-64 relocatable ELF object"),   # RISC-V
])
def test_a_malformed_object_is_an_error_not_a_crash(damage, message):
    with pytest.raises(VMMError, match=message):
        NativeObject(damage(_object()))


def test_an_unsupported_relocation_is_refused():
    obj = bytearray(_object())
    at = _first_rela(obj) + 8   # r_info: symbol << 32 | type
    struct.pack_into("<I", obj, at, 37)   # R_X86_64_IRELATIVE
    with pytest.raises(VMMError, match="unsupported relocation type 37"):
        NativeObject(bytes(obj))


def test_a_relocation_outside_its_section_is_refused():
    obj = bytearray(_object())
    struct.pack_into("<Q", obj, _first_rela(obj), 1 << 40)   # r_offset
    with pytest.raises(VMMError, match="relocation outside its section"):
        NativeObject(bytes(obj))


def _symbol_entry(obj: bytes, name: str) -> int:
    """File offset of the symbol table entry of ``name``."""
    shoff, = struct.unpack_from("<Q", obj, 0x28)
    shnum, = struct.unpack_from("<H", obj, 0x3C)
    headers = [struct.unpack_from("<IIQQQQIIQQ", obj, shoff + 64 * i) for i in range(shnum)]
    for _, sh_type, _, _, offset, size, link, _, _, entsize in headers:
        if sh_type == 2:   # SHT_SYMTAB
            strtab = headers[link][4]
            for at in range(offset, offset + size, entsize):
                st_name, = struct.unpack_from("<I", obj, at)
                if obj[strtab + st_name:].split(b"\0", 1)[0] == name.encode():
                    return at
    raise AssertionError(f"no symbol {name}")


def test_a_symbol_outside_its_section_has_no_address():
    obj = bytearray(_object())
    struct.pack_into("<Q", obj, _symbol_entry(obj, "bump") + 8, 1 << 40)   # st_value
    loaded = NativeObject(bytes(obj))
    try:
        assert loaded.address("bump") == 0 and loaded.address("pick") != 0
    finally:
        loaded.close()
