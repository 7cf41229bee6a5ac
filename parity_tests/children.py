"""The float64 Aesara side of a parity test, computed in a child process.

Aesara fixes its float type when it is imported, and the test process has imported it in float32;
so a test that compares the backends in float64 writes its inputs to a .npz file, starts a worker
module of this package with GAN2014_FLOATX=float64, and reads the worker's arrays back. The child is
started as early as the test module allows: its Aesara compilation then runs on the second CPU
while the parent computes the float32 side.

Both halves live here: `AesaraChild` for the test (parent) side, `read_arrays` / `write_arrays`
for the worker (child) side.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# Long enough for a cold compilation beside a second pytest worker on 2 CPUs.
CHILD_TIMEOUT = 1800


def read_arrays(path):
    """{name: array} of a .npz file (the inputs a worker was given, or the arrays it wrote)."""
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def write_arrays(path, arrays, **facts):
    """The worker's answer: its arrays in `path`, and one JSON line on stdout saying so."""
    np.savez(path, **arrays)
    print(json.dumps({"written": str(path), "keys": len(arrays), **facts}))


class AesaraChild:
    """`python -m parity_tests.<worker> ARGS...` in float64, its output in a log beside `out`.

    Use it as a context manager in a fixture (the child is killed if the tests end without
    collecting it) and call `arrays()` where the float64 values are needed."""

    def __init__(self, worker, args, out, floatx="float64"):
        self.worker, self.out = worker, Path(out)
        self.log_path = self.out.with_suffix(".log")
        env = dict(os.environ, GAN2014_FLOATX=floatx)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"parity_tests.{worker}", *map(str, args)],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)

    def arrays(self, timeout=CHILD_TIMEOUT):
        """Wait for the child; its arrays, or a failure that shows the end of its output."""
        self.process.wait(timeout=timeout)
        if self.process.returncode != 0:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise AssertionError(f"{self.worker} (float64 Aesara child) exited with "
                                 f"{self.process.returncode}:\n{tail}")
        return read_arrays(self.out)

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
