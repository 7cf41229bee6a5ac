"""`python -m original_2014.bench --profile` groups each backend's per-op times the same way
(original_2014/bench_profile.py): matrix products, random numbers, other ops, and what is left of
the wall time outside them."""
import pytest
import torch

from original_2014 import bench_profile as bp


@pytest.mark.parametrize("name, group", [
    ("Dot22", "matrix products"), ("Gemm", "matrix products"), ("Dot22Scalar", "matrix products"),
    ("mrg_uniform", "random numbers"), ("Elemwise", "other ops"), ("Sum", "other ops")])
def test_aesara_op_classes_are_grouped(name, group):
    """The Aesara op classes a training step and a monitor pass compile to (per Aesara's own
    profile of them) land in the group REPRODUCING's tables report them in. Exact."""
    assert bp.aesara_group(name) == group


@pytest.mark.parametrize("name, group", [
    ("aten::addmm", "matrix products"), ("aten::addmm_", "matrix products"),
    ("aten::mm", "matrix products"), ("aten::uniform_", "random numbers"),
    ("aten::where", "other ops"), ("aten::add_", "other ops")])
def test_torch_ops_are_grouped(name, group):
    """The same for torch's op names, so that the two backends' rows compare. Exact."""
    assert bp.torch_group(name) == group


def test_a_torch_profile_puts_products_and_draws_in_their_groups():
    """A real profiler run of one product, one draw and one elementwise op: each group gets time
    and the total is no more than the wall time of the phase. Sums of measured times, so only
    their signs and order are asserted."""
    from torch.profiler import ProfilerActivity, profile

    a, g = torch.ones(64, 64), torch.Generator().manual_seed(0)
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        (a @ a).add_(torch.empty(64, 64).uniform_(generator=g))
    phase = bp.PhaseProfile()
    phase.add(bp.torch_op_seconds(profiler), bp.torch_group, wall=1e3)
    groups = phase.record()["groups"]
    assert all(groups[name] > 0 for name in bp.GROUPS), groups
    assert sum(groups.values()) < 1e3


class FakeStats:
    """An Aesara ProfileStats as far as aesara_op_seconds reads it."""

    def __init__(self, times):
        self.times = times

    def class_time(self):
        return {type(name, (), {}): seconds for name, seconds in self.times.items()}


def test_aesara_phase_is_the_difference_of_two_snapshots():
    """Aesara's function profiles accumulate over every call; the totals are summed over the
    compiled functions, and a phase's own times are the totals after it less the totals before it
    (op classes that did not run are left out). Exact for binary fractions."""
    before = bp.aesara_op_seconds([FakeStats({"Dot22": 1.0, "Elemwise": 0.25}),
                                   FakeStats({"Dot22": 0.5})])
    after = bp.aesara_op_seconds([FakeStats({"Dot22": 3.0, "Elemwise": 0.25, "Sum": 0.5}),
                                  FakeStats({"Dot22": 1.0})], before=before)
    assert before == {"Dot22": 1.5, "Elemwise": 0.25}
    assert after == {"Dot22": 2.5, "Sum": 0.5}


def test_records_are_per_call_and_rows_show_the_remainder():
    """Two monitoring passes of 4 s wall: the record gives each group per pass, the row the time
    outside the ops (wall less the groups) and the largest ops first. Exact for these values."""
    phase = bp.PhaseProfile()
    for _ in range(2):
        phase.add({"Dot22": 2.5, "mrg_uniform": 0.5, "Sum": 0.25}, bp.aesara_group, wall=4.0)
    record = phase.record(top=2)
    assert record["wall"] == 4.0
    assert record["groups"] == {"matrix products": 2.5, "random numbers": 0.5, "other ops": 0.25}
    assert record["top"] == [("Dot22", 2.5), ("mrg_uniform", 0.5)]
    (row,) = bp.format_rows("legacy_aesara fused", {"monitoring pass": record})
    assert row.startswith("| legacy_aesara fused | monitoring pass | 4.00 | 2.50 (62%) | 0.50 "
                          "(12%) | 0.25 (6%) | 0.75 | Dot22 2.50, mrg_uniform 0.50 |")
    assert row.count("|") == bp.HEADER.splitlines()[0].count("|")
