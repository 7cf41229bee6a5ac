"""The torch port's randomness, in one place: its generators, their seeding, their checkpoint
state, and the two kinds of draw the training step makes (noise, dropout masks).

Pylearn2 drew noise and dropout masks from Theano MRG streams. The port cannot reproduce MRG's
numbers (a different generator), so it keeps the structure instead: the run owns a few
torch.Generators seeded from one number (--seed, default the 2014 Generator's MRG seed 10097 from
gan2014/seeds.py), never the global RNG, and every draw names the generator it comes from. Weight
init and batch order are numpy RandomStates fixed by the YAML, as in 2014 (gan2014.models.init,
the SGD's RandomState), and are not here.
"""
import math

import numpy as np
import torch

from gan2014.seeds import GENERATOR_NOISE_SEED

SQRT3 = math.sqrt(3.0)
# The 2014 Generator's MRG seed is the default seed of a run here (gan2014/seeds.py).
DEFAULT_SEED = GENERATOR_NOISE_SEED
# Checkpoint arrays of the generators' states are named `rng/torch/<generator>`.
CHECKPOINT_PREFIX = "rng/torch/"


class RandomStreams:
    """The run's torch.Generators: noise and dropout for training, one more for monitoring.

    Keeping monitoring on its own generator means a monitoring pass never shifts the training
    stream, so two runs with the same seed train identically whatever they monitor.
    """

    NAMES = ("noise", "dropout", "monitor")

    def __init__(self, seed=DEFAULT_SEED, device="cpu"):
        self.seed_value = int(seed)
        self.device = torch.device(device)
        self.generators = {}
        self.seed(self.seed_value)

    def seed(self, seed):
        self.seed_value = int(seed)
        for offset, name in enumerate(self.NAMES):
            generator = torch.Generator(device=self.device)
            generator.manual_seed(self.seed_value + offset)
            self.generators[name] = generator

    def to(self, device):
        """Generators cannot move between devices: a new device means fresh generators, reseeded."""
        if torch.device(device) != self.device:
            self.device = torch.device(device)
            self.seed(self.seed_value)
        return self

    def __getitem__(self, name):
        return self.generators[name]

    def state_arrays(self):
        return {name: gen.get_state().numpy().copy() for name, gen in self.generators.items()}

    def load_state_arrays(self, arrays):
        for name, generator in self.generators.items():
            if name in arrays:
                generator.set_state(torch.from_numpy(np.asarray(arrays[name], dtype=np.uint8)))

    # ---------------------------------------------------------------- checkpoints
    def checkpoint_arrays(self):
        """{`rng/torch/<name>`: the generator's state as uint8}, for the SGD's state_arrays."""
        return {CHECKPOINT_PREFIX + name: state for name, state in self.state_arrays().items()}

    def restore_checkpoint_arrays(self, arrays):
        """Set the generators from a checkpoint's arrays; returns whether it held any. A
        checkpoint of the Aesara backend has none (its streams are MRG ones): the generators
        then keep their seed."""
        states = {name[len(CHECKPOINT_PREFIX):]: value for name, value in arrays.items()
                  if name.startswith(CHECKPOINT_PREFIX)}
        self.load_state_arrays(states)
        return bool(states)


def draw_noise(kind, shape, generator, device=None):
    """Generator.get_noise: float32 noise of `shape` of the named kind."""
    device = generator.device if device is None else device
    if kind == "uniform":
        # U(-sqrt 3, sqrt 3), unit variance, as MRG's uniform: u * (high - low) + low.
        return torch.rand(shape, generator=generator, device=device) * (2 * SQRT3) - SQRT3
    if kind == "gaussian":
        return torch.randn(shape, generator=generator, device=device)
    if kind == "spherical":
        noise = torch.randn(shape, generator=generator, device=device)
        return noise / noise.square().sum(dim=1, keepdim=True).sqrt().clamp(min=1e-7)
    raise NotImplementedError(kind)


def draw_masks(settings, widths, rows, generator, device=None):
    """One 0/1 float32 mask per layer input (None where the include probability is 1).

    Bernoulli(p) as MRG's `uniform < p`. `widths` holds each layer input's width (a (rows, width)
    mask) or its space (a mask of the space's batch shape: c01b for a conv layer's input, one value
    per channel, pixel and example). Each mask has `rows` examples: for the discriminator these are
    the real batch followed by the generated batch, whose halves are therefore independent.
    """
    device = generator.device if device is None else device
    return [None if p == 1.0 else
            (torch.rand(_mask_shape(width, rows), generator=generator, device=device) < p)
            .to(torch.float32)
            for (p, _), width in zip(settings, widths)]


def _mask_shape(width_or_space, rows):
    if hasattr(width_or_space, "batch_shape"):
        return width_or_space.batch_shape(rows)
    return (rows, width_or_space)
