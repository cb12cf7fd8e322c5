# Twittcom Harness: the two commands of the README, plus helpers.
# Each target creates the virtualenv on first use (Python 3.11, package registries only).
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: storm demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# The main job: the outage storm on the live stack beside the simulator's prediction (~2 min).
storm: $(STAMP)
	$(BIN)/twittcom storm scenarios/outage-storm.toml

demo: $(STAMP)
	$(BIN)/twittcom demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests

bench: $(STAMP)
	$(BIN)/python -m pytest -q benchmarks --benchmark-only

# The whole suite: lint, types, then the tests and the benchmarks (in short mode: each runs once,
# so they never rot) on both cores (pytest-xdist, slow tests first, an idle worker steals queued
# ones; the storms' 15 % tolerance holds with another test beside them), then the bench-gate noise
# test alone (it keeps one core busy itself). 16-20 minutes on 2 cores from a fresh clone
# (825-1,075 s of tests and benchmarks on two workers, then the gate in 50-85 s).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	TWITTCOM_BENCH_SHORT=1 $(BIN)/python -m pytest -q -m 'not solo' -n 2 --dist worksteal --durations=25 tests benchmarks
	$(BIN)/python -m pytest -q -m solo tests

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .benchmarks
