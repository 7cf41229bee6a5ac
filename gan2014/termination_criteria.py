"""pylearn2/termination_criteria/__init__.py :: EpochCounter, as Pylearn2 had it in June 2014.

Framework-free: both backends' registries map the YAML name here.
"""
from gan2014.config.checks import check_whole_number


class EpochCounter:
    """Stop after `max_epochs` training epochs.

    Train asks `continue_learning` once after each epoch, and each call advances the count, so
    exactly `max_epochs` epochs run. With `new_epochs=False` the count starts from the epochs the
    model has already been trained (Pylearn2 read them from the model's monitor; here the SGD sets
    `epochs_already_seen` before asking), so a run continued with a new YAML stops at `max_epochs`
    in all rather than `max_epochs` more.
    """

    def __init__(self, max_epochs, new_epochs=True):
        self._max_epochs = check_whole_number("EpochCounter", "max_epochs", max_epochs)
        self._new_epochs = new_epochs
        self._epochs_done = None            # None until the first call
        self.epochs_already_seen = 0

    @property
    def max_epochs(self):
        """The configured limit (the progress line's `epoch N/M` reads it)."""
        return self._max_epochs

    def initialize(self, model):
        # Pylearn2 started the count so that the first call after an epoch makes it 1 (new_epochs)
        # or the model's epochs seen so far.
        self._epochs_done = 0 if self._new_epochs else self.epochs_already_seen - 1

    def continue_learning(self, model):
        if self._epochs_done is None:
            self.initialize(model)
        self._epochs_done += 1
        return self._epochs_done < self._max_epochs

    def state_dict(self):
        return {"epochs_done": self._epochs_done}

    def load_state_dict(self, state):
        # "count": the key torch checkpoints used for this number before the class was shared.
        value = state.get("epochs_done", state.get("count"))
        self._epochs_done = None if value is None else int(value)
