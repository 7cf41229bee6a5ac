"""pylearn2/termination_criteria/__init__.py :: EpochCounter (the 2014 form)."""


class EpochCounter:
    """Count calls (one after each training epoch); continue while the count is below max_epochs.

    Exactly max_epochs epochs run. Pylearn2 of June 2014 had no `new_epochs` offset logic that
    changes this count; the argument is accepted for the later signature.
    """

    def __init__(self, max_epochs, new_epochs=True):
        self.max_epochs = int(max_epochs)
        self.new_epochs = new_epochs
        self.count = 0

    def continue_learning(self, model):
        self.count += 1
        return self.count < self.max_epochs

    def state_dict(self):
        return {"count": self.count}

    def load_state_dict(self, state):
        # "epochs_done" is legacy_aesara's name for the same number (None: no epoch counted yet).
        value = state["count"] if "count" in state else state.get("epochs_done")
        self.count = 0 if value is None else int(value)
