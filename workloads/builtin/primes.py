"""Count the primes below n by trial division (pure Python, CPU bound)."""

DESCRIPTION = "count primes below n by trial division (pure-Python integer loops)"
ITEM_UNIT = "numbers"
PARAMS = {"n": 400_000, "chunk": 2_000}


def prepare(params):
    """One chunk per range [lo, hi) of ``chunk`` numbers."""
    n, size = params["n"], max(1, params["chunk"])
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]


def items_total(params, chunks):
    """Every number below n is tested once."""
    return max(0, params["n"])


def is_prime(k):
    """Trial division by 2 and the odd numbers up to sqrt(k)."""
    if k < 2:
        return False
    if k % 2 == 0:
        return k == 2
    d = 3
    while d * d <= k:
        if k % d == 0:
            return False
        d += 2
    return True


def run_chunk(state, chunk):
    """(numbers tested, (primes found, their sum))."""
    lo, hi = chunk
    count = total = 0
    for k in range(lo, hi):
        if is_prime(k):
            count += 1
            total += k
    return hi - lo, (count, total)


def finish(params, partials):
    """Count and sum of all primes below n."""
    count = sum(p[0] for p in partials)
    total = sum(p[1] for p in partials)
    return "count=%d sum=%d" % (count, total)
