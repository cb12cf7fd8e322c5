"""The storm's machine-readable verdict: ``comparison.json`` and the ``--check`` decision.

``comparison.json`` holds one entry per compared figure (``figure``, ``label``, ``measured`` with its
``measured_interval`` ``{"low", "high", "samples"}``, ``simulated`` as ``{"mean", "low", "high",
"seeds"}`` with the 95 % interval over the simulator's seeds, ``error`` = (simulated mean - measured)
/ measured with its ``error_interval``, ``verdict``: ``agrees``, ``disagrees``, ``too few samples``
or ``not comparable`` (:mod:`loadtests.judge`), ``why``, ``agrees``, ``acceptance``), the message
counts per kind on both sides, ``passed``: every acceptance figure (code p50 and p95, outside outages
where the run has them, and activations/s over the arrival window) judged and agreeing, ``judged``:
no acceptance figure had too few samples, and the lines of ``failures`` and ``unjudged``.
Unbounded values are written as the string ``"inf"``."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from loadtests.compare import TOLERANCE, Row
from loadtests.judge import AGREES, DISAGREES, NOT_COMPARABLE, TOO_FEW

__all__ = ["check_failures", "check_unjudged", "comparison_document", "write_comparison"]


def _num(value: float | None) -> float | str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return "inf" if math.isinf(value) else round(float(value), 6)


def _line(row: Row) -> str:
    judgement = row.judgement
    text = f"{row.key}: measured {_shown(row.measured)}, simulated {_shown(row.simulated)}"
    if judgement.error is not None and judgement.error_low is not None and judgement.error_high is not None:
        text += (
            f", error {100 * judgement.error:+.1f} % "
            f"[{100 * judgement.error_low:+.0f} %, {_percent(judgement.error_high)}]"
        )
    return f"{text} ({judgement.verdict}{': ' + judgement.why if judgement.why else ''})"


def _shown(value: float | None) -> str:
    return "none" if value is None else f"{value:.4g}"


def _percent(value: float) -> str:
    return "inf" if math.isinf(value) else f"{100 * value:+.0f} %"


def check_failures(rows: Sequence[Row]) -> list[str]:
    """One line per acceptance figure that fails: no samples or not finite on one side, or outside
    the 15 % tolerance by more than its noise (:mod:`loadtests.judge`)."""
    failures = [
        _line(row) for row in rows if row.acceptance and row.judgement.verdict in (DISAGREES, NOT_COMPARABLE)
    ]
    if not any(row.acceptance for row in rows):
        failures.append("no acceptance figure was compared")
    return failures


def check_unjudged(rows: Sequence[Row]) -> list[str]:
    """One line per acceptance figure with too few samples (or seeds) to judge, and what would do."""
    return [_line(row) for row in rows if row.acceptance and row.judgement.verdict == TOO_FEW]


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
            "measured_interval": {
                "low": _num(row.measured_low),
                "high": _num(row.measured_high),
                "samples": row.samples,
            },
            "error": _num(row.error),
            "error_interval": [_num(row.judgement.error_low), _num(row.judgement.error_high)],
            "verdict": row.judgement.verdict,
            "why": row.judgement.why,
            "agrees": row.judgement.verdict == AGREES,
            "acceptance": row.acceptance,
        }
        for row in rows
    ]
    failures, unjudged = check_failures(rows), check_unjudged(rows)
    return {
        "scenario": scenario,
        "tolerance": TOLERANCE,
        "figures": figures,
        "messages": dict(messages or {}),
        "passed": not failures and not unjudged,
        "judged": not unjudged,
        "failures": failures,
        "unjudged": unjudged,
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
