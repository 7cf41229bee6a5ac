"""Which OpenBLAS kernels the Aesara backend (and the original 2014 stack beside it) run on.

OpenBLAS builds made for many CPUs (``DYNAMIC_ARCH``: SciPy's wheel, Debian's package) choose their
kernels when the library is loaded, from a table of CPU model numbers. A model newer than the
table falls back to ``Prescott``, the plain SSE3 kernels: the OpenBLAS 0.3.21 in SciPy's wheel and
in Debian does that on an Intel Xeon of model 207 with AVX-512, where its single-precision matrix
products then run 3-4 times slower than with the AVX-512 kernels (REPRODUCING.md §5 has the figures
and the commands). ``OPENBLAS_CORETYPE`` overrides the table; it is read once, when the library is
loaded, so it has to be in the environment before then.

On Intel CPUs we choose the kernel family from the instruction set instead of the model number:
AVX-512 (F, CD, BW, DQ, VL) -> ``SkylakeX``, the family OpenBLAS uses for every AVX-512 Xeon it
knows; AVX2 with FMA -> ``Haswell``. Other vendors are left to OpenBLAS's own detection (it knows
AMD's Zen by family rather than model), and a user's ``OPENBLAS_CORETYPE`` always wins. The kernel
family changes the order in which a matrix product adds its terms, so float32 products can differ
in the last bits; the original and this project's backend get the same choice, so a side-by-side
run compares like with like (``python -m original_2014.compare`` and ``.bench``).
"""
import ctypes
import os

VARIABLE = "OPENBLAS_CORETYPE"
AVX512 = frozenset({"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"})
AVX2_FMA = frozenset({"avx2", "fma"})


def cpu_vendor_and_flags(cpuinfo="/proc/cpuinfo"):
    """(vendor_id, set of flags) of the first processor listed; ("", empty set) where unreadable."""
    vendor, flags = "", set()
    try:
        with open(cpuinfo) as handle:
            for line in handle:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "vendor_id" and not vendor:
                    vendor = value.strip()
                elif key == "flags":
                    flags = set(value.split())
                    break
    except OSError:
        pass
    return vendor, flags


def coretype_for(vendor, flags):
    """The OpenBLAS kernel family for an Intel CPU with these flags; None: OpenBLAS decides."""
    if vendor != "GenuineIntel":
        return None
    if AVX512 <= set(flags):
        return "SkylakeX"
    if AVX2_FMA <= set(flags):
        return "Haswell"
    return None


def choose_coretype(environ=None, cpuinfo="/proc/cpuinfo"):
    """Put our choice in ``environ`` (default: this process's) unless the user set one.

    Returns (coretype or None, who chose: "user", "cpu flags" or "OpenBLAS's detection")."""
    environ = os.environ if environ is None else environ
    if environ.get(VARIABLE):
        return environ[VARIABLE], "user"
    choice = coretype_for(*cpu_vendor_and_flags(cpuinfo))
    if choice is None:
        return None, "OpenBLAS's detection"
    environ[VARIABLE] = choice
    return choice, "cpu flags"


def loaded_openblas(library):
    """'<config> (kernels: <core>)' of an OpenBLAS library (a path or soname), as loading it in
    this process gives, or None where it is not an OpenBLAS or cannot be loaded."""
    try:
        handle = ctypes.CDLL(library)
        config, core = handle.openblas_get_config, handle.openblas_get_corename
    except (OSError, AttributeError):
        return None
    config.restype = core.restype = ctypes.c_char_p
    return f"{config().decode()} (kernels: {core().decode()})"
