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


def draw(model, meta, labels, args):
    """One sample per one-hot row of `labels` (one compiled draw)."""
    try:
        args.noise_source = prepare_noise_stream(model.generator, meta, args.seed)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    c = at.matrix("labels")
    sample = aesara.function([c], model.generator.sample_for(c), name="conditional_sample")
    return np.asarray(sample(np.asarray(labels, dtype=aesara.config.floatX)))


def describe(args):
    return {"noise_source": getattr(args, "noise_source", None), "device": "cpu",
            "parzen_impl": "gan2014.parzen (numpy float64)", "floatX": aesara.config.floatX}


def main(argv=None):
    return conditional_parzen.main(sys.argv[1:] if argv is None else argv, BACKEND,
                                   load_registry, draw, describe=describe)


if __name__ == "__main__":
    sys.exit(main())
