"""pylearn2/training_algorithms/sgd.py :: SGD and ExponentialDecay for the torch port.

One SGD step (Pylearn2's compiled `sgd_update`) draws noise and masks, takes both gradient sets at
the old parameters, and updates every parameter at once through the learning rule. It is written
out top to bottom in training_algorithms/reference_step.py ("reference"); the other
implementations of that step are equal to it (parity_tests/test_torch_paths.py: autograd bit for
bit, the others to float32 rounding):

* "autograd": adversarial.AdversaryCost2.gradients (torch.autograd) + learning_rule.update_;
  handles every option and layer;
* "fused":    training_algorithms/fused_step.py, a hand-written backward (less work than autograd);
* "graph":    training_algorithms/graph_step.py, the fused step captured in a CUDA graph and
  replayed for a whole epoch (on CPU the same function runs eagerly).
"auto" picks graph on CUDA, fused on CPU, autograd where the fused step does not support the model.

Added for reliable long runs (not in Pylearn2), as in legacy_aesara's SGD: the parameters are
checked for NaN/Inf after every batch (gan2014.train.TrainingDivergedError names the batch), and the
epoch loop polls `stop_requested` (Ctrl-C, set by gan2014.train.Train) between batches;
`batches_into_epoch` and the RandomState as it was before the epoch's shuffle then go into the
checkpoint, so a resumed run redraws the same shuffle and continues at the next batch. On CUDA the
check keeps the first bad batch on the device and looks at it every CHECK_EVERY_CUDA batches (no
host sync per batch); the CUDA-graph path replays a whole epoch, so there it is checked, and Ctrl-C
honoured, once per epoch.
"""
import numpy as np
import torch

from gan2014.config.checks import check_number, check_positive_int
from gan2014.seeds import SGD_BATCH_ORDER_SEED
from gan2014.space import DesignBatchFormatter
from gan2014.train import TrainingDivergedError
from gan2014.training_algorithms.schedules import ExponentialDecaySchedule
from gan2014.training_algorithms.sgd_state import SGDState
from port_torch.monitor import ChannelTotals, Monitor  # noqa: F401 (ChannelTotals: old home)
from port_torch.space import apply_steps
from port_torch.training_algorithms import fused_step
from port_torch.training_algorithms.graph_step import GraphStep
from port_torch.training_algorithms.learning_rule import Momentum
from port_torch.training_algorithms.reference_step import reference_step

PATHS = ("auto", "autograd", "fused", "graph", "reference")
# On CUDA the NaN/Inf check reads its device-side record (one host sync) every this many batches.
CHECK_EVERY_CUDA = 32


class ExponentialDecay:
    """ExponentialDecay(decay_factor, min_lr): an update callback, called after every minibatch."""

    def __init__(self, decay_factor, min_lr):
        self.schedule = ExponentialDecaySchedule(decay_factor, min_lr)

    def __call__(self, algorithm):
        algorithm.learning_rate = float(self.schedule.next_lr(algorithm.learning_rate,
                                                              dtype=algorithm.float_type))

    def state_dict(self):
        return self.schedule.state_dict()

    def load_state_dict(self, state):
        self.schedule.load_state_dict(state)


