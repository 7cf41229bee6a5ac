"""The choice of OpenBLAS kernels (gan2014/blas.py): made from the CPU's instruction set on Intel,
left to OpenBLAS elsewhere, never over a user's setting, and in force in the library Aesara
links."""
import pytest

from gan2014 import blas

AVX512_FLAGS = "fpu sse2 avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl amx_tile"


def cpuinfo(tmp_path, vendor, flags):
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nvendor_id\t: {vendor}\nmodel\t\t: 207\n"
                    f"flags\t\t: {flags}\n\nprocessor\t: 1\nvendor_id\t: {vendor}\n"
                    f"flags\t\t: {flags}\n")
    return str(path)


@pytest.mark.parametrize("vendor, flags, expected", [
    ("GenuineIntel", AVX512_FLAGS, "SkylakeX"),
    ("GenuineIntel", "sse2 avx avx2 fma", "Haswell"),
    ("GenuineIntel", "sse2 avx avx2", None),             # no FMA: no AVX2 kernels
    ("GenuineIntel", "sse2 avx avx2 fma avx512f", "Haswell"),  # AVX-512 F alone: not enough
    ("AuthenticAMD", AVX512_FLAGS, None),                 # AMD: left to OpenBLAS
])
def test_kernel_family_follows_the_instruction_set(tmp_path, vendor, flags, expected):
    """Intel with all of AVX-512 F/CD/BW/DQ/VL gets SkylakeX, with AVX2 and FMA (and no full
    AVX-512) Haswell; another vendor, or no FMA, is the library's own call. Exact: a lookup."""
    path = cpuinfo(tmp_path, vendor, flags)
    environ = {}
    choice, chooser = blas.choose_coretype(environ, path)
    assert choice == expected
    assert environ.get(blas.VARIABLE) == expected
    assert chooser == ("cpu flags" if expected else "OpenBLAS's detection")


def test_a_users_setting_wins(tmp_path):
    """OPENBLAS_CORETYPE given by the user is kept as it is, whatever the CPU. Exact: the (choice,
    chooser) pair and the environment, a lookup."""
    environ = {blas.VARIABLE: "Haswell"}
    assert blas.choose_coretype(environ, cpuinfo(tmp_path, "GenuineIntel", AVX512_FLAGS)) == \
        ("Haswell", "user")
    assert environ == {blas.VARIABLE: "Haswell"}


def test_unreadable_cpuinfo_leaves_it_to_openblas(tmp_path):
    """No /proc/cpuinfo (another OS): nothing is chosen, nothing is set. Exact: the (choice,
    chooser) pair and the untouched environment."""
    environ = {}
    assert blas.choose_coretype(environ, str(tmp_path / "missing")) == \
        (None, "OpenBLAS's detection")
    assert environ == {}


def test_the_library_aesara_links_runs_the_chosen_kernels():
    """In this process legacy_aesara has configured Aesara: the OpenBLAS its compiled functions
    link reports the kernels chosen for this CPU (on an Intel CPU that OpenBLAS 0.3.21 does not
    know it would otherwise report Prescott, its SSE3 fallback). Exact: the library's own
    description, which must name OpenBLAS and, where a choice was made, end in the text
    '(kernels: <choice>)'; no numbers are compared."""
    import os

    import legacy_aesara  # noqa: F401  (configures Aesara before it is imported)
    import aesara
    import aesara.tensor as at
    import numpy as np

    x = at.matrix("x")
    aesara.function([x], at.dot(x, x))(np.eye(2, dtype=aesara.config.floatX))
    from legacy_aesara.aesara_flags import linked_library

    library = linked_library(aesara.config.blas__ldflags)
    if library is None:
        pytest.skip("Aesara links a system BLAS here, not SciPy's OpenBLAS")
    described = blas.loaded_openblas(library)
    assert described is not None and "OpenBLAS" in described
    chosen = os.environ.get(blas.VARIABLE)
    if chosen:
        assert described.endswith(f"(kernels: {chosen})"), described


def test_blas_bench_runs_each_row_on_the_kernels_it_names():
    """`python -m legacy_aesara.blas_bench` loads the library afresh for each row, so a row asked
    for Haswell reports Haswell kernels whatever this process runs on, and a 'detected' row leaves
    the choice to OpenBLAS and reports the kernel it picked. One repeat: a smoke run. Exact: exit
    status 0, the two rows and the kernels each reports; the timings need only be numbers (whole
    GFLOP/s as printed), as their size depends on the machine."""
    import subprocess
    import sys

    pytest.importorskip("scipy")
    result = subprocess.run([sys.executable, "-m", "legacy_aesara.blas_bench", "--kernels",
                             "detected,Haswell", "--threads", "1", "--repeats", "1"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line for line in result.stdout.splitlines()
            if line.startswith(("| SciPy's (linked) | detected", "| SciPy's (linked) | Haswell"))]
    assert len(rows) == 2, result.stdout
    haswell = next(row for row in rows if "| Haswell" in row)
    assert "| Haswell (OpenBLAS" in haswell, haswell
    assert all(float(cell) >= 0 for cell in haswell.strip(" |").split("|")[4:]), haswell
    detected = next(row for row in rows if "| detected" in row)
    assert " (OpenBLAS" in detected.split("|")[4], detected


def test_blas_bench_times_another_openblas_build_given_by_path(tmp_path):
    """`--library PATH` adds rows for another OpenBLAS build, called through its C interface: here
    SciPy's own library by its path (the one build every install has), whose row must report the
    kernels it was asked for, like SciPy's row; a path that is no file is refused by name, before
    anything runs. Exact: exit statuses, the rows, the kernels and the message."""
    import glob
    import os
    import subprocess
    import sys

    scipy = pytest.importorskip("scipy")
    libraries = glob.glob(os.path.join(os.path.dirname(os.path.dirname(scipy.__file__)),
                                       "scipy.libs", "libopenblas*.so*"))
    if not libraries:
        pytest.skip("this SciPy has no bundled OpenBLAS")
    command = [sys.executable, "-m", "legacy_aesara.blas_bench", "--kernels", "Haswell",
               "--threads", "1", "--repeats", "1", "--library", libraries[0]]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line for line in result.stdout.splitlines() if "| Haswell | 1 |" in line]
    assert [row.split("|")[1].strip() for row in rows] == [
        "SciPy's (linked)", os.path.basename(libraries[0])], result.stdout
    assert all("| Haswell (OpenBLAS" in row for row in rows), rows
    missing = tmp_path / "libopenblas_missing.so"
    refused = subprocess.run(command[:-1] + [str(missing)], capture_output=True, text=True)
    assert refused.returncode == 2 and f"no such file: {missing}" in refused.stderr
