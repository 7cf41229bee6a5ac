"""The Table-1 run driver on the Aesara backend:
`python -m legacy_aesara.table1 --seeds 0 --out DIR ...`.

Everything but the Aesara specifics is gan2014.table1 (its docstring gives the protocol); the torch
counterpart is port_torch/table1.py. Here:

* seed number k trains with every MRG stream's seed shifted by 1000 k ($GAN2014_MRG_SEED_OFFSET,
  legacy_aesara/models/mlp.py, as parity_tests/statistical_parity.py does), so seed 0 is the 2014
  run itself: same noise, same dropout masks. Weight initialisation and batch order follow the YAML
  for every seed;
* Parzen samples come from G's MRG stream set to --noise-seed (default 10097, the Generator's own
  construction seed, as `python -m legacy_aesara.parzen --seed`), through a sampling function built
  for the purpose. Building it takes substreams from G's stream and a seed from G's MLP RandomState;
  both are put back afterwards, so validating never changes what training draws or what a
  checkpoint holds (resumed = uninterrupted, bit for bit);
* BLAS threads: set OMP_NUM_THREADS before the command (Aesara's BLAS reads it at import).
"""
import os
import platform
import sys

import aesara
import numpy as np

import legacy_aesara  # noqa: F401  (Aesara flags first)
from gan2014 import table1
from gan2014.environ import variable_set
from legacy_aesara.adversarial import GENERATOR_SEED
from legacy_aesara.models.mlp import MRG_SEED_OFFSET_VARIABLE
from legacy_aesara.random_streams import MRG_M2, seeded_for_a_moment

# Seed number k -> every MRG seed + SEED_STRIDE * k (as parity_tests/statistical_parity.py).
SEED_STRIDE = 1000


class AesaraBackend(table1.Backend):
    name = "legacy_aesara"

    def load_registry(self):
        from legacy_aesara.registry import load_registry
        return load_registry()

    def stream_seed(self, seed):
        """The offset added to every MRG seed (0 for seed 0: the 2014 streams)."""
        return SEED_STRIDE * int(seed)

    def seed_scope(self, seed):
        """The MRG streams are seeded when the YAML builds the model and when the algorithm's setup
        builds the dropout passes, so the offset is in force around both."""
        return variable_set(MRG_SEED_OFFSET_VARIABLE, str(self.stream_seed(seed)))

    def prepare(self, train, seed):
        """Nothing to move: the streams were seeded under :meth:`seed_scope`."""

    def draw_samples(self, model, n, noise_seed):
        if not 1 <= int(noise_seed) < MRG_M2:
            raise table1.Table1Error(f"--noise-seed must be in [1, {MRG_M2}) for the MRG stream, "
                                     f"got {noise_seed}")
        generator = model.generator
        mlp = generator.mlp
        saved = (mlp.rng.get_state(), len(mlp.dropout_streams))
        try:
            with seeded_for_a_moment(generator.theano_rng, int(noise_seed)):
                sample = aesara.function([], generator.sample(n), name="table1_sample")
        finally:
            mlp.rng.set_state(saved[0])
            del mlp.dropout_streams[saved[1]:]
        return np.asarray(sample())

    def describe(self):
        threads = os.environ.get("OMP_NUM_THREADS") or os.environ.get("OPENBLAS_NUM_THREADS")
        return {"device": "cpu",
                "hardware": (f"{table1.platform_description()}, "
                             f"OMP_NUM_THREADS={threads or 'unset'}"),
                "aesara": aesara.__version__, "floatX": aesara.config.floatX,
                "python": platform.python_version()}


def make_backend(args):
    return AesaraBackend()


def main(argv=None, budget=None):
    return table1.main(sys.argv[1:] if argv is None else argv, "legacy_aesara", make_backend,
                       default_noise_seed=GENERATOR_SEED, budget=budget)


if __name__ == "__main__":
    sys.exit(main())
