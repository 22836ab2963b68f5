"""Mandelbrot set escape counts (pure-Python float arithmetic)."""

import hashlib
import struct

DESCRIPTION = "Mandelbrot escape-time counts, rows as chunks (float heavy)"
ITEM_UNIT = "pixels"
PARAMS = {"width": 400, "height": 300, "max_iter": 200, "rows": 2}

X_MIN, X_MAX = -2.2, 1.0
Y_MIN, Y_MAX = -1.2, 1.2


def prepare(params):
    """One chunk per band of ``rows`` rows: (first row, row count)."""
    height, rows = params["height"], max(1, params["rows"])
    return [(y, min(rows, height - y)) for y in range(0, height, rows)]


def items_total(params, chunks):
    return params["width"] * params["height"]


def escape_count(cr, ci, max_iter):
    """Iterations until |z| > 2 (at most ``max_iter``)."""
    zr = zi = 0.0
    n = 0
    while n < max_iter:
        zr2 = zr * zr
        zi2 = zi * zi
        if zr2 + zi2 > 4.0:
            break
        zi = 2.0 * zr * zi + ci
        zr = zr2 - zi2 + cr
        n += 1
    return n


def run_chunk(state, chunk):
    """Escape counts of the band's pixels, packed big-endian (2 bytes)."""
    first, count = chunk
    width, height = state["width"], state["height"]
    max_iter = min(state["max_iter"], 65535)
    dx = (X_MAX - X_MIN) / max(1, width - 1)
    dy = (Y_MAX - Y_MIN) / max(1, height - 1)
    counts = []
    for y in range(first, first + count):
        ci = Y_MIN + dy * y
        for x in range(width):
            counts.append(escape_count(X_MIN + dx * x, ci, max_iter))
    return len(counts), struct.pack(">%dH" % len(counts), *counts)


def _palette(max_iter):
    """Byte tables from an escape count's level (0..255) to red, green and
    blue; points inside the set (count = max_iter) are black."""
    red, green, blue = bytearray(256), bytearray(256), bytearray(256)
    for level in range(255):
        t = level / 255.0
        red[level] = int(9 * (1 - t) * t * t * t * 255)
        green[level] = int(15 * (1 - t) * (1 - t) * t * t * 255)
        blue[level] = int(8.5 * (1 - t) * (1 - t) * (1 - t) * t * 255)
    return bytes(red), bytes(green), bytes(blue)


_PALETTES = {}


def picture_size(params):
    """The picture gilscope shows: the escape counts, coloured."""
    return params["width"], params["height"]


def picture_band(params, chunk, partial):
    """A chunk's rows, coloured by escape count (``partial`` holds the
    counts as big-endian 16-bit integers)."""
    first, count = chunk
    max_iter = max(1, min(params["max_iter"], 65535))
    if max_iter not in _PALETTES:
        _PALETTES[max_iter] = _palette(max_iter)
    red, green, blue = _PALETTES[max_iter]
    if max_iter < 255:
        # counts fit the low byte: level = count * 255 // max_iter
        table = bytes(min(255, n * 255 // max_iter) for n in range(256))
        levels = partial[1::2].translate(table)
    else:
        counts = [(hi << 8) | lo for hi, lo in zip(partial[0::2],
                                                   partial[1::2])]
        levels = bytes(n * 255 // max_iter for n in counts)
    rgb = bytearray(len(levels) * 3)
    rgb[0::3] = levels.translate(red)
    rgb[1::3] = levels.translate(green)
    rgb[2::3] = levels.translate(blue)
    return 0, first, params["width"], count, bytes(rgb)


def finish(params, partials):
    """SHA-256 of all escape counts (integers: no float formatting)."""
    digest = hashlib.sha256()
    for part in partials:
        digest.update(part)
    return "sha256:" + digest.hexdigest()
