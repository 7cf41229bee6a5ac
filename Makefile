# Two commands do all set-up on a fresh machine: `make mnist` and `make test` (see README.md).
PYTHON_BASE ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Where datasets live (Pylearn2's variable); ./data unless the user points elsewhere.
export PYLEARN2_DATA_PATH ?= $(CURDIR)/data

.PHONY: venv mnist data test parity parity-slow bench clean-cache

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

# The two test trees run side by side: most of the time is single-threaded (Aesara's C compiles,
# Python), so on 2 cores this nearly halves the wall time. parity_tests/ reports as it goes; the
# report of tests/ is printed when both are done. Fails if either fails.
test: data
	@log=$$(mktemp); \
	$(PY) -m pytest -q -p no:cacheprovider tests > $$log 2>&1 & tests_pid=$$!; \
	$(PY) -m pytest -q parity_tests; parity_rc=$$?; \
	wait $$tests_pid; tests_rc=$$?; \
	echo "---- tests/ ----"; cat $$log; rm -f $$log; \
	echo "parity_tests/: exit $$parity_rc; tests/: exit $$tests_rc"; \
	exit $$(( parity_rc || tests_rc ))

parity: data
	$(PY) -m parity_tests.report

parity-slow: data
	$(PY) -m pytest -q -m slow parity_tests --run-slow

bench: data
	$(PY) -m legacy_aesara.bench
	$(PY) -m port_torch.bench --device cpu

clean-cache:
	rm -rf .aesara_compiledir
