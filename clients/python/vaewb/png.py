"""PNG encoding in pure Python (zlib from the standard library): greyscale, RGB or RGBA, 8 bits.

Accepts nested lists, numpy arrays or torch tensors shaped [H, W], [H, W, C] or [C, H, W] (C in 1, 3, 4), values
in [0, 1] (floats) or 0..255 (integers), and a batch [N, H, W] / [N, C, H, W] / [N, H, W, C] laid out as a grid.
"""
import struct
import zlib

MAX_SIDE = 8192


def _to_nested(array):
    """A nested list of numbers from a list, a numpy array or a torch tensor (no import of either)."""
    if hasattr(array, "detach"):  # torch
        array = array.detach().cpu()
        if hasattr(array, "float") and not str(array.dtype).startswith("torch.uint8"):
            array = array.float()
        return array.tolist(), str(array.dtype) == "torch.uint8"
    if hasattr(array, "tolist") and hasattr(array, "dtype"):  # numpy
        return array.tolist(), str(array.dtype) == "uint8"
    return array, False


def _shape(nested):
    shape = []
    x = nested
    while isinstance(x, (list, tuple)):
        shape.append(len(x))
        if not x:
            break
        x = x[0]
    return shape


def _grid(batch, columns=None):
    """Lay out N images (each [H, W, C]) as a grid with 1-pixel gaps, `columns` per row (default: near-square)."""
    n = len(batch)
    if columns is not None:
        if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
            raise ValueError("log_images: columns must be a positive integer, not %r" % (columns,))
        cols = min(columns, n)
    else:
        cols = 1
        while cols * cols < n:
            cols += 1
    rows = (n + cols - 1) // cols
    h, w, c = len(batch[0]), len(batch[0][0]), len(batch[0][0][0])
    gap = 1
    H, W = rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap
    out = [[[0] * c for _ in range(W)] for _ in range(H)]
    for i, img in enumerate(batch):
        r, q = divmod(i, cols)
        for y in range(h):
            row = out[r * (h + gap) + y]
            src = img[y]
            for x in range(w):
                row[q * (w + gap) + x] = list(src[x])
    return out


def to_hwc(array, columns=None):
    """Normalize to a nested [H, W, C] list of ints 0..255 with C in (1, 3, 4); a batch becomes a grid."""
    nested, is_uint8 = _to_nested(array)
    shape = _shape(nested)
    if len(shape) == 2:
        img = [[[v] for v in row] for row in nested]
    elif len(shape) == 3 and shape[0] in (1, 3, 4) and shape[2] not in (1, 3, 4):
        c, h, w = shape
        img = [[[nested[k][y][x] for k in range(c)] for x in range(w)] for y in range(h)]
    elif len(shape) == 3 and shape[2] in (1, 3, 4):
        img = nested
    elif len(shape) == 3:  # [N, H, W]
        img = _grid([[[[v] for v in row] for row in im] for im in nested], columns)
    elif len(shape) == 4:
        img = _grid([to_hwc_list(im) for im in nested], columns)
    else:
        raise ValueError("log_images: expected an image [H, W], [H, W, C], [C, H, W] or a batch, got shape %r" % (shape,))
    return _scale(img, is_uint8)


def to_hwc_list(im):
    shape = _shape(im)
    if len(shape) == 3 and shape[0] in (1, 3, 4) and shape[2] not in (1, 3, 4):
        c, h, w = shape
        return [[[im[k][y][x] for k in range(c)] for x in range(w)] for y in range(h)]
    if len(shape) == 2:
        return [[[v] for v in row] for row in im]
    return im


def _scale(img, is_uint8):
    flat_max = 0.0
    is_int = is_uint8
    if not is_int:
        is_int = all(isinstance(v, int) and not isinstance(v, bool) for row in img for px in row for v in px)
        if is_int:
            flat_max = max(v for row in img for px in row for v in px)
            if flat_max <= 1:
                is_int = False  # 0/1 integers are a binary image: scale like floats
    out = []
    for row in img:
        r = []
        for px in row:
            if is_int:
                r.append([min(255, max(0, int(v))) for v in px])
            else:
                r.append([min(255, max(0, int(round(float(v) * 255)))) for v in px])
        out.append(r)
    return out


def encode_png(array, columns=None):
    """PNG bytes of an image or a batch of images (a grid, `columns` images per row). Returns (bytes, width, height)."""
    img = to_hwc(array, columns)
    h = len(img)
    w = len(img[0]) if h else 0
    if not (0 < h <= MAX_SIDE and 0 < w <= MAX_SIDE):
        raise ValueError("log_images: image of %dx%d pixels (each side must be 1..%d)" % (w, h, MAX_SIDE))
    c = len(img[0][0])
    color = {1: 0, 3: 2, 4: 6}.get(c)
    if color is None:
        raise ValueError("log_images: %d channels (expected 1, 3 or 4)" % c)
    raw = bytearray()
    for row in img:
        raw.append(0)  # filter: none
        for px in row:
            raw.extend(px)
    return png_bytes(w, h, color, bytes(raw)), w, h


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(width, height, color_type, filtered_rows):
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(filtered_rows, 6)) + _chunk(b"IEND", b"")


def png_size(data):
    """(width, height) of PNG bytes; ValueError when they are not a PNG."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("log_images: the bytes given are not a PNG")
    return struct.unpack(">II", data[16:24])
