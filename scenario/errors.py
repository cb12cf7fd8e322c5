"""Errors of the scenario contract (a file, an override or a calibration file is invalid).

::

    ScenarioError            a scenario file or override is invalid (names the key and the problem)
    ├── OverrideError        a ``--set key=value`` override is malformed or has the wrong type
    └── CalibrationError     a pytest-benchmark JSON file named by the scenario cannot calibrate service times
"""

from __future__ import annotations

__all__ = ["CalibrationError", "OverrideError", "ScenarioError"]


class ScenarioError(Exception):
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


class CalibrationError(ScenarioError):
    """A pytest-benchmark JSON file is missing, malformed or lacks a mapped benchmark."""

    def __init__(self, problem: str, key: str = "system.workers.calibration_file") -> None:
        super().__init__(key, problem)

    def __reduce__(self) -> tuple[type[ScenarioError], tuple[str, str]]:
        """Pickle by (problem, key), the order of this class's constructor."""
        return (self.__class__, (self.problem, self.key))
