"""K independent models trained in one process (bmm), for error bars over seeds.

Model k is the YAML's model with its torch streams seeded `seeds[k]`: the same initial weights (the
YAML's MLP seeds), the same minibatch order (SGD's RandomState([2012, 10, 5])), its own noise and
dropout draws. Its parameters after each step equal those of a one-model run with --seed seeds[k]
(parity_tests/test_torch_paths.py), because the step is fused_step.step_core itself, applied to
parameters stacked on a leading axis, and each model's draws come from its own generators in the
one-model order.
"""
import numpy as np
import torch

from gan2014.iteration import shuffled_sequential_batches
from port_torch.random_streams import RandomStreams
from port_torch.training_algorithms import fused_step


class BatchedModels:
    """Stacked parameters and velocities of K models sharing one architecture and schedule."""

    def __init__(self, model, cost, seeds, device="cpu"):
        self.spec = fused_step.FusedSpec(model, cost)
        if self.spec.problems:
            raise NotImplementedError(f"batched path: unsupported {self.spec.problems}")
        if cost.alternate_g:
            raise NotImplementedError("batched path: alternate_g")
        if self.spec.constrained:
            # train_epochs has no Train.setup, so the projection before epoch 0 would be skipped.
            raise NotImplementedError(
                "batched path: norm constraints (max_col_norm, ...) on layers "
                f"{[layer.layer_name for _, layer in self.spec.constrained]}: the projection "
                "Train.setup applies before epoch 0 is not part of this path; train such models "
                "one at a time with port_torch.run")
        self.device = torch.device(device)
        self.names = model.param_names()
        self.seeds = [int(s) for s in seeds]
        with torch.no_grad():
            self.params = [p.detach().to(self.device).unsqueeze(0)
                           .repeat(len(seeds), *[1] * p.dim())
                           for _, p in model.named_params()]
        self.velocities = [torch.zeros_like(p) for p in self.params]
        self.streams = [RandomStreams(seed, self.device) for seed in self.seeds]
        self.g_flag = torch.tensor(1.0 if cost.ever_train_generator else 0.0, device=self.device)

    def draw(self, batch_size):
        draws = [fused_step.draw(self.spec, streams, batch_size, self.device)
                 for streams in self.streams]
        z = torch.stack([d[0] for d in draws])
        masks = [None if draws[0][1][i] is None else torch.stack([d[1][i] for d in draws])
                 for i in range(len(draws[0][1]))]
        return z, masks

    def step(self, X, lr, momentum):
        z, masks = self.draw(X.shape[0])
        return fused_step.step_core(self.spec, self.params, self.velocities, X, z, masks, lr,
                                    momentum, self.g_flag)

    def param_values(self, k):
        return {name: p[k].cpu().numpy().copy() for name, p in zip(self.names, self.params)}


def train_epochs(batched, data, algorithm, extensions, epochs):
    """Train all K models for `epochs` epochs as gan2014.train.Train would train one of them.

    `algorithm` is the YAML's SGD: its RandomState gives the batch order and its update callbacks
    (ExponentialDecay) move the learning rate after every batch. The extensions' on_monitor
    (MomentumAdjustor) runs where Train runs it: once before training (the epoch-0 monitoring)
    and after every epoch. Monitoring itself is left out.
    """
    for extension in extensions:
        extension.on_monitor(None, None, algorithm)
    for _ in range(epochs):
        for index in shuffled_sequential_batches(data.shape[0], algorithm.batch_size,
                                                 algorithm.rng):
            batched.step(data[torch.as_tensor(np.asarray(index), device=data.device)],
                         algorithm.learning_rate, algorithm.learning_rule.momentum)
            algorithm._after_batch(len(index))
        for extension in extensions:
            extension.on_monitor(None, None, algorithm)
