"""A plain script (no gilscope in it): two threads of CPU-bound pure
Python through a ThreadPoolExecutor, then a deterministic line.

    python two_threads.py [N]   (N: primes below N counted per thread)
"""

import sys
from concurrent.futures import ThreadPoolExecutor


def count_primes(limit):
    count = 0
    for n in range(2, limit):
        d = 2
        while d * d <= n:
            if n % d == 0:
                break
            d += 1
        else:
            count += 1
    return count


def main():
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 60000
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = list(pool.map(count_primes, [limit, limit]))
    print("primes below %d: %d, %d" % (limit, counts[0], counts[1]))


if __name__ == "__main__":
    main()
