"""adversarial/parzen_ll.py for the torch port: `python -m port_torch.parzen CHECKPOINT --device D`.

Options (gan2014.parzen_cli): --n-samples 10000, --sigma S, --limit 1000, --seed N (default 10097,
the 2014 Generator's stream seed), --json OUT, --data-path, --quiet; here also --device cpu|cuda and
--parzen numpy|torch. The model is rebuilt from the checkpoint's YAML with this backend's registry,
and G turns noise from a ``torch.Generator`` seeded by --seed (on --device) into the samples.

The log-likelihoods: ``--parzen numpy`` (the default on CPU) is gan2014.parzen's float64 reference;
``--parzen torch`` (the default on CUDA) is :func:`parzen_log_likelihood_torch`, the same product
form in float64 on the device. TF32 is switched off for the run (port_torch.run.configure_torch);
it would not touch float64 matmuls anyway.
"""
import math
import sys

import numpy as np
import torch

from gan2014 import parzen_cli
from gan2014.cli import whole_number
from port_torch.adversarial import GENERATOR_SEED

# Memory for one block of squared distances (float64) and its per-sigma scratch copy.
BLOCK_BYTES = 256 * 2 ** 20
# exp() arguments are floored here (see gan2014.parzen.EXP_FLOOR: invisible in float64).
EXP_FLOOR = -700.0


