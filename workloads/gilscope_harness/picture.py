"""The workload's picture on the event pipe: the input image once and each
finished chunk's band of the output, downscaled to a bounded size and
coalesced to a bounded rate (see ../PROTOCOL.md, "The picture").

A workload opts in with three optional functions, all called in the
harness's main interpreter (where every chunk's partial already arrives,
whatever the mode):

    picture_size(params) -> (width, height) | None
    picture_input(params) -> (width, height, rgb) | None
    picture_band(params, chunk, partial) -> (x, y, w, h, rgb) | None

``rgb`` is packed 8-bit RGB, row-major, of the full-resolution rectangle.
The picture is downscaled by an integer factor ``scale`` (nearest
neighbour: picture pixel (x, y) is source pixel (x*scale, y*scale)) so
that its long side is at most ``MAX_SIDE`` pixels, and the bands that
finished since the last ``picture`` event go out together at most every
``INTERVAL_NS``.  ``GILSCOPE_PICTURE=0`` or ``--param picture=0`` turns it
all off.
"""

import base64
import os
import time

from .errors import WorkloadError
from .loader import def_line

ENV_PICTURE = "GILSCOPE_PICTURE"
PARAM = "picture"
MAX_SIDE = 320
INTERVAL_NS = 100_000_000
_ON = ("1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")


def _switch(text, what):
    low = text.strip().lower()
    if low in _ON:
        return True
    if low in _OFF:
        return False
    raise ValueError("%s=%s: expected 1 or 0 (on/off, true/false, yes/no)"
                     % (what, text))


def split_param(pairs, environ=None):
    """Take ``picture=…`` out of the ``(key, text)`` overrides; returns
    ``(the other pairs, on)``.  The environment's ``GILSCOPE_PICTURE``
    decides when the parameter is absent (default on).  ValueError for a
    value that is not a switch."""
    rest, on = [], None
    for key, text in pairs:
        if key == PARAM:
            on = _switch(text, "--param picture")
        else:
            rest.append((key, text))
    if on is None:
        raw = (os.environ if environ is None else environ).get(ENV_PICTURE)
        on = True if raw is None or raw.strip() == "" else _switch(
            raw, ENV_PICTURE)
    return rest, on


