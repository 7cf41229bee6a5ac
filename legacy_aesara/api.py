"""The Python API of ``port_torch.api`` for the Aesara backend: load a generator, sample,
save a grid.

    from legacy_aesara.api import load_generator, sample, save_grid
    G = load_generator("generator.npz")        # legacy_aesara.adversarial.Generator, values set
    images = sample(G, 64, seed=1)             # numpy float32, 64 x 784, from G's MRG stream
    save_grid(images, "samples.png")

The file may be a training checkpoint of either backend or a released generator; no dataset is
needed. ``generate(G, z)`` applies G (a compiled ``mlp.fprop``) to a given noise matrix, so the same
z can be fed to both backends.
"""
from pathlib import Path

import legacy_aesara  # noqa: F401  (sets AESARA_FLAGS before Aesara is imported)
import aesara
import aesara.tensor as at
import numpy as np

from gan2014 import release_generator
from gan2014.image_grid import save_grid  # noqa: F401  (part of this API)
from legacy_aesara.parzen import prepare_noise_stream

__all__ = ["load_generator", "sample", "generate", "save_grid"]


def load_generator(path):
    """The Aesara Generator of ``path`` with the stored parameter values (in floatX)."""
    from legacy_aesara.registry import load_registry

    arrays, meta = release_generator.read(path)
    generator = release_generator.build_generator(meta["yaml"], load_registry(), path)
    params = {param.name: param for param in generator.get_params()}
    release_generator.check_generator_parameters(
        path, arrays, {name: p.get_value(borrow=True).shape for name, p in params.items()})
    for name, param in params.items():
        param.set_value(np.asarray(arrays["G/" + name]).astype(param.dtype))
    generator.checkpoint_meta = {key: value for key, value in meta.items() if key != "yaml"}
    generator.checkpoint_path = str(Path(path))
    return generator


def generate(generator, z):
    """G applied to the noise matrix ``z`` (a compiled ``mlp.fprop``, cached on G)."""
    fprop = getattr(generator, "_api_fprop", None)
    if fprop is None:
        noise = at.matrix("z", dtype=aesara.config.floatX)
        fprop = generator._api_fprop = aesara.function([noise], generator.mlp.fprop(noise),
                                                       name="generator_fprop")
    return np.asarray(fprop(np.asarray(z, dtype=aesara.config.floatX)))


def sample(generator, n, seed=None):
    """``n`` samples of G; the noise comes from G's MRG stream, set to ``seed`` if given (1 <= seed
    < 2147462579), else left where it is (a fresh G starts at the 2014 Generator's seed)."""
    if seed is not None:
        prepare_noise_stream(generator, {}, seed)
    draw = aesara.function([], generator.get_noise((int(n), generator.noise_dim())),
                           name="generator_noise")
    return generate(generator, draw())
