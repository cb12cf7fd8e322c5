"""The storm's machine-readable verdict: ``comparison.json`` and the ``--check`` decision.

``comparison.json`` holds one entry per compared figure (``figure``, ``label``, ``measured``,
``simulated`` as ``{"mean", "low", "high", "seeds"}`` with the 95 % interval over the simulator's
seeds, ``error`` = (simulated mean - measured) / measured, ``agrees`` within the fixed 15 %,
``acceptance``), the message counts per kind on both sides, and ``passed``: every acceptance figure
(code p50 and p95, outside outages where the run has them, and activations/s over the arrival
window) finite on both sides and agreeing. Unbounded values are written as the string ``"inf"``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from loadtests.compare import TOLERANCE, Row

__all__ = ["check_failures", "comparison_document", "write_comparison"]


def _num(value: float | None) -> float | str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return "inf" if math.isinf(value) else round(float(value), 6)


def check_failures(rows: Sequence[Row]) -> list[str]:
    """One line per acceptance figure that fails (not finite, no samples, or beyond 15 %)."""
    failures = []
    for row in rows:
        if not row.acceptance or row.passes:
            continue
        if row.measured is None or row.simulated is None:
            why = "no samples"
        elif not (math.isfinite(row.measured) and math.isfinite(row.simulated)):
            why = "not finite"
        else:
            why = f"error {100 * (row.error or 0):+.1f} % beyond {100 * TOLERANCE:.0f} %"
        failures.append(f"{row.key}: measured {row.measured}, simulated {row.simulated} ({why})")
    if not any(row.acceptance for row in rows):
        failures.append("no acceptance figure was compared")
    return failures


def comparison_document(
    scenario: str, rows: Sequence[Row], messages: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """The JSON document (see the module docstring)."""
    figures = [
        {
            "figure": row.key,
            "label": row.label.strip(),
            "measured": _num(row.measured),
            "simulated": {
                "mean": _num(row.simulated),
                "low": _num(row.low),
                "high": _num(row.high),
                "seeds": row.seeds,
            },
            "error": _num(row.error),
            "agrees": row.agrees,
            "acceptance": row.acceptance,
        }
        for row in rows
    ]
    failures = check_failures(rows)
    return {
        "scenario": scenario,
        "tolerance": TOLERANCE,
        "figures": figures,
        "messages": dict(messages or {}),
        "passed": not failures,
        "failures": failures,
    }


def write_comparison(
    path: str | Path,
    scenario: str,
    rows: Sequence[Row],
    messages: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Write ``comparison.json``; return the document."""
    document = comparison_document(scenario, rows, messages)
    Path(path).write_text(json.dumps(document, indent=1))
    return document
