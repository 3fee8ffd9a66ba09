"""cffi API-mode build of the C core (csrc/) into bt_vmm._core.

The declarations given to cffi are read from the same headers the C code
includes, so the hart layout and the helper signatures exist once.
"""
import pathlib
import re

from cffi import FFI

HERE = pathlib.Path(__file__).resolve().parent
# state.h and bt.h first: every other header builds on them.  Headers of
# inline C code (INTERNAL) are not an interface: cffi does not see them.
INTERNAL = ("jitcold.h",)
HEADERS = ["state.h", "bt.h"] + sorted(
    p.name for p in HERE.glob("*.h") if p.name not in ("state.h", "bt.h") + INTERNAL
)
SOURCES = sorted(str(p.relative_to(HERE.parent)) for p in HERE.glob("*.c"))


def _cdef_text(name: str) -> str:
    """A header without the preprocessor lines cffi cannot parse."""
    lines = (HERE / name).read_text().splitlines()
    keep = [l for l in lines if not re.match(r"\s*#\s*(ifndef|endif|include|define\s+BT_\w+_H)", l)]
    return "\n".join(keep)


ffibuilder = FFI()
ffibuilder.cdef("\n".join(_cdef_text(h) for h in HEADERS))
ffibuilder.cdef(
    """
    extern "Python+C" int bt_mmio(hart_t *h, uint64_t paddr, uint64_t size,
                                  uint64_t is_write, uint64_t *value);
    extern "Python+C" void bt_trace_walk(hart_t *h, uint64_t vaddr, uint64_t acc, uint64_t paddr, uint64_t fault_cause);
    """
)
ffibuilder.set_source(
    "bt_vmm._core",
    "\n".join(f'#include "{h}"' for h in HEADERS),
    sources=SOURCES,
    include_dirs=[str(HERE)],
    extra_compile_args=["-O2", "-std=gnu11", "-fno-strict-aliasing", "-frounding-math"],
    libraries=["m", "dl"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
