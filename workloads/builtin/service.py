"""A request handler served over HTTP/1.1 on loopback (a *service* workload).

gilscope's load generator sends ``POST /`` requests whose body is
``gilscope request K`` (K = the request's key); every worker of every mode
runs the same server code (``gilscope_harness/service.py``) and calls
``handle(state, body)`` for each request.  The handler decides the work:

* ``echo``: the response body is the request body (validates the tooling).
* ``python``: SHA-256, written in pure Python, over ``size`` bytes made by
  repeating the body, iterated ``rounds`` times (``d = sha256(d + buf)``):
  CPU work that holds the GIL, like the encryption work of the article.
* ``hashlib``: the very same function with ``hashlib.sha256`` (C code; it
  releases the GIL for inputs of 2 KiB and more, so give it ``size`` >= 2048).
* ``mix``: the ``python`` chain (GIL held), then ``c_rounds`` more rounds
  ``d = hashlib.sha256(d + big)`` over ``big`` = the body repeated to
  4096 bytes (GIL released).  ``held`` sets the GIL-held share of the
  work: ``c_rounds = floor(rounds * 150 * (1 - held) / held + 0.5)``, 150
  being how many 4 KiB ``hashlib`` rounds cost one 64-byte pure-Python
  round (measured on 3.13 on the project's machine; gilscope measures the
  real share with its GIL reader).

The response of ``python`` and ``hashlib`` is the hex digest; gilscope
computes the same function in Rust and checks every response.
"""

import hashlib
import math

KIND = "service"
DESCRIPTION = ("HTTP service on loopback: each request runs a handler "
               "(echo, pure-Python SHA-256, hashlib SHA-256, a mix of both "
               "whose GIL-held share is set by held)")
ITEM_UNIT = "requests"
PARAMS = {"handler": "python", "rounds": 2, "size": 64, "held": 0.5}

HANDLERS = ("echo", "python", "hashlib", "mix")

# mix: the released part's buffer, and its cost relative to one 64-byte
# pure-Python round (see the module doc).
MIX_C_SIZE = 4096
MIX_C_PER_PY_ROUND = 150.0

_K = (
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
)
_H0 = (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f,
       0x9b05688c, 0x1f83d9ab, 0x5be0cd19)
_M = 0xFFFFFFFF


def sha256_py(data):
    """SHA-256 of ``data`` in pure Python (FIPS 180-4); returns 32 bytes."""
    length = len(data)
    data = bytes(data) + b"\x80" + b"\x00" * ((55 - length) % 64) + (
        (length * 8).to_bytes(8, "big"))
    h0, h1, h2, h3, h4, h5, h6, h7 = _H0
    for off in range(0, len(data), 64):
        w = [int.from_bytes(data[off + i:off + i + 4], "big")
             for i in range(0, 64, 4)]
        for i in range(16, 64):
            x = w[i - 15]
            y = w[i - 2]
            s0 = ((x >> 7) | (x << 25)) ^ ((x >> 18) | (x << 14)) ^ (x >> 3)
            s1 = ((y >> 17) | (y << 15)) ^ ((y >> 19) | (y << 13)) ^ (y >> 10)
            w.append((w[i - 16] + s0 + w[i - 7] + s1) & _M)
        a, b, c, d, e, f, g, h = h0, h1, h2, h3, h4, h5, h6, h7
        for i in range(64):
            s1 = (((e >> 6) | (e << 26)) ^ ((e >> 11) | (e << 21))
                  ^ ((e >> 25) | (e << 7))) & _M
            t1 = (h + s1 + ((e & f) ^ (~e & g)) + _K[i] + w[i]) & _M
            s0 = (((a >> 2) | (a << 30)) ^ ((a >> 13) | (a << 19))
                  ^ ((a >> 22) | (a << 10))) & _M
            t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) & _M
            h, g, f, e, d, c, b, a = g, f, e, (d + t1) & _M, c, b, a, (
                t1 + t2) & _M
        h0 = (h0 + a) & _M
        h1 = (h1 + b) & _M
        h2 = (h2 + c) & _M
        h3 = (h3 + d) & _M
        h4 = (h4 + e) & _M
        h5 = (h5 + f) & _M
        h6 = (h6 + g) & _M
        h7 = (h7 + h) & _M
    return b"".join(v.to_bytes(4, "big")
                    for v in (h0, h1, h2, h3, h4, h5, h6, h7))


def _sha256_c(data):
    return hashlib.sha256(data).digest()


def check_params(params):
    """Raise ValueError for params the handlers cannot use."""
    if params["handler"] not in HANDLERS:
        raise ValueError("handler=%s: unknown handler (known: %s)"
                         % (params["handler"], ", ".join(HANDLERS)))
    if params["rounds"] < 1:
        raise ValueError("rounds=%d: must be at least 1" % params["rounds"])
    if params["size"] < 1:
        raise ValueError("size=%d: must be at least 1" % params["size"])
    if not 0.0 < params["held"] <= 1.0:
        raise ValueError("held=%s: the GIL-held share must be in (0, 1]"
                         % params["held"])


def mix_c_rounds(rounds, held):
    """The ``hashlib`` rounds of ``mix`` (the same formula as gilscope's
    reference in ``src/loadgen/expect.rs``)."""
    return int(math.floor(rounds * MIX_C_PER_PY_ROUND * (1.0 - held) / held
                          + 0.5))


def init(params):
    """Check the params once per worker; the state is (digest fn, rounds,
    size), or None for echo."""
    check_params(params)
    if params["handler"] == "echo":
        return None
    if params["handler"] == "mix":
        return (None, params["rounds"], params["size"],
                mix_c_rounds(params["rounds"], params["held"]))
    digest = sha256_py if params["handler"] == "python" else _sha256_c
    return (digest, params["rounds"], params["size"], 0)


def work(digest, rounds, size, body):
    """``d = H(buf)``, then ``rounds - 1`` times ``d = H(d + buf)``, with
    ``buf`` = the body repeated to ``size`` bytes; returns the hex digest."""
    if not body:
        body = b"\x00"
    buf = (body * (size // len(body) + 1))[:size]
    d = digest(buf)
    for _ in range(rounds - 1):
        d = digest(d + buf)
    return d.hex().encode("ascii")


def mix(rounds, size, c_rounds, body):
    """The ``python`` chain, then ``c_rounds`` of ``d = H(d + big)`` in C
    (GIL released); returns the hex digest."""
    if not body:
        body = b"\x00"
    buf = (body * (size // len(body) + 1))[:size]
    d = sha256_py(buf)
    for _ in range(rounds - 1):
        d = sha256_py(d + buf)
    big = (body * (MIX_C_SIZE // len(body) + 1))[:MIX_C_SIZE]
    for _ in range(c_rounds):
        d = hashlib.sha256(d + big).digest()
    return d.hex().encode("ascii")


def handle(state, body):
    """One request's response body."""
    if state is None:
        return body
    digest, rounds, size, c_rounds = state
    if digest is None:
        return mix(rounds, size, c_rounds, body)
    return work(digest, rounds, size, body)
