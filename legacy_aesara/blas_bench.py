"""What OpenBLAS's kernels and threads do for this model's matrix products, on this machine.

    python -m legacy_aesara.blas_bench [--kernels detected,Prescott,Haswell,SkylakeX]
                                       [--threads 1,2] [--repeats 7] [--library PATH ...]

For each kernel family and thread count, a fresh process loads the OpenBLAS that legacy_aesara links
(SciPy's), with ``OPENBLAS_CORETYPE`` set (``detected``: unset, OpenBLAS's own choice), and times
single-precision products of the shapes one MNIST training step multiplies (batch 100; D on the
stacked 200-row batch); it prints the kernels the library reports, and GFLOP/s per shape (median of
``--repeats`` timings). The family legacy_aesara chooses here is marked; gan2014/blas.py says how it
is chosen. Kernels are fixed when the library loads, hence one process per row. ``--library`` adds
rows for another OpenBLAS build (a path to its shared library, for example the newer one of the
``scipy-openblas32`` package), timed the same way through its ``cblas_sgemm``.
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

# The workers run with `python -c`: nothing of this project is imported, so the environment alone
# chooses the kernels. Both share this part: GFLOP/s of `make_product(m, k, n)()` per shape, median
# of the repeats, and the library's own description of its kernels.
TIMING = r"""
import json, sys, time
import numpy as np
rng = np.random.default_rng(0)

