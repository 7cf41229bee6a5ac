"""The torch port's randomness, in one place: its generators, their seeding, their checkpoint
state, and the two kinds of draw the training step makes (noise, dropout masks).

Pylearn2 drew noise and dropout masks from Theano MRG streams. The port cannot reproduce MRG's
numbers (a different generator), so it keeps the structure instead: the run owns a few
torch.Generators seeded from one number (--seed, default the 2014 Generator's MRG seed 10097 from
gan2014/seeds.py), never the global RNG, and every draw names the generator it comes from. Weight
init and batch order are numpy RandomStates fixed by the YAML, as in 2014 (gan2014.models.init,
the SGD's RandomState), and are not here.
"""
import hashlib
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
        self.seed(self.seed_value)

    def seed(self, seed):
        self.seed_value = int(seed)
        self.generators = {name: torch.Generator(device=self.device) for name in self.NAMES}
        self.seed_generators(self.seed_value)

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
        """Set the generators from a checkpoint's arrays. Returns "restored"; "absent" for a
        checkpoint of the Aesara backend, which has none (its streams are MRG ones: the generators
        keep their seed); or "reseeded" when the states are those of another device kind's
        generators (a CPU Mersenne Twister state is 5,056 bytes, a CUDA Philox state 16, and
        neither generator takes the other's), as when a run moves between a CPU and a GPU: the
        generators are then seeded from the saved states (:func:`seed_from_states`), so every
        machine that resumes that checkpoint on this device kind draws the same numbers."""
        states = checkpoint_states(arrays)
        if not states:
            return "absent"
        if self.fits(states):
            self.load_state_arrays(states)
            return "restored"
        self.seed_generators(seed_from_states(states))
        return "reseeded"

    def fits(self, states):
        """Whether every saved state has the size of this device's generator state."""
        return all(np.asarray(states[name]).size == generator.get_state().numel()
                   for name, generator in self.generators.items() if name in states)

    def seed_generators(self, seed):
        """Seed generator k of NAMES with ``seed`` + k, keeping the run's own seed (``seed_value``,
        what the records name)."""
        for offset, name in enumerate(self.NAMES):
            self.generators[name].manual_seed(int(seed) + offset)


def checkpoint_states(arrays):
    """{generator name: saved state} of a checkpoint's arrays (empty for an Aesara checkpoint)."""
    return {name[len(CHECKPOINT_PREFIX):]: value for name, value in arrays.items()
            if name.startswith(CHECKPOINT_PREFIX)}


def seed_from_states(states):
    """A seed (< 2**62) from the bytes of saved generator states: where a run moved from another
    device kind, its new generators start from here, determined by the point the run had reached
    and different at every move."""
    digest = hashlib.sha256()
    for name in sorted(states):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(states[name], dtype=np.uint8).tobytes())
    return int.from_bytes(digest.digest()[:8], "little") >> 2


def states_for_device(arrays, device="cpu"):
    """A checkpoint's arrays with the generator states replaced, where they are another device
    kind's, by the states :meth:`RandomStreams.restore_checkpoint_arrays` would reach on
    ``device`` (so that code which cannot reseed, such as an earlier commit, resumes the same
    way). Returns ``(arrays, changed)``."""
    states = checkpoint_states(arrays)
    streams = RandomStreams(device=device)
    if not states or streams.fits(states):
        return arrays, False
    streams.seed_generators(seed_from_states(states))
    converted = dict(arrays)
    converted.update(streams.checkpoint_arrays())
    return converted, True


def draw_noise(kind, shape, generator, device=None):
    """Generator.get_noise: float32 noise of `shape` of the named kind."""
    device = generator.device if device is None else device
    if kind == "uniform":
        # U(-sqrt 3, sqrt 3), unit variance, as MRG's uniform: u * (high - low) + low.
        return torch.rand(shape, generator=generator, device=device) * (2 * SQRT3) - SQRT3
    if kind == "unit_uniform":
        # U(0, 1), "uniform within the unit hypercube" (the conditional generator's).
        return torch.rand(shape, generator=generator, device=device)
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
