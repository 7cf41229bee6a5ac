"""A small Python API for a trained generator (torch port): load it, sample, save a grid.

    from port_torch.api import load_generator, sample, save_grid
    G = load_generator("generator.npz")  # a torch.nn.Module (port_torch.adversarial.Generator)
    images = sample(G, 64, seed=0)       # numpy float32, 64 x 784, values in [0, 1]
    save_grid(images, "samples.png")

``load_generator`` takes a training checkpoint of either backend (``epoch_NNNNNN.npz``,
``best_valid.npz``) or a released generator (``python -m gan2014.release_generator``); no dataset is
needed (gan2014/release_generator.py says how G is rebuilt). The module is G as it was trained:
``G(z)`` maps a float32 noise matrix (N x ``G.noise_dim``) to N rows of pixels; the parameters
carry the checkpoint's values bit for bit.
"""
from pathlib import Path

import numpy as np
import torch

from gan2014 import release_generator
from gan2014.image_grid import save_grid  # noqa: F401  (part of this API)
from port_torch.adversarial import GENERATOR_SEED

__all__ = ["load_generator", "sample", "noise", "save_grid"]


def load_generator(path, device="cpu"):
    """The generator of ``path`` (a checkpoint or a released generator) as a ``torch.nn.Module``
    in eval mode on ``device``; its metadata (epoch, seed, backend, ...) is
    ``G.checkpoint_meta``."""
    from port_torch.registry import REGISTRY

    arrays, meta = release_generator.read(path)
    generator = release_generator.build_generator(meta["yaml"], REGISTRY, path)
    named = list(generator.mlp.named_pylearn2_params())
    release_generator.check_generator_parameters(path, arrays,
                                                 {name: p.shape for name, p in named})
    with torch.no_grad():
        for name, parameter in named:
            parameter.copy_(torch.from_numpy(np.ascontiguousarray(arrays["G/" + name])))
    generator.checkpoint_meta = {key: value for key, value in meta.items() if key != "yaml"}
    generator.checkpoint_path = str(Path(path))
    return generator.to(torch.device(device)).eval()


def noise(generator, n, seed=GENERATOR_SEED):
    """``n`` rows of G's noise law from a ``torch.Generator`` seeded ``seed`` on G's device (the
    draw ``python -m port_torch.figures`` and ``port_torch.parzen`` make with the same seed)."""
    device = next(generator.parameters()).device
    stream = torch.Generator(device=device)
    stream.manual_seed(int(seed))
    return generator.get_noise(int(n), stream)


@torch.no_grad()
def sample(generator, n, seed=GENERATOR_SEED):
    """``n`` samples of G as a float32 numpy array (n x pixels), noise from :func:`noise`."""
    return generator(noise(generator, n, seed)).cpu().numpy()
