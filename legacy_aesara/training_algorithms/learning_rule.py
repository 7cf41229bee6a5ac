"""Momentum and its schedule (mirrors pylearn2/training_algorithms/learning_rule.py, June 2014).

Pylearn2's momentum folds the learning rate into the velocity:
    inc <- momentum * inc - learning_rate * lr_scale * grad ;  param <- param + inc
so a velocity keeps the learning rate it was computed with (torch.optim.SGD's momentum does not).
The schedule arithmetic of MomentumAdjustor is shared with the torch port in
gan2014.training_algorithms.schedules.
"""
from collections import OrderedDict

import numpy as np

from gan2014.config.checks import check_number
from gan2014.training_algorithms.schedules import MomentumAdjustorSchedule
from legacy_aesara.models.mlp import shared_floatx


class Momentum:
    """learning_rule.py :: Momentum -- one velocity per parameter, updated with it in one step."""

    def __init__(self, init_momentum):
        # Pylearn2 asserted 0 <= init_momentum < 1, which text (YAML's '5e-1') fails.
        init_momentum = check_number("Momentum", "init_momentum", init_momentum, low=0, high=1,
                                     high_open=True)
        self.momentum = shared_floatx(init_momentum, "momentum")
        # param -> its velocity shared variable, filled by get_updates.
        self.velocities = OrderedDict()

    def monitoring_channels(self):
        """The data-independent channel Pylearn2's add_channels_to_monitor registered."""
        return OrderedDict([("momentum", self.momentum)])

    def velocity(self, param):
        """param's velocity shared variable `inc_<param>`, created (zero) on first use."""
        if param not in self.velocities:
            self.velocities[param] = shared_floatx(np.zeros_like(param.get_value()),
                                                   "inc_" + param.name)
        return self.velocities[param]

    def get_updates(self, learning_rate, grads, lr_scalers=None):
        """Updates for every (param, grad): the new velocity and param + new velocity.

        The max-norm projection (model.modify_updates) is applied afterwards by the SGD to the new
        parameter value only; the stored velocity stays the unconstrained increment. A second call
        (the SGD's variant with fed noise and masks) reuses the velocities of the first.
        """
        lr_scalers = lr_scalers or {}
        updates = OrderedDict()
        for param, grad in grads.items():
            inc = self.velocity(param)
            if grad.dtype != param.dtype:
                raise TypeError(f"gradient of {param.name} has dtype {grad.dtype}, "
                                f"expected {param.dtype}")
            updated_inc = self.momentum * inc - learning_rate * lr_scalers.get(param, 1.) * grad
            updates[inc] = updated_inc
            updates[param] = param + updated_inc
        return updates


class MomentumAdjustor:
    """learning_rule.py :: MomentumAdjustor -- a linear momentum ramp, stepped on every monitor.

    It is also called by the epoch-0 monitoring, so training epoch e runs with
    m0 + (final - m0) * clip((e - start) / (saturate - start), 0, 1).
    """

    def __init__(self, final_momentum, start, saturate):
        self.schedule = MomentumAdjustorSchedule(final_momentum, start, saturate)

    def setup(self, model, dataset, algorithm):
        """Nothing: the June 2014 MomentumAdjustor had no setup (the first on_monitor starts it)."""

    def on_monitor(self, model, dataset, algorithm):
        momentum = algorithm.learning_rule.momentum
        value = self.schedule.next_momentum(momentum.get_value(), dtype=momentum.dtype)
        momentum.set_value(np.asarray(value, dtype=momentum.dtype))

    def state_dict(self):
        return self.schedule.state_dict()

    def load_state_dict(self, state):
        self.schedule.load_state_dict(state)
