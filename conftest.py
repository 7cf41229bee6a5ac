"""Fixtures shared by tests/ and parity_tests/."""
import os

import pytest

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
