"""Unit tests of the vaewb client (standard library; the torch parts are skipped without torch).
Run: python3 -m unittest discover -s clients/python/tests (tests/unit/python-client.test.ts runs them under vitest)."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import vaewb  # noqa: E402
from vaewb import safetensors  # noqa: E402
from vaewb.png import encode_png  # noqa: E402

try:
    import torch  # noqa: F401

    HAVE_TORCH = True
except Exception:  # noqa: BLE001
    HAVE_TORCH = False


def decode_png(data):
    """(width, height, channels, rows of bytes) of an 8-bit PNG without filters (what the client writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n = int.from_bytes(data[pos : pos + 4], "big")
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        crc = int.from_bytes(data[pos + 8 + n : pos + 12 + n], "big")
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, "bad CRC in %r" % kind
        if kind == b"IHDR":
            ihdr = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h = int.from_bytes(ihdr[0:4], "big"), int.from_bytes(ihdr[4:8], "big")
    c = {0: 1, 2: 3, 6: 4}[ihdr[9]]
    raw = zlib.decompress(idat)
    rows = [raw[y * (w * c + 1) + 1 : (y + 1) * (w * c + 1)] for y in range(h)]
    assert all(raw[y * (w * c + 1)] == 0 for y in range(h))
    return w, h, c, rows


def read_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


class PngTest(unittest.TestCase):
    def test_grey_floats_and_ints(self):
        w, h, c, rows = decode_png(encode_png([[0.0, 0.5], [1.0, 0.25]])[0])
        self.assertEqual((w, h, c), (2, 2, 1))
        self.assertEqual(list(rows[0]) + list(rows[1]), [0, 128, 255, 64])
        w, h, c, rows = decode_png(encode_png([[0, 200], [255, 7]])[0])
        self.assertEqual(list(rows[0]) + list(rows[1]), [0, 200, 255, 7])

    def test_rgb_channels_first_and_batch_grid(self):
        img = [[[1.0, 0.0]], [[0.0, 1.0]], [[0.0, 0.0]]]  # [C=3, H=1, W=2]
        w, h, c, rows = decode_png(encode_png(img)[0])
        self.assertEqual((w, h, c), (2, 1, 3))
        self.assertEqual(list(rows[0]), [255, 0, 0, 0, 255, 0])
        batch = [[[1.0] * 6] * 6] * 5  # five 6x6 grey images -> a 3x2 grid with 1-pixel gaps
        w, h, c, rows = decode_png(encode_png(batch)[0])
        self.assertEqual((w, h), (3 * 6 + 2, 2 * 6 + 1))
        self.assertEqual(rows[0][6], 0)  # the gap
        self.assertEqual(rows[0][7], 255)
        self.assertEqual(rows[12][19], 0)  # the sixth cell is empty

    def test_refuses_bad_shapes(self):
        with self.assertRaises(ValueError):
            encode_png([1, 2, 3])


class SafetensorsTest(unittest.TestCase):
    def test_round_trip_and_layout(self):
        blob = safetensors.dumps([("a/kernel", [2, 3], [1, 2, 3, 4, 5, 6.5]), ("b", [1], [-1])], {"k": "v"})
        n = int.from_bytes(blob[:8], "little")
        self.assertEqual(n % 8, 0)
        header = json.loads(blob[8 : 8 + n])
        self.assertEqual(header["a/kernel"], {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]})
        self.assertEqual(header["b"]["data_offsets"], [24, 28])
        self.assertEqual(len(blob), 8 + n + 28)
        tensors, meta = safetensors.loads(blob)
        self.assertEqual(tensors["a/kernel"][1], [1, 2, 3, 4, 5, 6.5])
        self.assertEqual(meta, {"k": "v"})

    def test_refuses_wrong_count(self):
        with self.assertRaises(ValueError):
            safetensors.dumps([("x", [2, 2], [1, 2, 3])])


class RunFolderTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def test_folder_files(self):
        with vaewb.init(project="p q", name="my run", config={"lr": 0.001}, dir=self.dir) as run:
            run.log({"train/loss": 3.5, "test/klPerDim": [0.1, 0.0]}, step=10, epoch=1)
            run.log({"train/loss": float("nan")})
            run.log_images("samples/prior", [[0.0, 1.0]], step=10)
        self.assertTrue(run.path.startswith(os.path.join(self.dir, "p-q")))
        meta = json.load(open(os.path.join(run.path, "run.json")))
        self.assertEqual((meta["format"], meta["formatVersion"], meta["name"]), ("vaewb-run", 1, "my run"))
        self.assertEqual(meta["config"], {"lr": 0.001})
        metrics = read_lines(os.path.join(run.path, "metrics.jsonl"))
        self.assertEqual(metrics[0]["values"], {"train/loss": 3.5, "test/klPerDim": [0.1, 0.0]})
        self.assertEqual((metrics[1]["step"], metrics[1]["values"]["train/loss"]), (11, None))
        images = read_lines(os.path.join(run.path, "images.jsonl"))
        self.assertEqual((images[0]["key"], images[0]["width"], images[0]["height"]), ("samples/prior", 2, 1))
        self.assertTrue(os.path.exists(os.path.join(run.path, "images", images[0]["file"])))
        status = json.load(open(os.path.join(run.path, "status.json")))
        self.assertEqual(status["state"], "completed")
        self.assertEqual([n for n in os.listdir(run.path) if ".tmp" in n], [])
        with self.assertRaises(RuntimeError):
            run.log({"x": 1})

    def test_totals_and_image_meta(self):
        run = vaewb.init(project="p", name="t", config={"epochs": 4}, dir=self.dir)
        status = lambda: json.load(open(os.path.join(run.path, "status.json")))  # noqa: E731
        self.assertEqual((status()["totalEpochs"], status().get("totalSteps")), (4, None))
        run.set_total(steps=400)
        self.assertEqual((status()["totalEpochs"], status()["totalSteps"]), (4, 400))
        with self.assertRaises(ValueError):
            run.set_total(steps=-1)
        batch = [[[0.5] * 5] * 5] * 6
        run.log_images("latent_traversal", batch, step=1, columns=3, dims=[0, 2], z_range=(-3, 3))
        entry = read_lines(os.path.join(run.path, "images.jsonl"))[0]
        self.assertEqual((entry["width"], entry["height"]), (3 * 5 + 2, 2 * 5 + 1))
        self.assertEqual(entry["meta"], {"dims": [0, 2], "range": [-3.0, 3.0]})
        with self.assertRaises(ValueError):
            run.log_images("x", batch, z_range=(3, -3))
        with self.assertRaises(ValueError):
            run.log_images("x", batch, columns=0)
        run.finish()
        self.assertEqual((status()["state"], status()["totalSteps"]), ("completed", 400))

    def test_bad_values_refused_before_writing(self):
        run = vaewb.init(project="p", name="r", dir=self.dir)
        for bad in ({"x": "text"}, {"": 1}, {"x": [1, float("inf")]}):
            with self.assertRaises((TypeError, ValueError)):
                run.log(bad)
        self.assertFalse(os.path.exists(os.path.join(run.path, "metrics.jsonl")))
        run.finish()

    def test_exception_marks_failed(self):
        with self.assertRaises(ZeroDivisionError):
            with vaewb.init(project="p", name="r", dir=self.dir) as run:
                1 / 0
        status = json.load(open(os.path.join(run.path, "status.json")))
        self.assertEqual(status["state"], "failed")
        self.assertIn("ZeroDivisionError", status["error"])

    def _child(self, code):
        script = "import sys, time; sys.path.insert(0, %r); import vaewb\n" % os.path.dirname(HERE) + code
        return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)

    def _run_dir(self):
        project = os.path.join(self.dir, "k")
        return os.path.join(project, os.listdir(project)[0])

    def test_sigterm_marks_interrupted_and_keeps_points(self):
        p = self._child(
            "run = vaewb.init(project='k', name='t', dir=%r)\n"
            "for i in range(5): run.log({'train/loss': float(i)}, step=i + 1)\n"
            "print('ready', flush=True)\ntime.sleep(30)\n" % self.dir
        )
        self.assertEqual(p.stdout.readline().strip(), "ready")
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(10), -signal.SIGTERM)
        d = self._run_dir()
        self.assertEqual(json.load(open(os.path.join(d, "status.json")))["state"], "interrupted")
        self.assertEqual(len(read_lines(os.path.join(d, "metrics.jsonl"))), 5)

    def test_sigkill_leaves_running_with_every_point(self):
        p = self._child(
            "run = vaewb.init(project='k', name='t', dir=%r)\n"
            "for i in range(50): run.log({'train/loss': float(i)}, step=i + 1)\n"
            "print('ready', flush=True)\ntime.sleep(30)\n" % self.dir
        )
        self.assertEqual(p.stdout.readline().strip(), "ready")
        p.kill()
        p.wait(10)
        d = self._run_dir()
        status = json.load(open(os.path.join(d, "status.json")))
        self.assertEqual(status["state"], "running")  # the workbench calls it interrupted: its pid is gone
        self.assertEqual(len(read_lines(os.path.join(d, "metrics.jsonl"))), 50)

    def test_forked_child_does_not_end_the_run(self):
        p = self._child(
            "import os, signal\n"
            "run = vaewb.init(project='k', name='t', dir=%r)\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    os.kill(os.getpid(), signal.SIGTERM)\n"
            "os.waitpid(pid, 0)\n"
            "print(open(os.path.join(run.path, 'status.json')).read(), flush=True)\n"
            "run.finish()\n" % self.dir
        )
        out = p.stdout.readline()
        self.assertEqual(p.wait(10), 0)
        self.assertEqual(json.loads(out)["state"], "running")  # a worker killed by SIGTERM left the run alone
        self.assertEqual(json.load(open(os.path.join(self._run_dir(), "status.json")))["state"], "completed")

    def test_normal_exit_without_finish_completes(self):
        p = self._child("run = vaewb.init(project='k', name='t', dir=%r)\nrun.log({'a': 1})\n" % self.dir)
        self.assertEqual(p.wait(10), 0)
        self.assertEqual(json.load(open(os.path.join(self._run_dir(), "status.json")))["state"], "completed")


