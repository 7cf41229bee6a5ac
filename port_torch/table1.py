"""The Table-1 run driver on the torch port:
`python -m port_torch.table1 --seeds 0 1 2 --device cuda ...`.

Everything but the torch specifics is gan2014.table1 (its docstring gives the protocol). Here:

* seed number k trains with the torch streams seeded 10097 + 1000 k (`python -m port_torch.run
  --seed 10097+1000k`; seed 0 is the default run, and the noise, dropout and monitoring generators
  of different seeds, seeded s, s+1, s+2, never share a seed). Weight initialisation and batch order
  follow the YAML for every seed, as in `port_torch.run`;
* Parzen samples come from a fresh `torch.Generator` on --device seeded --noise-seed (default 10097,
  as `port_torch.parzen`), so no training stream moves; on CUDA the log-likelihoods are computed on
  the device in float64 (`port_torch.parzen.parzen_log_likelihood_torch`), on CPU by gan2014.parzen.
  Samples from the same seed differ between CPU and CUDA (different generators): validate and report
  on the same kind of device.
"""
import platform
import sys

import torch

from gan2014 import table1
from gan2014.cli import whole_number
from port_torch.adversarial import GENERATOR_SEED
from port_torch.parzen import parzen_log_likelihood_torch
from port_torch.run import configure_torch
from port_torch.training_algorithms.sgd import PATHS

# Seed number k -> torch seed GENERATOR_SEED + SEED_STRIDE * k
# (as parity_tests/statistical_parity.py).
SEED_STRIDE = 1000


class TorchBackend(table1.Backend):
    name = "port_torch"

    def __init__(self, device="cpu", threads=None, path="auto"):
        self.device = torch.device(device)
        self.threads = threads
        self.path = path

    def load_registry(self):
        from port_torch.registry import REGISTRY
        return REGISTRY

    def configure(self):
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise table1.Table1Error("--device cuda, but torch sees no CUDA device")
        configure_torch(self.device, self.threads)

    def stream_seed(self, seed):
        return GENERATOR_SEED + SEED_STRIDE * int(seed)

    def prepare(self, train, seed):
        train.model.to_device(self.device)
        train.model.streams.seed(self.stream_seed(seed))
        train.algorithm.path = self.path

    def draw_samples(self, model, n, noise_seed):
        generator = torch.Generator(device=self.device)
        generator.manual_seed(int(noise_seed))
        samples = model.generator.sample(n, generator)
        if self.device.type == "cuda":
            return samples  # parzen_log_likelihood_torch takes it where it is
        return samples.cpu().numpy()

    def ll_function(self):
        if self.device.type != "cuda":
            return None
        device = self.device

        def ll_fn(x, mu, sigmas, progress=None):
            result = parzen_log_likelihood_torch(x, mu, sigmas, device=device, progress=progress)
            torch.cuda.synchronize(device)
            return result

        return ll_fn

    def load_model(self, path):
        model, meta = super().load_model(path)
        model.to_device(self.device)
        return model, meta

    def describe(self):
        if self.device.type == "cuda":
            index = (self.device.index if self.device.index is not None
                     else torch.cuda.current_device())
            hardware = (f"{torch.cuda.get_device_name(index)} (CUDA {torch.version.cuda}), host "
                        f"{table1.platform_description()}")
        else:
            hardware = f"{table1.platform_description()}, {torch.get_num_threads()} torch threads"
        return {"device": str(self.device), "hardware": hardware, "torch": torch.__version__,
                "python": platform.python_version()}


def add_arguments(parser):
    parser.add_argument("--device", default="cpu", help="cpu or cuda (or cuda:N)")
    parser.add_argument("--path", choices=PATHS, default="auto",
                        help="training step implementation (all give the same numbers): auto = "
                             "graph on CUDA, fused on CPU")
    parser.add_argument("--threads", type=whole_number(1), default=None, help="torch CPU threads")


def make_backend(args):
    return TorchBackend(args.device, args.threads, args.path)


def main(argv=None, budget=None):
    return table1.main(sys.argv[1:] if argv is None else argv, "port_torch", make_backend,
                       default_noise_seed=GENERATOR_SEED, add_arguments=add_arguments,
                       budget=budget)


if __name__ == "__main__":
    sys.exit(main())
