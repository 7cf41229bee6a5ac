"""The framework-free part of adversarial/sgd.py :: SGD (the alternating D/G SGD), shared by the
legacy_aesara and port_torch classes of the same name (their docstrings say what it does).

* `DiscriminatorStepCounter`: the original's counter `self.i` -- D steps since the last G step,
  carried across epochs; a G step follows every `discriminator_steps`-th D step.
* `split_feed`: train_batch's noise and masks fed from outside, one member per step.
* the counter's checkpoint entry (`state_meta` key "alternating_sgd").
"""
from gan2014.config.checks import check_positive_int

META_KEY = "alternating_sgd"


class DiscriminatorStepCounter:
    """D steps since the last G step; `d_step_done()` says whether a G step is due now."""

    def __init__(self, discriminator_steps):
        self.discriminator_steps = check_positive_int("SGD", "discriminator_steps",
                                                      discriminator_steps)
        self.d_steps_since_g = 0

    def generator_step_due(self):
        """Whether the next minibatch ends with a G step (after its D step)."""
        return self.d_steps_since_g + 1 == self.discriminator_steps

    def d_step_done(self):
        """The original's `i += 1; if i == discriminator_steps: g_func(batch); i = 0`: count one
        D step; True when the G step must run now (the counter is then back at 0)."""
        self.d_steps_since_g += 1
        if self.d_steps_since_g == self.discriminator_steps:
            self.d_steps_since_g = 0
            return True
        return False

    def state_meta(self):
        return {META_KEY: {"discriminator_steps": self.discriminator_steps,
                           "d_steps_since_g": self.d_steps_since_g}}

    def load_state_meta(self, meta):
        """Restore from an algorithm meta dict; a Pylearn2-SGD checkpoint (no entry) gives 0."""
        state = meta.get(META_KEY) or {}
        done = int(state.get("d_steps_since_g", 0))
        if not 0 <= done < self.discriminator_steps:
            raise ValueError(f"checkpoint: {done} D steps since the last G step, but "
                             f"discriminator_steps is {self.discriminator_steps}")
        self.d_steps_since_g = done


def split_feed(z, masks):
    """(z_d, z_g, masks_d, masks_g) from train_batch's z=(z_d, z_g), masks=(masks_d, masks_g).

    masks=None means no dropout in either step (as for Pylearn2's SGD.train_batch); masks fed
    without the noise are refused, as there.
    """
    if z is None:
        raise ValueError("train_batch: feeding dropout masks needs the noise z too")
    if not (isinstance(z, (tuple, list)) and len(z) == 2):
        raise TypeError("adversarial.sgd.SGD.train_batch: give z as a pair (z_d, z_g), the noise "
                        "of the D step and of the G step")
    if masks is None:
        masks = (None, None)
    if not (isinstance(masks, (tuple, list)) and len(masks) == 2):
        raise TypeError("adversarial.sgd.SGD.train_batch: give masks as a pair (masks_d, masks_g)")
    return z[0], z[1], masks[0], masks[1]
