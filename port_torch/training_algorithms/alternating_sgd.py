"""adversarial/sgd.py :: SGD for the torch port -- goodfeli/adversarial's alternating SGD (NOT used
by any 2014 config; registered under the YAML name `adversarial.sgd.SGD`).

The semantics are those of legacy_aesara/training_algorithms/alternating_sgd.py (its docstring says
what the original did and how it differs from the paper's Algorithm 1), restated for this backend:

* per minibatch: a D step (gradients at the current parameters, momentum update of D's parameters
  only, D's constraints); after every `discriminator_steps` D steps also a G step on the SAME
  minibatch, AFTER the D update, with its own fresh noise and masks (G's momentum update and
  constraints only). The counter `d_steps_since_g` carries over across epochs and into checkpoints.
* Each parameter's velocity belongs to the one step that updates it (G's start at 0 and move only
  on G steps).
* The update callbacks (ExponentialDecay) run once per minibatch, after both steps.

Each step is Pylearn2's gradient computation (the "fused" hand-written backward or "autograd", same
numbers) followed by a momentum update of one network: the gradient of the other network is computed
too and discarded (with the fused step a weight gradient is only materialised inside its velocity
update, so the discarded ones cost no GEMM). The CUDA-graph path replays the simultaneous step of
Pylearn2's SGD, so "auto" here means fused (or autograd where fused does not support the model).

Randomness: each step draws its noise and D masks from the model's torch generators (a G step draws
the real half's masks too and ignores them). Fed from outside (tests): train_batch(X, z=(z_d, z_g),
masks=(masks_d, masks_g)), as in the Aesara class.
"""
import torch

from gan2014.training_algorithms.alternating import DiscriminatorStepCounter, split_feed
from port_torch.training_algorithms import fused_step
from port_torch.training_algorithms.learning_rule import update_
from port_torch.training_algorithms.sgd import SGD as PylearnSGD


class SGD(PylearnSGD):
    """adversarial/sgd.py :: SGD(..., discriminator_steps=1): Pylearn2's SGD arguments plus k."""

    def __init__(self, *args, discriminator_steps=1, **kwargs):
        super().__init__(*args, **kwargs)
        # D steps since the last G step (the original's self.i); set to 0 by setup, as there.
        self.counter = DiscriminatorStepCounter(discriminator_steps)
        self.discriminator_steps = self.counter.discriminator_steps

    # ---------------------------------------------------------------- setup
    def setup(self, model, dataset):
        self.counter.d_steps_since_g = 0
        if self.cost.alternate_g:
            raise ValueError("adversarial.sgd.SGD: the cost's alternate_g returns updates, which "
                             "the alternating SGD does not support (the original asserted "
                             "len(updates) == 0)")
        super().setup(model, dataset)
        if self.path_used == "graph":
            if self.path == "graph":
                raise NotImplementedError("adversarial.sgd.SGD: the CUDA-graph step replays "
                                          "Pylearn2's simultaneous update; use --path fused or "
                                          "autograd")
            self.path_used = "fused"
        n_g = len(list(model.generator.mlp.named_pylearn2_params()))
        # Parameter positions of each step's network in get_params() order (G's, then D's).
        self._slices = {"generator": slice(0, n_g), "discriminator": slice(n_g, len(self.params))}

    # ---------------------------------------------------------------- training
    @property
    def d_steps_since_g(self):
        return self.counter.d_steps_since_g

    def generator_step_due(self):
        """Whether the next minibatch ends with a G step (after its D step)."""
        return self.counter.generator_step_due()

    def train_batch(self, X, z=None, masks=None):
        """One minibatch: a D step, a G step when due, then the update callbacks once.

        z / masks: None (draw), or pairs (z_d, z_g) / (masks_d, masks_g) as in the Aesara class:
        masks_* is {"data": [...], "samp": [...]} or None (no dropout in that step), masks=None no
        dropout in either step; z_g and masks_g are used only when the minibatch has a G step
        (`generator_step_due()`), and z_g must then be given.
        """
        X = torch.as_tensor(X, dtype=self.dtype, device=self.device)
        if z is None and masks is None:
            feeds = {"discriminator": None, "generator": None}
        else:
            z_d, z_g, masks_d, masks_g = split_feed(z, masks)
            if self.generator_step_due() and z_g is None:
                raise ValueError("train_batch: this minibatch has a G step; feed its noise z_g too")
            feeds = {"discriminator": (z_d, masks_d), "generator": (z_g, masks_g)}
        self._step(X, "discriminator", feeds["discriminator"])
        if self.counter.d_step_done():
            self._step(X, "generator", feeds["generator"])
        self._after_batch(self.model.discriminator.batch_size_of(X))

    def _step(self, X, step, feed):
        """Gradients at the current parameters, then one network's momentum update and
        constraints."""
        model, cost = self.model, self.cost
        B = model.discriminator.batch_size_of(X)
        if feed is None:
            if self.path_used == "autograd":
                z, g_masks, d_masks = cost.draw(model, B, model.streams)
            else:
                z, d_masks = fused_step.draw(self.spec, model.streams, B, self.device)
                g_masks = None
        else:
            z, g_masks, d_masks = feed[0], None, self._given_masks(feed[1])
        z = torch.as_tensor(z, device=self.device, dtype=self.dtype)   # drawn in float32
        part = self._slices[step]
        params = self.params[part]
        velocities = self.learning_rule.velocities[part]
        if self.path_used == "autograd":
            grads, *_ = cost.gradients(model, X, z, d_masks, g_masks, model.streams)
            scales = None if self.lr_scales is None else self.lr_scales[part]
            update_(params, velocities, list(grads.values())[part], self.learning_rate,
                    self.learning_rule.momentum, scales)
        else:
            with torch.no_grad():
                grads, _d_obj, _g_obj = fused_step.gradients(self.spec, self.params, X, z, d_masks,
                                                             self.g_flag)
                fused_step.momentum_update_(params, velocities, grads[part], self.learning_rate,
                                            self.learning_rule.momentum)
        with torch.no_grad():
            network = model.discriminator if step == "discriminator" else model.generator.mlp
            network.constrain_()

    # ---------------------------------------------------------------- checkpoints
    def state_meta(self):
        meta = super().state_meta()
        meta.update(self.counter.state_meta())
        return meta

    def load_state(self, arrays, meta):
        super().load_state(arrays, meta)
        self.counter.load_state_meta(meta)
