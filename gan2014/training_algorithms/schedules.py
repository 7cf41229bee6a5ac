"""The arithmetic of ExponentialDecay and MomentumAdjustor, shared by both backends.

Pylearn2 kept the learning rate and momentum in floatX shared variables (float32 in every 2014 run)
and recomputed them in Python between minibatches / epochs. These classes hold exactly that
Python-side state and return the value to write, rounded to the storage's float type (`dtype`,
float32 unless a float64 parity test asks otherwise); each backend's wrapper writes it to its own
storage. Keeping the state here (plain ints, floats, bools) is also what makes it checkpointable.
"""
import numpy as np

from gan2014.config.checks import check_number, check_whole_number


class ExponentialDecaySchedule:
    """pylearn2/training_algorithms/sgd.py :: ExponentialDecay, one call after every minibatch.

    lr_t = max(lr_0 / decay_factor**(t-1), min_lr), where the first value <= min_lr is replaced by
    min_lr and the schedule then stays there.
    """

    def __init__(self, decay_factor, min_lr):
        # Pylearn2 converted string arguments (YAML 1.1 reads `1e-6` as a string) with float().
        self.decay_factor = check_number("ExponentialDecay", "decay_factor", decay_factor, low=1,
                                         text=True)
        self.min_lr = check_number("ExponentialDecay", "min_lr", min_lr, low=0, text=True)
        self.count = 0
        self.min_reached = False
        self.base_lr = None

    def next_lr(self, current_lr, dtype=np.float32):
        """Return the learning rate for the next minibatch, given the one just used."""
        cast = np.dtype(dtype).type
        if self.count == 0:
            self.base_lr = float(cast(current_lr))
        self.count += 1
        if not self.min_reached:
            # float64 arithmetic on the float32 base, explicitly: numpy 2's scalar promotion would
            # otherwise keep float32 and drift from 2014's numbers.
            new_lr = self.base_lr / (self.decay_factor ** self.count)
            if new_lr <= self.min_lr:
                self.min_reached = True
                new_lr = self.min_lr
        else:
            new_lr = self.min_lr
        return cast(new_lr)

    def state_dict(self):
        return {"count": self.count, "min_reached": self.min_reached, "base_lr": self.base_lr}

    def load_state_dict(self, state):
        self.count = int(state["count"])
        self.min_reached = bool(state["min_reached"])
        self.base_lr = None if state["base_lr"] is None else float(state["base_lr"])


class MomentumAdjustorSchedule:
    """pylearn2/training_algorithms/learning_rule.py :: MomentumAdjustor, one call per on_monitor.

    It is also called by the epoch-0 monitoring before any training, so training epoch e runs with
    mu_e = m0 + (final - m0) * clip((e - start) / (saturate - start), 0, 1).
    """

    def __init__(self, final_momentum, start, saturate):
        start = check_whole_number("MomentumAdjustor", "start", start)
        saturate = check_whole_number("MomentumAdjustor", "saturate", saturate)
        if saturate < start:
            raise TypeError(f"MomentumAdjustor: saturate ({saturate}) must be >= start ({start})")
        self.final_momentum = check_number("MomentumAdjustor", "final_momentum", final_momentum,
                                           low=0, high=1, high_open=True, text=True)
        self.start = start
        self.saturate = saturate
        self.count = 0
        self.initial_momentum = None

    def next_momentum(self, current_momentum, dtype=np.float32):
        """Return the momentum to use from now on."""
        cast = np.dtype(dtype).type
        if self.initial_momentum is None:
            self.initial_momentum = float(cast(current_momentum))
        self.count += 1
        if self.saturate == self.start:
            alpha = 1.0 if self.count >= self.start else 0.0
        else:
            alpha = (self.count - self.start) / float(self.saturate - self.start)
            alpha = min(max(alpha, 0.0), 1.0)
        m0 = self.initial_momentum
        return cast(m0 * (1.0 - alpha) + alpha * self.final_momentum)

    def state_dict(self):
        return {"count": self.count, "initial_momentum": self.initial_momentum}

    def load_state_dict(self, state):
        self.count = int(state["count"])
        m0 = state["initial_momentum"]
        self.initial_momentum = None if m0 is None else float(m0)
