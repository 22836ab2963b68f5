"""A user workload with a picture: tiles of a 700 x 50 gradient (every
chunk one 70 x 25 tile), through the documented picture hooks.  With
``--param broken=1`` its picture_band returns one byte too few."""

DESCRIPTION = "gradient tiles with a picture (test)"
ITEM_UNIT = "pixels"
PARAMS = {"broken": False}

WIDTH, HEIGHT, TILE_W, TILE_H = 700, 50, 70, 25


def pixel(x, y):
    return (x % 256, (y * 5) % 256, (x * y) % 256)


def prepare(params):
    return [(x, y) for y in range(0, HEIGHT, TILE_H)
            for x in range(0, WIDTH, TILE_W)]


def run_chunk(state, chunk):
    x0, y0 = chunk
    out = bytearray()
    for y in range(y0, y0 + TILE_H):
        for x in range(x0, x0 + TILE_W):
            out += bytes(pixel(x, y))
    return TILE_W * TILE_H, bytes(out)


def finish(params, partials):
    return "tiles=%d bytes=%d" % (len(partials), sum(map(len, partials)))


def picture_size(params):
    return WIDTH, HEIGHT


def picture_band(params, chunk, partial):
    x0, y0 = chunk
    if params["broken"]:
        partial = partial[:-1]
    return x0, y0, TILE_W, TILE_H, partial
