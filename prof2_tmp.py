import sys, collections
import legacy_aesara, aesara
aesara.config.profile = True
from legacy_aesara import bench
out = {}
for path in ("fused",):
    train = bench.build(bench.DEFAULT_CONFIG)
    alg = train.algorithm; alg.monitoring_dataset = None; alg.path = path
    alg.setup(train.model, train.dataset)
    per = bench.time_steps(alg, train.dataset, 60)
    prof = alg.sgd_update.profile
    n = max(prof.apply_callcount.values())
    kinds = collections.Counter()
    for (fg, node), t in prof.apply_time.items():
        name = type(node.op).__name__
        if name == "Elemwise": name = "Elemwise"
        kinds[name] += t / n * 1e3
    out[path] = (per * 1e3, kinds)
for path, (ms, kinds) in out.items():
    print(path, f"{ms:.2f} ms/step;", ", ".join(f"{k} {v:.2f}" for k, v in kinds.most_common(9)))
prof = alg.sgd_update.profile
n = max(prof.apply_callcount.values())
rows = sorted(((t / n * 1e3, str(node)[:230]) for (fg, node), t in prof.apply_time.items()
               if type(node.op).__name__ not in ("Dot22", "Gemm", "Dot22Scalar")), reverse=True)
for ms, s in rows[:22]: print(f"{ms:.3f} {s}")
