"""The simulator package's public surface and its import weight."""

from __future__ import annotations

import pickle
import subprocess
import sys

import simulator
from scenario import CalibrationError, OverrideError, ScenarioError


def test_exports_are_sorted_and_resolve():
    """`simulator.__all__` is sorted and every name exists."""
    assert simulator.__all__ == sorted(simulator.__all__)
    for name in simulator.__all__:
        assert getattr(simulator, name) is not None


def test_scenario_package_is_pure_and_cheap_to_import():
    """Importing the scenario contract (as the load tests do) loads no simpy, plotting, HTTP or locust,
    and no other component of the project."""
    heavy = ["simpy", "matplotlib", "httpx", "locust", "simulator", "loadtests", "reference", "twittcom"]
    code = f"import sys, scenario; print(*[m in sys.modules for m in {heavy!r}])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert dict(zip(heavy, out.stdout.split(), strict=True)) == dict.fromkeys(heavy, "False")


def test_scenario_errors_survive_pickling():
    """Errors raised in plan's worker processes keep their key and problem across the pickle."""
    for error in (
        ScenarioError("system.sms.mps", "must be > 0"),
        OverrideError("workers", "expected an integer"),
        CalibrationError("benchmark 'x' not in out.json"),
    ):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert (copy.key, copy.problem, str(copy)) == (error.key, error.problem, str(error))
