"""Stochastic gradient descent (mirrors pylearn2/training_algorithms/sgd.py :: SGD, June 2014).

As in Pylearn2, setup builds ONE Aesara function, `sgd_update(X)`, that evaluates the cost's
gradients and the learning rule's updates from the parameter values at call entry and then assigns
every shared variable at once; train() feeds it the minibatches of one epoch in the order of the
persistent RandomState([2012, 10, 5]) and calls the update callbacks (ExponentialDecay) after each.

The monitor is Pylearn2's (pylearn2/monitor.py :: Monitor), in legacy_aesara/monitor.py; setup
builds its graphs at Pylearn2's point and monitor() runs it.

Added for reliable long runs (not in Pylearn2): after every batch of an epoch the parameters are
checked for NaN/Inf (raising gan2014.train.TrainingDivergedError with the batch), and the epoch loop
polls `stop_requested` (set by gan2014.train.Train on Ctrl-C) so that a run can stop between two
batches; `batches_into_epoch` and the RandomState as it was before the epoch's shuffle then go into
the checkpoint, and a resumed run redraws the same shuffle and continues at the next batch.
"""
import time
from collections import OrderedDict

import aesara
import aesara.tensor as at
import numpy as np

from gan2014.config.checks import check_number, check_positive_int
from gan2014.seeds import SGD_BATCH_ORDER_SEED
from gan2014.space import DesignBatchFormatter
from gan2014.train import TrainingDivergedError
from gan2014.training_algorithms.schedules import ExponentialDecaySchedule
from gan2014.training_algorithms.sgd_state import SGDState
from legacy_aesara import random_streams
from legacy_aesara.adversarial import AdversaryCost2, NO_DROPOUT, mask_inputs, mask_arguments
from legacy_aesara.monitor import Monitor, design_matrix
from legacy_aesara.training_algorithms import fused_step, reference_step
from legacy_aesara.models.mlp import shared_floatx
from legacy_aesara.space import make_theano_batch
from legacy_aesara.training_algorithms.learning_rule import Momentum

DEFAULT_SEED = SGD_BATCH_ORDER_SEED   # the former name of Pylearn2's batch-order seed here
# How the update function gets its gradients (the same numbers either way, tested in
# parity_tests/test_aesara_paths.py): "grad" = aesara.grad on the cost's 2014 graph,
# "fused" = training_algorithms/fused_step.py, "auto" = fused where it supports the model,
# "reference" = the whole step written out in training_algorithms/reference_step.py.
PATHS = ("auto", "grad", "fused", "reference")


class ExponentialDecay:
    """sgd.py :: ExponentialDecay -- lr_t = max(lr_0 / decay_factor**(t-1), min_lr), stepped after
    every minibatch (not every epoch)."""

    def __init__(self, decay_factor, min_lr):
        self.schedule = ExponentialDecaySchedule(decay_factor, min_lr)

    def __call__(self, algorithm):
        lr = algorithm.learning_rate
        lr.set_value(np.asarray(self.schedule.next_lr(lr.get_value(), dtype=lr.dtype),
                                dtype=lr.dtype))

    def state_dict(self):
        return self.schedule.state_dict()

    def load_state_dict(self, state):
        self.schedule.load_state_dict(state)


def _self_dot(array):
    """sum(array**2), through BLAS for a contiguous array (overflow is possible: see
    _check_step)."""
    flat = array.reshape(-1)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.dot(flat, flat)


def _log(message):
    print(message, flush=True)


