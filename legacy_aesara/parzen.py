"""adversarial/parzen_ll.py for the Aesara backend: `python -m legacy_aesara.parzen CHECKPOINT`.

Options (gan2014.parzen_cli): --n-samples 10000, --sigma S, --limit 1000, --seed N, --json OUT,
--data-path, --quiet. The model is rebuilt from the checkpoint's YAML with this backend's registry,
G draws the samples through its own MRG stream (as ``model.generator.sample(n).eval()`` did), and
the log-likelihoods come from gan2014.parzen's float64 reference.

The noise stream: without --seed, the Generator's MRG master state saved in the checkpoint
(``algorithm.mrg_master_states["G/noise"]``, what the 2014 pickle carried) is restored, so the draw
is the one the original script would have made; a checkpoint without it (e.g. one written by the
torch port) keeps the Generator's construction seed 10097 (+ $GAN2014_MRG_SEED_OFFSET). With
--seed N the stream is reseeded to N (1 <= N < 2147462579).

Also here, for the parity tests, the original graph formulation compiled as parzen_ll.py compiled it
(:func:`theano_parzen`, :func:`get_nll`).
"""
import sys

import legacy_aesara  # noqa: F401  (sets AESARA_FLAGS before Aesara is imported)
import aesara
import aesara.tensor as at
import numpy as np

from gan2014 import parzen_cli
from legacy_aesara import adversarial
from legacy_aesara.random_streams import check_stream_seed, set_master_state
from legacy_aesara.registry import BACKEND, load_registry

# MRG31k3p's second modulus: seeds must lie in [1, M2).


# --- the original graph (parity tests) ------------------------------------------------------------

def theano_parzen(mu, sigma):
    """adversarial/parzen_ll.py :: theano_parzen -- a compiled ``f(x) -> ll`` for fixed samples.

    ``mu`` becomes a shared variable and ``sigma`` a Python float constant (cast to floatX by
    Aesara, as Theano did), and the graph is ``adversarial.theano_parzen`` (log-mean-exp over
    samples of -1/2 |(x - mu) / sigma|^2, minus D log(sigma sqrt(2 pi))): the full
    (rows, samples, D) difference tensor, in floatX.
    """
    floatx = aesara.config.floatX
    x = at.matrix("x", dtype=floatx)
    mu = aesara.shared(np.asarray(mu, dtype=floatx), name="mu")
    sigma = float(sigma)
    return aesara.function([x], adversarial.theano_parzen(x, mu, sigma), name="theano_parzen")


def get_nll(x, parzen_function, batch_size=100):
    """adversarial/parzen_ll.py :: get_nll -- per-row values of ``parzen_function`` on ``x``.

    The original took strided batches (batch i holds rows i, i + nb, i + 2 nb, ...) and returned
    them in that order; the values are put back in row order here so they compare row by row.
    """
    x = np.asarray(x, dtype=aesara.config.floatX)
    n_batches = int(np.ceil(x.shape[0] / float(batch_size)))
    out = np.empty(x.shape[0], dtype=np.float64)
    for i in range(n_batches):
        rows = np.arange(i, x.shape[0], n_batches)
        out[rows] = parzen_function(x[rows])
    return out


# --- sampling ------------------------------------------------------------------------------------

def prepare_noise_stream(generator, meta, seed=None):
    """Set G's MRG master state: ``seed`` if given, else the checkpoint's; returns a description."""
    stream = generator.theano_rng
    if seed is not None:
        set_master_state(stream, check_stream_seed(seed))
        return f"MRG seed {int(seed)}"
    saved = (meta.get("algorithm") or {}).get("mrg_master_states", {}).get("G/noise")
    if saved is not None:
        set_master_state(stream, saved)
        return "MRG master state of the checkpoint"
    return "MRG seed of the Generator's construction (%d + offset)" % adversarial.GENERATOR_SEED


def draw_samples(model, n_samples):
    """``model.generator.sample(n).eval()``: one compiled draw of ``n`` rows from G's stream."""
    sample = aesara.function([], model.generator.sample(n_samples), name="generator_sample")
    return np.asarray(sample())


def _draw_for_cli(model, meta, args):
    try:
        args.noise_source = prepare_noise_stream(model.generator, meta, args.seed)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    return draw_samples(model, args.n_samples)


def _describe(args):
    return {"seed": args.seed, "noise_source": args.noise_source, "device": "cpu",
            "parzen_impl": "gan2014.parzen (numpy float64)", "floatX": aesara.config.floatX}


def main(argv=None):
    return parzen_cli.main(sys.argv[1:] if argv is None else argv, BACKEND, load_registry,
                           _draw_for_cli, describe=_describe)


if __name__ == "__main__":
    sys.exit(main())
