"""The mutation suite's cheap form: every named fidelity bug is caught by the fast tests.

`python -m parity_tests.mutations` (make mutations) runs each mutation against all candidate tests
and measures which ones kill it; here each mutation is run against its recorded (cheapest) killer
only, which is enough to prove that the score is 100 %.
"""
import os
from pathlib import Path

import pytest

from parity_tests import mutations

REPO = Path(__file__).resolve().parents[1]


def _has_mnist():
    root = Path(os.environ.get("PYLEARN2_DATA_PATH") or REPO / "data") / "mnist"
    return any((root / name).exists() for name in ("train-images-idx3-ubyte",
                                                   "train-images-idx3-ubyte.gz"))


def test_the_mutation_list_is_complete_and_every_anchor_is_in_the_code():
    """Property: at least 28 mutations (17 torch or shared, 11 Aesara) with distinct names, each
    applying to a named backend (an Aesara one killed first by an Aesara test), each with at least
    one recorded killer that names an existing test file, every one in exactly one backend's
    share (make test runs the torch and shared ones, CI the Aesara ones after it), and each
    fragment it patches found exactly once in today's code (a fragment that moved is an
    error, so the suite notices code drift instead of silently testing nothing). Exact: names and
    counts."""
    names = [m.name for m in mutations.MUTATIONS]
    assert len(names) >= 28 and len(set(names)) == len(names)
    shares = [mutations.of_backends([b]) for b in mutations.BACKENDS]
    assert sorted(m.name for share in shares for m in share) == sorted(names)
    with pytest.raises(ValueError, match="unknown backend"):
        mutations.of_backends(["theano"])
    for mutation in mutations.MUTATIONS:
        assert mutation.backend in mutations.BACKENDS
        assert mutation.backend != "aesara" or mutation.killers[0].startswith(
            ("parity_tests/test_aesara_", "tests/")), mutation.name
        assert mutation.killers
        for killer in mutation.killers:
            assert (REPO / killer.split("::")[0]).is_file(), killer
        texts = mutation.patched(REPO)
        assert texts and all(text != (REPO / path).read_text() for path, text in texts.items())


def test_a_missing_anchor_is_an_error(tmp_path):
    """Property: a mutation whose search text is absent (or not unique) raises AnchorMissing and
    changes nothing. Exact."""
    bad = mutations.Mutation("gone", "shared",
                             (("gan2014/parzen.py", "no such code fragment", "x"),),
                             ("tests/test_parzen.py",), "a fragment that is not there")
    with pytest.raises(mutations.AnchorMissing, match="0 times"):
        bad.patched(REPO)
    (tmp_path / "a.py").write_text("x = 1\nx = 1\n")
    twice = mutations.Mutation("twice", "shared", (("a.py", "x = 1\n", "x = 2\n"),), ("a.py",), "")
    with pytest.raises(mutations.AnchorMissing, match="2 times"):
        twice.apply(tmp_path)
    assert (tmp_path / "a.py").read_text() == "x = 1\nx = 1\n"


@pytest.mark.skipif(not _has_mnist(),
                    reason="MNIST is not in $PYLEARN2_DATA_PATH/mnist (or ./data/mnist); the "
                           "killing tests need it: python -m gan2014.datasets.fetch mnist")
def test_every_named_mutation_is_killed_by_its_recorded_killer(capsys):
    """Property: mutation score 100 % over every torch and shared mutation (the Aesara ones, whose
    killers each compile mutated graphs in a fresh process, run after `make test` in CI: `make
    mutations-aesara`, .ci/run; `make mutations` runs every one). Each mutation is
    applied to a fresh copy of the code and its recorded killer fails there, while the same killers
    all pass on an unmutated copy (so a kill is the mutation's doing, not the copy's). Exact: a
    count of killed mutations."""
    rows = mutations.run(mutations.of_backends(["torch", "shared"]), quick=True, jobs=2)
    survivors = [r["name"] for r in rows if not r["killed"]]
    assert not survivors, f"mutations the fast tests no longer catch: {survivors}"
    assert mutations.score(rows) == 100.0