def parzen_log_likelihood_torch(x, mu, sigmas, device="cpu", block_rows=None, progress=None):
    """Per-row Parzen log-likelihood of ``x`` under kernels on ``mu``, one row per sigma, float64.

    The estimator of ``adversarial :: theano_parzen``:
    ``ll_i = logmeanexp_j(-|x_i - mu_j|^2 / (2 sigma^2)) - D log(sigma sqrt(2 pi))``,
    computed as gan2014.parzen.parzen_log_likelihood computes it: squared distances by the product
    form ``|x|^2 - 2 x.mu + |mu|^2`` in float64 (one matmul per block of ``block_rows`` rows of
    ``x``, clamped at 0 against cancellation), then, for each sigma, a log-sum-exp shifted by the
    row's largest term (the nearest sample), so nothing underflows. Returns a float64 numpy array
    ``(len(sigmas), len(x))``. Agrees with the float64 brute force to ~1e-11 nats on MNIST-sized
    inputs (parity_tests/test_parzen_parity.py bounds it at 1e-9).

    ``progress(done, total, ll_so_far)`` is called after each block, as in gan2014.parzen.
    """
    device = torch.device(device)
    sigmas = torch.as_tensor(np.atleast_1d(np.asarray(sigmas, dtype=np.float64)), device=device)
    if sigmas.ndim != 1 or sigmas.numel() == 0 or not bool((sigmas > 0).all()):
        raise ValueError("sigmas must be a non-empty 1-D sequence of positive numbers")
    mu = _as_tensor(mu, device).to(torch.float64)
    x_all = _as_tensor(x, device)
    if x_all.ndim != 2 or mu.ndim != 2 or x_all.shape[1] != mu.shape[1]:
        raise ValueError(f"x and mu must be 2-D with equal columns, got {tuple(x_all.shape)} "
                         f"and {tuple(mu.shape)}")
    n, dim = mu.shape
    rows_total = x_all.shape[0]
    if block_rows is None:
        block_rows = max(1, min(rows_total, BLOCK_BYTES // (16 * n)))
    mu_sq = (mu * mu).sum(dim=1)
    # log of the 1/n weights and of the Gaussian normaliser Z = D log(sigma sqrt(2 pi)).
    offsets = math.log(n) + dim * torch.log(sigmas * math.sqrt(2.0 * math.pi))
    out = np.empty((sigmas.numel(), rows_total))
    total = -(-rows_total // block_rows)
    for done, start in enumerate(range(0, rows_total, block_rows), 1):
        stop = min(start + block_rows, rows_total)
        sq = _squared_distances(x_all[start:stop].to(torch.float64), mu, mu_sq)
        out[:, start:stop] = (_log_sum_exp_kernels(sq, sigmas) - offsets[:, None]).cpu().numpy()
        if progress is not None:
            progress(done, total, out[:, :stop])
    return out


def _as_tensor(a, device):
    """A tensor on ``device`` from a numpy array or a tensor (kept as it is when already there)."""
    if isinstance(a, torch.Tensor):
        return a.to(device)
    return torch.as_tensor(np.asarray(a), device=device)


def _squared_distances(x, mu, mu_sq):
    """``|x_i - mu_j|^2`` as ``|x_i|^2 - 2 x_i.mu_j + |mu_j|^2`` (float64), clamped at 0."""
    sq = torch.addmm(mu_sq[None, :], x, mu.T, beta=1.0, alpha=-2.0)
    sq += (x * x).sum(dim=1, keepdim=True)
    return sq.clamp_(min=0.0)


def _log_sum_exp_kernels(sq, sigmas):
    """``log sum_j exp(-sq_ij / (2 sigma^2))`` for each sigma, max-shifted: ``(len(sigmas), rows)``.

    The largest term of each row is the nearest sample's, ``exp(-min_j sq_ij / (2 sigma^2))``; the
    sum is taken of the terms divided by it (each <= 1, the nearest exactly 1) and its log added
    back.
    """
    row_min = sq.min(dim=1, keepdim=True).values
    excess = sq - row_min
    rows = []
    for sigma in sigmas:
        scale = -0.5 / sigma ** 2
        terms = torch.exp((excess * scale).clamp_(min=EXP_FLOOR))
        rows.append(torch.log(terms.sum(dim=1)) + row_min[:, 0] * scale)
    return torch.stack(rows)


# --- the command ---------------------------------------------------------------------------------

def add_arguments(parser):
    parser.add_argument("--device", default="cpu", help="cpu or cuda (or cuda:N)")
    parser.add_argument("--parzen", choices=("auto", "numpy", "torch"), default="auto",
                        help="log-likelihood implementation: numpy = gan2014.parzen (the float64 "
                             "reference), torch = parzen_log_likelihood_torch on --device "
                             "(float64); auto = torch on CUDA, numpy on CPU")
    parser.add_argument("--threads", type=whole_number(1), default=None, help="torch CPU threads")


def _device(args):
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda, but torch sees no CUDA device")
    return device


def _use_torch_parzen(args):
    return args.parzen == "torch" or (args.parzen == "auto" and _device(args).type == "cuda")


def _draw_for_cli(model, meta, args):
    """G applied to ``--n-samples`` rows of the model's noise law, from a torch.Generator on the
    device seeded by --seed (default 10097); float32 numpy (or float32 on the device for the torch
    Parzen form, which casts to float64 itself)."""
    device = _device(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    if device.type == "cuda":
        # As port_torch.run.configure_torch: TF32 would round the float32 generator's matmuls.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    model.to_device(device)
    args.seed_used = GENERATOR_SEED if args.seed is None else int(args.seed)
    generator = torch.Generator(device=device)
    generator.manual_seed(args.seed_used)
    samples = model.generator.sample(args.n_samples, generator)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return samples if _use_torch_parzen(args) else samples.cpu().numpy()


def _ll_function(args):
    if not _use_torch_parzen(args):
        return None
    device = _device(args)

    def ll_fn(x, mu, sigmas, progress=None):
        result = parzen_log_likelihood_torch(x, mu, sigmas, device=device, progress=progress)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return result

    return ll_fn


def _describe(args):
    impl = ("port_torch.parzen_log_likelihood_torch (float64 on %s)" % args.device
            if _use_torch_parzen(args) else "gan2014.parzen (numpy float64)")
    return {"seed": args.seed_used, "device": str(args.device), "parzen_impl": impl,
            "noise_source": "torch.Generator seeded %d" % args.seed_used}


def load_registry():
    from port_torch.registry import REGISTRY
    return REGISTRY


def main(argv=None):
    return parzen_cli.main(sys.argv[1:] if argv is None else argv, "port_torch", load_registry,
                           _draw_for_cli, add_arguments=add_arguments, ll_function=_ll_function,
                           describe=_describe)


if __name__ == "__main__":
    sys.exit(main())
