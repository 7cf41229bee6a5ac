"""Timing and accuracy of the Parzen estimator (gan2014.parzen): ``python -m gan2014.parzen_bench``.

Prints, for the MNIST protocol of ``adversarial/parzen_ll.py`` (10,000 samples of 784 dims, sigma
chosen on 1,000 validation points over 10 sigmas, 10,000 test points):

1. the brute force (the original formula) on a few test points, and what the whole protocol would
   take with it;
2. the fast form on the full protocol, median of ``--repeats`` runs (the target is 6 s on 2 cores);
3. the largest |fast - brute force| on those test points, in nats;
4. (unless ``--no-plain``) the plain float64 product form, for comparison: distances recomputed for
   every sigma as ``cross_validate_sigma`` did, no exp floor, whole-block temporaries.

Real MNIST is used when it is found (``$PYLEARN2_DATA_PATH/mnist`` or ``./data/mnist``), with the
first 10,000 training images standing in for generator samples; otherwise MNIST-shaped random data.
"""
import argparse
import os
import statistics
import time

import numpy as np

from gan2014 import parzen
from gan2014.cli import whole_number

PROTOCOL_POINT_EVALUATIONS = 10 * 1000 + 10000  # 10 sigmas x 1,000 validation + 10,000 test


def mnist_like(rng, n, dim=784):
    """Random float32 images in [0, 1], about 80% zeros like MNIST's pixels."""
    x = rng.random((n, dim)).astype(np.float32)
    x[x < 0.8] = 0
    return x


def load_data(synthetic):
    """``(description, samples, valid, test)``."""
    if not synthetic:
        try:
            from gan2014.datasets.mnist import MNIST
            samples = MNIST("train", start=0, stop=10000).X
            valid = MNIST("train", start=50000, stop=60000).X[:1000]
            test = MNIST("test").X
            return "real MNIST (train[0:10000] as samples)", samples, valid, test
        except Exception as error:  # no files yet: fall back rather than fail the benchmark
            print("(real MNIST not available: %s)" % str(error).splitlines()[0])
    rng = np.random.default_rng(2014)
    return ("MNIST-shaped random data", mnist_like(rng, 10000), mnist_like(rng, 1000),
            mnist_like(rng, 10000))


def plain_product_form(x, mu, sigma, block_rows=1000):
    """The straightforward float64 product form, one sigma at a time (the comparison point)."""
    x64, mu64 = np.asarray(x, np.float64), np.asarray(mu, np.float64)
    mu_sq = (mu64 ** 2).sum(axis=1)
    out = []
    for start in range(0, x64.shape[0], block_rows):
        block = x64[start:start + block_rows]
        sq = (block ** 2).sum(axis=1)[:, None] - 2.0 * block @ mu64.T + mu_sq
        out.append(parzen.log_mean_exp(-0.5 * np.maximum(sq, 0.0) / sigma ** 2, axis=1))
    return np.concatenate(out) - parzen.log_normaliser(mu64.shape[1], sigma)


def plain_protocol(samples, valid, test):
    means = [plain_product_form(valid, samples, s).mean() for s in parzen.DEFAULT_SIGMAS]
    sigma = parzen.DEFAULT_SIGMAS[int(np.argmax(means))]
    return sigma, plain_product_form(test, samples, sigma).mean()


def timed(function, *args, **kwargs):
    began = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - began


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m gan2014.parzen_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=whole_number(1), default=3,
                        help="fast-form runs (median reported)")
    parser.add_argument("--subset", type=whole_number(1), default=20,
                        help="test points for the brute force")
    parser.add_argument("--synthetic", action="store_true",
                        help="random data even if MNIST is here")
    parser.add_argument("--no-plain", action="store_true", help="skip the plain product form")
    args = parser.parse_args(argv)

    description, samples, valid, test = load_data(args.synthetic)
    print("data: %s; samples %s, valid %s, test %s"
          % (description, samples.shape, valid.shape, test.shape))

    # Wall time is what the target is about. The CPU time (all threads) shows whether other
    # processes competed for the cores: with the cores free, BLAS keeps both busy and CPU > wall.
    print("%d cores; CPU time well above wall time means the cores were free" % os.cpu_count())
    results = []
    for run in range(args.repeats):
        cpu_before = time.process_time()
        result = parzen.evaluate(samples, valid, test, progress=False)
        results.append(result)
        print("fast form, full protocol, run %d: %.2f s wall, %.2f s CPU (sigma %.4f, mean %.3f, "
              "se %.3f)" % (run + 1, result.seconds, time.process_time() - cpu_before,
                            result.sigma, result.mean, result.se))
    median = statistics.median(r.seconds for r in results)
    print("fast form, full protocol: median %.2f s over %d runs (target <= 6 s)"
          % (median, args.repeats))

    subset = test[:args.subset]
    sigma = results[0].sigma
    brute, brute_s = timed(parzen.parzen_log_likelihood_bruteforce, subset, samples, sigma)
    per_point = brute_s / len(subset)
    print("brute force, %d test points x %d samples: %.2f s (%.0f ms/point; the full protocol "
          "would take ~%.0f min)" % (len(subset), samples.shape[0], brute_s, 1e3 * per_point,
                                      per_point * PROTOCOL_POINT_EVALUATIONS / 60))

    worst = abs(parzen.parzen_log_likelihood(subset, samples, sigma) - brute).max()
    for extreme in (parzen.DEFAULT_SIGMAS[0], parzen.DEFAULT_SIGMAS[-1]):
        reference = parzen.parzen_log_likelihood_bruteforce(subset, samples, extreme)
        worst = max(worst, abs(parzen.parzen_log_likelihood(subset, samples, extreme)
                               - reference).max())
    print("max |fast - brute force| on those points (sigma %.4f, 0.1, 1.0): %.3g nats"
          % (sigma, worst))

    if not args.no_plain:
        (plain_sigma, plain_mean), plain_s = timed(plain_protocol, samples, valid, test)
        print("plain float64 product form, full protocol: %.2f s (sigma %.4f, mean %.3f)"
              % (plain_s, plain_sigma, plain_mean))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
