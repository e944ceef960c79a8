"""vaewb.init() and the Run it returns: log scalars, images and checkpoints into a run folder the workbench follows."""
import atexit
import json
import math
import os
import signal
import socket
import sys
import threading
import time
import traceback
import uuid

from . import folder
from .png import encode_png, png_size

HEARTBEAT_SECONDS = 10.0
MAX_KEY_CHARS = 200

_active = []


def _now():
    return time.time()


def _clean_value(key, value):
    """A metric value as JSON: a finite float, or a list of finite floats (per-dimension values)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu()
        value = value.item() if value.numel() == 1 else value.flatten().tolist()
    elif hasattr(value, "tolist") and hasattr(value, "dtype"):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        out = [float(v) for v in value]
        if not all(math.isfinite(v) for v in out):
            raise ValueError("log: %s holds a value that is not finite" % key)
        return out
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("log: %s must be a number or a list of numbers, not %s" % (key, type(value).__name__))
    v = float(value)
    return v if math.isfinite(v) else None  # NaN / inf are written as null: the point is kept, the value is missing


def _is_count(value):
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def _image_meta(dims, z_range):
    meta = {}
    if dims is not None:
        dims = [int(d) for d in dims]
        if not dims or len(dims) > 4096 or min(dims) < 0:
            raise ValueError("log_images: dims is a non-empty list of latent dimension indices (>= 0)")
        meta["dims"] = dims
    if z_range is not None:
        lo, hi = (float(v) for v in z_range)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError("log_images: z_range is (low, high) with finite low < high")
        meta["range"] = [lo, hi]
    return meta


def _check_key(key):
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_CHARS:
        raise ValueError("log: metric names are non-empty strings of at most %d characters, not %r" % (MAX_KEY_CHARS, key))


class Run:
    """One run folder. Use vaewb.init() to make one."""

    def __init__(self, project, name, config, dir, total_steps=None, total_epochs=None):
        root = os.path.abspath(os.path.expanduser(dir or os.environ.get("VAEWB_DIR") or "vaewb-runs"))
        self.project = folder.safe_name(project or "default")
        self.name = str(name or "run")[:200]
        self.config = dict(config or {})
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        self.id = "%s-%s-%s" % (stamp, folder.safe_name(self.name, 40), uuid.uuid4().hex[:6])
        self.path = os.path.join(root, self.project, self.id)
        os.makedirs(os.path.join(self.path, folder.IMAGES_DIR))
        os.makedirs(os.path.join(self.path, folder.CHECKPOINTS_DIR))
        self._lock = threading.RLock()
        self._step = 0
        self._images = 0
        self._state = None
        self._started = _now()
        self._pid = os.getpid()
        self._totals = {}
        if total_epochs is None and _is_count(self.config.get("epochs")):
            total_epochs = self.config["epochs"]  # a config that says its epochs says the total
        self._set_totals(total_steps, total_epochs)
        json.dumps(self.config, allow_nan=False)  # fail early, naming nothing half-written
        folder.write_json_atomic(
            os.path.join(self.path, folder.RUN_JSON),
            {
                "format": folder.FORMAT,
                "formatVersion": folder.FORMAT_VERSION,
                "id": self.id,
                "project": self.project,
                "name": self.name,
                "config": self.config,
                "createdAt": int(self._started * 1000),
                "client": "vaewb-python",
                "python": sys.version.split()[0],
            },
        )
        self._write_status("running")
        self.log_message("run started by pid %d on %s" % (os.getpid(), socket.gethostname()))
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, name="vaewb-heartbeat", daemon=True)
        self._beat.start()
        _active.append(self)
        _install_hooks()

    # ------------------------------------------------------------------ status

    def _write_status(self, state, error=None, exit_code=None):
        with self._lock:
            now = _now()
            status = {
                "state": state,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "startedAt": int(self._started * 1000),
                "updatedAt": int(now * 1000),
                "heartbeatSeconds": HEARTBEAT_SECONDS,
            }
            status.update(self._totals)
            if state != "running":
                status["finishedAt"] = int(now * 1000)
            if error:
                status["error"] = str(error)[:2000]
            if exit_code is not None:
                status["exitCode"] = exit_code
            folder.write_json_atomic(os.path.join(self.path, folder.STATUS_JSON), status)
            self._state = state

    def _heartbeat(self):
        while not self._stop.wait(HEARTBEAT_SECONDS):
            with self._lock:
                if self._state != "running":
                    return
                try:
                    self._write_status("running")
                except OSError:
                    pass

    def _set_totals(self, steps, epochs):
        for key, value in (("totalSteps", steps), ("totalEpochs", epochs)):
            if value is None:
                continue
            if not _is_count(value):
                raise ValueError("%s must be a positive number, not %r" % (key, value))
            self._totals[key] = value

    def set_total(self, steps=None, epochs=None):
        """Say how long the run will be (steps and/or epochs): the workbench then shows its progress and an ETA."""
        with self._lock:
            self._set_totals(steps, epochs)
            if self._state == "running":
                self._write_status("running")

    # ------------------------------------------------------------------ logging

    def log(self, values, step=None, epoch=None):
        """Log scalars (and lists of numbers, e.g. test/klPerDim) at a step (default: one more than the last)."""
        if not isinstance(values, dict) or not values:
            raise TypeError("log: give a non-empty dict of metric name -> value")
        clean = {}
        for key, value in values.items():
            _check_key(key)
            clean[key] = _clean_value(key, value)
        with self._lock:
            self._check_open()
            step = self._next_step(step)
            point = {"step": step, "time": int(_now() * 1000), "values": clean}
            if epoch is not None:
                point["epoch"] = float(epoch)
            folder.append_line(os.path.join(self.path, folder.METRICS), point)

    def log_images(self, key, images, step=None, epoch=None, columns=None, dims=None, z_range=None):
        """Log an image or a batch (shown as a grid, `columns` per row): PNG bytes, or a nested list / numpy array /
        torch tensor. The key names the kind (FORMAT.md): reconstructions, prior samples, traversal, manifold,
        interpolation. A traversal may say which latent dimensions its rows are (`dims`) and the z range of its
        columns (`z_range=(-3, 3)`): the workbench captions it as its own traversals."""
        _check_key(key)
        meta = _image_meta(dims, z_range)
        if isinstance(images, (bytes, bytearray)):
            data = bytes(images)
            width, height = png_size(data)
        else:
            data, width, height = encode_png(images, columns)
        with self._lock:
            self._check_open()
            step = self._next_step(step, advance=False)
            self._images += 1
            name = "%06d-%s-s%d.png" % (self._images, folder.safe_name(key.replace("/", "_"), 60), step)
            folder.write_atomic(os.path.join(self.path, folder.IMAGES_DIR, name), data)
            entry = {"key": key, "step": step, "file": name, "width": width, "height": height, "time": int(_now() * 1000)}
            if epoch is not None:
                entry["epoch"] = float(epoch)
            if meta:
                entry["meta"] = meta
            folder.append_line(os.path.join(self.path, folder.IMAGES), entry)

    def log_message(self, message, level="info"):
        if level not in ("info", "warn", "error"):
            raise ValueError("log_message: level is info, warn or error")
        folder.append_line(
            os.path.join(self.path, folder.LOG), {"time": int(_now() * 1000), "level": level, "message": str(message)[:20000]}
        )

    def save_checkpoint(self, model, step=None, epoch=None, tag="last", dataset=None, names=None, likelihood=None):
        """Save a torch model's weights as safetensors under the workbench's names (see vaewb.checkpoint)."""
        from .checkpoint import checkpoint_tensors

        tensors, wb_config = checkpoint_tensors(model, names=names)
        wb_config["data"] = {"dataset": dataset or self.config.get("dataset", "mnist")}
        wb_config["model"]["likelihood"] = likelihood or self.config.get("likelihood", "bernoulli")
        wb_config["name"] = self.name
        from .safetensors import dumps

        with self._lock:
            self._check_open()
            step = self._next_step(step, advance=False)
            file = "%s-s%d.safetensors" % (folder.safe_name(tag, 32), step)
            blob = dumps(tensors, {"format": "vaewb-checkpoint", "config": json.dumps(wb_config)})
            folder.write_atomic(os.path.join(self.path, folder.CHECKPOINTS_DIR, file), blob)
            entry = {"file": file, "step": step, "tag": tag, "config": wb_config, "bytes": len(blob), "time": int(_now() * 1000)}
            if epoch is not None:
                entry["epoch"] = float(epoch)
            folder.append_line(os.path.join(self.path, folder.CHECKPOINTS), entry)
        return os.path.join(self.path, folder.CHECKPOINTS_DIR, file)

    def _next_step(self, step, advance=True):
        if step is None:
            step = self._step + 1 if advance else self._step
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError("step must be a non-negative integer, not %r" % (step,))
        self._step = max(self._step, step)
        return step

    def _check_open(self):
        if self._state != "running":
            raise RuntimeError("run %s is already %s" % (self.id, self._state))

    # ------------------------------------------------------------------ end

    def finish(self, state="completed", error=None, exit_code=None):
        """Mark the run ended (completed by default; failed / interrupted). Safe to call twice."""
        with self._lock:
            if self._state != "running":
                return
            if error:
                self.log_message(error, "error")
            self.log_message("run %s" % state)
            self._write_status(state, error=error, exit_code=exit_code)
            self._stop.set()
        if self in _active:
            _active.remove(self)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            self.finish("completed")
        elif issubclass(kind, KeyboardInterrupt):
            self.finish("interrupted", error="KeyboardInterrupt")
        else:
            text = "".join(traceback.format_exception(kind, value, tb))
            self.finish("failed", error=text)
        return False


def init(project=None, name=None, config=None, dir=None, total_steps=None, total_epochs=None):
    """Start a run: a new folder <dir>/<project>/<run id>/ (dir: argument, $VAEWB_DIR, or ./vaewb-runs).
    total_steps / total_epochs (or config["epochs"]): how long it will be, for the workbench's progress and ETA."""
    return Run(project, name, config, dir, total_steps=total_steps, total_epochs=total_epochs)


