"""What OpenBLAS's kernels and threads do for this model's matrix products, on this machine.

    python -m legacy_aesara.blas_bench [--kernels detected,Prescott,Haswell,SkylakeX]
                                       [--threads 1,2] [--repeats 7]

For each kernel family and thread count, a fresh process loads the OpenBLAS that legacy_aesara links
(SciPy's), with ``OPENBLAS_CORETYPE`` set (``detected``: unset, OpenBLAS's own choice), and times
single-precision products of the shapes one MNIST training step multiplies (batch 100; D on the
stacked 200-row batch); it prints the kernels the library reports, and GFLOP/s per shape (median of
``--repeats`` timings). The family legacy_aesara chooses here is marked; gan2014/blas.py says how it
is chosen. Kernels are fixed when the library loads, hence one process per row.
"""
import argparse
import json
import os
import subprocess
import sys

# (rows, inner, columns) of the products of a step: G's layers, D's layers on the stacked batch, and
# two weight gradients.
SHAPES = ((100, 100, 1200), (100, 1200, 1200), (100, 1200, 784), (200, 784, 1200),
          (200, 240, 1200), (784, 200, 1200), (1200, 100, 1200))

# Run with `python -c`: nothing of this project is imported, so the environment alone chooses.
WORKER = r"""
import json, sys, time
import numpy as np
import scipy.linalg.blas as blas
import ctypes, glob, os
shapes, repeats = json.loads(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
result = {}
for m, k, n in shapes:
    a = np.asfortranarray(rng.random((m, k), dtype=np.float32))
    b = np.asfortranarray(rng.random((k, n), dtype=np.float32))
    blas.sgemm(1.0, a, b)
    count = max(3, int(2e9 / (2 * m * k * n)))
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        for _ in range(count):
            blas.sgemm(1.0, a, b)
        times.append((time.perf_counter() - began) / count)
    result["%dx%dx%d" % (m, k, n)] = 2 * m * k * n / sorted(times)[len(times) // 2] / 1e9
libs = glob.glob(os.path.join(os.path.dirname(os.path.dirname(blas.__file__)), "..",
                              "scipy.libs", "libopenblas*.so*"))
core = "?"
if libs:
    handle = ctypes.CDLL(libs[0])
    handle.openblas_get_corename.restype = handle.openblas_get_config.restype = ctypes.c_char_p
    core = "%s (%s)" % (handle.openblas_get_corename().decode(),
                        handle.openblas_get_config().decode().split(" DYNAMIC")[0])
print("BLAS " + json.dumps({"core": core, "gflops": result}))
"""


def measure(kernel, threads, repeats):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    env.pop("OPENBLAS_CORETYPE", None)
    if kernel != "detected":
        env["OPENBLAS_CORETYPE"] = kernel
    result = subprocess.run([sys.executable, "-c", WORKER, json.dumps(SHAPES), str(repeats)],
                            env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"OpenBLAS worker ({kernel}, {threads} threads) failed:\n"
                           f"{result.stderr[-2000:]}")
    line = next(x for x in result.stdout.splitlines() if x.startswith("BLAS "))
    return json.loads(line[len("BLAS "):])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m legacy_aesara.blas_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kernels", default="detected,Prescott,Haswell,SkylakeX",
                        help="OPENBLAS_CORETYPE values; 'detected' leaves it unset")
    parser.add_argument("--threads", default="1,2", help="OPENBLAS_NUM_THREADS values")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    try:
        threads = [int(t) for t in args.threads.split(",") if t]
    except ValueError:
        parser.error(f"--threads must be comma-separated integers, got {args.threads!r}")
    from gan2014.blas import VARIABLE, cpu_vendor_and_flags
    from gan2014.table1.backend import platform_description

    # Importing this package made legacy_aesara's choice (or kept the user's): what it runs with.
    chosen = os.environ.get(VARIABLE)
    vendor, _flags = cpu_vendor_and_flags()
    print(f"CPU: {platform_description()} ({vendor or 'vendor unknown'}); "
          f"legacy_aesara runs with {VARIABLE}={chosen or 'unset (OpenBLAS detects)'}\n")
    names = ["x".join(map(str, shape)) for shape in SHAPES]
    print("| OPENBLAS_CORETYPE | threads | kernels reported | " + " | ".join(names) + " |")
    print("| --- | --- | --- | " + " | ".join("---" for _ in names) + " |")
    for kernel in filter(None, args.kernels.split(",")):
        for count in threads:
            row = measure(kernel, count, args.repeats)
            mark = " (chosen)" if kernel == (chosen or "detected") else ""
            print(f"| {kernel}{mark} | {count} | {row['core']} | "
                  + " | ".join(f"{row['gflops'][n]:.0f}" for n in names) + " |", flush=True)
    print("\nGFLOP/s per product (rows x inner x columns), median of the repeats.")
    return 0



if __name__ == "__main__":
    sys.exit(main())
