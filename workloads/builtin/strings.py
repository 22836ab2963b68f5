"""Build, split, join and count words: str and dict heavy, lots of small
allocations and reference-count traffic."""

DESCRIPTION = "build/split/join/count words (str + dict, allocation heavy)"
ITEM_UNIT = "words"
PARAMS = {"count": 200, "words": 4000}

_SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "po",
              "an", "el", "is", "or", "um", "qua")


def _vocabulary():
    """A fixed list of 16 + 256 + 1024 synthetic words."""
    words = list(_SYLLABLES)
    words += [a + b for a in _SYLLABLES for b in _SYLLABLES]
    words += [a + b + c for a in _SYLLABLES[:8] for b in _SYLLABLES
              for c in _SYLLABLES[::2]]
    return tuple(words)


VOCAB = _vocabulary()


def prepare(params):
    """Chunk i: (seed, number of words)."""
    return [(i, max(1, params["words"])) for i in range(params["count"])]


def items_total(params, chunks):
    return sum(n for _, n in chunks)


def _words(seed, count):
    """Deterministic pseudo-random words (LCG; no ``random``, no hash())."""
    x = (seed * 2654435761 + 1) & 0x7FFFFFFF
    size = len(VOCAB)
    out = []
    for _ in range(count):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out.append(VOCAB[(x >> 8) % size])
    return out


def _top(counts):
    """(key, count) with the highest count, ties broken by key."""
    best = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return best[0], best[1]


def run_chunk(state, chunk):
    """Make a text, take it apart again and count what is in it."""
    seed, count = chunk
    words = _words(seed, count)
    lines = [" ".join(words[i:i + 12]) for i in range(0, len(words), 12)]
    text = "\n".join(lines)
    counts = {}
    for line in text.splitlines():
        for word in line.split(" "):
            counts[word] = counts.get(word, 0) + 1
    pairs = {}
    for a, b in zip(words, words[1:]):
        key = "%s-%s" % (a, b)
        pairs[key] = pairs.get(key, 0) + 1
    shouted = " ".join(w.upper() for w in words if "a" in w)
    initials = "".join(w[0] for w in text.split())
    return count, (len(counts), _top(counts), len(pairs), _top(pairs),
                   len(shouted), initials.count("k"))


def finish(params, partials):
    """Totals over all chunks, plus the most frequent word overall."""
    distinct = sum(p[0] for p in partials)
    pairs = sum(p[2] for p in partials)
    shouted = sum(p[4] for p in partials)
    ks = sum(p[5] for p in partials)
    tops = {}
    for p in partials:
        word, n = p[1]
        tops[word] = tops.get(word, 0) + n
    word, n = _top(tops) if tops else ("", 0)
    return "distinct=%d pairs=%d shouted=%d k=%d top=%s:%d" % (
        distinct, pairs, shouted, ks, word, n)
