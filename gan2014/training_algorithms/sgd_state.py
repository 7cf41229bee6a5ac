"""The framework-free state of pylearn2/training_algorithms/sgd.py :: SGD's epoch loop.

Both backends' SGD classes derive from `SGDState`; they add the compiled or torch step, the
learning rate and rule, and the monitor. What lives here is plain numpy and Python, identical in
both backends, and it is what a checkpoint needs to continue the loop bit for bit:

* the batch order: Pylearn2's SGD made one RandomState from its `seed` argument ([2012, 10, 5])
  when it was built, and each epoch's 'shuffled_sequential' iterator drew its permutation from
  that one stream, which therefore continues from epoch to epoch; `rng` is that RandomState;
* the counters batches_seen, examples_seen (counted after each step, before the update callbacks
  run, as Pylearn2's SGD.train did) and epochs_seen;
* stopping inside an epoch and resuming there (not in Pylearn2): after every batch but an epoch's
  last the loop asks `stop_requested()` (a callable gan2014.train.Train sets on Ctrl-C);
  `batches_into_epoch` then holds the batches done, and `epoch_start_rng` the RandomState as it
  was before the epoch's shuffle, so that a resumed run redraws the same permutation and
  continues at the next batch;
* the update callbacks' and the termination criterion's own states.

Checkpoint keys (written by older versions too, so they must not change): the array
"rng/sgd_iterator/keys" (the MT19937 key vector); in the algorithm meta "batches_seen",
"examples_seen", "epochs_seen", "sgd_iterator_rng" {pos, has_gauss, cached_gaussian},
"batches_into_epoch", "epoch_start_rng" (gan2014.checkpoint.numpy_rng_state, or None at an epoch
boundary), "update_callbacks" (one state dict or None per callback) and "termination_criterion".
"""
import numpy as np

from gan2014 import checkpoint as ckpt
from gan2014.iteration import sequential_batches, shuffled_sequential_batches
from gan2014.seeds import SGD_BATCH_ORDER_SEED

# Pylearn2's SGD default `seed`: the batch-order RandomState of every 2014 run.
ITERATOR_SEED = SGD_BATCH_ORDER_SEED
ITERATION_MODES = ("shuffled_sequential", "sequential")
RNG_KEYS = "rng/sgd_iterator/keys"


