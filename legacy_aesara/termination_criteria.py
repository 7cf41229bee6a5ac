"""Stopping rules (mirrors pylearn2/termination_criteria/__init__.py, June 2014)."""


class EpochCounter:
    """termination_criteria :: EpochCounter -- stop after `max_epochs` training epochs.

    As in June 2014, the counter is advanced by each continue_learning call, and calls happen only
    after an epoch, so exactly `max_epochs` epochs run. With new_epochs=False the count starts from
    the epochs the model has already seen (Pylearn2 read them from the model's monitor; here the
    SGD passes them in through `epochs_already_seen`).
    """

    def __init__(self, max_epochs, new_epochs=True):
        self._max_epochs = int(max_epochs)
        self._new_epochs = new_epochs
        self._epochs_done = None
        self.epochs_already_seen = 0

    @property
    def max_epochs(self):
        """The configured limit (read by the progress line for its `epoch N/M`)."""
        return self._max_epochs

    def initialize(self, model):
        # "epochs_seen = 1 on the first continue_learning() call", as the original put it.
        self._epochs_done = 0 if self._new_epochs else self.epochs_already_seen - 1

    def continue_learning(self, model):
        if self._epochs_done is None:
            self.initialize(model)
        self._epochs_done += 1
        return self._epochs_done < self._max_epochs

    def state_dict(self):
        return {"epochs_done": self._epochs_done}

    def load_state_dict(self, state):
        # "count" is port_torch's name for the same number (checkpoints move between backends).
        value = state.get("epochs_done", state.get("count"))
        self._epochs_done = None if value is None else int(value)
