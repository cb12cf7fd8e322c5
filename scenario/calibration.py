"""Calibrating processor service times from the project's own pytest-benchmark JSON output.

``pytest --benchmark-json=out.json`` writes ``{"benchmarks": [{"name": ..., "stats": {"mean": s,
"stddev": s, ...}}]}``. A scenario maps commands to benchmark names
(``calibration_map = {act = "test_purchase"}``) and each mapped command's service time becomes a
lognormal with the measured mean and standard deviation (a constant when the deviation is zero).
A benchmark that times a batch per round calibrates one operation by naming the count: either
its ``extra_info`` holds ``ops_per_round``, or the map says which ``extra_info`` key counts the
operations, as in ``act = "test_sqlite_group_commit_purchases:purchases"``; the mean and deviation
are divided by that count. A single-round benchmark has no deviation, so its service time is the
constant mean.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scenario.distributions import DistSpec
from scenario.errors import CalibrationError

__all__ = ["calibrate_services"]


def calibrate_services(path: Path, mapping: dict[str, str]) -> dict[str, DistSpec]:
    """Return ``{command: DistSpec}`` for each command in ``mapping`` from the JSON at ``path``."""
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"))
        benchmarks = {b["name"]: b for b in document["benchmarks"]}
    except FileNotFoundError as exc:
        raise CalibrationError(f"calibration file not found: {path}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise CalibrationError(f"{path} is not pytest-benchmark JSON: {exc}") from exc
    if not mapping:
        raise CalibrationError(f"{path} given but system.workers.calibration_map is empty")
    out: dict[str, DistSpec] = {}
    for command, spec in mapping.items():
        name, _, ops_key = spec.partition(":")
        entry = benchmarks.get(name)
        if entry is None:
            raise CalibrationError(
                f"benchmark {name!r} (for {command}) not in {path}; it has {sorted(benchmarks)}"
            )
        extra = entry.get("extra_info") or {}
        if ops_key and not isinstance(extra.get(ops_key), int | float):
            raise CalibrationError(f"benchmark {name!r} has no numeric extra_info[{ops_key!r}]")
        ops = float(extra.get(ops_key or "ops_per_round", 1) or 1)
        mean = float(entry["stats"]["mean"]) / ops
        sd = float(entry["stats"].get("stddev", 0.0)) / ops
        if mean <= 0:
            raise CalibrationError(f"benchmark {name!r} has a non-positive mean")
        out[command] = (
            DistSpec("constant", (("value", mean),))
            if sd <= 0
            else DistSpec("lognormal", (("mean", mean), ("sd", sd)))
        )
    return out