def scale_for(width, height, max_side=MAX_SIDE):
    """The smallest integer factor that brings the long side to at most
    ``max_side`` (gilscope's ``store::picture::scale_for`` is the same)."""
    side = max(width, height)
    return max(1, -(-side // max_side))


def downscale(x, y, w, h, rgb, scale):
    """The picture pixels inside the full-resolution rectangle
    ``(x, y, w, h)``: ``(x2, y2, w2, h2, rgb2)`` in picture coordinates
    (w2 or h2 may be 0 for a rectangle narrower than ``scale``)."""
    x2 = -(-x // scale)
    y2 = -(-y // scale)
    w2 = max(0, -(-(x + w) // scale) - x2)
    h2 = max(0, -(-(y + h) // scale) - y2)
    if w2 == 0 or h2 == 0:
        return x2, y2, w2, h2, b""
    if scale == 1 and x2 == x and w2 == w:
        return x2, y2, w2, h2, bytes(rgb[:w * h * 3])
    stride = w * 3
    step = 3 * scale
    first = (x2 * scale - x) * 3
    out = bytearray(w2 * h2 * 3)
    row_len = w2 * 3
    for j in range(h2):
        sy = (y2 + j) * scale - y
        base = sy * stride + first
        row = rgb[base:base + (w2 - 1) * step + 3]
        at = j * row_len
        out[at:at + row_len:3] = row[0::step]
        out[at + 1:at + row_len:3] = row[1::step]
        out[at + 2:at + row_len:3] = row[2::step]
    return x2, y2, w2, h2, bytes(out)


def _broken(module, hook, message):
    """A WorkloadError pointing at the ``def`` of the hook that broke the
    interface."""
    return WorkloadError(message, getattr(module, "__file__", None),
                         def_line(hook))


def _encode(rgb):
    return base64.b64encode(rgb).decode("ascii")


class Picture:
    """The picture of one run: asks the workload's hooks, downscales,
    and emits ``picture`` events at a bounded rate."""

    def __init__(self, emitter, module, params, width, height):
        self.emitter = emitter
        self.module = module
        self.params = params
        self.full = (width, height)
        self.scale = scale_for(width, height)
        self.size = (-(-width // self.scale), -(-height // self.scale))
        self.pending = []
        self.last_emit = 0
        self.chunks = None

    @classmethod
    def create(cls, emitter, module, params, on):
        """The run's Picture, or None (switched off, or the workload has
        no ``picture_size``/``picture_band``, or its size is None)."""
        if not on:
            return None
        size_hook = getattr(module, "picture_size", None)
        if size_hook is None or getattr(module, "picture_band", None) is None:
            return None
        size = size_hook(params)
        if size is None:
            return None
        width, height = int(size[0]), int(size[1])
        if width <= 0 or height <= 0:
            raise _broken(module, size_hook,
                          "picture_size() returned %dx%d; expected a "
                          "positive width and height" % (width, height))
        return cls(emitter, module, params, width, height)

    def _geometry(self):
        return dict(width=self.size[0], height=self.size[1],
                    scale=self.scale, full_width=self.full[0],
                    full_height=self.full[1])

    def emit_input(self):
        """The workload's input image (``picture_input``), once, if it has
        one of the output's size."""
        hook = getattr(self.module, "picture_input", None)
        if hook is None:
            return
        found = hook(self.params)
        if found is None:
            return
        width, height, rgb = found
        if (width, height) != self.full or len(rgb) != width * height * 3:
            raise _broken(
                self.module, hook,
                "picture_input() returned a %dx%d image (%d bytes); the "
                "picture is %dx%d (3 bytes per pixel)"
                % (width, height, len(rgb), self.full[0], self.full[1]))
        x, y, w, h, small = downscale(0, 0, width, height, rgb, self.scale)
        self.emitter.emit("picture", kind="input", x=x, y=y, w=w, h=h,
                          rgb=_encode(small), **self._geometry())

    def add(self, worker, index, t_ns):
        """Chunk ``index`` of ``worker`` came back at ``t_ns``."""
        self.pending.append((worker, index, t_ns))

    def maybe_emit(self, partials, chunks, force=False):
        """Emit the pending bands if the interval has passed (or ``force``)."""
        if not self.pending:
            return
        now = time.monotonic_ns()
        if not force and now - self.last_emit < INTERVAL_NS:
            return
        self.last_emit = now
        bands = []
        for worker, index, t_ns in self.pending:
            found = self.module.picture_band(self.params, chunks[index],
                                             partials[index])
            if found is None:
                continue
            x, y, w, h, rgb = found
            if (w < 0 or h < 0 or x < 0 or y < 0 or x + w > self.full[0]
                    or y + h > self.full[1] or len(rgb) != w * h * 3):
                raise _broken(
                    self.module, self.module.picture_band,
                    "picture_band() for chunk %d returned (%d, %d, %d, %d) "
                    "with %d bytes; expected a rectangle inside %dx%d with "
                    "3 bytes per pixel" % (index, x, y, w, h, len(rgb),
                                           self.full[0], self.full[1]))
            x2, y2, w2, h2, small = downscale(x, y, w, h, rgb, self.scale)
            if w2 and h2:
                bands.append(dict(x=x2, y=y2, w=w2, h=h2, worker=worker,
                                  chunk=index, t_ns=t_ns,
                                  rgb=_encode(small)))
        self.pending = []
        if bands:
            self.emitter.emit("picture", t_ns=now, kind="bands", bands=bands,
                              **self._geometry())
