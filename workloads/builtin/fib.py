"""Naive recursive Fibonacci (function-call heavy)."""

import hashlib

DESCRIPTION = "recursive fib(k), many times (function-call overhead)"
ITEM_UNIT = "calls"
PARAMS = {"k": 25, "count": 100}


def prepare(params):
    """Chunk i computes fib(k - i % 3): a little variety in chunk cost."""
    k = max(0, params["k"])
    return [max(0, k - i % 3) for i in range(params["count"])]


def calls(k):
    """Number of calls fib(k) makes: 2 * F(k+1) - 1."""
    a, b = 0, 1
    for _ in range(k + 1):
        a, b = b, a + b
    return 2 * a - 1


def items_total(params, chunks):
    return sum(calls(k) for k in chunks)


def fib(k):
    """The textbook exponential-time recursion."""
    if k < 2:
        return k
    return fib(k - 1) + fib(k - 2)


def run_chunk(state, k):
    """(calls made, fib(k))."""
    return calls(k), fib(k)


def finish(params, partials):
    """Sum of the results and a digest of them in chunk order."""
    text = ",".join(str(p) for p in partials).encode()
    return "sum=%d sha256:%s" % (sum(partials),
                                 hashlib.sha256(text).hexdigest()[:16])
