"""Conditional Parzen evaluation, Aesara backend: `python -m legacy_aesara.conditional CHECKPOINT`.

gan2014/conditional_parzen.py describes the protocol and the options; here G draws its noise from
its own MRG stream, set as legacy_aesara/parzen.py sets it (--seed, else the checkpoint's saved
state, else the construction seed), and turns it into samples for the given labels.
"""
import sys

import legacy_aesara  # noqa: F401  (sets AESARA_FLAGS before Aesara is imported)
import aesara
import aesara.tensor as at
import numpy as np

from gan2014 import conditional_parzen
from legacy_aesara.parzen import prepare_noise_stream
from legacy_aesara.registry import BACKEND, load_registry


def draw(model, meta, labels, args, cost=None):
    """One sample per one-hot row of `labels` (one compiled draw); with G's training dropout when
    `cost` (the run's training cost) is given: masks from G's MLP dropout stream, as in training."""
    G = model.generator
    try:
        args.noise_source = prepare_noise_stream(G, meta, args.seed)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    include = None if cost is None else generator_dropout(G, cost)
    c = at.matrix("labels")
    # --same-noise: one draw of z for every row.
    noise = at.repeat(G.get_noise((1, G.noise_dim())), c.shape[0], axis=0) \
        if args.same_noise else None
    samples, _ = G.generate(c, noise, include)
    sample = aesara.function([c], samples, name="conditional_sample")
    return np.asarray(sample(np.asarray(labels, dtype=aesara.config.floatX)))


def generator_dropout(G, cost):
    """The dropout_fprop arguments of G under the run's training cost; ValueError if none drop."""
    arguments = cost.generator_dropout_arguments()
    if all(p is None for p, _ in G.mlp.dropout_settings(**arguments)):
        raise ValueError("its training cost applies no dropout in G (--generator-dropout would "
                         "sample the deterministic G)")
    return arguments


def describe(args):
    return {"noise_source": getattr(args, "noise_source", None), "device": "cpu",
            "parzen_impl": "gan2014.parzen (numpy float64)", "floatX": aesara.config.floatX}


def main(argv=None):
    return conditional_parzen.main(sys.argv[1:] if argv is None else argv, BACKEND,
                                   load_registry, draw, describe=describe)


if __name__ == "__main__":
    sys.exit(main())
