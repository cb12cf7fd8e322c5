"""Exception hierarchy of the simulator.

::

    SimulatorError
    ├── ScenarioError        a scenario file or override is invalid (names the key and the problem)
    │   └── OverrideError    a ``--set key=value`` override is malformed or has the wrong type
    ├── CalibrationError     a pytest-benchmark JSON file cannot calibrate service times
    └── PlanError            a ``plan`` grid, SLO or replication setting is invalid
"""

from __future__ import annotations

__all__ = ["CalibrationError", "OverrideError", "PlanError", "ScenarioError", "SimulatorError"]


class SimulatorError(Exception):
    """Base class of every error the simulator raises on purpose."""


class ScenarioError(SimulatorError):
    """A scenario value is invalid; ``key`` is the dotted path, ``problem`` says what is wrong."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}" if key else problem)

    def __reduce__(self) -> tuple[type[ScenarioError], tuple[str, str]]:
        """Pickle by (key, problem), so the error crosses process boundaries (``plan``)."""
        return (self.__class__, (self.key, self.problem))


class OverrideError(ScenarioError):
    """A ``--set key=value`` override cannot be applied."""


class CalibrationError(SimulatorError):
    """A pytest-benchmark JSON file is missing, malformed or lacks a mapped benchmark."""


class PlanError(SimulatorError):
    """A capacity-planning request (grid, SLO, replications) is invalid."""
