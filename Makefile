# Two commands do all set-up on a fresh machine: `make mnist` and `make test` (see README.md).
PYTHON_BASE ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Where datasets live (Pylearn2's variable); ./data unless the user points elsewhere.
export PYLEARN2_DATA_PATH ?= $(CURDIR)/data

.PHONY: venv mnist data lint test parity parity-slow mutations mutations-aesara bench bench-steps \
	original compare clean-cache

venv: $(STAMP)

# Everything, with the exact versions of constraints.txt (setup.py's extras: torch, aesara, test,
# figures). torch is named with its exact version first, so that a machine which has that CPU wheel
# locally takes it; elsewhere pip's default index gives the CUDA build (README.md says how to get
# the CPU build instead).
$(STAMP): setup.py constraints.txt
	$(PYTHON_BASE) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e '.[torch,aesara,test,figures]'
	touch $(STAMP)

data: $(STAMP)
	$(PY) -m gan2014.datasets.fetch mnist

# ARGS go to the training command: `make mnist ARGS=--resume` continues a stopped run exactly,
# `make mnist ARGS='--max-epochs 100'` stops early.
mnist: data
	$(PY) -m legacy_aesara.run yaml_experiments/mnist.yaml $(ARGS)

# Lint (ruff.toml: pycodestyle, pyflakes, 100 columns); `make test` runs it first, to fail fast.
lint: $(STAMP)
	$(PY) -m ruff check .

# Two pytest workers (one per core of the CI machine); --dist loadfile keeps each test file in one
# worker, so a module's expensive fixtures (trained runs, compiled graphs) are built once.
# TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= 2
test: data
	$(PY) -m ruff check .
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile tests parity_tests

parity: data
	$(PY) -m parity_tests.report

parity-slow: data
	$(PY) -m pytest -q -m slow parity_tests --run-slow

# Every named fidelity bug against all candidate fast tests (the map of killers; ~15 min on 2 cores).
mutations: data
	$(PY) -m parity_tests.mutations --markdown

# The Aesara mutations against their recorded killers, one compile at a time. `make test` runs the
# torch and shared ones; CI runs this right after `make test`, whose run of the same killer tests
# on the unmodified code is the control (hence --no-control).
mutations-aesara: data
	$(PY) -m parity_tests.mutations --quick --no-control --jobs 1 --backend aesara --markdown

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
