"""Aesara configuration for this backend, set *before* Aesara is first imported.

Aesara reads ``AESARA_FLAGS`` once, at import time, so this module must run first
(``legacy_aesara/__init__.py`` imports it before anything else). Theano of 2014 was configured the
same way (``THEANO_FLAGS``, ``~/.theanorc``); the flags below reproduce what the original run used
(``floatX=float32`` on a CPU with OpenBLAS) and keep every artefact inside the repository.

The flags, and why each is set:

* ``floatX=float32`` -- every Pylearn2 shared variable, batch and learning rate was float32
  (pylearn2/utils/__init__.py :: sharedX casts to floatX). ``GAN2014_FLOATX=float64`` switches the
  whole backend to float64 for the precision studies of the parity tests.
* ``compiledir=<repo>/.aesara_compiledir`` -- the C modules Aesara compiles go into the repository's
  git-ignored cache rather than ``~/.aesara``, so a checkout is self-contained and ``make
  clean-cache`` can reset it.
* ``blas__ldflags`` -- Aesara 2.9.4 cannot discover a BLAS under numpy >= 1.26 (it calls the removed
  ``numpy.distutils`` machinery and fails at import), and without a BLAS every dot product would be
  a slow Python/NumPy fallback instead of the Dot22/Gemm C ops. SciPy's wheel bundles an LP64
  OpenBLAS (32-bit integers, plain ``sgemm_`` symbols, which is what Aesara's C code calls); we link
  it by its exact file name and record its folder as an rpath so the compiled modules find it at
  run time. numpy's own bundled OpenBLAS is ILP64 with suffixed symbols and cannot be used. If the
  SciPy copy is missing we fall back to a system ``-lopenblas`` / ``-lblas``.
* ``gcc__cxxflags=-ffp-contract=fast -g0`` -- how the C compiler may round ``a*b + c``. The 2014
  stack compiled its elementwise code with g++ in GNU mode and ``-march=native`` (Theano 0.7 passes
  no ``-ffp-contract``, and g++'s GNU-mode default is ``fast``), so on a CPU with FMA instructions
  ``a*b + c`` became one fused multiply-add, rounded once: the 2014 noise ``u*2*sqrt(3) - sqrt(3)``
  is an example. ``fast`` (the default) compiles the same way, so this backend follows the
  original's real run on the same CPU for well over a hundred steps instead of a handful (see
  ``python -m original_2014.compare`` and REPRODUCING.md). ``GAN2014_FP_CONTRACT=off`` gives
  ``-ffp-contract=off`` instead: every ``a*b + c`` rounded twice, the plain IEEE sequence the Python
  expression describes; the parity tests that compare this backend with PyTorch bit for bit were
  measured on that build and run in it (the test suite sets it, see ``conftest.py``).
  ``-g0`` drops the debug information Aesara asks of g++ for every module (``-g``): it changes no
  instruction, and it shortens a cold compile of the MNIST training function and monitor
  (REPRODUCING.md §5 has the figures and the command).
* ``-I<compiledir>/pch-<key>`` (in ``gcc__cxxflags``) -- a precompiled header, a gcc feature that
  changes nothing in the code generated. Every module Aesara writes begins with the same eight
  ``#include`` lines (``<Python.h>``, ``<iostream>``, ``"aesara_mod_helper.h"``, ``<math.h>``,
  numpy's ``arrayobject.h`` and ``arrayscalars.h``, ``<vector>``, ``<algorithm>``), and parsing
  their 70,000 lines was half of each module's compile (REPRODUCING.md §5). Those eight, in that
  order, are compiled once, with Aesara's own compile flags, into ``Python.h.gch`` in that folder,
  which g++ searches before Python's: a module whose first ``#include <Python.h>`` it can stand for
  starts from the parsed state (its other seven includes are then no-ops, by their include guards);
  for any other file, or if its flags or macros differ, g++ ignores the .gch and reads the real
  headers. The ``<key>`` hashes the compiler, Python, NumPy and Aesara versions and paths, so an
  upgrade gets a new folder (and new cache keys) instead of a stale header. See
  :func:`build_precompiled_header`.
* ``on_opt_error=raise`` -- a failing graph rewrite must stop the run, not silently leave a slower
  or different graph behind.

Thread counts: OpenBLAS and OpenMP read ``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` when the
library is loaded; we default them to the CPUs this process may use (a user's setting wins).
OpenBLAS's kernels: ``OPENBLAS_CORETYPE``, read at the same moment, is chosen from the CPU's
instruction set on Intel CPUs (``gan2014/blas.py`` says why: OpenBLAS 0.3.21 runs unknown newer
models on its slowest kernels); a user's setting wins.

Right after the import, two changes to how Aesara compiles, neither of which changes a compiled
graph: ``compile_cache.py`` (fused ops keep their C code in the cache's keys) and
``shape_composites.py`` (shape inference builds each of its broadcast-check ops once).
"""
import glob
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig

from gan2014.blas import choose_coretype

FLOATX_VARIABLE = "GAN2014_FLOATX"
FP_CONTRACT_VARIABLE = "GAN2014_FP_CONTRACT"
FP_CONTRACT_MODES = ("fast", "off")
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPILEDIR = os.path.join(REPO_ROOT, ".aesara_compiledir")


def _available_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def floatx():
    value = os.environ.get(FLOATX_VARIABLE, "float32") or "float32"
    if value not in ("float32", "float64"):
        raise ValueError(f"{FLOATX_VARIABLE} must be float32 or float64, got {value!r}")
    return value


def fp_contract():
    """``fast`` (the default: FMA contraction, as the 2014 stack's g++ compiled) or ``off``."""
    value = os.environ.get(FP_CONTRACT_VARIABLE, "fast") or "fast"
    if value not in FP_CONTRACT_MODES:
        raise ValueError(f"{FP_CONTRACT_VARIABLE} must be one of {', '.join(FP_CONTRACT_MODES)}, "
                         f"got {value!r}")
    return value


def base_cxxflags():
    return f"-ffp-contract={fp_contract()} -g0"


def scipy_openblas_ldflags():
    """Link flags for the LP64 OpenBLAS in SciPy's wheel, or None if it is not there.

    The wheel keeps it in ``<site-packages>/scipy.libs/libopenblasp-r0-<hash>.so``; SciPy is located
    without importing it (importing it would load that library before the thread variables are set).
    """
    spec = importlib.util.find_spec("scipy")
    if spec is None or not spec.submodule_search_locations:
        return None
    site_packages = os.path.dirname(list(spec.submodule_search_locations)[0])
    libs_dir = os.path.join(site_packages, "scipy.libs")
    candidates = sorted(glob.glob(os.path.join(libs_dir, "libopenblas*.so*")))
    # A '64_' in the name would be an ILP64 build with suffixed symbols: unusable by Aesara's C
    # code.
    candidates = [path for path in candidates if "64_" not in os.path.basename(path)]
    if not candidates:
        return None
    library = os.path.basename(candidates[0])
    # Commas separate AESARA_FLAGS entries; inside a value they are escaped as '\,'.
    return f"-L{libs_dir} -l:{library} -Wl\\,-rpath\\,{libs_dir}"


def linked_library(ldflags):
    """The library file that link flags of the form scipy_openblas_ldflags gives name (``-L<dir>
    -l:<file>``), as a path, or None for flags that name a library by ``-l<name>`` only."""
    flags = ldflags.split()
    folders = [flag[2:] for flag in flags if flag.startswith("-L")]
    named = [flag[3:] for flag in flags if flag.startswith("-l:")]
    if not named:
        return None
    return os.path.join(folders[0], named[0]) if folders else named[0]


def system_blas_ldflags():
    for name in ("openblas", "blas"):
        for folder in ("/usr/lib", "/usr/lib64", "/usr/local/lib", "/usr/lib/x86_64-linux-gnu"):
            if glob.glob(os.path.join(folder, f"lib{name}.so*")):
                return f"-l{name}"
    return "-lblas"


# The first lines of every module Aesara generates (aesara/link/c/basic.py :: CLinker), in order.
MODULE_PROLOGUE = ("<Python.h>", "<iostream>", '"aesara_mod_helper.h"', "<math.h>",
                   "<numpy/arrayobject.h>", "<numpy/arrayscalars.h>", "<vector>", "<algorithm>")


def precompiled_header_dir():
    """``<compiledir>/pch-<key>``: the key changes with anything the headers or their parse depend
    on; None where no g++ is found or the path cannot go into a space-separated flag."""
    compiler = shutil.which("g++")
    if compiler is None or any(c in COMPILEDIR for c in " ,\\'\""):
        return None
    numpy_spec = importlib.util.find_spec("numpy")
    aesara_spec = importlib.util.find_spec("aesara")
    try:
        version = subprocess.run([compiler, "-dumpfullversion", "-dumpversion"], check=True,
                                 capture_output=True, text=True, timeout=30).stdout.strip()
        from importlib.metadata import version as installed
        facts = [compiler, version, sys.version, sysconfig.get_paths()["include"],
                 installed("numpy"), str(numpy_spec.origin), installed("aesara"),
                 str(aesara_spec.origin), base_cxxflags(), "\n".join(MODULE_PROLOGUE)]
    except Exception:  # noqa: BLE001  (no header then; compiling works as without it)
        return None
    key = hashlib.sha256("\0".join(facts).encode()).hexdigest()[:16]
    return os.path.join(COMPILEDIR, f"pch-{key}")