# ---------------------------------------------------------------------- process hooks

_hooks = {"installed": False}


def _finish_all(state, error=None, exit_code=None):
    for run in list(_active):
        if run._pid != os.getpid():
            continue  # a forked child (a DataLoader worker) inherited the hooks: the run is not its to end
        try:
            run.finish(state, error=error, exit_code=exit_code)
        except Exception:  # noqa: BLE001 - ending one run must not stop ending the others
            pass


def _on_exit():
    _finish_all("completed")


def _on_signal(signum, frame):
    _finish_all("interrupted", error="killed by signal %d" % signum, exit_code=128 + signum)
    previous = _hooks.get(signum)
    if callable(previous):
        previous(signum, frame)
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _excepthook(kind, value, tb):
    state = "interrupted" if issubclass(kind, KeyboardInterrupt) else "failed"
    _finish_all(state, error="".join(traceback.format_exception(kind, value, tb)))
    _hooks["excepthook"](kind, value, tb)


def _install_hooks():
    if _hooks["installed"]:
        return
    _hooks["installed"] = True
    atexit.register(_on_exit)
    _hooks["excepthook"] = sys.excepthook
    sys.excepthook = _excepthook
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            try:
                _hooks[signum] = signal.signal(signum, _on_signal)
            except (OSError, ValueError):
                pass
