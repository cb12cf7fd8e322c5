"""Running a scenario end to end: model, summary, and (optionally) the report files.

This is the entry point other parts use (``twittcom simulate``, ``plan``, the storm comparison).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from scenario import Scenario
from simulator.journey import RunRecord
from simulator.metrics import summarize
from simulator.model import TwittcomModel
from simulator.report import write_report

__all__ = ["SimulationOutcome", "run_scenario"]


class SimulationOutcome:
    """The record and summary of one run, plus the files written (if any)."""

    def __init__(self, record: RunRecord, summary: dict[str, Any], files: list[Path]) -> None:
        self.record = record
        self.summary = summary
        self.files = files


def run_scenario(
    scenario: Scenario,
    seed: int | None = None,
    out_dir: Path | None = None,
    progress: Callable[[float, float], None] | None = None,
    plots: bool = True,
) -> SimulationOutcome:
    """Simulate ``scenario`` (with ``seed`` or the scenario's), summarize, and write to ``out_dir``."""
    record = TwittcomModel(scenario, seed).run(progress)
    summary = summarize(record)
    files = write_report(summary, record, out_dir, plots=plots) if out_dir is not None else []
    return SimulationOutcome(record, summary, files)