def project_flags(pch_dir=None):
    """The flags this backend needs, as an ordered dict name -> value."""
    cxxflags = base_cxxflags() + (f" -I{pch_dir}" if pch_dir else "")
    return {
        "floatX": floatx(),
        "compiledir": COMPILEDIR,
        "blas__ldflags": scipy_openblas_ldflags() or system_blas_ldflags(),
        "gcc__cxxflags": cxxflags,
        "on_opt_error": "raise",
    }


def module_compile_flags(pch_dir=None):
    """The g++ flags of an Aesara module (aesara/link/c/cmodule.py :: GCC_compiler.compile_str):
    CLinker's, then GCC_compiler.compile_args() (our gcc__cxxflags, march flags, -fPIC ...), then
    the standard include folders; the header folder's ``-I`` is left out."""
    from aesara.link.c.cmodule import GCC_compiler, std_include_dirs

    clinker_args = ["-O3", "-fno-math-errno", "-Wno-unused-label", "-Wno-unused-variable",
                    "-Wno-write-strings"]
    args = [a for a in GCC_compiler.compile_args() if a != f"-I{pch_dir}"]
    return [*clinker_args, *args, *(f"-I{d}" for d in std_include_dirs())]


def build_precompiled_header(pch_dir):
    """Compile ``MODULE_PROLOGUE`` into ``pch_dir/Python.h.gch`` with the flags Aesara compiles its
    modules with (CLinker's ``-O3 -fno-math-errno ...``, then GCC_compiler.compile_args(), march
    flags included), unless it is there. Written to a temporary name and renamed, so processes
    starting together never see half a file. Returns the path, or None if g++ failed (the modules
    then compile from the headers, as without it)."""
    import aesara

    target = os.path.join(pch_dir, "Python.h.gch")
    if os.path.exists(target):
        return target
    source = os.path.join(pch_dir, "module_prologue.h")
    try:
        os.makedirs(pch_dir, exist_ok=True)
        with open(source + f".{os.getpid()}", "w") as f:
            f.write("".join(f"#include {header}\n" for header in MODULE_PROLOGUE))
        os.replace(source + f".{os.getpid()}", source)
    except OSError:  # an unwritable cache: compile without the header
        return None
    partial = f"{target}.{os.getpid()}.tmp"
    command = [aesara.config.cxx, "-x", "c++-header", *module_compile_flags(pch_dir), source,
               "-o", partial]
    try:
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            return None
        os.replace(partial, target)
        return target
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def _user_flag_names(user_flags):
    names = set()
    for entry in user_flags.replace("\\,", "").split(","):
        if "=" in entry:
            names.add(entry.split("=", 1)[0].strip().replace(".", "__"))
    return names


def configure():
    """Import Aesara with our flags (and thread counts), unless it is already imported.

    Flags the user already gives in AESARA_FLAGS are kept and win; ours fill in the rest. Our flags
    are in os.environ only while Aesara reads them: afterwards the user's AESARA_FLAGS is put back,
    so a child process (the float64 parity worker, say) chooses its own floatX instead of inheriting
    ours.
    """
    cpus = str(_available_cpus())
    choose_coretype()
    os.environ.setdefault("OMP_NUM_THREADS", cpus)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", cpus)
    if "aesara" in sys.modules:
        return False
    user_flags = os.environ.get("AESARA_FLAGS")
    taken = _user_flag_names(user_flags or "")
    pch_dir = None if "gcc__cxxflags" in taken else precompiled_header_dir()
    ours = [f"{name}={value}" for name, value in project_flags(pch_dir).items()
            if name not in taken]
    os.environ["AESARA_FLAGS"] = ",".join(ours + ([user_flags] if user_flags else []))
    try:
        quiet_import_noise()
        import aesara  # noqa: F401  (reads AESARA_FLAGS now, once)

        from legacy_aesara.compile_cache import keep_composite_c_code
        from legacy_aesara.shape_composites import reuse_shape_composites
        keep_composite_c_code()
        reuse_shape_composites()
    finally:
        if user_flags is None:
            del os.environ["AESARA_FLAGS"]
        else:
            os.environ["AESARA_FLAGS"] = user_flags
    if pch_dir is not None:
        build_precompiled_header(pch_dir)
    return True


def quiet_import_noise():
    """Silence two messages Aesara prints on every import that say nothing about this project:
    the BLAS check cannot recognise a library linked by file name (`-l:<file>`), and
    configdefaults uses the deprecated distutils.find_executable."""
    import logging
    import warnings

    class _DropBlasLibraryWarning(logging.Filter):
        def filter(self, record):
            return "did not find a dynamic library" not in record.getMessage()

    logging.getLogger("aesara.tensor.blas").addFilter(_DropBlasLibraryWarning())
    warnings.filterwarnings("ignore", message="Use shutil.which instead of find_executable",
                            category=DeprecationWarning)


configure()
