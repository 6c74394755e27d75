# Two commands on a fresh machine: `make run` and `make test`. Each bootstraps .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-slow lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/quota-sentinel start

# pytest-xdist runs `make test` in 4 processes (`PYTEST_ARGS='-n 0'`: all in this one). Most of
# the suite waits on real processes, sockets and timers rather than the CPU, so 4 fit 2 cores.
# Each worker has its own Redis (tests/conftest.py), and `--dist loadfile` keeps a test file on
# one worker: tests that share a module fixture (a deployment, a `quota-sentinel start`) share it
# there, in order; the longest files start first (tests/conftest.py LONGEST_FIRST).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 4 --dist loadfile $(PYTEST_ARGS)

# The slow tests (the API fuzzing, half a minute; a 45 s Redis outage): CI runs them after
# `make test`. Each stands alone (none depends on a test `-m slow` leaves out), so the two are
# dealt out one by one to 2 processes (loadfile would queue two one-test files on one worker).
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow -n 2 --dist load $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# BENCH_BASE: the revision compared side by side; FULL=1: 3 x 10 s per endpoint, not 1 x 5 s.
BENCH_BASE ?= ccefa37
bench: $(STAMP)
	$(BIN)/python bench/load.py $(if $(FULL),,--quick) --compare $(BENCH_BASE) $(BENCH_ARGS)
	$(BIN)/python bench/poll_lateness.py $(if $(FULL),,--duration 180)

clean:
	rm -rf $(VENV) build *.egg-info
