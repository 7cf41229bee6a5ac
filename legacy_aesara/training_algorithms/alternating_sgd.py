"""adversarial/sgd.py :: SGD -- goodfeli/adversarial's own alternating SGD
(NOT used by any 2014 config).

goodfeli/adversarial ships a copy of Pylearn2's SGD with one extra argument, `discriminator_steps=1`
(docs/pylearn2_semantics.md#alternating-sgd). Every paper config trains with Pylearn2's SGD instead
(D and G updated simultaneously from one minibatch, docs/pylearn2_semantics.md#one-update); this
class is the alternative, registered under the YAML name `adversarial.sgd.SGD`.

What it does, as the original did:
* setup builds the cost's gradients ONCE (`get_gradients`, the same single graph as Pylearn2's SGD)
  and compiles two functions from it: `d_func` updates only D's parameters, `g_func` only G's
  (adversarial/sgd.py :: get_func(learn_discriminator, learn_generator)). Each has its own momentum
  velocities -- the velocity of a parameter lives with the one function that updates it -- and the
  model's constraints (max-norm) are applied to each function's updates.
* The cost must not return extra updates (alternate_g), as the original asserted.
* Per minibatch: d_func(batch); after every `discriminator_steps` D calls also g_func(batch), on the
  SAME minibatch and AFTER the D update (G's gradient goes through the updated D). The counter
  (the original's `self.i`, here `d_steps_since_g`) carries over across epochs and into checkpoints.
* Both functions draw from the graph's random streams, and each call advances them, so g_func
  sees fresh noise and fresh dropout masks (it draws the noise and the generated half's masks only:
  the real half is not in g_obj's graph, so its streams do not move on a G step, as in Theano).
* The update callbacks (ExponentialDecay) run once per minibatch, after both steps; batches_seen
  and examples_seen count minibatches, not steps. Both steps of a minibatch use its learning rate.

This is the paper's Algorithm 1 with k = discriminator_steps (each of the k D steps takes the next
data minibatch of the epoch, with fresh noise). The differences:
* the G step: Algorithm 1 draws a fresh minibatch of m noise samples for it; the original g_func
  REUSES the data minibatch of the D step just taken. G's objective does not read the data, only
  its size, and the noise is fresh either way (the streams advance), so the one visible effect is
  that a partial last minibatch of an epoch also shrinks the G step's noise batch;
* Algorithm 1's D step ascends mean[log D(x) + log(1 - D(G(z)))]; 2014's d_obj is half of that
  (docs/pylearn2_semantics.md#the-cost-and-its-gradients), i.e. D's effective learning rate is
  halved;
* Algorithm 1's G step descends mean log(1 - D(G(z))); 2014's cost uses the non-saturating
  -mean log D(G(z)) unless the cost is given generator_objective='minimax' (an option added here,
  gan2014/generator_objectives.py).

One deliberate difference from the original: without a learning rule, the original's get_func
updated ALL parameters with plain SGD in both functions (it zipped the full parameter list); here
each function updates only its own network, as with a learning rule. No config is affected (all
use Momentum).

Noise and masks fed from outside (tests): `train_batch(X, z=(z_d, z_g), masks=(masks_d, masks_g))`;
see train_batch.
"""
import time
from collections import OrderedDict

import aesara
import aesara.tensor as at
import numpy as np

from gan2014.training_algorithms.alternating import DiscriminatorStepCounter, split_feed
from legacy_aesara.adversarial import NO_DROPOUT, mask_arguments, mask_inputs
from legacy_aesara.space import make_theano_batch
from legacy_aesara.training_algorithms.sgd import SGD as PylearnSGD
from legacy_aesara.training_algorithms.sgd import _log


