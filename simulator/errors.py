"""Exception hierarchy of the simulator.

::

    SimulatorError
    └── PlanError            a ``plan`` grid, SLO or replication setting is invalid

A scenario file, override or calibration file that is invalid raises
:class:`scenario.errors.ScenarioError` (the scenario contract is its own package).
"""

from __future__ import annotations

__all__ = ["PlanError", "SimulatorError"]


class SimulatorError(Exception):
    """Base class of every error the simulator raises on purpose."""


class PlanError(SimulatorError):
    """A capacity-planning request (grid, SLO, replications) is invalid."""
