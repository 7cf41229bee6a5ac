"""The compile set-up of legacy_aesara (legacy_aesara/aesara_flags.py): the precompiled header."""
import subprocess

import legacy_aesara  # noqa: F401  (sets Aesara's flags; it must come before `import aesara`)
import aesara
import pytest

from legacy_aesara import aesara_flags


@pytest.fixture(scope="module")
def header_dir():
    folder = aesara_flags.precompiled_header_dir()
    if folder is None:
        pytest.skip("no g++ here, or the checkout's path cannot go into a compiler flag")
    assert aesara_flags.build_precompiled_header(folder) is not None, "g++ failed on the header"
    return folder


def compile_probe(tmp_path, header_dir, first_lines):
    """g++ -H on a file that starts with ``first_lines`` and Aesara's module prologue, with the
    flags Aesara compiles a module with; returns g++'s list of what it read (stderr)."""
    source = tmp_path / "probe.cpp"
    source.write_text(first_lines + "".join(f"#include {h}\n" for h in aesara_flags.MODULE_PROLOGUE)
                      + "int probe() { return 0; }\n")
    result = subprocess.run([aesara.config.cxx, "-H", "-Winvalid-pch", "-fsyntax-only",
                             f"-I{header_dir}", *aesara_flags.module_compile_flags(header_dir),
                             str(source)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stderr


def test_aesara_compiles_with_the_header_folder_first(header_dir):
    """Property: Aesara's compile flags (gcc__cxxflags) carry the chosen -ffp-contract, -g0 and
    the header's folder as an -I flag, so every module Aesara writes is compiled with them. Exact:
    the first two flags as strings and the -I flag's presence; a flag has no near miss. That g++
    searches the folder first depends on Aesara putting these flags before a module's include
    folders, which is not checked here."""
    flags = aesara.config.gcc__cxxflags.split()
    assert flags[:2] == [f"-ffp-contract={aesara_flags.fp_contract()}", "-g0"]
    assert f"-I{header_dir}" in flags


def test_a_module_prologue_is_read_from_the_precompiled_header(tmp_path, header_dir):
    """Property: for a file that begins as Aesara's generated modules do, g++ uses Python.h.gch
    (g++ -H marks a used precompiled header with '!'), i.e. the header was built with the flags
    the modules are compiled with. If it were not, every compile would silently parse the
    headers again (correct, but the cold-cache speed-up would be gone). Exact: the line
    '! <folder>/Python.h.gch' in the listing; g++ -H prints '!' only for a header it used."""
    listing = compile_probe(tmp_path, header_dir, "")
    assert f"! {header_dir}/Python.h.gch" in listing


def test_a_file_that_defines_a_macro_first_reads_the_real_headers(tmp_path, header_dir):
    """Property: a source that defines a macro the headers test before including Python.h (as
    Cython code does with PY_SSIZE_T_CLEAN) is not given the precompiled state: g++ refuses it
    ('x' in the -H listing) and reads the real headers, so the header never changes what a file
    means. Exact: the 'x' line present and the '!' line absent; g++ -H prints 'x' for a
    precompiled header it found but could not use."""
    listing = compile_probe(tmp_path, header_dir, "#define PY_SSIZE_T_CLEAN\n")
    assert f"x {header_dir}/Python.h.gch" in listing
    assert f"! {header_dir}/Python.h.gch" not in listing


def test_the_test_suite_pins_its_fp_contract_build():
    """Property: the tests compare this backend with PyTorch bit for bit, so conftest.py pins
    GAN2014_FP_CONTRACT (to off, unless the user gives it) before Aesara is configured, and the
    modules Aesara compiles carry that choice."""
    import os
    value = os.environ.get("GAN2014_FP_CONTRACT")
    assert value is not None, "conftest.py no longer pins GAN2014_FP_CONTRACT"
    assert aesara.config.gcc__cxxflags.split()[0] == f"-ffp-contract={value}"


@pytest.mark.parametrize("value, expected", [("fast", "-ffp-contract=fast -g0"),
                                             ("off", "-ffp-contract=off -g0"),
                                             ("", "-ffp-contract=fast -g0")])
def test_fp_contract_choice(monkeypatch, value, expected):
    """Property: $GAN2014_FP_CONTRACT picks the -ffp-contract mode of the base compile flags, for
    fast, off and an empty value (which falls back to the default, fast), each followed by -g0.
    Exact (string equality): this string begins the flags every Aesara module is compiled with."""
    monkeypatch.setenv("GAN2014_FP_CONTRACT", value)
    assert aesara_flags.base_cxxflags() == expected


def test_fp_contract_bad_value_is_named(monkeypatch):
    """Property: a value other than fast or off ('on' here) raises a ValueError that names the
    variable and the value given. Exact (error type and message): the message is the user's only
    guide."""
    monkeypatch.setenv("GAN2014_FP_CONTRACT", "on")
    with pytest.raises(ValueError, match="GAN2014_FP_CONTRACT.*'on'"):
        aesara_flags.fp_contract()
