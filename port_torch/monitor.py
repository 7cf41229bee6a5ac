"""pylearn2/monitor.py :: Monitor as the SGD uses it (legacy_aesara/monitor.py is its twin).

Each channel is the example-weighted mean of its per-batch values over the dataset's 'sequential'
batches (Pylearn2's accumulation); the values of a batch are the cost's channels, the objective and
the model's channels, named with the dataset's prefix. The SGD adds its data-independent channels
(learning_rate, momentum) after these.
"""
from collections import OrderedDict

import torch

from gan2014.iteration import sequential_batches
from port_torch.models.mlp import weights_fixed


class ChannelTotals:
    """Example-weighted sums of monitoring channels over batches: ``total[key] += float(value) *
    examples``, in float64 as Python floats do it, but computed where the values live. The 0-d
    tensors of one dtype and device are stacked, converted, multiplied and added as one vector (the
    same IEEE operations element by element, so the same numbers), so that monitoring on a GPU
    costs no host-device synchronisation per channel and batch (mnist.yaml: 173 channels x 100
    batches an epoch) and three kernels a batch instead of three per channel."""

    def __init__(self):
        self.floats = {}      # key -> float, for values that are not 0-d tensors
        self.vectors = {}     # (dtype, device, keys) -> float64 tensor of the keys' totals

    def add(self, values, examples):
        groups = {}
        for key, value in values.items():
            if torch.is_tensor(value) and value.dim() == 0:
                groups.setdefault((value.dtype, value.device), []).append(key)
            else:
                self.floats[key] = self.floats.get(key, 0.0) + float(value) * examples
        for (dtype, device), keys in groups.items():
            vector = torch.stack([values[k].detach() for k in keys]).to(torch.float64) * examples
            group = (dtype, device, tuple(keys))
            self.vectors[group] = self.vectors.get(group, 0.0) + vector

    def totals(self):
        """{key: total as a float} (one device-to-host copy per group)."""
        result = dict(self.floats)
        for (_dtype, _device, keys), vector in self.vectors.items():
            result.update(zip(keys, vector.tolist()))
        return result


class Monitor:
    """The channels of every monitoring dataset.

    `data` maps each dataset's name ("" for a single one) to its design matrix on the device,
    `as_input` to the function that makes a batch of the model's input space from its rows;
    `num_batches` (None: all) limits the batches per dataset.
    """

    def __init__(self, cost, data, as_input, batch_size, num_batches):
        self.cost = cost
        self.data = data
        self.as_input = as_input
        self.batch_size = batch_size
        self.num_batches = num_batches

    def __call__(self, model):
        """{prefix + channel: mean} over each dataset, the channels of a dataset sorted by name.
        Noise, samples and masks come from the model's "monitor" generator."""
        channels = OrderedDict()
        generator = model.streams["monitor"]
        with weights_fixed():
            for name, data in self.data.items():
                channels.update(self._dataset_channels(model, name, data, generator))
        return channels

    def _dataset_channels(self, model, name, data, generator):
        """One dataset's channels: example-weighted means over its sequential batches."""
        prefix = f"{name}_" if name else ""
        totals, rows = ChannelTotals(), 0
        slices = sequential_batches(data.shape[0], self.batch_size)
        if self.num_batches is not None:
            slices = slices[: int(self.num_batches)]
        for part in slices:
            examples = part.stop - part.start
            values = self.batch_channels(model, self.as_input[name](data[part]), generator)
            totals.add(values, examples)
            rows += examples
        totals = totals.totals()
        return OrderedDict((prefix + key, totals[key] / rows) for key in sorted(totals))

    def batch_channels(self, model, X, generator):
        """The channel values of one batch: the cost's, the objective, the model's."""
        values = OrderedDict()
        values.update(self.cost.monitoring_channels(model, X, generator))
        with torch.no_grad():
            values["objective"] = self.cost.expr(model, X, generator)
        values.update(model.monitoring_channels(X, generator))
        return values
