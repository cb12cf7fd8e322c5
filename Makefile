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

# The whole suite: lint, types, then the tests in two streams on the two cores (the heavy ones,
# storms, crashes and gateway faults, one after another; everything else beside them), the
# bench-gate noise test alone, then the benchmarks in short mode (each runs once, so they never
# rot). About 15 minutes on 2 cores.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	@log=$$(mktemp); \
	$(BIN)/python -m pytest -q -m heavy --durations=15 -p no:cacheprovider tests > $$log 2>&1 & heavy=$$!; \
	$(BIN)/python -m pytest -q -m 'not heavy and not solo' --durations=15 tests; light=$$?; \
	wait $$heavy; heavy_rc=$$?; echo "--- the heavy tests (storms, crashes, faults), run beside the rest:"; \
	cat $$log; rm -f $$log; test $$light = 0 && test $$heavy_rc = 0
	$(BIN)/python -m pytest -q -m solo tests
	TWITTCOM_BENCH_SHORT=1 $(BIN)/python -m pytest -q benchmarks --benchmark-disable -p no:randomly

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .benchmarks
