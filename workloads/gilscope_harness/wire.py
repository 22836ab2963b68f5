"""Length-prefixed ``marshal`` frames over raw pipe file descriptors.

Used between the main interpreter and subinterpreters: OS pipes and
``marshal`` exist in every interpreter, blocking reads release the GIL,
and nothing depends on the version-specific cross-interpreter APIs.
"""

import marshal
import os
import struct

_HEADER = struct.Struct("<I")


def write_frame(fd, obj):
    """Send one object (marshal-able: simple values, tuples, dicts)."""
    payload = marshal.dumps(obj)
    view = memoryview(_HEADER.pack(len(payload)) + payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read_exact(fd, size):
    """Read exactly ``size`` bytes, or None at end of file."""
    parts = []
    while size:
        data = os.read(fd, min(size, 1 << 20))
        if not data:
            return None
        parts.append(data)
        size -= len(data)
    return b"".join(parts)


def read_frame(fd):
    """Receive one object; raise EOFError when the writer has gone."""
    header = _read_exact(fd, _HEADER.size)
    if header is None:
        raise EOFError("pipe closed")
    (size,) = _HEADER.unpack(header)
    payload = _read_exact(fd, size) if size else b""
    if payload is None:
        raise EOFError("pipe closed mid-frame")
    return marshal.loads(payload)
