"""The scenario file contract, shared by the simulator, the load tests and the CLI.

- :mod:`scenario.schema` holds the defaults, the ``--set`` aliases and the override rules (plain dicts);
- :mod:`scenario.loading` reads a TOML file, merges and overrides it, and validates it into
- :mod:`scenario.records`, the frozen :class:`Scenario` dataclasses;
- :mod:`scenario.arrivals` and :mod:`scenario.distributions` are the rate profiles (with their seeded
  Poisson streams) and the distribution specs those dataclasses hold;
- :mod:`scenario.errors` names the offending key of an invalid file or override.

Pure and cheap to import: no simpy, no HTTP, nothing of the other components. The file format is
documented in ``scenarios/README.md``.
"""

from __future__ import annotations

from scenario.arrivals import KINDS, ArrivalProfile, Mix, Segment
from scenario.distributions import DistSpec
from scenario.errors import CalibrationError, OverrideError, ScenarioError
from scenario.loading import build_scenario, load_scenario
from scenario.records import (
    COMMANDS,
    SENDER_KINDS,
    SMS_PROTOCOLS,
    Audience,
    Carrier,
    Cost,
    Ingestion,
    Outage,
    RunSettings,
    Scenario,
    Smpp,
    Sms,
    System,
    UserBehaviour,
    Workers,
    XBudget,
)

__all__ = [
    "COMMANDS",
    "KINDS",
    "SENDER_KINDS",
    "SMS_PROTOCOLS",
    "ArrivalProfile",
    "Audience",
    "CalibrationError",
    "Carrier",
    "Cost",
    "DistSpec",
    "Ingestion",
    "Mix",
    "Outage",
    "OverrideError",
    "RunSettings",
    "Scenario",
    "ScenarioError",
    "Segment",
    "Smpp",
    "Sms",
    "System",
    "UserBehaviour",
    "Workers",
    "XBudget",
    "build_scenario",
    "load_scenario",
]
