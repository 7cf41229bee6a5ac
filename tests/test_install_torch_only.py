"""`pip install '.[torch]'` in a clean virtual environment: gan2014 + port_torch under numpy 2,
without Aesara.

The environment is new (no site packages of this one), gets torch first with the exact version of
constraints.txt (a CPU machine should take the CPU wheel; see README.md), then the project with
`[torch]` and `numpy>=2`. In it, a released generator is written (`python -m
gan2014.release_generator`) and sampled through `port_torch.api`; the samples must equal those this
environment (numpy 1.26, Aesara present) computes from the same file, bit for bit. Most of its
time is installing torch (README.md gives how long it took).
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from gan2014 import checkpoint as ckpt
from gan2014 import release_generator

REPO = Path(__file__).resolve().parents[1]
TINY_YAML = REPO / "yaml_experiments" / "smoke" / "mnist_tiny.yaml"

CLEAN_ENV_SCRIPT = r"""
import importlib.util, json, subprocess, sys
import numpy as np
from gan2014 import release_generator
from port_torch.api import load_generator, sample
training, released, out = sys.argv[1:4]
assert release_generator.main([training, released]) == 0
G = load_generator(released)
np.save(out, sample(G, 16, seed=2))
print(json.dumps({"numpy": np.__version__, "aesara": importlib.util.find_spec("aesara") is not None,
                  "python": sys.version.split()[0]}))
"""


def torch_pin():
    text = (REPO / "constraints.txt").read_text()
    return re.search(r"^torch==\S+", text, flags=re.M).group(0)


def pip(python, *args):
    # --no-compile: no bytecode for torch's thousands of modules (most of the install's time);
    # Python compiles what the check imports when it imports it.
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-compile", *args],
                   check=True, timeout=900, cwd=python.parents[2])


def test_the_torch_extra_installs_alone_under_numpy_2(tmp_path):
    # A "training checkpoint" of the tiny config's generator (freshly drawn values): no data needed.
    """In a new virtual environment with only the pinned torch and '.[torch]', numpy is 2 or later,
    Aesara is absent, and a generator released there gives the same 16 samples (seed 2) as here.
    Exact (bit for bit): both sides run constraints.txt's torch version on the same parameters, so
    any difference means the install or numpy 2 changed what is loaded."""
    from port_torch.api import load_generator, sample
    from port_torch.registry import REGISTRY

    text = TINY_YAML.read_text()
    generator = release_generator.build_generator(text, REGISTRY, TINY_YAML)
    arrays = {f"G/{name}": p.detach().numpy().copy()
              for name, p in generator.mlp.named_pylearn2_params()}
    training = tmp_path / "epoch_000003.npz"
    ckpt.save_checkpoint(training, arrays, {"yaml": text, "epoch": 3, "backend": "port_torch",
                                            "param_names": list(arrays)})

    # The project's installable files only (what an sdist would hold), outside this checkout.
    source = tmp_path / "src"
    source.mkdir()
    shutil.copy(REPO / "setup.py", source)
    for package in ("gan2014", "port_torch", "legacy_aesara"):
        shutil.copytree(REPO / package, source / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))

    venv = tmp_path / "venv"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        python = venv / "bin" / "python"
        pip(python, torch_pin())
        pip(python, "--no-build-isolation", f"{source}[torch]", "numpy>=2")
        env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
        result = subprocess.run([str(python), "-c", CLEAN_ENV_SCRIPT, str(training),
                                 str(tmp_path / "generator.npz"), str(tmp_path / "clean.npy")],
                                check=True, capture_output=True, text=True, timeout=300,
                                cwd=tmp_path, env=env)
    finally:
        # about 1 GB, mostly torch; pytest keeps old tmp dirs
        shutil.rmtree(venv, ignore_errors=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert int(report["numpy"].split(".")[0]) >= 2, report
    assert report["aesara"] is False, report
    # The same samples as here, from the generator file the clean environment wrote.
    G = load_generator(tmp_path / "generator.npz")
    np.testing.assert_array_equal(np.load(tmp_path / "clean.npy"), sample(G, 16, seed=2))
    assert ckpt.load_checkpoint(tmp_path / "generator.npz")[1]["epoch"] == 3
