"""Fixtures shared by tests/ and parity_tests/."""
import os

import pytest

# Before any test module loads numpy, SciPy or torch: the package's import chooses OpenBLAS's
# kernels for this CPU (gan2014/blas.py), which the libraries read only when they are loaded.
import gan2014  # noqa: F401


def _threads_per_worker():
    """Under pytest-xdist the workers share the CPUs: each gets its share of BLAS/OpenMP threads
    (a user's setting wins). Two workers of two threads each on two cores made every matrix product
    slower, and OpenBLAS threads that wait by yielding hand their core to any other process."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 0)
    if workers:
        share = str(max(1, len(os.sched_getaffinity(0)) // workers))
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, share)


_threads_per_worker()

# The parity tests compare legacy_aesara with port_torch bit for bit, so the test processes (and the
# workers they start) compile Aesara's C code with -ffp-contract=off
# (legacy_aesara/aesara_flags.py); the default build contracts a*b + c into FMA as the 2014 stack
# did. Set before any test module imports legacy_aesara; a value given by the user wins.
os.environ.setdefault("GAN2014_FP_CONTRACT", "off")


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models: one thread is faster, and it does not stall in OpenMP barriers when other jobs
    share the cores. The previous setting is restored for the tests that follow."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
