"""port_torch's monitor sums channels on the device (ChannelTotals) with Python float arithmetic."""
import numpy as np
import pytest
import torch

from port_torch.training_algorithms.sgd import ChannelTotals

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_channel_totals_equal_python_float_sums_bit_for_bit(device):
    """Property: for batches of mixed channel values (0-d float32 and float64 tensors, a Python
    float, a 1-element tensor that is not 0-d, -0.0 and values spanning 1e-30..1e30) and varying
    batch sizes, the totals are exactly those of `total = total + float(value) * examples` in
    Python. Exact (==): the same IEEE float64 operations in the same order, element by element."""
    rng = np.random.RandomState(3)
    keys = [f"c{i}" for i in range(40)]
    expected, totals = {}, ChannelTotals()
    for batch in range(7):
        examples = int(rng.randint(1, 101))
        values = {}
        for i, key in enumerate(keys):
            x = float(np.float32(rng.standard_normal() * 10.0 ** rng.randint(-30, 31)))
            if i == 0:
                x = -0.0
            if i % 10 == 7:
                values[key] = x                                         # a Python float
            elif i % 10 == 8:
                values[key] = torch.tensor([x], device=device)          # not 0-d
            elif i % 10 == 9:
                values[key] = torch.tensor(x, dtype=torch.float64, device=device)
            else:
                values[key] = torch.tensor(x, dtype=torch.float32, device=device)
            expected[key] = expected.get(key, 0.0) + float(values[key]) * examples
        totals.add(values, examples)
    got = totals.totals()
    assert sorted(got) == sorted(expected)
    for key in keys:
        assert got[key] == expected[key] and str(got[key]) == str(expected[key]), key
