"""The sentences a storm report opens with: what was measured, whether the model agrees, what binds.

All from the run: the measured code latency and activations per second, the acceptance rows of
the comparison (:mod:`loadtests.compare`), and the binding resource as the simulator sees it for
the same scenario (:func:`simulator.verdict.simulate_verdict` on the first seed's summary).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from loadtests.judge import TOO_FEW
from loadtests.rows import Row

__all__ = ["storm_verdict"]


def _seconds(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return "inf (codes still undelivered at the end)" if math.isinf(value) else f"{value:.3g} s"


def _error(row: Row) -> str:
    if row.simulated is not None and math.isinf(row.simulated) and not math.isinf(row.measured or 0):
        return "unbounded in the model (codes undelivered when a simulated run ended)"
    if row.error is None:
        return "not comparable (missing on one side)"
    return f"{100 * row.error:+.0f} %"


def storm_verdict(rows: Sequence[Row], simulated: Mapping[str, Any]) -> list[str]:
    """Two or three sentences: measured figures and agreement, then the binding resource."""
    from simulator.verdict import simulate_verdict

    by_key = {r.key: r for r in rows}
    sentences = []
    p50, p95 = by_key.get("code_p50"), by_key.get("code_p95")
    rate = by_key.get("activations_per_s")
    if p50 is not None and p95 is not None:
        text = f"Measured on the live stack, codes reached the handset in p50 {_seconds(p50.measured)}, p95 "
        text += _seconds(p95.measured)
        if rate is not None and rate.measured is not None:
            text += f", with {rate.measured:.3g} activations/s over the arrival window"
        sentences.append(text + ".")
    judged = [r for r in rows if r.acceptance]
    if judged:
        few = [r for r in judged if r.judgement.verdict == TOO_FEW]
        off = [r for r in judged if not r.passes and r not in few]
        if not off and not few:
            sentences.append(
                f"The simulator agrees within 15 % on all {len(judged)} acceptance figures "
                f"({', '.join(r.key for r in judged)})."
            )
        if off:
            worst = ", ".join(f"{r.key} {_error(r)}" for r in off)
            sentences.append(
                f"The simulator disagrees on {len(off)} of {len(judged)} acceptance figures: {worst}."
            )
        if few:
            sentences.append(
                f"Too few samples to judge {len(few)} of {len(judged)} acceptance figures: "
                + "; ".join(f"{r.key} {_error(r)} ({r.judgement.why})" for r in few)
                + "."
            )
    model = simulate_verdict(dict(simulated)) if "utilisation" in simulated else []
    if model:
        sentences.append("In the model of the same scenario: " + model[0][0].lower() + model[0][1:])
    return sentences