class SGD(SGDState):
    """SGD with Pylearn2's constructor. Only the arguments the experiments use do anything;
    the others are accepted when they keep their defaults and refused otherwise. The batch
    order, the counters and the stop/resume position are gan2014's SGDState (sgd_state.py)."""

    def __init__(self, learning_rate, cost=None, batch_size=None, monitoring_batch_size=None,
                 monitoring_batches=None, monitoring_dataset=None,
                 monitor_iteration_mode="sequential", termination_criterion=None,
                 update_callbacks=None, learning_rule=None, init_momentum=None,
                 set_batch_size=False, train_iteration_mode=None, batches_per_iter=None,
                 theano_function_mode=None, monitoring_costs=None, seed=SGD_BATCH_ORDER_SEED):
        if init_momentum is not None:
            raise NotImplementedError("SGD: use learning_rule: Momentum (init_momentum was "
                                      "deprecated)")
        if train_iteration_mode not in (None, "shuffled_sequential") or \
                monitor_iteration_mode != "sequential" or monitoring_costs or batches_per_iter:
            raise NotImplementedError("SGD: only shuffled_sequential training, sequential "
                                      "monitoring, no monitoring_costs / batches_per_iter")
        if cost is None:
            raise ValueError("SGD: a cost is required (AdversaryPair has no default cost)")
        if batch_size is None:
            raise ValueError("SGD: batch_size is required (NoBatchSizeError in Pylearn2)")
        batch_size = check_positive_int("SGD", "batch_size", batch_size)
        monitoring_batch_size = check_positive_int("SGD", "monitoring_batch_size",
                                                   monitoring_batch_size)
        monitoring_batches = check_positive_int("SGD", "monitoring_batches", monitoring_batches)
        SGDState.__init__(self, seed, update_callbacks, termination_criterion)
        # Pylearn2's floatX shared variable: float32, or the model's type once setup() knows it.
        self.float_type = np.float32
        # Pylearn2 cast it with numpy, which also reads text such as '1e-3'.
        learning_rate = check_number("SGD", "learning_rate", learning_rate, low=0, text=True)
        self.initial_learning_rate = learning_rate
        self.learning_rate = float(np.float32(learning_rate))
        self.cost = cost
        self.batch_size = int(batch_size)
        self.monitoring_batch_size = int(monitoring_batch_size or batch_size)
        self.monitoring_batches = monitoring_batches
        if monitoring_dataset is not None and not isinstance(monitoring_dataset, dict):
            monitoring_dataset = {"": monitoring_dataset}
        self.monitoring_dataset = monitoring_dataset or {}
        # Without a rule Pylearn2 did p <- p - lr*g, which is Momentum(0)'s arithmetic exactly.
        self.learning_rule = learning_rule
        self.path = "auto"
        self.device = torch.device("cpu")

    # ---------------------------------------------------------------- setup
    def setup(self, model, dataset):
        self.model = model
        self.device = model.device
        _check_finite(model)
        self.has_momentum_channel = self.learning_rule is not None
        if self.learning_rule is None:
            self.learning_rule = Momentum(0.0)
        self.params = [p.data for _, p in model.named_params()]
        self.param_names = model.param_names()
        self.learning_rule.setup(self.params)
        self.lr_scales = _lr_scales(model)
        self.dtype = model.dtype
        self.float_type = np.float64 if self.dtype == torch.float64 else np.float32
        self.learning_rate = float(self.float_type(self.initial_learning_rate))
        self.data = _device_matrix(dataset, self.device, self.dtype)
        self.monitor_data = {name: _device_matrix(ds, self.device, self.dtype)
                             for name, ds in self.monitoring_dataset.items()}
        # Rows -> batches of the model's input space (the cost's data specs in Pylearn2).
        space = model.discriminator.input_space
        self.as_input = _input_formatter(dataset, space)
        self.monitor_as_input = {name: _input_formatter(ds, space)
                                 for name, ds in self.monitoring_dataset.items()}
        self.channel_monitor = Monitor(self.cost, self.monitor_data, self.monitor_as_input,
                                       self.monitoring_batch_size, self.monitoring_batches)
        self.spec = fused_step.FusedSpec(model, self.cost)
        self.path_used = self._choose_path()
        g_on = self.cost.now_train_generator if self.cost.ever_train_generator else 0.0
        self.g_flag = torch.tensor(g_on, dtype=self.dtype, device=self.device)
        self.graph_step = None

    def _choose_path(self):
        if self.path not in PATHS:
            raise ValueError(f"unknown step path {self.path!r}; choose one of {PATHS}")
        if self.path in ("autograd", "reference"):
            return self.path
        if self.spec.problems:
            if self.path != "auto":
                raise NotImplementedError(f"the {self.path} step does not support: "
                                          f"{', '.join(self.spec.problems)}")
            return "autograd"
        if self.path == "auto":
            return "graph" if self.device.type == "cuda" else "fused"
        return self.path

    # ---------------------------------------------------------------- training
    def train(self, dataset):
        """One epoch: the next shuffle of the persistent RandomState([2012, 10, 5]).

        Resumed inside an epoch (`batches_into_epoch` > 0 after load_state), it redraws that epoch's
        shuffle and continues at the next batch (eagerly, also on the graph path: the step is the
        same). Returns early, with `batches_into_epoch` set, when `stop_requested()` is true after a
        batch that is not the last.
        """
        _check_finite(self.model)
        batches, first = self._begin_epoch(self.data.shape[0])
        self._first_bad = torch.zeros((), dtype=torch.long, device=self.device)
        if self.path_used == "graph" and first == 0:
            self._train_graph(batches)
            self._watch_step(len(batches), len(batches), whole_epoch=True)
            self._end_epoch()
            return
        every = CHECK_EVERY_CUDA if self.device.type == "cuda" else 1
        for position in range(first, len(batches)):
            self.train_batch(self.as_input(
                self.data[torch.as_tensor(batches[position], device=self.device)]))
            done = position + 1
            stop = self._stop_after(done)
            self._watch_step(done, len(batches), look=stop or done % every == 0)
            if stop:
                self._pause(done)
                return
        self._end_epoch()

    def _watch_step(self, done, total, look=True, whole_epoch=False):
        """NaN/Inf check of every parameter after batch `done` of `total`. The first bad batch is
        kept on the device (`_first_bad`, 0 = none) and read when `look` or at the epoch's end.

        The screen is one sum per parameter: a sum of floats that holds a NaN or an Inf is never
        finite (NaN + x = NaN, Inf + finite = Inf, Inf - Inf = NaN), so a finite total proves every
        entry finite, at a small fraction of the cost of isfinite(p).all() per parameter. A
        non-finite total can also come from finite parameters whose sum overflows; the exact
        isfinite pass then decides. Once non-finite, a parameter stays so under p <- p + v, so the
        exact pass at `look` time sees what the screen saw at the recorded batch."""
        total_sum = torch.stack([p.sum() for p in self.params]).sum()
        self._first_bad.masked_fill_(~torch.isfinite(total_sum) & (self._first_bad == 0), done)
        if not (look or done == total):
            return
        first = int(self._first_bad)  # the host sync
        if first:
            bad = [name for name, p in zip(self.param_names, self.params)
                   if not bool(torch.isfinite(p).all())]
            if not bad:  # the sum overflowed, every entry is finite
                self._first_bad.zero_()
                return
            if whole_epoch:
                raise TrainingDivergedError(bad, batches_seen=self.batches_seen, note=(
                    f"(during batches 1-{total} of the epoch: the CUDA-graph path replays a whole "
                    "epoch and checks once; --path fused checks after every batch)"))
            raise TrainingDivergedError(bad, batch=first, batches_in_epoch=total,
                                        batches_seen=self.batches_seen - (done - first))

    def train_batch(self, X, z=None, masks=None):
        """One update on batch X, a batch of the model's input space (then the update callbacks);
        z and masks may be given (tests)."""
        X = torch.as_tensor(X, dtype=self.dtype, device=self.device)
        B = self.model.discriminator.batch_size_of(X)
        if self.path_used == "autograd":
            self._autograd_step(X, z, masks)
        elif self.path_used == "reference":
            given = None if z is None else self._given_masks(masks)
            z = None if z is None else torch.as_tensor(z, device=self.device, dtype=self.dtype)
            reference_step(self.model, self.cost, self.learning_rule.velocities, X,
                           self.learning_rate, self.learning_rule.momentum, self.lr_scales, z,
                           given)
            self.g_flag.fill_(self.cost.now_train_generator if self.cost.ever_train_generator
                              else 0.0)
        else:
            if z is None:
                z, d_masks = fused_step.draw(self.spec, self.model.streams, B, self.device)
            else:
                d_masks = self._given_masks(masks)
            with torch.no_grad():
                fused_step.step_core(self.spec, self.params, self.learning_rule.velocities, X,
                                     torch.as_tensor(z, device=self.device, dtype=self.dtype),
                                     d_masks,
                                     self.learning_rate, self.learning_rule.momentum, self.g_flag)
            self.cost.now_train_generator = float(self.g_flag) if self.cost.alternate_g \
                else self.cost.now_train_generator
        self._after_batch(B)

    def _autograd_step(self, X, z, masks):
        model, cost = self.model, self.cost
        if z is None:
            z, g_masks, d_masks = cost.draw(model, model.discriminator.batch_size_of(X),
                                            model.streams)
            # The streams draw float32 (as 2014's noise was); a float64 model computes in float64.
            z = z.to(self.dtype)
            d_masks = [None if m is None else m.to(self.dtype) for m in d_masks]
            g_masks = None if g_masks is None else [None if m is None else m.to(self.dtype)
                                                    for m in g_masks]
        else:
            z = torch.as_tensor(z, device=self.device, dtype=self.dtype)
            g_masks, d_masks = None, self._given_masks(masks)
        grads, *_ = cost.gradients(model, X, z, d_masks, g_masks, model.streams)
        self.learning_rule.update_(self.params, list(grads.values()), self.learning_rate,
                                   self.lr_scales)
        model.enforce_constraints()
        cost.after_step()
        self.g_flag.fill_(cost.now_train_generator if cost.ever_train_generator else 0.0)

    def _given_masks(self, masks):
        if masks is None:
            return [None] * len(self.model.discriminator.layers)
        return [None if m is None else m.to(device=self.device, dtype=self.dtype)
                for m in self.cost.stack_masks(masks, self.model.discriminator.input_spaces())]

    def _train_graph(self, batches):
        """Full batches through the graph step, a last partial batch (if any) eagerly."""
        full = [b for b in batches if len(b) == self.batch_size]
        rest = [b for b in batches if len(b) != self.batch_size]
        learning_rates = []
        for index in full:
            # The callbacks only move the learning rate, so running them ahead gives the table of
            # exactly the values the eager loop would use.
            learning_rates.append(self.learning_rate)
            self._after_batch(len(index))
        if self.graph_step is None:
            self.graph_step = GraphStep(self.spec, self.params, self.learning_rule.velocities,
                                        self.model.streams, self.data, self.batch_size, self.g_flag)
        if full:
            self.graph_step.run(np.stack(full), learning_rates, self.learning_rule.momentum)
        if self.cost.alternate_g:
            self.cost.now_train_generator = float(self.g_flag)
        saved, self.path_used = self.path_used, "fused"
        try:
            for index in rest:
                self.train_batch(self.as_input(
                    self.data[torch.as_tensor(index, device=self.device)]))
        finally:
            self.path_used = saved

    # ---------------------------------------------------------------- monitoring
    def monitor(self, model):
        """Every channel of port_torch/monitor.py's Monitor over each monitoring set, then SGD's
        learning_rate and momentum (no dataset prefix)."""
        channels = self.channel_monitor(model)
        channels["learning_rate"] = self.learning_rate
        if self.has_momentum_channel:
            channels["momentum"] = self.learning_rule.momentum
        return channels

    # ---------------------------------------------------------------- checkpoints
    def run_facts(self):
        """The step implementation that runs, the streams' seed and the float type (recorded in
        the log and in every checkpoint by gan2014.train.Train)."""
        return {"step": self.path_used, "seed": self.model.streams.seed_value,
                "floatX": "float64" if self.dtype == torch.float64 else "float32"}

    def state_arrays(self):
        """Velocities (`velocity/<param>`), the batch-order RNG's keys, the torch generator states.

        Names and the meta layout follow legacy_aesara's SGD, so each backend reads the other's
        checkpoints (random streams excepted: MRG and torch states do not translate)."""
        arrays = {name: v.detach().cpu().numpy().copy() for name, v in
                  zip(self.learning_rule.velocity_names(self.param_names),
                      self.learning_rule.velocities)}
        arrays.update(self._order_arrays())
        arrays.update(self.model.streams.checkpoint_arrays())
        return arrays

    def state_meta(self):
        meta = {"learning_rate": self.learning_rate, "momentum": self.learning_rule.momentum}
        meta.update(self._progress_meta())
        meta["cost_switches"] = {"now_train_generator": self.cost.now_train_generator,
                                 "now_train_discriminator": self.cost.now_train_discriminator}
        meta.update(self._schedule_meta())
        meta["torch_seed"] = self.model.streams.seed_value
        return meta

    def load_state(self, arrays, meta):
        """Restore what state_arrays / state_meta saved. A checkpoint of the Aesara backend has no
        torch generator states (its streams are MRG ones): the generators then keep their seed."""
        with torch.no_grad():
            for name, v in zip(self.learning_rule.velocity_names(self.param_names),
                               self.learning_rule.velocities):
                v.copy_(torch.from_numpy(np.asarray(arrays[name], dtype=np.float32)))
        if self.model.streams.restore_checkpoint_arrays(arrays) == "reseeded":
            print(f"Note: the checkpoint's noise and dropout generator states belong to another "
                  f"device kind than {self.model.streams.device.type} (the run moved between a "
                  "CPU and a GPU); the generators are seeded from those states, so the noise drawn "
                  "from here on differs from what the run would have drawn there.", flush=True)
        self.learning_rate = float(self.float_type(meta["learning_rate"]))
        if meta.get("momentum") is not None:
            self.learning_rule.momentum = float(self.float_type(meta["momentum"]))
        self._load_progress(arrays, meta)
        switches = meta.get("cost_switches", {})
        self.cost.now_train_generator = float(switches.get("now_train_generator",
                                                           self.cost.now_train_generator))
        self.g_flag.fill_(self.cost.now_train_generator if self.cost.ever_train_generator else 0.0)


def _device_matrix(dataset, device, dtype=torch.float32):
    return torch.as_tensor(np.ascontiguousarray(dataset.X), device=device, dtype=dtype)


def _input_formatter(dataset, space):
    """Design-matrix rows (a tensor) -> a batch of `space`, as gan2014.space.DesignBatchFormatter
    describes it (rows as they are for a VectorSpace, planar images for a Conv2DSpace)."""
    steps = DesignBatchFormatter(dataset, space).steps
    return lambda rows: apply_steps(rows, steps, rows.shape[0])


def _lr_scales(model):
    """Each parameter's lr scale (1 where unset), in get_params() order; None if all are 1."""
    layers = list(model.generator.mlp.layers) + list(model.discriminator.layers)
    scales = [s if s is not None else 1.0 for layer in layers for s in
              (layer.lr_scales[suffix] for suffix in layer.param_suffixes)]
    return None if all(s == 1.0 for s in scales) else scales


def _check_finite(model):
    for name, p in model.named_params():
        if not bool(torch.isfinite(p).all()):
            raise ValueError(f"NaN in {name}")
