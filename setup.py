"""Replication of Goodfellow et al. (2014), "Generative Adversarial Nets", as its code ran it.

Ranges here; the exact tested versions are in constraints.txt.
"""
from setuptools import find_packages, setup

setup(
    name="gan2014-replication",
    version="0.1.0",
    description="The 2014 GAN experiments (goodfeli/adversarial) in Aesara and PyTorch, proven equal",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["gan2014", "gan2014.*", "legacy_aesara", "legacy_aesara.*",
                                    "port_torch", "port_torch.*"]),
    install_requires=[
        "numpy>=1.26,<2",          # Aesara 2.9.4 needs numpy < 2 (port_torch and gan2014 also run on 2.x)
        "scipy>=1.11,<=1.12",      # Aesara 2.9.4 breaks on scipy > 1.12
        "aesara==2.9.4",
        "torch>=2.11",
        "PyYAML>=6",
        "pillow>=10",
    ],
    extras_require={"test": ["pytest>=8", "hypothesis>=6"]},
)
