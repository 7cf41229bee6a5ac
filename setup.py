"""Replication of Goodfellow et al. (2014), "Generative Adversarial Nets", as its code ran it.

Ranges here; the exact tested versions are in constraints.txt (`make venv` installs every extra with
them, under Python 3.11). The core (`gan2014`: YAML loader, datasets, checkpoints, Parzen) needs
numpy, scipy, PyYAML and pillow only; each backend is an extra:

    pip install '.[torch]'     gan2014 + port_torch; any Python >= 3.11, numpy 1.26 or 2.x
    pip install '.[aesara]'    gan2014 + legacy_aesara; Python 3.11, numpy < 2, scipy <= 1.12,
                               and a C++ compiler with the Python headers (Aesara compiles C code)
    pip install '.[test]'      pytest, pytest-xdist (`make test` runs two workers), hypothesis and
                               ruff (the linter `make test` runs first)
    pip install '.[figures]'   matplotlib, for the plotted figures (learning curves, comparisons)
    pip install '.[all]'       everything (what `make venv` installs)
"""
from setuptools import find_packages, setup

EXTRAS = {
    "torch": ["torch>=2.11"],
    "aesara": [
        "aesara==2.9.4",
        "numpy>=1.26,<2",          # Aesara 2.9.4 needs numpy < 2
        "scipy>=1.11,<=1.12",      # Aesara 2.9.4 breaks on scipy > 1.12
    ],
    "test": ["pytest>=8", "pytest-xdist>=3", "hypothesis>=6", "ruff>=0.17"],
    "figures": ["matplotlib>=3.8"],
}
EXTRAS["all"] = sorted({requirement for group in EXTRAS.values() for requirement in group})

setup(
    name="gan2014-replication",
    version="0.1.0",
    description=("The 2014 GAN experiments (goodfeli/adversarial) in Aesara and PyTorch, "
                 "proven equal"),
    license="BSD-3-Clause",
    python_requires=">=3.11",
    packages=find_packages(include=["gan2014", "gan2014.*", "legacy_aesara", "legacy_aesara.*",
                                    "port_torch", "port_torch.*"]),
    install_requires=[
        "numpy>=1.26",
        "scipy>=1.11",             # scipy.io.loadmat for TFD
        "PyYAML>=6",
        "pillow>=10",
    ],
    extras_require=EXTRAS,
)
