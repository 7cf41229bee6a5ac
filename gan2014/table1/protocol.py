"""What a validation or test score of the Table-1 driver means, and how it is computed.

The protocol of ``parzen_ll.py``: samples from G drawn with a fixed noise seed, sigma chosen on the
first ``limit`` validation images (MNIST train[50000:60000]), then the mean log-likelihood and its
standard error over the images scored (all the validation images, or the MNIST test set).
"""
import dataclasses

from gan2014 import parzen_cli
from gan2014.table1.layout import Table1Error

# MNIST('train', 50000, 60000): the held-out images parzen_ll.py validated on.
VALID_START, VALID_STOP = 50000, 60000


@dataclasses.dataclass(frozen=True)
class Protocol:
    """What a validation row means; fixed for the life of an output folder (in its manifest)."""
    valid_every: int = 50
    n_samples: int = 10000
    limit: int = 1000
    noise_seed: int = 10097

    def is_due(self, epoch, last_epoch):
        """Validation after every ``valid_every`` epochs, and after the run's last epoch."""
        return epoch > 0 and (epoch % self.valid_every == 0 or epoch == last_epoch)


class ValidationData:
    """MNIST train[50000:60000] (the validation images) and, for the report, MNIST test; each
    read once."""

    def __init__(self):
        self._valid = self._test = None

    @property
    def valid(self):
        if self._valid is None:
            from gan2014.datasets.mnist import MNIST
            self._valid = MNIST("train", start=VALID_START, stop=VALID_STOP).X
        return self._valid

    @property
    def test(self):
        if self._test is None:
            from gan2014.datasets.mnist import MNIST
            self._test = MNIST("test").X
        return self._test


def score_samples(samples, data, protocol, ll_fn=None, against="valid", progress=True):
    """sigma on the first ``protocol.limit`` validation images, then the mean and se over all
    validation images (``against='valid'``) or the MNIST test images (``'test'``)."""
    if samples.shape[1] != parzen_cli.MNIST_DIM:
        raise Table1Error(f"the generator makes {samples.shape[1]}-dimensional samples; only the "
                          f"MNIST protocol ({parzen_cli.MNIST_DIM} pixels) is implemented")
    scored = data.valid if against == "valid" else data.test
    result, _ = parzen_cli.run_protocol(samples, data.valid[:protocol.limit], scored, ll_fn=ll_fn,
                                        progress=progress)
    return result


def best_row(history):
    """The history row with the largest validation score; the earliest epoch wins a tie."""
    best = None
    for row in sorted(history, key=lambda r: r["epoch"]):
        if best is None or row["valid_ll"] > best["valid_ll"]:
            best = row
    return best
