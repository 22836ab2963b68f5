"""Pure-Python image input/output for the blur workload.

Reads 8-bit PNG (gray, gray+alpha, RGB, RGBA, palette; palette and gray
also at 1, 2 and 4 bits; non-interlaced) and binary PPM (P6, maxval 255),
and converts to packed RGB exactly like Rust's ``DynamicImage::to_rgb8()``:
gray g -> (g, g, g) (low bit depths scaled to 0..255), alpha dropped
(no blending), palette looked up (indices past the palette are black).
"""

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8),
           4: (8, 16), 6: (8, 16)}


class ImageError(ValueError):
    """An image that cannot be read; the message names the file."""


def _fail(path, reason):
    raise ImageError("%s: %s" % (path, reason))


# -- PNG container -------------------------------------------------------

def _png_chunks(data, path):
    """Yield (type, body) of each chunk up to IEND, checking CRCs."""
    if not data.startswith(PNG_SIGNATURE):
        _fail(path, "not a PNG file")
    pos = len(PNG_SIGNATURE)
    while True:
        if pos + 8 > len(data):
            _fail(path, "truncated PNG (no IEND chunk)")
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = data[pos + 8 + length:pos + 12 + length]
        if len(body) != length or len(crc) != 4:
            _fail(path, "truncated PNG chunk %r" % kind.decode("latin-1"))
        if zlib.crc32(kind + body) != struct.unpack(">I", crc)[0]:
            _fail(path, "CRC mismatch in PNG chunk %r" % kind.decode("latin-1"))
        yield kind, body
        if kind == b"IEND":
            return
        pos += 12 + length


def _png_header(body, path):
    """Width, height, bit depth, colour type from IHDR, validated."""
    if len(body) != 13:
        _fail(path, "bad IHDR chunk")
    width, height, depth, color, comp, filt, interlace = struct.unpack(
        ">IIBBBBB", body)
    if color not in _CHANNELS or depth not in _DEPTHS[color]:
        _fail(path, "invalid PNG colour type %d / bit depth %d"
              % (color, depth))
    if depth == 16:
        _fail(path, "16-bit PNG is not supported (only 8-bit and lower)")
    if interlace != 0:
        _fail(path, "interlaced (Adam7) PNG is not supported")
    if comp != 0 or filt != 0:
        _fail(path, "unknown PNG compression/filter method")
    if width == 0 or height == 0:
        _fail(path, "PNG has zero width or height")
    return width, height, depth, color


def image_size(path):
    """(width, height) from the file header, with the same checks as
    ``read_rgb`` (cheap: for ``prepare``)."""
    with open(path, "rb") as handle:
        head = handle.read(64)
    if head.startswith(PNG_SIGNATURE):
        if head[12:16] != b"IHDR":
            _fail(path, "PNG does not start with IHDR")
        width, height, _, _ = _png_header(head[16:29], path)
        return width, height
    if head.startswith(b"P6"):
        with open(path, "rb") as handle:
            width, height, _ = _ppm_header(handle.read(), path)
        return width, height
    _fail(path, "unsupported image format (need PNG or binary PPM P6)")


# -- PNG filters ---------------------------------------------------------

def _unfilter(raw, height, stride, bpp, path):
    """Undo the per-row filters (types 0-4); returns the packed rows."""
    if len(raw) < height * (stride + 1):
        _fail(path, "PNG image data is too short")
    out = bytearray(height * stride)
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        row = bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                row[i] = (row[i] + row[i - bpp]) & 255
        elif kind == 2:
            row = bytearray(map(_ADD, row, prev))
        elif kind == 3:
            _unfilter_average(row, prev, bpp, stride)
        elif kind == 4:
            _unfilter_paeth(row, prev, bpp, stride)
        elif kind != 0:
            _fail(path, "bad PNG filter type %d in row %d" % (kind, y))
        out[y * stride:(y + 1) * stride] = row
        prev = row
    return out


def _ADD(a, b):
    return (a + b) & 255


def _unfilter_average(row, prev, bpp, stride):
    for i in range(bpp):
        row[i] = (row[i] + (prev[i] >> 1)) & 255
    for i in range(bpp, stride):
        row[i] = (row[i] + ((row[i - bpp] + prev[i]) >> 1)) & 255


def _unfilter_paeth(row, prev, bpp, stride):
    for i in range(bpp):
        row[i] = (row[i] + prev[i]) & 255
    for i in range(bpp, stride):
        a = row[i - bpp]
        b = prev[i]
        c = prev[i - bpp]
        pa = b - c if b > c else c - b
        pb = a - c if a > c else c - a
        pc = a + b - c - c
        if pc < 0:
            pc = -pc
        if pa <= pb and pa <= pc:
            pred = a
        elif pb <= pc:
            pred = b
        else:
            pred = c
        row[i] = (row[i] + pred) & 255


# -- PNG pixels to RGB ---------------------------------------------------

def _unpack_bits(rows, width, height, stride, depth):
    """1/2/4-bit samples -> one byte per sample (MSB first, rows padded)."""
    if depth == 8:
        return bytes(rows)
    per_byte = 8 // depth
    mask = (1 << depth) - 1
    shifts = [8 - depth * (k + 1) for k in range(per_byte)]
    table = [bytes((b >> s) & mask for s in shifts) for b in range(256)]
    out = bytearray()
    for y in range(height):
        row = rows[y * stride:(y + 1) * stride]
        out += b"".join([table[b] for b in row])[:width]
    return bytes(out)