@unittest.skipUnless(HAVE_TORCH, "PyTorch is not installed for this Python")
class TorchTest(unittest.TestCase):
    def _model(self):
        import torch.nn as nn
        import torch.nn.functional as F

        class VAE(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1, self.fc21, self.fc22 = nn.Linear(6, 5), nn.Linear(5, 2), nn.Linear(5, 2)
                self.fc3, self.fc4 = nn.Linear(2, 5), nn.Linear(5, 6)

            def encode(self, x):
                h = F.relu(self.fc1(x))
                return self.fc21(h), self.fc22(h)

            def decode(self, z):
                return self.fc4(F.relu(self.fc3(z)))

        torch.manual_seed(0)
        return VAE()

    def test_checkpoint_names_and_transpose(self):
        from vaewb.checkpoint import checkpoint_tensors

        m = self._model()
        tensors, config = checkpoint_tensors(m)
        names = [t[0] for t in tensors]
        self.assertEqual(names[:2], ["encoder/dense_0/kernel", "encoder/dense_0/bias"])
        self.assertEqual(set(names[2:]), {"encoder/mu/kernel", "encoder/mu/bias", "encoder/logvar/kernel", "encoder/logvar/bias",
                                          "decoder/dense_0/kernel", "decoder/dense_0/bias", "decoder/out/kernel", "decoder/out/bias"})
        kernel = dict((t[0], t) for t in tensors)["encoder/dense_0/kernel"]
        self.assertEqual(kernel[1], [6, 5])
        self.assertAlmostEqual(kernel[2][1], float(m.fc1.weight[1, 0]), places=6)  # kernel[0][1] = weight[1][0]
        self.assertEqual(config["model"], {"kind": "vae", "arch": "mlp", "hidden": [5], "latentDim": 2, "activation": "relu"})

    def test_evaluate_definitions(self):
        import math

        from vaewb.torch import evaluate

        m = self._model()
        x = torch.rand(40, 6).round()
        r = evaluate(m, [(x[:25], None), (x[25:], None)], k=50, nll_examples=30)
        self.assertAlmostEqual(r["test/loss"], r["test/recon"] + r["test/kl"], places=6)
        self.assertAlmostEqual(sum(r["test/klPerDim"]), r["test/kl"], places=6)
        self.assertGreaterEqual(r["test/inferenceGap"], 0)
        # the IW bound with k = 50 is at most the ELBO (up to the estimate's noise) and exact for k = 1's mean
        self.assertLess(r["test/nll"], r["test/loss"] + 1.0)
        mu, logvar = m.encode(x)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1).mean()
        self.assertTrue(math.isclose(float(kl), r["test/kl"], rel_tol=1e-5))
        again = evaluate(m, [(x, None)], k=50, nll_examples=30)
        self.assertEqual(again["test/kl"], r["test/kl"])


if __name__ == "__main__":
    unittest.main()
