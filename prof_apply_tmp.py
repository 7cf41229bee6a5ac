import sys
import legacy_aesara
import aesara
aesara.config.profile = True
from legacy_aesara import bench
train = bench.build(bench.DEFAULT_CONFIG)
alg = train.algorithm; alg.monitoring_dataset = None; alg.path = "fused"
alg.setup(train.model, train.dataset)
per = bench.time_steps(alg, train.dataset, 100)
print("ms/step", per*1e3)
prof = alg.sgd_update.profile
items = sorted(prof.apply_time.items(), key=lambda kv: -kv[1])
calls = prof.apply_callcount
tot = sum(prof.apply_time.values())
print("total thunk ms/call", tot/ max(calls.values())*1e3)
import collections
bykind = collections.Counter()
for (fg, node), t in items:
    n = calls[(fg, node)]
    kind = type(node.op).__name__
    bykind[kind] += t/n*1e3
    if "Dot22" in str(node.op) or "Gemm" in str(node.op): 
        shp = ""
    print(f"{t/n*1e3:7.3f} ms  {str(node)[:200]}")
print(bykind.most_common())
