"""What the Table-1 driver needs from a backend, and the facts it records about the machine and
the code that ran."""
import contextlib
import os
import platform
from pathlib import Path

from gan2014 import parzen_cli


class Backend:
    """What the driver needs from a backend (port_torch.table1.TorchBackend implements it)."""

    name = None

    def load_registry(self):
        raise NotImplementedError

    def configure(self):
        """Process-wide settings (device, threads), before anything is built."""

    def stream_seed(self, seed):
        """The backend's seed for the noise and dropout streams of seed number ``seed``."""
        raise NotImplementedError

    def seed_scope(self, seed):
        """A context in force while seed number ``seed``'s Train is built and trained (for a
        backend whose streams take their seeds as they are built: legacy_aesara.table1)."""
        return contextlib.nullcontext()

    def prepare(self, train, seed):
        """Put a freshly built Train on the device and seed its streams for seed number ``seed``."""
        raise NotImplementedError

    def draw_samples(self, model, n, noise_seed):
        """``n`` rows of G's output from noise seeded ``noise_seed``, without touching any training
        random stream. A numpy array, or whatever :meth:`ll_function` accepts."""
        raise NotImplementedError

    def ll_function(self):
        """An ``ll_fn`` for :func:`gan2014.parzen_cli.run_protocol`, or None for gan2014.parzen."""
        return None

    def load_model(self, path):
        """``(model, meta)`` rebuilt from a checkpoint, placed where :meth:`draw_samples` wants."""
        return parzen_cli.load_model(path, self.load_registry())

    def describe(self):
        """JSON-able facts for the logs: device, hardware, library versions."""
        return {"device": "cpu", "hardware": platform_description()}


def platform_description():
    """'<CPU model>, N logical CPUs, <OS> <arch>' from the standard library (and /proc/cpuinfo)."""
    model = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    model = model or platform.processor() or platform.machine()
    return f"{model}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.machine()}"


# Names the commit of a copy of the code made outside git (a GPU machine's checkout receives the
# files without the repository): set by scripts/table1_gpu_sitting.sh from what to-gpu recorded.
SOURCE_COMMIT_VARIABLE = "GAN2014_SOURCE_COMMIT"


def source_commit():
    """The git commit of the code that is running (``<sha>``, ``<sha>+modified`` when tracked files
    differ from it); outside a git checkout, $GAN2014_SOURCE_COMMIT, else None: a row of the driver
    log names the code that trained its epochs."""
    import subprocess

    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=30, check=True).stdout.strip()
        changed = subprocess.run(["git", "-C", str(here), "status", "--porcelain",
                                  "--untracked-files=no"], capture_output=True, text=True,
                                 timeout=30, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return os.environ.get(SOURCE_COMMIT_VARIABLE) or None
    return sha + ("+modified" if changed else "")
