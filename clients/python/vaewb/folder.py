"""The run folder's layout and its safe writes (see FORMAT.md beside this package).

Every whole-file write goes to a temporary sibling, is fsynced and renamed, so a reader sees the old or the new
file, never half of one. Append-only files get one complete line per write (a reader ignores a last line without
its newline: a killed writer leaves at most that)."""
import json
import os
import re

FORMAT = "vaewb-run"
FORMAT_VERSION = 1

RUN_JSON = "run.json"
STATUS_JSON = "status.json"
METRICS = "metrics.jsonl"
IMAGES = "images.jsonl"
LOG = "log.jsonl"
CHECKPOINTS = "checkpoints.jsonl"
IMAGES_DIR = "images"
CHECKPOINTS_DIR = "checkpoints"

_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text, limit=64):
    """A file-name-safe slug of text (letters, digits, . _ -), never empty, never starting with a dot."""
    slug = _NAME.sub("-", str(text)).strip("-.")[:limit]
    return slug or "run"


def write_atomic(path, data):
    """Write bytes to path through a temporary sibling + fsync + rename."""
    tmp = "%s.tmp-%d" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json_atomic(path, obj):
    write_atomic(path, (json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8"))


def append_line(path, obj):
    """Append one JSON object as one line with a single write (O_APPEND), then flush it to the OS."""
    line = (json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, line)
        while written < len(line):
            written += os.write(fd, line[written:])
    finally:
        os.close(fd)
