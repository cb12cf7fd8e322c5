"""A load run's summary: figures from locust's stats, arrival tracking, generator CPU, thresholds.

``figures`` are flat ``name -> number`` (seconds for latencies, ratios as 0..1) so thresholds can
name them: ``code_p50/p90/p95/p99/p99.9`` (codes that never arrived count as slower than every
delivered one, infinite when a percentile falls among them, as the simulator counts them;
``code_delivered_p*`` are over delivered codes only; ``code_undelivered`` counts the others), with
``code_processor_*``, ``code_carrier_*``, ``activation_*`` (buys by tweet and DM), ``dm_activation_*``
(by DM), ``activations_per_s``, ``requests``,
``error_rate``, ``arrival_rate_achieved``, ``arrival_max_lag_s``, ``generator_cpu_max`` (percent of
one core, the busiest generator process), ``codes_delivered`` (codes that reached a handset) and
``journeys_done_<kind>`` (journeys of each traffic kind that got what they came for: a new
subscriber registered, a buyer got the processor's answer, a complaint was posted; see
:data:`JOURNEY_DONE`).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from loadtests.hdr import JourneyHistograms
from loadtests.judge import percentile_bounds
from loadtests.metrics import JOURNEY, LATENCIES, OUTCOME
from loadtests.schedule import ArrivalLedger
from loadtests.thresholds import JOURNEY_KINDS, ThresholdResult, evaluate, parse_threshold
from scenario import ArrivalProfile

__all__ = [
    "JOURNEY_DONE",
    "PERCENTILES",
    "figures_from_stats",
    "format_summary",
    "live_line",
    "percentile_key",
    "seconds_text",
    "summary_document",
    "write_arrivals_csv",
    "write_summary",
]

PERCENTILES: tuple[float, ...] = (50, 90, 95, 99, 99.9)
#: traffic kind -> (its actor's outcome prefix, the outcomes of a journey that measured something)
JOURNEY_DONE: dict[str, tuple[str, tuple[str, ...]]] = {
    "reg": ("new_subscriber", ("registered",)),
    "act": ("repeat_buyer", ("activated", "insufficient_balance", "not_registered", "rejected")),
    "dm": ("dm_buyer", ("activated", "insufficient_balance", "not_registered", "rejected")),
    "noise": ("complainer", ("sent",)),
}


def _journey_figures(outcomes: Mapping[str, int], code_entry: Any) -> dict[str, float]:
    figures: dict[str, float] = {
        "codes_delivered": float(code_entry.num_requests) if code_entry is not None else 0.0
    }
    for kind, (actor, done) in JOURNEY_DONE.items():
        figures[JOURNEY_KINDS[kind]] = float(sum(outcomes.get(f"{actor}:{o}", 0) for o in done))
    return figures


def percentile_key(prefix: str, q: float) -> str:
    """``("code", 99.0)`` -> ``code_p99``; ``("code", 99.9)`` -> ``code_p99.9``."""
    return f"{prefix}_p{q:g}"


def figures_from_stats(
    stats: Any,
    ledger: ArrivalLedger,
    *,
    histograms: JourneyHistograms,
    arrivals_end_s: float,
    measured_s: float,
    cpu: Mapping[str, Sequence[float]],
    extra_percentiles: Iterable[float] = (),
) -> tuple[dict[str, float], dict[str, int]]:
    """Figures and outcome counts: journey latencies from the merged HDR ``histograms``
    (:mod:`loadtests.hdr`; locust's rounded buckets are not used for them), outcome and request
    counts from a locust ``RequestStats``, arrivals from the merged arrival ledger."""
    figures: dict[str, float] = {}
    percentiles = sorted(set(PERCENTILES) | set(extra_percentiles))
    for name, prefix in LATENCIES.items():
        count = histograms.count(name)
        if count == 0:
            continue
        figures[f"{prefix}_count"] = count
        figures[f"{prefix}_mean"] = histograms.mean(name)
        for q in percentiles:
            figures[percentile_key(prefix, q)] = histograms.percentile(name, q)
    outcomes: dict[str, int] = {}
    requests = failures = 0
    for (name, kind), entry in stats.entries.items():
        if kind == OUTCOME:
            outcomes[name] = entry.num_requests
        elif kind != JOURNEY:
            requests += entry.num_requests
            failures += entry.num_failures
    _censor_code_percentiles(histograms, figures, outcomes, percentiles)
    _percentile_intervals(histograms, figures)
    figures.update(_journey_figures(outcomes, stats.entries.get(("code_latency", JOURNEY))))
    activations = sum(n for name, n in outcomes.items() if name.endswith(":activated"))
    figures["activations"] = activations
    figures["activations_per_s"] = activations / measured_s if measured_s > 0 else 0.0
    figures["requests"] = requests
    figures["requests_per_s"] = requests / measured_s if measured_s > 0 else 0.0
    figures["error_rate"] = failures / requests if requests else 0.0
    figures["arrivals_scheduled"] = sum(ledger.scheduled.values())
    figures["arrivals_started"] = ledger.count
    figures["arrival_rate_achieved"] = ledger.achieved_ratio(math.ceil(arrivals_end_s))
    figures["arrival_max_lag_s"] = ledger.max_lag_s
    all_samples = [v for samples in cpu.values() for v in samples]
    figures["generator_cpu_max"] = max((max(s) for s in cpu.values() if s), default=0.0)
    figures["generator_cpu_mean"] = sum(all_samples) / len(all_samples) if all_samples else 0.0
    return figures, outcomes


#: outcomes of journeys whose code never reached the handset (given up on, or still awaited at the end)
CODE_NEVER_ARRIVED = (":abandoned_late_code", ":code_pending_at_end")


def _censor_code_percentiles(
    histograms: JourneyHistograms, figures: dict[str, float], outcomes: Mapping[str, int],
    percentiles: Sequence[float],
) -> None:  # fmt: skip
    """Codes that never reached the handset rank above every delivered one (as the simulator counts).

    ``code_pN`` becomes the percentile over delivered plus undelivered codes (infinite when it falls
    among the undelivered); ``code_delivered_pN`` keeps the delivered-only figure.
    """
    censored = sum(n for name, n in outcomes.items() if name.endswith(CODE_NEVER_ARRIVED))
    figures["code_undelivered"] = censored
    delivered = histograms.count("code_latency")
    if delivered == 0:
        return
    for q in percentiles:
        key = percentile_key("code", q)
        figures[percentile_key("code_delivered", q)] = figures[key]
        if censored:
            shifted = q * (delivered + censored) / delivered
            figures[key] = math.inf if shifted > 100 else histograms.percentile("code_latency", shifted)


#: percentiles whose 95 % interval is kept beside the figure (``code_p95_low``, ``code_p95_high``)
INTERVAL_PERCENTILES = (50.0, 95.0, 99.0)


def _percentile_intervals(histograms: JourneyHistograms, figures: dict[str, float]) -> None:
    """``<figure>_low``/``_high``: the 95 % interval of each percentile in
    :data:`INTERVAL_PERCENTILES`, from the binomial count of samples below it (distribution-free);
    code percentiles count the codes that never arrived above every delivered one."""
    for name, prefix in LATENCIES.items():
        count = histograms.count(name)
        if count == 0:
            continue
        censored = int(figures.get("code_undelivered", 0)) if prefix == "code" else 0
        for q in INTERVAL_PERCENTILES:
            key = percentile_key(prefix, q)
            bounds = percentile_bounds(count, q, censored=censored)
            for suffix, bound in zip(("_low", "_high"), bounds, strict=True):
                figures[key + suffix] = math.inf if math.isinf(bound) else histograms.percentile(name, bound)


def live_line(elapsed_s: float, ledger: ArrivalLedger, stats: Any) -> str:
    """The line a run prints every few seconds: arrivals due and on time, codes delivered, journeys done."""
    second = int(elapsed_s)
    due = sum(n for s, n in ledger.scheduled.items() if s < second)
    on_time = sum(n for s, n in ledger.on_time.items() if s < second)
    outcomes = {name: e.num_requests for (name, kind), e in stats.entries.items() if kind == OUTCOME}
    code = stats.entries.get(("code_latency", JOURNEY))
    done = _journey_figures(outcomes, code)
    journeys = ", ".join(f"{kind} {int(done[name])}" for kind, name in JOURNEY_KINDS.items())
    return (
        f"[{second:>4d} s] arrivals {ledger.count} started, {on_time}/{due} due on time; "
        f"codes delivered {int(done['codes_delivered'])}; journeys done {journeys}"
    )


def write_arrivals_csv(
    path: str | Path, ledger: ArrivalLedger, profile: ArrivalProfile, lead_s: float
) -> None:
    """``second, target_rate, scheduled, started, on_time`` per second (t0 = first slot)."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["second", "target_rate", "scheduled", "started", "on_time"])
        for row in ledger.per_second(profile):
            second, target, *counts = row
            writer.writerow([second, round(target, 3), *counts])


def seconds_text(value: float) -> str:
    """A latency to 3 significant digits (what the HDR histograms hold): 12.345 -> ``12.3``."""
    if math.isnan(value):
        return "-"
    if math.isinf(value):
        return "inf"
    return f"{value:.3g}" if value < 1000 else f"{value:.0f}"


def format_summary(summary: Mapping[str, Any]) -> str:
    """A terminal summary of a run (what ``twittcom loadtest`` prints at the end)."""
    f = summary.get("figures", {})
    lines = [
        f"load run '{summary.get('scenario', '?')}' ({summary.get('mode', '?')} mode, "
        f"{summary.get('workers', 1)} worker process(es), {summary.get('measured_s', 0):.0f} s"
        + (
            f": {summary['arrivals_s']:.0f} s of arrivals + {summary['drain_used_s']:.0f} s of drain"
            f" (at most {summary.get('drain_s', 0):.0f} s))"
            if "drain_used_s" in summary and "arrivals_s" in summary
            else ")"
        )
    ]

    def lat(prefix: str, label: str) -> None:
        if f"{prefix}_count" in f:
            undelivered = int(f.get("code_undelivered", 0)) if prefix == "code" else 0
            extra = f", {undelivered} never arrived" if undelivered else ""
            if prefix == "code":
                outcomes = summary.get("outcomes", {})
                for outcome, words in (("code_lost", "lost by the carrier"), ("code_cut_off", "cut off")):
                    n = sum(v for k, v in outcomes.items() if k.endswith(":" + outcome))
                    extra += f", {n} {words}" if n else ""
            p50, p95, p99 = (seconds_text(f[f"{prefix}_{q}"]) for q in ("p50", "p95", "p99"))
            count = int(f[prefix + "_count"])
            lines.append(f"  {label:<26} p50 {p50} s  p95 {p95} s  p99 {p99} s  (n={count}{extra})")

    lat("code", "code latency")
    lat("code_outside", "  outside outages")
    lat("code_processor", "  processor's share")
    lat("code_carrier", "  carrier's share")
    lat("activation", "activation latency")
    lat("dm_activation", "  by DM")
    lines.append(
        f"  activations/s              {f.get('activations_per_s', 0):.2f} ({int(f.get('activations', 0))})"
    )
    lines.append(
        f"  journeys done              codes delivered {int(f.get('codes_delivered', 0))}, "
        + ", ".join(f"{kind} {int(f.get(name, 0))}" for kind, name in JOURNEY_KINDS.items())
    )
    lines.append(
        f"  arrivals                   target {summary.get('arrivals_target', 0):.0f}, scheduled "
        f"{int(f.get('arrivals_scheduled', 0))}, started {int(f.get('arrivals_started', 0))}, on time "
        f"{100 * f.get('arrival_rate_achieved', 0):.1f} %, max lag {f.get('arrival_max_lag_s', 0):.2f} s"
    )
    lines.append(
        f"  generator CPU              mean {f.get('generator_cpu_mean', 0):.0f} %, busiest process max "
        f"{f.get('generator_cpu_max', 0):.0f} % of a core"
    )
    lines.append(
        f"  HTTP                       {int(f.get('requests', 0))} requests, "
        f"{100 * f.get('error_rate', 0):.2f} % errors"
    )
    outcomes = summary.get("outcomes", {})
    if outcomes:
        lines.append("  outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    for item in summary.get("thresholds", []):
        lines.append(f"  {item['line']}")
    return "\n".join(lines)


def summary_document(
    *,
    scenario: str,
    mode: str,
    workers: int,
    measured_s: float,
    arrivals_target: float,
    figures: Mapping[str, float],
    outcomes: Mapping[str, int],
    results: Sequence[ThresholdResult],
    per_second: Sequence[Sequence[float]],
    cpu: Mapping[str, Sequence[float]],
) -> dict[str, Any]:
    """The JSON summary a run writes next to its CSV files."""
    return {
        "scenario": scenario,
        "mode": mode,
        "workers": workers,
        "measured_s": measured_s,
        "arrivals_target": arrivals_target,
        "figures": dict(figures),
        "outcomes": dict(outcomes),
        "thresholds": [
            {
                "expression": r.threshold.expression,
                "measured": r.measured,
                "passed": r.passed,
                "line": r.line(),
            }
            for r in results
        ],
        "passed": all(r.passed for r in results),
        "arrivals_per_second": [list(row) for row in per_second],
        "generator_cpu": {k: list(v) for k, v in cpu.items()},
    }


def run_document(
    stats: Any,
    ledger: ArrivalLedger,
    histograms: JourneyHistograms,
    *,
    thresholds: Sequence[str],
    cpu: Mapping[str, Sequence[float]],
    scenario: str,
    arrivals: ArrivalProfile,
    mode: str,
    workers: int,
    t0: float,
    started_at: float,
    arrivals_s: float,
    drain_s: float,
    now: float,
) -> dict[str, Any]:
    """The summary of a finished run: figures from locust's ``stats``, the ``ledger`` and the
    ``histograms`` over the window measured (``t0`` to ``now``, at most arrivals plus drain), judged
    by ``thresholds``; ``passed`` is false when one fails."""
    parsed = [parse_threshold(t) for t in thresholds]
    extra = [q for t in parsed if (q := t.percentile) is not None]
    measured = max(1e-9, min(now - t0, arrivals_s + drain_s))
    figures, outcomes = figures_from_stats(
        stats,
        ledger,
        histograms=histograms,
        arrivals_end_s=arrivals_s,
        measured_s=measured,
        cpu=cpu,
        extra_percentiles=extra,
    )
    document = summary_document(
        scenario=scenario,
        mode=mode,
        workers=workers,
        measured_s=measured,
        arrivals_target=arrivals.expected_count(0, arrivals_s),
        figures=figures,
        outcomes=outcomes,
        results=evaluate(parsed, figures),
        per_second=ledger.per_second(arrivals),
        cpu=cpu,
    )
    document["t0"], document["started_at"] = t0, started_at
    document["arrivals_s"], document["drain_s"] = arrivals_s, drain_s
    document["drain_used_s"] = max(0.0, measured - arrivals_s)
    return document


def write_summary(path: str | Path, document: Mapping[str, Any]) -> None:
    """Write the summary JSON."""
    Path(path).write_text(json.dumps(document, indent=1))