class SGD(SGDState):
    """sgd.py :: SGD with Pylearn2's constructor arguments.

    Besides Pylearn2's interface (setup, train, continue_learning) it offers what the shared Train
    loop and the tests need (docs/ARCHITECTURE.md): monitor(), train_batch(), batches_seen,
    examples_seen, state_arrays(), state_meta(), load_state(). The batch order, the counters and
    the stop/resume position are gan2014/training_algorithms/sgd_state.py's SGDState.
    """

    def __init__(self, learning_rate, cost=None, batch_size=None, monitoring_batch_size=None,
                 monitoring_batches=None, monitoring_dataset=None,
                 monitor_iteration_mode="sequential", termination_criterion=None,
                 update_callbacks=None, learning_rule=None, init_momentum=None,
                 set_batch_size=False, train_iteration_mode=None, batches_per_iter=None,
                 theano_function_mode=None, monitoring_costs=None, seed=SGD_BATCH_ORDER_SEED):
        if monitoring_costs:
            raise NotImplementedError("SGD: monitoring_costs is not supported by legacy_aesara")
        if theano_function_mode is not None:
            raise NotImplementedError("SGD: theano_function_mode is not supported by "
                                      "legacy_aesara (the Aesara mode comes from AESARA_FLAGS)")
        if monitor_iteration_mode != "sequential":
            raise NotImplementedError("SGD: only monitor_iteration_mode='sequential' is supported")
        if init_momentum is not None:
            # Pylearn2's deprecated shortcut for learning_rule=Momentum(init_momentum).
            if learning_rule is not None:
                raise ValueError("SGD: give either init_momentum or learning_rule, not both")
            learning_rule = Momentum(init_momentum)
        SGDState.__init__(self, seed, update_callbacks, termination_criterion,
                          train_iteration_mode, check_positive_int("SGD", "batches_per_iter",
                                                                   batches_per_iter))
        # Pylearn2 cast it with numpy, which also reads text such as '1e-3'.
        learning_rate = check_number("SGD", "learning_rate", learning_rate, low=0, text=True)
        self.learning_rate = shared_floatx(learning_rate, "learning_rate")
        self.cost = cost
        self.batch_size = check_positive_int("SGD", "batch_size", batch_size)
        self.monitoring_batch_size = check_positive_int("SGD", "monitoring_batch_size",
                                                        monitoring_batch_size)
        self.monitoring_batches = check_positive_int("SGD", "monitoring_batches",
                                                     monitoring_batches)
        if monitoring_dataset is not None and not isinstance(monitoring_dataset, dict):
            monitoring_dataset = {"": monitoring_dataset}
        self.monitoring_dataset = monitoring_dataset
        self.learning_rule = learning_rule
        self._fed_updates = {}
        self._formatters = {}               # id(dataset) -> (dataset, DesignBatchFormatter)
        # Not a Pylearn2 argument: set by the command line (--path) or by tests.
        self.path = "auto"

    # ------------------------------------------------------------------------------ setup
    def setup(self, model, dataset):
        """Build the objective, the monitor and the update function (sgd.py :: SGD.setup order).

        The order matters for randomness only: every dropout graph draws its MRG seed from its
        MLP's RandomState when it is built (docs/pylearn2_semantics.md#random-streams).
        """
        # Data that do not fit the model's input space stop here, not after minutes of compiling
        # (the formatters draw nothing, so the seeds are unaffected).
        self.model = model
        for data in [dataset] + list((self.monitoring_dataset or {}).values()):
            self._input_formatter(data)
        X, grads, updates = self._build_graphs(model)
        self._compile_updates(model, X, grads, updates)
        # Compiled after the update function (its graphs were built before, which is what fixes
        # the seeds); compile order has no numerical effect.
        self.channel_monitor.compile()
        self.monitor_compile_seconds = self.channel_monitor.compile_seconds

    def _build_graphs(self, model):
        """The symbolic input, the objective, the monitor's graphs and the gradients, in Pylearn2's
        order; returns (X, grads, updates)."""
        if self.cost is None:
            self.cost = model.get_default_cost()
        self._check_finite(model, "before training")
        if self.batch_size is None:
            raise ValueError("SGD: no batch_size given (and the model forces none)")
        self.model = model
        self._named_params = model.named_params()
        # The cost's data specs: a batch of the model's input space (a 4-D c01b tensor for a conv
        # D).
        X = make_theano_batch(model.get_input_space(), "SGD[features]")
        cost_value = self.cost.expr(model, X)
        if cost_value is not None and getattr(cost_value, "name", None) is None:
            cost_value.name = "objective"
        self.channel_monitor = Monitor(self.monitoring_dataset,
                                       self.monitoring_batch_size or self.batch_size,
                                       self.monitoring_batches, self._input_formatter)
        self.channel_monitor.setup(model, self.cost, self._constant_channels())
        self.params = list(model.get_params())
        grads, updates = self._gradients(model, X)
        self._log_learning_rates(model)
        return X, grads, updates

    def uses_fused_gradients(self, model):
        """Whether `path` selects training_algorithms/fused_step.py for this model and cost."""
        if self.path not in PATHS:
            raise ValueError(f"SGD: path must be one of {', '.join(PATHS)}, got {self.path!r}")
        if self.path == "reference" and not isinstance(self.cost, AdversaryCost2):
            raise ValueError("SGD: path 'reference' needs AdversaryCost2")
        if self.path in ("grad", "reference"):
            return False
        problems = (["a cost other than AdversaryCost2"]
                    if not isinstance(self.cost, AdversaryCost2)
                    else fused_step.unsupported(model, self.cost))
        if problems and self.path == "fused":
            raise ValueError("SGD: path 'fused' does not support " + "; ".join(problems))
        return not problems

    def _gradients(self, model, X, **kwargs):
        """The cost's gradients (and extra updates) for the batch X, by the chosen path; for the
        reference path (None, every update of the step)."""
        if self.uses_fused_gradients(model):
            grads, updates = fused_step.fused_gradients(self.cost, model, X, **kwargs)
        elif self.path == "reference":
            return None, reference_step.step_updates(model, self.cost, X, self.learning_rate,
                                                     self.learning_rule, **kwargs)
        else:
            grads, updates = self.cost.get_gradients(model, X, **kwargs)
        self._check_gradients(grads)
        return grads, updates

    def _compile_updates(self, model, X, grads, updates):
        """One function, sgd_update(X), applying every parameter's update at once."""
        updates = self._parameter_updates(model, grads, updates)
        began = time.time()
        _log("Compiling sgd_update...")
        self.sgd_update = aesara.function([X], [], updates=updates, name="sgd_update",
                                          on_unused_input="ignore")
        self.compile_seconds = time.time() - began
        _log("Compiling sgd_update done. Time elapsed: %f seconds" % self.compile_seconds)

    def _check_gradients(self, grads):
        if not isinstance(grads, OrderedDict):
            raise TypeError("cost.get_gradients must return an OrderedDict")
        missing = [param.name for param in self.params if param not in grads]
        extra = [param for param in grads if param not in self.params]
        if missing or extra:
            raise ValueError(f"gradients do not match the parameters (missing {missing}, "
                             f"extra {extra})")
        for param, grad in grads.items():
            if grad.dtype != param.dtype:
                raise TypeError(f"gradient of {param.name} is {grad.dtype}, not {param.dtype}")

    def _log_learning_rates(self, model):
        lr_scalers = model.get_lr_scalers()
        _log("Parameter and initial learning rate summary:")
        for param in self.params:
            lr = self.learning_rate.get_value() * lr_scalers.get(param, 1.)
            _log("\t" + param.name + ": " + str(lr))

    def _parameter_updates(self, model, grads, updates):
        """The learning rule's updates (or plain SGD), then the model's constraints on them."""
        lr_scalers = model.get_lr_scalers()
        unknown = [key for key in lr_scalers if key not in self.params]
        if unknown:
            raise ValueError(f"learning-rate scalers for non-parameters: {unknown}")
        if grads is None:
            return updates          # the reference path's step is complete
        updates = OrderedDict(updates)
        if self.learning_rule is not None:
            updates.update(self.learning_rule.get_updates(self.learning_rate, grads, lr_scalers))
        else:
            for param in self.params:
                updates[param] = (param - self.learning_rate * lr_scalers.get(param, 1.)
                                  * grads[param])
        model.modify_updates(updates)
        return updates

    # ------------------------------------------------------------------------------ training
    def train(self, dataset):
        """One epoch: every minibatch of the next shuffle through sgd_update, callbacks after each.

        Resumed inside an epoch (`batches_into_epoch` > 0 after load_state), it redraws that epoch's
        shuffle from the saved RandomState and continues at the next batch. Returns early, with
        `batches_into_epoch` set, when `stop_requested()` is true after a batch that is not the
        last.
        """
        if not hasattr(self, "sgd_update"):
            raise RuntimeError("train called without first calling setup")
        self._check_finite(self.model, "before the epoch")
        X = design_matrix(dataset)
        as_input = self._input_formatter(dataset)
        batches, first = self._begin_epoch(X.shape[0])
        for position in range(first, len(batches)):
            self._run_step(self.sgd_update, self._as_floatx(as_input(X[batches[position]])))
            self._check_step(position + 1, len(batches))
            if self._stop_after(position + 1):
                self._pause(position + 1)
                return
        self._end_epoch()

    def _check_step(self, done, total):
        """NaN/Inf check of every parameter after batch `done`.

        The screen is one dot product of each parameter with itself (a BLAS sdot, no temporary
        array): a NaN or an Inf entry makes it NaN or Inf, so a finite value proves every entry
        finite, at about a third of the cost of isfinite(p).all() per parameter. A non-finite value
        can also come from finite entries whose squares overflow; the exact isfinite pass then
        decides, as it does for the names it reports."""
        suspects = [(name, param) for name, param in self._named_params
                    if not np.isfinite(_self_dot(param.get_value(borrow=True)))]
        if not suspects:
            return
        bad = [name for name, param in suspects
               if not np.isfinite(param.get_value(borrow=True)).all()]
        if bad:
            raise TrainingDivergedError(bad, batch=done, batches_in_epoch=total,
                                        batches_seen=self.batches_seen)

    @staticmethod
    def _as_floatx(batch):
        return np.ascontiguousarray(batch, dtype=aesara.config.floatX)

    def _input_formatter(self, dataset):
        """Design-matrix rows -> batches of the model's input space (Pylearn2's iterator with the
        cost's data specs): rows as they are for a VectorSpace, images for a Conv2DSpace."""
        if id(dataset) not in self._formatters:
            # The dataset is kept with its formatter so that its id is not reused.
            self._formatters[id(dataset)] = (dataset, DesignBatchFormatter(
                dataset, self.model.get_input_space()))
        return self._formatters[id(dataset)][1]

    def _run_step(self, function, batch, *extra):
        """One compiled step (sgd_update or a fed variant) on the batch, then _after_batch."""
        function(batch, *extra)
        self._after_batch(batch.shape[self.model.get_input_space().get_batch_axis()])

    def train_batch(self, X, z=None, masks=None):
        """One update on batch X (in the model's input space), then the update callbacks.

        Without z and masks this is exactly a training step (noise and masks drawn). With z given,
        a second function (compiled on first use, sharing the velocities) takes the noise z and
        either no dropout (masks=None) or the fed masks {"data": [...], "samp": [...]}.
        """
        X = self._as_floatx(X)
        if z is None and masks is None:
            self._run_step(self.sgd_update, X)
            return
        if z is None:
            raise ValueError("train_batch: feeding dropout masks needs the noise z too")
        function, active = self._fed_update(masks is not None)
        extra = [np.asarray(z, dtype="float32")]
        if masks is not None:
            extra += mask_arguments(masks, active, aesara.config.floatX)
        self._run_step(function, X, *extra)

    def _fed_update(self, masked):
        # Keyed by the gradient path too, so that a test may switch `path` between calls.
        key = (masked, self.uses_fused_gradients(self.model))
        if key not in self._fed_updates:
            X = make_theano_batch(self.model.get_input_space(), "SGD[features]")
            z = at.matrix("z")
            masks, active = (mask_inputs(self.model.discriminator, self.cost) if masked
                             else (NO_DROPOUT, []))
            grads, updates = self._gradients(self.model, X, noise=z, dropout_masks=masks)
            updates = self._parameter_updates(self.model, grads, updates)
            inputs = [X, z]
            if masked:
                inputs += [masks[key][i] for key in ("data", "samp") for i in active]
            function = aesara.function(inputs, [], updates=updates, name="sgd_update_fed",
                                       on_unused_input="ignore")
            self._fed_updates[key] = (function, active)
        return self._fed_updates[key]

    @staticmethod
    def _check_finite(model, when):
        for param in model.get_params():
            value = param.get_value(borrow=True)
            if not np.all(np.isfinite(value)):
                raise ValueError(f"NaN or Inf in {param.name} {when}")

    # ------------------------------------------------------------------------------ monitoring
    def _constant_channels(self):
        """SGD.setup's data-independent channels: learning_rate, then the rule's (momentum)."""
        channels = OrderedDict([("learning_rate", self.learning_rate)])
        if self.learning_rule is not None and hasattr(self.learning_rule, "monitoring_channels"):
            channels.update(self.learning_rule.monitoring_channels())
        return channels

    def monitor(self, model=None):
        """Every channel of legacy_aesara/monitor.py's Monitor (noise, samples and masks drawn
        afresh for each batch: the channel graphs are random)."""
        return self.channel_monitor()

    # ------------------------------------------------------------------------------ checkpoints
    def run_facts(self):
        """The step implementation compiled into sgd_update, the run's MRG seed (--seed's terms:
        10097 + the shift of every MRG seed) and floatX (recorded in the log and in every
        checkpoint by gan2014.train.Train)."""
        step = "reference" if self.path == "reference" else \
            "fused" if self.uses_fused_gradients(self.model) else "grad"
        return {"step": step, "seed": random_streams.run_seed(),
                "floatX": aesara.config.floatX}

    def state_arrays(self):
        """Velocities (`velocity/<param>`), MRG stream states and the batch-order RNG's keys."""
        arrays = OrderedDict()
        names = {param: name for name, param in self.model.named_params()}
        if self.learning_rule is not None and hasattr(self.learning_rule, "velocities"):
            for param, velocity in self.learning_rule.velocities.items():
                arrays["velocity/" + names[param]] = np.array(velocity.get_value())
        arrays.update(random_streams.checkpoint_arrays(self.model))
        arrays.update(self._order_arrays())
        return arrays

    def state_meta(self):
        meta = {
            "learning_rate": float(self.learning_rate.get_value()),
            "momentum": (float(self.learning_rule.momentum.get_value())
                         if self.learning_rule is not None else None),
        }
        meta.update(self._progress_meta())
        meta["mrg_master_states"] = random_streams.checkpoint_master_states(self.model)
        meta["cost_switches"] = {name: float(getattr(self.cost, name).get_value())
                                 for name in ("now_train_generator", "now_train_discriminator",
                                              "now_train_inference")}
        meta.update(self._schedule_meta())
        return meta

    def load_state(self, arrays, meta):
        """Restore what state_arrays / state_meta saved (after setup built the same graphs)."""
        floatx = aesara.config.floatX
        self.learning_rate.set_value(np.asarray(meta["learning_rate"], dtype=floatx))
        if self.learning_rule is not None and meta.get("momentum") is not None:
            self.learning_rule.momentum.set_value(np.asarray(meta["momentum"], dtype=floatx))
        self._load_progress(arrays, meta)
        names = {param: name for name, param in self.model.named_params()}
        if self.learning_rule is not None and hasattr(self.learning_rule, "velocities"):
            for param, velocity in self.learning_rule.velocities.items():
                velocity.set_value(self._checked(arrays, "velocity/" + names[param],
                                                 velocity.get_value().shape, velocity.dtype))
        random_streams.restore_checkpoint(self.model, arrays, meta.get("mrg_master_states"),
                                          self._checked)
        for name, value in meta.get("cost_switches", {}).items():
            getattr(self.cost, name).set_value(np.asarray(value, dtype=floatx))

    @staticmethod
    def _checked(arrays, name, shape, dtype):
        if name not in arrays:
            raise ValueError(f"checkpoint lacks {name}")
        value = np.asarray(arrays[name])
        if value.shape != tuple(shape):
            raise ValueError(f"{name}: checkpoint shape {value.shape}, expected {tuple(shape)}")
        return value.astype(dtype)
