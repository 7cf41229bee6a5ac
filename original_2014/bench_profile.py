"""Where the time of `make bench`'s rows goes: per-op profiles of the training epoch and of the
monitoring pass, grouped the same way for both backends (``python -m original_2014.bench
--profile``).

Each op's own time (without its children) goes to one of four groups:

* matrix products -- BLAS GEMM/GEMV (Aesara: Dot22, Gemm, ...; torch: addmm, mm, ...);
* random numbers -- the draws of noise and dropout masks (Aesara: the 2014 MRG generator; torch:
  its CPU generator);
* other ops -- elementwise arithmetic, reductions, copies and the rest of the graph;
and the whole phase's wall time, whose remainder is the Python around the ops (and, for torch, the
profiler's own cost). A profiler slows what it measures, so these runs give shares, not timings:
the timings are the table's.
"""
from collections import Counter

GROUPS = ("matrix products", "random numbers", "other ops")

_AESARA_MATRIX = {"Dot22", "Dot22Scalar", "Gemm", "Gemv", "Ger", "Dot", "BatchedDot", "Dot22Gemv"}
_TORCH_MATRIX = {"addmm", "addmm_", "mm", "bmm", "baddbmm", "baddbmm_", "addmv", "mv", "matmul",
                 "linear", "dot"}
_TORCH_RANDOM = {"uniform_", "normal_", "bernoulli_", "random_", "exponential_", "rand", "randn"}


def aesara_group(op_class_name):
    """The group of an Aesara op class (its name, e.g. 'Dot22', 'mrg_uniform', 'Elemwise')."""
    if op_class_name in _AESARA_MATRIX:
        return "matrix products"
    if op_class_name.startswith("mrg_uniform") or "RandomVariable" in op_class_name:
        return "random numbers"
    return "other ops"


def torch_group(op_name):
    """The group of a torch op ('aten::addmm', ...)."""
    name = op_name.split("::")[-1]
    if name in _TORCH_MATRIX:
        return "matrix products"
    if name in _TORCH_RANDOM:
        return "random numbers"
    return "other ops"


class PhaseProfile:
    """Seconds per group and per op over the calls of one phase (the training epoch or the
    monitoring pass), plus the phase's wall time."""

    def __init__(self):
        self.groups, self.ops, self.wall, self.calls = Counter(), Counter(), 0.0, 0

    def add(self, op_seconds, group_of, wall):
        """op_seconds: {op name: own seconds} of one call of the phase."""
        for op, seconds in op_seconds.items():
            self.groups[group_of(op)] += seconds
            self.ops[op] += seconds
        self.wall += wall
        self.calls += 1

    def record(self, top=6):
        """Per call of the phase: wall, each group, and the `top` ops, in seconds."""
        per = max(self.calls, 1)
        return {"wall": self.wall / per,
                "groups": {g: self.groups[g] / per for g in GROUPS},
                "top": [(op, s / per) for op, s in self.ops.most_common(top)]}


def torch_op_seconds(profiler):
    """{op name: self CPU seconds} of a finished torch.profiler run (top-level aten ops)."""
    return {event.key: event.self_cpu_time_total / 1e6 for event in profiler.key_averages()
            if event.key.startswith("aten::")}


def aesara_op_seconds(function_profiles, before=None):
    """{op class name: seconds} summed over Aesara ProfileStats (every compiled function's: the
    training function and the monitor's), less a `before` snapshot (the same dict taken earlier),
    so that one phase's calls can be told from the others'."""
    seconds = Counter()
    for stats in function_profiles:
        for op_class, value in stats.class_time().items():
            seconds[getattr(op_class, "__name__", str(op_class))] += value
    if before:
        seconds.subtract(before)
    return {name: value for name, value in seconds.items() if value > 0}


def format_rows(label, phases):
    """Markdown rows of one bench row's profile: {phase: record}."""
    lines = []
    for phase, record in phases.items():
        groups = record["groups"]
        rest = record["wall"] - sum(groups.values())
        top = ", ".join(f"{op} {seconds:.2f}" for op, seconds in record["top"])
        lines.append(f"| {label} | {phase} | {record['wall']:.2f} | "
                     + " | ".join(f"{groups[g]:.2f} ({groups[g] / record['wall']:.0%})"
                                  for g in GROUPS)
                     + f" | {rest:.2f} | {top} |")
    return lines


HEADER = ("| code | phase | wall s (profiled) | " + " | ".join(f"{g} s" for g in GROUPS)
          + " | outside the ops s | largest ops, s |\n" + "| --- " * 8 + "|")
