"""The Table-1 run driver: train seeds of an MNIST config, validate with Parzen, report the
test score.

    python -m port_torch.table1 --seeds 0 1 2 --device cuda --out runs/table1 \\
        --epochs 2500 --valid-every 50 --time-budget 500
    python -m port_torch.table1 --out runs/table1 --device cuda --report

The paper's Table 1 number comes from ``adversarial/parzen_ll.py`` run on a model pickled by
``pylearn2/train.py``; the paper does not say which epoch's pickle, and mnist.yaml never stops. This
driver makes that choice explicit and repeatable:

* **Training.** Each seed is an ordinary run folder ``OUT/seed_K/`` (``monitor.csv``,
  ``monitor.jsonl``, ``checkpoints/``) trained by the shared :class:`gan2014.train.Train` from the
  YAML, untouched, up to ``--epochs``. Seeds are trained one after another (seed 0 to its last
  epoch, then seed 1, ...): a switch costs a model build and a setup, and one seed's result is
  complete before the next starts. Re-running the same command resumes exactly from each seed's
  latest checkpoint (Train's resume), so the work of a command stopped by ``--time-budget`` is
  never lost.
* **Time budget.** Measured from the command's start. An epoch is started only if the time left
  covers the last epoch's length (plus the last validation's, when one falls due after it); the
  run then pauses exactly as Pylearn2's ``--time-budget`` paused it (the checkpoint of the last
  epoch is on disk) and the command exits with status 75 ("not finished, run it again").
* **Validation Parzen.** After every ``--valid-every`` epochs (and after the last epoch,
  ``--epochs``): 10,000 samples from G with a fixed noise seed (the same noise for every epoch and
  every seed, so epochs are compared on common random numbers); sigma chosen as in
  ``parzen_ll.py`` (the grid ``logspace(-1, 0, 10)``, argmax of the mean log-likelihood of the first
  ``--limit`` = 1,000 images of MNIST train[50000:60000]); the **validation score** is the mean
  log-likelihood, with that sigma, of all 10,000 images of train[50000:60000] (the original's
  ``-v`` option scored ``X[:-1]``, 9,999 of them, by an off-by-one; the score only ranks
  checkpoints, so using all of them changes nothing material). One row per validation goes to
  ``OUT/seed_K/valid_parzen.jsonl``; the parameters of the checkpoint with the best score are
  copied to ``OUT/seed_K/best_valid.npz`` (checkpoint rotation never deletes it; the earliest
  epoch wins a tie). When a seed reaches ``--epochs`` its test Parzen (below) is computed at once
  and kept in ``OUT/seed_K/test_parzen.json``.
* **Report** (``--report``): for each seed, the test Parzen of ``best_valid.npz`` by the protocol of
  ``parzen_ll.py`` (the same 10,000 samples, sigma selected again on the first 1,000 validation
  images -- the same sigma when run on the same kind of device -- then mean and standard error over
  the 10,000 MNIST test images), written to ``OUT/table1_summary.json`` and printed as a table.
  A value in ``test_parzen.json`` for the same best epoch and protocol is used as it is (it was
  computed on the training device); ``--recompute`` computes it again here. An earlier summary is
  kept as ``table1_summary.previous-N.json``, never overwritten.
* **Moving a run between machines** (``--pack DIR``, ``--unpack DIR``): to train on a GPU machine
  and report elsewhere, a run folder travels as a gzipped tar cut into pieces of ``--piece-mib``
  MiB (default 64; ``--max-pieces N`` refuses a bundle of more pieces, for links that limit the
  number or size of files). ``--pack`` writes what changed since the last ``--unpack`` (every file,
  the first time), of the checkpoints only each seed's latest; ``--pack-resume`` writes only what a
  fresh machine needs to continue (the manifest, the logs of the seeds not finished, their latest
  checkpoints, every seed's small records). ``--unpack`` merges a bundle into ``--out`` (refusing
  one made from another configuration).

``OUT/table1.json`` records the configuration (YAML text and its sha256), the backend and the
validation protocol; a command pointing at a folder made with anything different is refused.
``OUT/driver_log.jsonl`` has one row per seed per command (start, end, epochs, device, hardware,
the git commit of the code):
the wall time of a seed is the sum of its rows.

This package is framework-free; a backend (``port_torch.table1``) passes a :class:`Backend` that
builds nothing itself but knows its registry, its random seeds, its device, and how to draw samples
from G without moving a training random stream. One idea per module:

* ``layout``: the output folder's file names, seed folders and records; ``manifest``: the
  ``table1.json`` that makes a folder one experiment;
* ``protocol``: what a validation or test score is (:class:`Protocol`, :func:`score_samples`);
* ``backend``: the :class:`Backend` interface and the machine and code facts the logs record;
* ``validation``: the before-epoch hook (validate, keep the best, pause on the time budget);
* ``driver``: training the seeds; ``report``: the test Parzen and the summary table;
* ``bundles``: moving a run between machines; ``cli``: the command line.

Every name used from outside is importable from ``gan2014.table1`` itself.
"""
from gan2014.exit_codes import (EXIT_BAD_INPUT, EXIT_DONE, EXIT_FAILED, EXIT_INTERRUPTED,
                                EXIT_UNFINISHED)
