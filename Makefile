# Two commands do all set-up on a fresh machine: `make mnist` and `make test` (see README.md).
PYTHON_BASE ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Where datasets live (Pylearn2's variable); ./data unless the user points elsewhere.
export PYLEARN2_DATA_PATH ?= $(CURDIR)/data

.PHONY: venv mnist data test parity parity-slow bench bench-steps original compare clean-cache

venv: $(STAMP)

# torch is named with its exact version first: on this kind of machine that takes the local CPU wheel
# (an unpinned torch would pull a multi-GB CUDA build).
$(STAMP): setup.py constraints.txt
	$(PYTHON_BASE) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

data: $(STAMP)
	$(PY) -m gan2014.datasets.fetch mnist

mnist: data
	$(PY) -m legacy_aesara.run yaml_experiments/mnist.yaml

test: data
	$(PY) -m pytest -q tests parity_tests

parity: data
	$(PY) -m parity_tests.report

parity-slow: data
	$(PY) -m pytest -q -m slow parity_tests --run-slow

# The real training loop of every row side by side (the original 2014 code too, once `make original`
# has built it): compile, training epoch, monitoring pass, ratios, CPU and BLAS.
bench: data
	$(PY) -m original_2014.bench

# The training step alone, every step path.
bench-steps: data
	$(PY) -m legacy_aesara.bench
	$(PY) -m port_torch.bench --device cpu

# The 2014 stack beside the project (network, Python 2.7 as PYTHON27, g++, Debian's libopenblas-dev):
# built into build/original_2014, then one epoch of the unmodified mnist.yaml.
PYTHON27 ?= python2.7
original: data
	$(PY) -m original_2014 build --python $(PYTHON27)
	$(PY) -m original_2014 run --epochs 1

# The original's real first epoch against legacy_aesara's, step by step (needs `make original`).
compare: data
	$(PY) -m original_2014.compare

clean-cache:
	rm -rf .aesara_compiledir
