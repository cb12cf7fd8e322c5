"""Discrete-event model of the Twittcom flow for capacity planning, validated against queueing theory.

- scenario files are loaded by the :mod:`scenario` package (shared with the load tests and the CLI);
- :mod:`simulator.model` is the simpy model; :mod:`simulator.runner` runs it and writes reports;
- :mod:`simulator.mmc` and :mod:`simulator.erlang` are the M/M/c validation pair;
- :mod:`simulator.plan` searches configurations for the cheapest one meeting SLOs.

This package imports lazily: ``import simulator`` alone loads neither simpy nor matplotlib.
"""

from __future__ import annotations

from simulator.errors import PlanError, SimulatorError

__all__ = ["PlanError", "SimulatorError"]
