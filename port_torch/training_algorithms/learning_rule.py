"""pylearn2/training_algorithms/learning_rule.py :: Momentum and MomentumAdjustor.

Pylearn2's momentum folds the learning rate into the velocity:
    v <- mu * v - lr * g ;   p <- p + v ;   p <- constraint(p)   (the velocity is not projected)
torch.optim.SGD instead keeps buf = mu * buf + g and steps p -= lr * buf, which rescales all past
velocity by the *current* lr; with lr decaying every minibatch the two differ, so this is written
out.
"""
import numpy as np
import torch

from gan2014.config.checks import check_number
from gan2014.training_algorithms.schedules import MomentumAdjustorSchedule


class Momentum:
    """Momentum(init_momentum): one velocity per parameter, starting at zero."""

    def __init__(self, init_momentum, nesterov_momentum=False):
        # Pylearn2 asserted 0 <= init_momentum < 1, which text (YAML's '5e-1') fails.
        init_momentum = check_number("Momentum", "init_momentum", init_momentum, low=0, high=1,
                                     high_open=True)
        if nesterov_momentum:
            raise NotImplementedError("nesterov_momentum came after 2014 (Pylearn2 2dd377c)")
        self.init_momentum = init_momentum
        self.momentum = float(np.float32(init_momentum))
        self.velocities = None

    def setup(self, params):
        # Pylearn2 kept the momentum in a floatX shared variable: round it to the parameters' type.
        self.momentum = float(np.asarray(self.init_momentum, dtype=numpy_dtype(params[0])))
        self.velocities = [torch.zeros_like(p) for p in params]

    def update_(self, params, grads, lr, lr_scales=None):
        """One simultaneous step of every parameter from gradients taken at the old values.

        `lr` and the momentum may be Python floats or 0-d tensors (the CUDA-graph step keeps them
        on the device); torch._foreach ops fuse the per-parameter work.
        """
        update_(params, self.velocities, grads, lr, self.momentum, lr_scales)

    def velocity_names(self, param_names):
        return [f"velocity/{name}" for name in param_names]


def numpy_dtype(tensor):
    """The numpy float type matching a tensor's dtype (float32 or float64)."""
    return np.float64 if tensor.dtype == torch.float64 else np.float32


@torch.no_grad()
def update_(params, velocities, grads, lr, momentum, lr_scales=None):
    """v <- mu*v - lr*s*g ; p <- p + v, for lists of tensors (any leading batch-of-models dims)."""
    torch._foreach_mul_(velocities, momentum)
    if lr_scales is None:
        steps = torch._foreach_mul(grads, lr)
    else:
        steps = [g * (lr * s) for g, s in zip(grads, lr_scales)]
    torch._foreach_sub_(velocities, steps)
    torch._foreach_add_(params, velocities)


class MomentumAdjustor:
    """MomentumAdjustor(final_momentum, start, saturate), a TrainExtension.

    on_monitor runs after every monitoring step, the epoch-0 one included, so training epoch e uses
    the momentum set by the e-th call. The arithmetic lives in gan2014 (shared with Aesara).
    """

    def __init__(self, final_momentum, start, saturate):
        self.schedule = MomentumAdjustorSchedule(final_momentum, start, saturate)

    def on_monitor(self, model, dataset, algorithm):
        rule = algorithm.learning_rule
        rule.momentum = float(self.schedule.next_momentum(rule.momentum,
                                                          dtype=algorithm.float_type))

    def state_dict(self):
        return self.schedule.state_dict()

    def load_state_dict(self, state):
        self.schedule.load_state_dict(state)
