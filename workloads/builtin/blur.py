"""Pure-Python box blur of an image, in bands of rows.

out(x, y, c) = floor(sum over dy, dx in -r..r of
                     in(clamp(x+dx), clamp(y+dy), c) / (2r+1)^2)

computed separably: horizontal window sums of every row a band needs
(halo rows clamped to the image), then vertical sums of those, and one
integer floor division at the end.  ``src/blur.rs`` is the Rust reference
and produces identical bytes.

``kernel=native`` runs the same algorithm per band in the ``gilscope_native``
extension (``workloads/native/``, built by gilscope for the interpreter and
put on ``PYTHONPATH``), which releases the GIL while it computes.
"""

import hashlib
import importlib
import importlib.util
import os
import threading

import _imageio

DESCRIPTION = "box blur of a photo in row bands (pure-Python loops over pixels)"
ITEM_UNIT = "pixels"


def _default_image():
    """The picture shipped in assets/ (the Rust runner passes its own)."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.normpath(os.path.join(here, "..", "..", "assets",
                                         "astronaut.png"))
    return path if os.path.isfile(path) else ""


PARAMS = {"image": _default_image(), "size": 0, "radius": 4, "rows": 8,
          "out": "", "kernel": "python"}

KERNELS = ("python", "native")
MAX_SIZE = 8192
NATIVE_MODULE = "gilscope_native"

_CACHE = {}
_CACHE_LOCK = threading.Lock()


def _source(params):
    """Decoded and resized image (width, height, rgb); decoded once per
    interpreter and shared by the threads of that interpreter."""
    path = params["image"]
    if not path:
        raise ValueError("blur needs --param image=PATH (PNG or P6 PPM)")
    key = (os.path.abspath(path), params["size"])
    with _CACHE_LOCK:
        if key not in _CACHE:
            width, height, rgb = _imageio.read_rgb(path)
            _CACHE[key] = _imageio.resize_nearest(width, height, rgb,
                                                  params["size"])
        return _CACHE[key]


def _check_kernel(params):
    """Refuse an unknown kernel, or ``native`` when the extension is not on
    ``sys.path`` (before any worker starts)."""
    kernel = params["kernel"]
    if kernel not in KERNELS:
        raise ValueError("kernel must be one of %s, got %r"
                         % (", ".join(KERNELS), kernel))
    if kernel == "native" and importlib.util.find_spec(NATIVE_MODULE) is None:
        raise ImportError(
            "kernel=native needs the %s extension built for this interpreter "
            "on sys.path; gilscope builds it and sets PYTHONPATH when a run "
            "asks for kernel=native (by hand: see workloads/PROTOCOL.md, "
            "'Native kernels')" % NATIVE_MODULE)


def prepare(params):
    """Bands of ``rows`` rows: (first row, end row)."""
    _check_kernel(params)
    if params["radius"] < 0:
        raise ValueError("radius must be >= 0, got %d" % params["radius"])
    if not params["image"]:
        raise ValueError("blur needs --param image=PATH (PNG or P6 PPM)")
    if params["size"] > MAX_SIZE:
        raise ValueError("size=%d is too large: the image is scaled to that "
                         "width; use at most %d (0 keeps the image's size)"
                         % (params["size"], MAX_SIZE))
    width, height = _imageio.resized_size(
        *_imageio.image_size(params["image"]), size=params["size"])
    rows = max(1, params["rows"])
    return [(y, min(y + rows, height)) for y in range(0, height, rows)]


def items_total(params, chunks):
    width, height = _imageio.resized_size(
        *_imageio.image_size(params["image"]), size=params["size"])
    return width * height


def init(params):
    """This worker's image, radius and precomputed clamped tap offsets (or
    the native module, which needs no taps)."""
    width, height, rgb = _source(params)
    r = params["radius"]
    state = {"width": width, "height": height, "rgb": rgb, "r": r,
             "native": None, "taps": None}
    if params["kernel"] == "native":
        state["native"] = importlib.import_module(NATIVE_MODULE)
    else:
        state["taps"] = [[min(max(x + dx, 0), width - 1) * 3
                          for dx in range(-r, r + 1)] for x in range(width)]
    return state


def _horizontal(row, taps):
    """Window sums along one row (packed RGB) -> list of 3*W ints."""
    out = []
    for tx in taps:
        red = green = blue = 0
        for t in tx:
            red += row[t]
            green += row[t + 1]
            blue += row[t + 2]
        out.append(red)
        out.append(green)
        out.append(blue)
    return out


def _vertical(window, area):
    """Sum the window's rows element-wise, divide by the area -> bytes."""
    out = bytearray(len(window[0]))
    for i in range(len(out)):
        total = 0
        for hrow in window:
            total += hrow[i]
        out[i] = total // area
    return out


def run_chunk(state, chunk):
    """Blur rows [y0, y1) -> (pixels, their RGB bytes)."""
    y0, y1 = chunk
    width, height, rgb, r = (state["width"], state["height"], state["rgb"],
                             state["r"])
    if state["native"] is not None:
        # the GIL is released inside: other workers run meanwhile
        return ((y1 - y0) * width,
                state["native"].blur_band(rgb, width, height, r, y0, y1))
    stride = width * 3
    lo, hi = max(0, y0 - r), min(height - 1, y1 - 1 + r)
    sums = {}
    for y in range(lo, hi + 1):
        sums[y] = _horizontal(rgb[y * stride:(y + 1) * stride],
                              state["taps"])
    area = (2 * r + 1) * (2 * r + 1)
    band = bytearray()
    for y in range(y0, y1):
        window = [sums[min(max(y + dy, 0), height - 1)]
                  for dy in range(-r, r + 1)]
        band += _vertical(window, area)
    return (y1 - y0) * width, bytes(band)


def _size(params):
    return _imageio.resized_size(*_imageio.image_size(params["image"]),
                                 size=params["size"])


def picture_size(params):
    """The picture gilscope shows: the blurred image (see PROTOCOL.md)."""
    return _size(params)


def picture_input(params):
    """The image before the blur (decoded once; in thread modes the workers
    then find it in the cache)."""
    return _source(params)


def picture_band(params, chunk, partial):
    """A chunk's rows of the blurred image: its partial is their RGB."""
    y0, y1 = chunk
    return 0, y0, len(partial) // (3 * max(1, y1 - y0)), y1 - y0, partial


def finish(params, partials):
    """sha256 of the whole blurred image; writes it as PPM if ``out``."""
    digest = hashlib.sha256()
    for band in partials:
        digest.update(band)
    if params["out"]:
        width, height = _imageio.resized_size(
            *_imageio.image_size(params["image"]), size=params["size"])
        _imageio.write_ppm(params["out"], width, height, b"".join(partials))
    return "sha256:" + digest.hexdigest()