class SGD(PylearnSGD):
    """adversarial/sgd.py :: SGD(..., discriminator_steps=1): Pylearn2's SGD arguments plus k."""

    def __init__(self, *args, discriminator_steps=1, **kwargs):
        super().__init__(*args, **kwargs)
        # D steps since the last G step (the original's self.i); set to 0 by setup, as there.
        self.counter = DiscriminatorStepCounter(discriminator_steps)
        self.discriminator_steps = self.counter.discriminator_steps
        self._fed_steps = {}

    # ------------------------------------------------------------------------------ setup
    def setup(self, model, dataset):
        """adversarial/sgd.py :: SGD.setup: Pylearn2's order (objective, monitor, gradients), then
        d_func and g_func from the one gradient graph. The graphs are built by the base class, in
        the same order (hence the same MRG seeds); only the compiled functions differ."""
        self.counter.d_steps_since_g = 0
        super().setup(model, dataset)

    def _compile_updates(self, model, X, grads, updates):
        self._check_no_cost_updates(updates)
        self.compile_seconds = 0.0
        self.d_func = self._compile_step("discriminator", [X], grads, "d_func")
        self.g_func = self._compile_step("generator", [X], grads, "g_func")
        # The shared epoch loop (SGD.train -> _run_step) calls `sgd_update(batch)` once per
        # minibatch; here that is the alternating step.
        self.sgd_update = self._alternating_update

    @staticmethod
    def _check_no_cost_updates(updates):
        if updates:
            raise ValueError("adversarial.sgd.SGD: the cost returned updates (alternate_g?); the "
                             "alternating SGD does not support them (the original asserted "
                             "len(updates) == 0)")

    def _network_params(self, step):
        model = self.model
        return list((model.discriminator if step == "discriminator"
                     else model.generator).get_params())

    def _step_updates(self, model, grads, step):
        """get_func's updates: the learning rule on one network's parameters only (its velocities
        are created here, one per parameter), then the model's constraints on those updates."""
        params = self._network_params(step)
        lr_scalers = model.get_lr_scalers()
        unknown = [key for key in lr_scalers if key not in self.params]
        if unknown:
            raise ValueError(f"learning-rate scalers for non-parameters: {unknown}")
        own_grads = OrderedDict((param, grads[param]) for param in params)
        own_scalers = {param: lr_scalers[param] for param in params if param in lr_scalers}
        if self.learning_rule is not None:
            updates = OrderedDict(self.learning_rule.get_updates(self.learning_rate, own_grads,
                                                                 own_scalers))
        else:
            updates = OrderedDict((param, param - self.learning_rate * own_scalers.get(param, 1.)
                                   * own_grads[param]) for param in params)
        model.modify_updates(updates)
        return updates

    def _compile_step(self, step, inputs, grads, name):
        began = time.time()
        _log(f"Compiling {name}...")
        function = aesara.function(inputs, [], updates=self._step_updates(self.model, grads, step),
                                   name=name, on_unused_input="ignore")
        seconds = time.time() - began
        self.compile_seconds += seconds
        _log(f"Compiling {name} done. Time elapsed: {seconds:f} seconds")
        return function

    def uses_fused_gradients(self, model):
        """Never: a G step of the fused graph would also draw the real half's dropout masks (D runs
        on both halves at once), where the original's g_func leaves those streams alone."""
        if self.path in ("fused", "reference"):
            raise ValueError(f"adversarial.sgd.SGD: path {self.path!r} is not supported "
                             "(use 'grad')")
        return False

    # ------------------------------------------------------------------------------ training
    @property
    def d_steps_since_g(self):
        return self.counter.d_steps_since_g

    def generator_step_due(self):
        """Whether the next minibatch ends with a G step (after its D step)."""
        return self.counter.generator_step_due()

    def _alternate(self, d_step, g_step):
        """The original's per-batch body: d_func; i += 1; if i == k: g_func; i = 0."""
        d_step()
        if self.counter.d_step_done():
            g_step()

    def _alternating_update(self, batch):
        self._alternate(lambda: self.d_func(batch), lambda: self.g_func(batch))

    def train_batch(self, X, z=None, masks=None):
        """One minibatch of the alternating algorithm (a D step, and a G step when due), then the
        update callbacks once.

        Without z and masks: noise and masks are drawn (a training step). To feed them, give
        pairs, one member per step:
          z     = (z_d, z_g): the noise of the D step and of the G step;
          masks = (masks_d, masks_g): each {"data": [...], "samp": [...]} (docs/ARCHITECTURE.md) or
                  None for no dropout in that step; masks=None means no dropout in either step.
        The G step uses only masks_g["samp"] (its objective sees only the generated batch). z_g and
        masks_g are used only when this minibatch has a G step (`generator_step_due()` before the
        call); z_g may then not be None.
        """
        X = self._as_floatx(X)
        if z is None and masks is None:
            self._run_step(self.sgd_update, X)
            return
        z_d, z_g, masks_d, masks_g = split_feed(z, masks)
        g_due = self.generator_step_due()
        if g_due and z_g is None:
            raise ValueError("train_batch: this minibatch has a G step; feed its noise z_g too")
        d_function, d_extra = self._fed_call("discriminator", z_d, masks_d)
        g_function, g_extra = self._fed_call("generator", z_g, masks_g) if g_due else (None, None)
        self._run_step(lambda batch: self._alternate(lambda: d_function(batch, *d_extra),
                                                     lambda: g_function(batch, *g_extra)), X)

    def _fed_call(self, step, z, masks):
        function, active = self._fed_step(step, masks is not None)
        extra = [np.asarray(z, dtype="float32")]
        if masks is not None:
            extra += mask_arguments(masks, active, aesara.config.floatX)
        return function, extra

    def _fed_step(self, step, masked):
        """The step's function with noise (and masks) as inputs: one more gradient graph, compiled
        on first use; it shares the velocities of d_func / g_func."""
        key = (step, masked)
        if key not in self._fed_steps:
            X = make_theano_batch(self.model.get_input_space(), "SGD[features]")
            z = at.matrix("z")
            fed_masks, active = (mask_inputs(self.model.discriminator, self.cost) if masked
                                 else (NO_DROPOUT, []))
            grads, updates = self.cost.get_gradients(self.model, X, noise=z,
                                                     dropout_masks=fed_masks)
            self._check_no_cost_updates(updates)
            inputs = [X, z]
            if masked:
                inputs += [fed_masks[half][i] for half in ("data", "samp") for i in active]
            function = aesara.function(inputs, [],
                                       updates=self._step_updates(self.model, grads, step),
                                       name=f"{step}_step_fed", on_unused_input="ignore")
            self._fed_steps[key] = (function, active)
        return self._fed_steps[key]

    # ------------------------------------------------------------------------------ checkpoints
    def state_meta(self):
        meta = super().state_meta()
        meta.update(self.counter.state_meta())
        return meta

    def load_state(self, arrays, meta):
        super().load_state(arrays, meta)
        self.counter.load_state_meta(meta)
