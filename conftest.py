"""Fixtures shared by tests/ and parity_tests/."""
import pytest


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models: one thread is faster, and it does not stall in OpenMP barriers when other jobs
    share the cores. The previous setting is restored for the tests that follow."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