def _interleave(width, height, red, green, blue):
    """Three planes of samples -> packed RGB."""
    rgb = bytearray(width * height * 3)
    rgb[0::3] = red
    rgb[1::3] = green
    rgb[2::3] = blue
    return bytes(rgb)


def _png_to_rgb(rows, width, height, depth, color, palette, stride, path):
    """Unfiltered rows -> packed 8-bit RGB (the ``to_rgb8()`` rules)."""
    if color == 2:
        return bytes(rows)
    if color == 6:
        return _interleave(width, height, rows[0::4], rows[1::4], rows[2::4])
    if color == 4:
        gray = rows[0::2]
        return _interleave(width, height, gray, gray, gray)
    samples = _unpack_bits(rows, width, height, stride, depth)
    if color == 0:
        scale = 255 // ((1 << depth) - 1)
        gray = samples.translate(bytes((v * scale) & 255 for v in range(256)))
        return _interleave(width, height, gray, gray, gray)
    if palette is None:
        _fail(path, "palette PNG without a PLTE chunk")
    entries = [palette[i:i + 3] for i in range(0, len(palette) - 2, 3)][:256]
    tables = [bytearray(256) for _ in range(3)]
    for index, entry in enumerate(entries):
        for channel in range(3):
            tables[channel][index] = entry[channel]
    return _interleave(width, height,
                       *(samples.translate(bytes(t)) for t in tables))


def read_png(data, path):
    """Decode a PNG -> (width, height, packed RGB bytes)."""
    header = None
    palette = None
    idat = []
    for kind, body in _png_chunks(data, path):
        if kind == b"IHDR":
            header = _png_header(body, path)
        elif kind == b"PLTE":
            palette = body
        elif kind == b"IDAT":
            idat.append(body)
    if header is None or not idat:
        _fail(path, "PNG without IHDR or IDAT")
    width, height, depth, color = header
    channels = _CHANNELS[color]
    stride = (width * channels * depth + 7) // 8
    bpp = max(1, channels * depth // 8)
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as exc:
        _fail(path, "corrupt PNG image data (%s)" % exc)
    rows = _unfilter(raw, height, stride, bpp, path)
    return width, height, _png_to_rgb(rows, width, height, depth, color,
                                      palette, stride, path)


# -- PPM -----------------------------------------------------------------

def _ppm_header(data, path):
    """(width, height, offset of the pixels) of a binary P6 PPM."""
    fields = []
    pos = 2
    while len(fields) < 3:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            while pos < len(data) and data[pos:pos + 1] not in b"\r\n":
                pos += 1
            continue
        start = pos
        while pos < len(data) and data[pos:pos + 1].isdigit():
            pos += 1
        if start == pos:
            _fail(path, "bad PPM header")
        fields.append(int(data[start:pos]))
    if pos >= len(data) or not data[pos:pos + 1].isspace():
        _fail(path, "bad PPM header")
    width, height, maxval = fields
    if maxval != 255:
        _fail(path, "PPM maxval %d is not supported (only 255)" % maxval)
    if width == 0 or height == 0:
        _fail(path, "PPM has zero width or height")
    return width, height, pos + 1


def read_ppm(data, path):
    """Decode a binary PPM (P6, maxval 255) -> (width, height, RGB)."""
    width, height, offset = _ppm_header(data, path)
    pixels = data[offset:offset + width * height * 3]
    if len(pixels) != width * height * 3:
        _fail(path, "PPM pixel data is truncated")
    return width, height, bytes(pixels)


# -- public --------------------------------------------------------------

def read_rgb(path):
    """Read a PNG or P6 PPM file -> (width, height, packed RGB bytes)."""
    with open(path, "rb") as handle:
        data = handle.read()
    if data.startswith(PNG_SIGNATURE):
        return read_png(data, path)
    if data.startswith(b"P6"):
        return read_ppm(data, path)
    _fail(path, "unsupported image format (need PNG or binary PPM P6)")


def resize_nearest(width, height, rgb, size):
    """Scale to width ``size`` (nearest neighbour), smaller or larger:
    W2 = size, H2 = max(1, H*size//W), src = (x*W//W2, y*H//H2);
    ``size`` 0 (or the image's own width) keeps the image."""
    if size <= 0 or width == size:
        return width, height, rgb
    new_w, new_h = size, max(1, height * size // width)
    xs = [(x * width // new_w) * 3 for x in range(new_w)]
    out = bytearray()
    for y in range(new_h):
        base = (y * height // new_h) * width * 3
        row = rgb[base:base + width * 3]
        out += bytes(v for sx in xs for v in row[sx:sx + 3])
    return new_w, new_h, bytes(out)


def resized_size(width, height, size):
    """The size ``resize_nearest`` will produce."""
    if size <= 0 or width == size:
        return width, height
    return size, max(1, height * size // width)


def write_ppm(path, width, height, rgb):
    """Write packed RGB as a binary PPM (P6)."""
    with open(path, "wb") as handle:
        handle.write(b"P6\n%d %d\n255\n" % (width, height))
        handle.write(rgb)
