"""SHA-256 over large buffers: C code that releases the GIL."""

import hashlib

DESCRIPTION = "hashlib.sha256 over MiB-sized buffers (C code, releases the GIL)"
ITEM_UNIT = "bytes"
PARAMS = {"count": 256, "mib": 4}


def prepare(params):
    """Chunk ids 0..count-1; each hashes its id followed by the buffer."""
    return list(range(max(0, params["count"])))


def items_total(params, chunks):
    return len(chunks) * (8 + params["mib"] * 1024 * 1024)


def init(params):
    """The deterministic buffer, built once per worker."""
    size = max(0, params["mib"]) * 1024 * 1024
    block = bytes(range(256))
    return block * (size // 256)


def run_chunk(buffer, chunk):
    """(bytes hashed, hex digest of id || buffer)."""
    digest = hashlib.sha256(chunk.to_bytes(8, "little"))
    digest.update(buffer)
    return 8 + len(buffer), digest.hexdigest()


def finish(params, partials):
    """SHA-256 of the per-chunk digests in chunk order."""
    return "sha256:" + hashlib.sha256(
        "".join(partials).encode()).hexdigest()
