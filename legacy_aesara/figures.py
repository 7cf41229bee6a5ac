"""Figures 2a and 3 of the paper with the Aesara backend:
`python -m legacy_aesara.figures CHECKPOINT --out figures/`.

Options (gan2014.figures.samples): --out, --prefix, --rows 4, --cols 6, --pairs 6, --steps 10,
--scale, --seed, --data-path. The model is rebuilt from the checkpoint's YAML; the noise comes from
G's own MRG stream set up as `legacy_aesara.parzen` sets it (the checkpoint's saved stream state, or
--seed), drawn by a compiled `Generator.get_noise`; G is the compiled `mlp.fprop` of a noise
matrix, so interpolated noise can be fed in.
"""
import sys

import legacy_aesara  # noqa: F401  (sets AESARA_FLAGS before Aesara is imported)
import aesara
import aesara.tensor as at
import numpy as np

from gan2014 import parzen_cli
from gan2014.figures import samples as figures
from legacy_aesara.parzen import prepare_noise_stream
from legacy_aesara.registry import BACKEND, load_registry


class AesaraFigures(figures.FigureBackend):
    name = BACKEND
    default_seed = None  # None: the checkpoint's MRG state (see legacy_aesara.parzen)

    def __init__(self):
        self._fprop = {}

    def load_run(self, path):
        built, model, meta = parzen_cli.load_run(path, load_registry())
        return model, meta, getattr(built, "dataset", None)

    def noise(self, model, meta, n, seed):
        self.noise_source = prepare_noise_stream(model.generator, meta, seed)
        draw = aesara.function([], model.generator.get_noise((n, model.generator.noise_dim())),
                               name="generator_noise")
        return np.asarray(draw(), dtype=np.float32)

    def generate(self, model, z):
        if id(model) not in self._fprop:
            noise = at.matrix("z", dtype=aesara.config.floatX)  # a conv G's fprop gives c01b
            self._fprop[id(model)] = aesara.function([noise], model.generator.mlp.fprop(noise),
                                                     name="generator_fprop")
        return np.asarray(self._fprop[id(model)](np.asarray(z, dtype=aesara.config.floatX)))


def main(argv=None):
    return figures.main(sys.argv[1:] if argv is None else argv, AesaraFigures())


if __name__ == "__main__":
    sys.exit(main())
