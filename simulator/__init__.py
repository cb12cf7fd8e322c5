"""Discrete-event model of the Twittcom flow for capacity planning, validated against queueing theory.

- :mod:`simulator.scenario` loads scenario files (shared with the load tests; no simpy import);
- :mod:`simulator.arrivals` gives rate profiles and their Poisson streams (thinning);
- :mod:`simulator.model` is the simpy model; :mod:`simulator.runner` runs it and writes reports;
- :mod:`simulator.mmc` and :mod:`simulator.erlang` are the M/M/c validation pair;
- :mod:`simulator.plan` searches configurations for the cheapest one meeting SLOs.

This package imports lazily: ``import simulator`` alone loads neither simpy nor matplotlib.
"""

from __future__ import annotations

from simulator.arrivals import KINDS, ArrivalProfile, Mix, Segment
from simulator.errors import CalibrationError, OverrideError, PlanError, ScenarioError, SimulatorError
from simulator.scenario import Scenario, load_scenario

__all__ = [
    "ArrivalProfile",
    "CalibrationError",
    "KINDS",
    "Mix",
    "OverrideError",
    "PlanError",
    "Scenario",
    "ScenarioError",
    "Segment",
    "SimulatorError",
    "load_scenario",
]
