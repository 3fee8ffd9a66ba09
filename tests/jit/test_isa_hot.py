"""The instruction tests of tests/isa again, under the JIT with every block
translated the first time it is reached (so each one runs as generated code,
not in the interpreter tier)."""
import sys
from functools import partial
from pathlib import Path

import pytest

from bt_vmm.engines import ENGINES
from bt_vmm.engines.jit import JitEngine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from isa.test_rv64a import *  # noqa: E402,F401,F403
from isa.test_rv64i import *  # noqa: E402,F401,F403
from isa.test_rv64m import *  # noqa: E402,F401,F403
from isa.test_rvc import *  # noqa: E402,F401,F403
from isa.test_sequences import *  # noqa: E402,F401,F403
from isa.test_zb import *  # noqa: E402,F401,F403
from isa.test_fp import *  # noqa: E402,F401,F403


@pytest.fixture
def engine(monkeypatch) -> str:
    monkeypatch.setitem(ENGINES, "jit-hot", partial(JitEngine, hot=1, background=False))
    return "jit-hot"