from gan2014.fileio import append_jsonl, read_jsonl, write_json_atomically
from gan2014.table1 import cli as _cli
from gan2014.table1.backend import Backend, platform_description, source_commit
from gan2014.table1.bundles import (  # the private readers are re-exported for tests
    BUNDLE_INDEX, BUNDLE_PIECE_MIB, BUNDLE_PREFIX, NOT_BUNDLED, _Joined as _Joined,
    _Pieces as _Pieces, bundle_files, pack_bundle, unpack_bundle)
from gan2014.table1.cli import build_parser, check_arguments
from gan2014.table1.driver import train_all, train_seed
from gan2014.table1.layout import (BEST, DRIVER_LOG, FINAL_TEST_PARZEN, HISTORY, MANIFEST, STATUS,
                                   SUMMARY, TEST_PARZEN, Table1Error, keep_previous, latest_epoch,
                                   read_status, save_parameters_of, seed_dir, seed_numbers)
from gan2014.table1.manifest import (MANIFEST_FORMAT, MANIFEST_VERSION, manifest_record,
                                     open_out_dir, read_manifest)
from gan2014.table1.protocol import (VALID_START, VALID_STOP, Protocol, ValidationData, best_row,
                                     score_samples)
from gan2014.table1.report import (PAPER_MNIST, build_report, final_test_parzen, format_report,
                                   report_seed, test_parzen, write_report)
from gan2014.table1.validation import SeedRun, TimeBudget


# The driver's names as they were when it was one module: code and tests import them from here.
__all__ = [
    'append_jsonl', 'Backend', 'BEST', 'best_row', 'build_parser', 'build_report',
    'bundle_files', 'BUNDLE_INDEX', 'BUNDLE_PIECE_MIB', 'BUNDLE_PREFIX', 'check_arguments',
    'DRIVER_LOG', 'EXIT_BAD_INPUT', 'EXIT_DONE', 'EXIT_FAILED', 'EXIT_INTERRUPTED',
    'EXIT_UNFINISHED', 'FINAL_TEST_PARZEN', 'final_test_parzen', 'format_report', 'HISTORY',
    'keep_previous', 'latest_epoch', 'main', 'MANIFEST', 'MANIFEST_FORMAT',
    'manifest_record', 'MANIFEST_VERSION', 'NOT_BUNDLED', 'open_out_dir', 'pack_bundle',
    'PAPER_MNIST', 'platform_description', 'Protocol', 'read_jsonl',
    'read_manifest', 'read_status', 'report_seed', 'save_parameters_of', 'score_samples',
    'seed_dir', 'seed_numbers', 'SeedRun', 'source_commit', 'STATUS', 'SUMMARY', 'Table1Error',
    'TEST_PARZEN', 'test_parzen', 'TimeBudget', 'train_all', 'train_seed', 'unpack_bundle',
    'VALID_START', 'VALID_STOP', 'ValidationData', 'write_json_atomically', 'write_report'
]


def main(argv, backend_name, make_backend, default_noise_seed, **options):
    """The command (:func:`gan2014.table1.cli.main`), scoring with ``gan2014.table1.score_samples``
    as it is when a score is computed: whoever replaces that name here (the tests script the
    validation scores so) changes what the driver and the report use."""
    def scorer(*args, **kwargs):
        return score_samples(*args, **kwargs)

    return _cli.main(argv, backend_name, make_backend, default_noise_seed, scorer=scorer, **options)
