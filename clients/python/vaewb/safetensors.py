"""The .safetensors format written (float32 only) and read in pure Python, as the workbench does
(src-main/checkpoints/safetensors.ts): 8-byte little-endian header length, a JSON header padded with spaces to a
multiple of 8, then the tensors' raw little-endian bytes, contiguous, in the order given."""
import json
import struct
import sys
from array import array


def _floats(values):
    a = array("f", values)
    if sys.byteorder != "little":
        a.byteswap()
    return a.tobytes()


def dumps(tensors, metadata=None):
    """tensors: list of (name, shape, flat list of floats). Returns the file's bytes."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, shape, values in tensors:
        n = 1
        for d in shape:
            n *= d
        if len(values) != n:
            raise ValueError("tensor %s: %d values do not fill shape %r" % (name, len(values), list(shape)))
        blob = _floats(values)
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def loads(data):
    """Returns (dict name -> (shape, list of floats), metadata) for a float32 file."""
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, spec in header.items():
        if spec["dtype"] != "F32":
            raise ValueError("tensor %s: dtype %s (only F32 is read here)" % (name, spec["dtype"]))
        a = array("f")
        a.frombytes(data[base + spec["data_offsets"][0] : base + spec["data_offsets"][1]])
        if sys.byteorder != "little":
            a.byteswap()
        out[name] = (spec["shape"], a.tolist())
    return out, meta
