"""Conditional Parzen evaluation, torch port: `python -m port_torch.conditional CHECKPOINT`.

gan2014/conditional_parzen.py describes the protocol and the options; here G turns noise from a
``torch.Generator`` seeded by --seed (default 10097) into samples for the given labels.
"""
import sys

import numpy as np
import torch

from gan2014 import conditional_parzen
from port_torch.adversarial import DEFAULT_SEED

BATCH = 1000


def draw(model, meta, labels, args, cost=None):
    """One sample per one-hot row of `labels`, in blocks of BATCH rows, on the CPU; with G's
    training dropout when `cost` (the run's training cost) is given."""
    stream = torch.Generator()
    stream.manual_seed(DEFAULT_SEED if args.seed is None else int(args.seed))
    G = model.generator
    dropout = None if cost is None else generator_dropout(G, cost)
    # --same-noise: one draw of z, taken first from the stream, for every row.
    z = G.get_noise(1, stream) if args.same_noise else None
    blocks = [G.sample(torch.from_numpy(labels[i:i + BATCH]), stream, dropout=dropout,
                       noise=z).numpy()
              for i in range(0, labels.shape[0], BATCH)]
    return np.concatenate(blocks)


def generator_dropout(G, cost):
    """G's per-layer (include_prob, scale) under the run's training cost (ValueError: none drop)."""
    settings = G.mlp.dropout_settings(**cost.g_dropout)
    if all(p == 1.0 for p, _ in settings):
        raise ValueError("its training cost applies no dropout in G (--generator-dropout would "
                         "sample the deterministic G)")
    return settings


def describe(args):
    return {"seed_used": DEFAULT_SEED if args.seed is None else int(args.seed), "device": "cpu",
            "parzen_impl": "gan2014.parzen (numpy float64)"}


def load_registry():
    from port_torch.registry import REGISTRY
    return REGISTRY


def main(argv=None):
    return conditional_parzen.main(sys.argv[1:] if argv is None else argv, "port_torch",
                                   load_registry, draw, describe=describe)


if __name__ == "__main__":
    sys.exit(main())