def gflops(shapes, repeats, make_product):
    result = {}
    for m, k, n in shapes:
        product = make_product(m, k, n)
        product()
        count = max(3, int(2e9 / (2 * m * k * n)))
        times = []
        for _ in range(repeats):
            began = time.perf_counter()
            for _ in range(count):
                product()
            times.append((time.perf_counter() - began) / count)
        result["%dx%dx%d" % (m, k, n)] = 2 * m * k * n / sorted(times)[len(times) // 2] / 1e9
    return result

def describe(corename, config):
    return "%s (%s)" % (corename().decode(), config().decode().split(" DYNAMIC")[0])
"""

# SciPy's OpenBLAS, through scipy.linalg.blas.
WORKER = TIMING + r"""
import ctypes, glob, os
import scipy.linalg.blas as blas
shapes, repeats = json.loads(sys.argv[1]), int(sys.argv[2])

def make_product(m, k, n):
    a = np.asfortranarray(rng.random((m, k), dtype=np.float32))
    b = np.asfortranarray(rng.random((k, n), dtype=np.float32))
    return lambda: blas.sgemm(1.0, a, b)

result = gflops(shapes, repeats, make_product)
libs = glob.glob(os.path.join(os.path.dirname(os.path.dirname(blas.__file__)), "..",
                              "scipy.libs", "libopenblas*.so*"))
core = "?"
if libs:
    handle = ctypes.CDLL(libs[0])
    handle.openblas_get_corename.restype = handle.openblas_get_config.restype = ctypes.c_char_p
    core = describe(handle.openblas_get_corename, handle.openblas_get_config)
print("BLAS " + json.dumps({"core": core, "gflops": result}))
"""

# Any OpenBLAS build, through its C interface (row-major, C = A B); its symbols may carry a prefix
# (scipy-openblas32's are scipy_cblas_sgemm, ...).
LIBRARY_WORKER = TIMING + r"""
import ctypes, glob, os
shapes, repeats, path = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
# A wheel's library finds its companions (libgfortran, ...) beside it only through the module that
# normally loads it: load them first, in as many rounds as their own dependencies need.
siblings = [f for f in glob.glob(os.path.join(os.path.dirname(path), "*.so*")) if f != path]
for _round in range(len(siblings)):
    for sibling in list(siblings):
        try:
            ctypes.CDLL(sibling, mode=ctypes.RTLD_GLOBAL)
            siblings.remove(sibling)
        except OSError:
            pass
lib = ctypes.CDLL(path)
prefix = next((p for p in ("", "scipy_") if hasattr(lib, p + "cblas_sgemm")), None)
if prefix is None:
    sys.exit("%s has no cblas_sgemm with 32-bit integers (nor scipy_cblas_sgemm)" % path)
sgemm = getattr(lib, prefix + "cblas_sgemm")
name = getattr(lib, prefix + "openblas_get_corename")
config = getattr(lib, prefix + "openblas_get_config")
name.restype = config.restype = ctypes.c_char_p

def make_product(m, k, n):
    a, b = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
    c = np.zeros((m, n), dtype=np.float32)
    P = ctypes.c_void_p
    args = (101, 111, 111, m, n, k, ctypes.c_float(1.0), a.ctypes.data_as(P), k,
            b.ctypes.data_as(P), n, ctypes.c_float(0.0), c.ctypes.data_as(P), n)
    sgemm(*args)
    assert np.allclose(c, a @ b, rtol=1e-4), "cblas_sgemm gave a wrong product"
    def product():
        sgemm(*args)
    product.arrays = (a, b, c)   # args holds only their addresses: keep the arrays alive
    return product

result = gflops(shapes, repeats, make_product)
print("BLAS " + json.dumps({"core": describe(name, config), "gflops": result}))
"""


def measure(kernel, threads, repeats, library=None):
    """One row: a fresh process, SciPy's OpenBLAS (library None) or the build at `library`."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    env.pop("OPENBLAS_CORETYPE", None)
    if kernel != "detected":
        env["OPENBLAS_CORETYPE"] = kernel
    command = [sys.executable, "-c", WORKER, json.dumps(SHAPES), str(repeats)]
    if library is not None:
        command = [sys.executable, "-c", LIBRARY_WORKER, json.dumps(SHAPES), str(repeats), library]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"OpenBLAS worker ({library or 'SciPy'}, {kernel}, {threads} threads) "
                           f"failed:\n{result.stderr[-2000:]}")
    line = next(x for x in result.stdout.splitlines() if x.startswith("BLAS "))
    return json.loads(line[len("BLAS "):])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m legacy_aesara.blas_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kernels", default="detected,Prescott,Haswell,SkylakeX",
                        help="OPENBLAS_CORETYPE values; 'detected' leaves it unset")
    parser.add_argument("--threads", default="1,2", help="OPENBLAS_NUM_THREADS values")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--library", action="append", default=[], metavar="PATH",
                        help="another OpenBLAS shared library to time beside SciPy's "
                             "(repeatable)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    for path in args.library:
        if not os.path.isfile(path):
            parser.error(f"--library: no such file: {path}")
    try:
        threads = [int(t) for t in args.threads.split(",") if t]
    except ValueError:
        threads = []
    if not threads or min(threads) < 1:
        parser.error(f"--threads must be comma-separated whole numbers >= 1, got {args.threads!r}")
    from gan2014.blas import VARIABLE, cpu_vendor_and_flags
    from gan2014.table1.backend import platform_description

    # Importing this package made legacy_aesara's choice (or kept the user's): what it runs with.
    chosen = os.environ.get(VARIABLE)
    vendor, _flags = cpu_vendor_and_flags()
    print(f"CPU: {platform_description()} ({vendor or 'vendor unknown'}); "
          f"legacy_aesara runs with {VARIABLE}={chosen or 'unset (OpenBLAS detects)'}\n")
    names = ["x".join(map(str, shape)) for shape in SHAPES]
    print("| library | OPENBLAS_CORETYPE | threads | kernels reported | " + " | ".join(names)
          + " |")
    print("| --- | --- | --- | --- | " + " | ".join("---" for _ in names) + " |")
    for library in [None] + args.library:
        label = "SciPy's (linked)" if library is None else os.path.basename(library)
        for kernel in filter(None, args.kernels.split(",")):
            for count in threads:
                row = measure(kernel, count, args.repeats, library)
                mark = " (chosen)" if library is None and kernel == (chosen or "detected") else ""
                print(f"| {label} | {kernel}{mark} | {count} | {row['core']} | "
                      + " | ".join(f"{row['gflops'][n]:.0f}" for n in names) + " |", flush=True)
    print("\nGFLOP/s per product (rows x inner x columns), median of the repeats.")
    return 0



if __name__ == "__main__":
    sys.exit(main())
