"""The compile server's own side (see compileserver): its loop and the
protocol.  The server runs this before LLVM is loaded, and a run's first
regions wait for it: it imports nothing it does not need (the client's
subprocess, tempfile and threading cost it ~3 ms).

Over the server's stdin and stdout: a request is REQUEST (level, name
length, IR length), the name, the IR (UTF-8); the reply is REPLY (status,
length) and the object (OK) or LLVM's error message.
"""
from __future__ import annotations

import struct
from typing import BinaryIO

REQUEST = struct.Struct("<iII")
REPLY = struct.Struct("<BI")
OK, FAILED = 0, 1


def read_exactly(stream: BinaryIO, n: int) -> bytes | None:
    """Exactly ``n`` bytes, or None at the end of the stream."""
    data = stream.read(n)
    return data if len(data) == n else None


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """The server's loop: compile each request until the VMM closes the pipe."""
    from bt_vmm.engines.llvmsetup import compile_region, warm_up

    warm_up()
    while (header := read_exactly(requests, REQUEST.size)) is not None:
        level, name_size, text_size = REQUEST.unpack(header)
        name, text = read_exactly(requests, name_size), read_exactly(requests, text_size)
        if name is None or text is None:
            return
        try:
            status, payload = OK, compile_region(name.decode(), text.decode(), level)
        except Exception as exc:   # LLVM's message goes back to the VMM
            status, payload = FAILED, f"{type(exc).__name__}: {exc}".encode()
        replies.write(REPLY.pack(status, len(payload)) + payload)
        replies.flush()