class SGDState:
    """Batch order, counters, stop/resume position and schedule states of an SGD.

    The deriving class sets `batch_size` (a positive int) before training; train_iteration_mode
    and batches_per_iter are Pylearn2's SGD arguments (None: 'shuffled_sequential', all batches).
    """

    def __init__(self, seed=ITERATOR_SEED, update_callbacks=None, termination_criterion=None,
                 train_iteration_mode=None, batches_per_iter=None):
        self.train_iteration_mode = train_iteration_mode or "shuffled_sequential"
        if self.train_iteration_mode not in ITERATION_MODES:
            raise NotImplementedError(f"SGD: train_iteration_mode {self.train_iteration_mode!r} "
                                      f"is not supported (only {', '.join(ITERATION_MODES)})")
        self.batches_per_iter = batches_per_iter
        # Created once; every epoch's shuffle continues its stream.
        self.rng = np.random.RandomState(list(seed))
        if update_callbacks is None:
            update_callbacks = []
        elif not isinstance(update_callbacks, (list, tuple)):
            update_callbacks = [update_callbacks]
        self.update_callbacks = list(update_callbacks)
        self.termination_criterion = termination_criterion
        self.batches_seen = 0
        self.examples_seen = 0
        self.epochs_seen = 0
        self.stop_requested = None          # set by gan2014.train.Train: () -> bool
        self.batches_into_epoch = 0         # > 0: stopped (or to resume) after this many batches
        self.batches_per_epoch = None
        self._epoch_start_rng = None        # self.rng's state before the current epoch's shuffle

    # ------------------------------------------------------------------------------ the loop
    def _epoch_batches(self, num_examples):
        """The index arrays of one epoch's minibatches (a shuffle advances `rng`)."""
        if self.train_iteration_mode == "shuffled_sequential":
            batches = shuffled_sequential_batches(num_examples, self.batch_size, self.rng)
        else:
            batches = sequential_batches(num_examples, self.batch_size)
        if self.batches_per_iter is not None:
            batches = batches[:self.batches_per_iter]
        return batches

    def _begin_epoch(self, num_examples):
        """(batches, first): the epoch's minibatches and the position to start at (0, or the
        batch after the one a stopped run ended with)."""
        self._epoch_start_rng = self.rng.get_state()
        batches = self._epoch_batches(num_examples)
        first, self.batches_per_epoch = self.batches_into_epoch, len(batches)
        if first > len(batches):
            raise ValueError(f"SGD: resuming after batch {first} of an epoch of {len(batches)}")
        self.batches_into_epoch = 0
        return batches, first

    def _stop_after(self, done):
        """Whether to stop after batch `done` of this epoch: a stop was requested and the batch
        is not the epoch's last."""
        return (done < self.batches_per_epoch and self.stop_requested is not None
                and self.stop_requested())

    def _pause(self, done):
        """Record a stop after batch `done`: the checkpoint then resumes there."""
        self.batches_into_epoch = done

    def _end_epoch(self):
        self.epochs_seen += 1

    def _after_batch(self, rows):
        """What Pylearn2's SGD.train did after each sgd_update call: count the batch and its rows,
        then run the update callbacks (ExponentialDecay)."""
        self.batches_seen += 1
        self.examples_seen += rows
        for callback in self.update_callbacks:
            callback(self)

    def continue_learning(self, model):
        if self.termination_criterion is None:
            return True
        if hasattr(self.termination_criterion, "epochs_already_seen"):
            self.termination_criterion.epochs_already_seen = self.epochs_seen
        return self.termination_criterion.continue_learning(model)

    # ------------------------------------------------------------------------------ checkpoints
    def _order_arrays(self):
        return {RNG_KEYS: self.rng.get_state()[1].copy()}

    def _progress_meta(self):
        """The counters and the batch order's position, in the order the meta has always had."""
        _kind, _keys, pos, has_gauss, cached = self.rng.get_state()
        return {
            "batches_seen": self.batches_seen,
            "examples_seen": self.examples_seen,
            "epochs_seen": self.epochs_seen,
            "sgd_iterator_rng": {"pos": int(pos), "has_gauss": int(has_gauss),
                                 "cached_gaussian": float(cached)},
            # Inside an epoch (Ctrl-C): where, and the RandomState that drew the epoch's shuffle.
            "batches_into_epoch": self.batches_into_epoch,
            "epoch_start_rng": (ckpt.numpy_rng_state(self._epoch_start_rng)
                                if self.batches_into_epoch else None),
        }

    def _schedule_meta(self):
        criterion = self.termination_criterion
        return {
            "update_callbacks": [callback.state_dict() if hasattr(callback, "state_dict")
                                 else None for callback in self.update_callbacks],
            "termination_criterion": (criterion.state_dict()
                                      if hasattr(criterion, "state_dict") else None),
        }

    def _load_progress(self, arrays, meta):
        """Restore what _order_arrays / _progress_meta / _schedule_meta saved."""
        for key in ("batches_seen", "examples_seen", "sgd_iterator_rng"):
            if key not in meta:
                raise ValueError(f"checkpoint: the algorithm meta lacks {key!r}")
        if RNG_KEYS not in arrays:
            raise ValueError(f"checkpoint lacks the array {RNG_KEYS}")
        self.batches_seen = int(meta["batches_seen"])
        self.examples_seen = int(meta["examples_seen"])
        self.epochs_seen = int(meta.get("epochs_seen", 0))
        rng_meta = meta["sgd_iterator_rng"]
        self.rng.set_state(("MT19937", np.asarray(arrays[RNG_KEYS], dtype=np.uint32),
                            rng_meta["pos"], rng_meta["has_gauss"], rng_meta["cached_gaussian"]))
        self.batches_into_epoch = int(meta.get("batches_into_epoch") or 0)
        if self.batches_into_epoch:
            # The next epoch redraws the interrupted epoch's shuffle, then skips what was done.
            ckpt.set_numpy_rng_state(self.rng, meta["epoch_start_rng"])
        for callback, state in zip(self.update_callbacks, meta.get("update_callbacks", [])):
            if state is not None and hasattr(callback, "load_state_dict"):
                callback.load_state_dict(state)
        criterion_state = meta.get("termination_criterion")
        if criterion_state is not None and hasattr(self.termination_criterion, "load_state_dict"):
            self.termination_criterion.load_state_dict(criterion_state)
