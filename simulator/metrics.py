"""Turning a :class:`~simulator.journey.RunRecord` into figures: the JSON summary and flat metrics.

The summary holds counts, latency distributions (code latency end to end and per stage,
registration latency, activation latency of
#act tweets and of DM buys), activations per second, queue depths over time, budget
exhaustion times and abandoned registrations. Journeys whose ``#reg`` came before the warm-up,
and activations whose tweet came before it, are left out of the statistics.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from scenario import KINDS
from simulator.journey import ACT, DM, RunRecord

__all__ = [
    "ABANDON_OUTCOMES",
    "FLAT_METRICS",
    "STAGES",
    "flat_metrics",
    "latency_stats",
    "percentile",
    "summarize",
]

#: stages of the code latency (#reg tweet -> code on the handset) and the user's reply after it
STAGES: tuple[str, ...] = (
    "ingestion",
    "worker_queue",
    "worker_service",
    "sms_queue",
    "carrier",
    "user_reply",
)
#: journey outcomes that count as an abandoned registration
ABANDON_OUTCOMES: tuple[str, ...] = ("late_code", "sms_failed", "sms_expired", "otp_expired", "max_attempts")


_LATENCIES = (
    ("code", "code_latency_s"),
    ("code_outside_outages", "code_latency_outside_outages_s"),
    ("registration", "registration_latency_s"),
    ("activation", "activation_latency_s"),
    ("dm_activation", "dm_activation_latency_s"),
    ("all_activation", "all_activation_latency_s"),
)
_STATS = ("mean", "p50", "p90", "p95", "p99", "max")
#: names :func:`flat_metrics` returns (what SLOs may refer to)
FLAT_METRICS: tuple[str, ...] = tuple(f"{p}_{s}" for p, _ in _LATENCIES for s in _STATS) + (
    "abandoned_share",
    "completion_share",
    "activations_per_s",
    "worker_utilization",
    "replies_dropped",
    "sms_queue_max",
    "cost",
)


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0-100) of an already sorted sequence (nan when empty)."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def latency_stats(values: Sequence[float], censored: int = 0) -> dict[str, float | int | None]:
    """count, mean, p50, p90, p95, p99, max of ``values``, rounded to 0.1 ms.

    ``censored`` items had not finished when the run ended: they rank above every measured value,
    so a percentile that falls among them (and the max) is unbounded, reported as None with
    ``censored`` > 0 (and as infinity by :func:`flat_metrics`); the mean covers finished items.
    """
    ordered = sorted(values)
    stats: dict[str, float | int | None] = {"count": len(ordered), "censored": censored}
    stats["mean"] = round(sum(ordered) / len(ordered), 4) if ordered else None
    padded = ordered + [math.inf] * censored
    for q in (50, 90, 95, 99):
        value = percentile(padded, q)
        stats[f"p{q}"] = None if math.isnan(value) or math.isinf(value) else round(value, 4)
    stats["max"] = round(ordered[-1], 4) if ordered and not censored else None
    return stats


def _bin_width(record: RunRecord) -> float:
    return max(record.scenario.run.sample_interval_s, record.end_s / 600)


def summarize(record: RunRecord) -> dict[str, Any]:
    """The JSON-ready summary of one run."""
    sc = record.scenario
    warm = sc.run.warmup_s
    journeys = [j for j in record.journeys if j.t_reg >= warm]
    end = record.end_s
    delivered = [j for j in journeys if 0 <= j.t_delivered <= end]
    lost = ("sms_failed", "sms_expired")  # never delivered: counted as abandoned, not timed
    undelivered = sum(1 for j in journeys if not 0 <= j.t_delivered <= end and j.outcome not in lost)
    names = [name for name, _ in sc.population.circles]
    cut_off = {names.index(c) for o in sc.system.carrier.outages if o.start_s < end for c in o.circles}
    spared = [j for j in journeys if j.circle not in cut_off]
    spared_undelivered = sum(1 for j in spared if not 0 <= j.t_delivered <= end and j.outcome not in lost)
    stages = {
        "ingestion": [j.t_ingest - j.t_reg for j in delivered],
        "worker_queue": [j.t_start - j.t_ingest for j in delivered],
        "worker_service": [j.t_done - j.t_start for j in delivered],
        "sms_queue": [j.t_dispatch - j.t_done for j in delivered],
        "carrier": [j.t_delivered - j.t_dispatch for j in delivered],
        "user_reply": [j.t_code_reply - j.t_delivered for j in delivered if j.t_code_reply >= 0],
    }
    outcomes = Counter(j.outcome for j in journeys)
    activations = [(p, d, k) for p, d, k in record.activations if p >= warm]
    unfinished_buys = Counter(k for p, k in record.buys_posted if p >= warm)
    unfinished_buys.subtract(k for _, _, k in activations)
    unfinished_buys.subtract(k for p, k in record.rejected_buys if p >= warm)
    width = _bin_width(record)
    bins = math.ceil(record.end_s / width)
    per_bin = [0] * bins
    for _, done, _ in record.activations:
        per_bin[min(int(done // width), bins - 1)] += 1
    arrivals_per_bin = [0] * bins
    for j in record.journeys:
        arrivals_per_bin[min(int(j.t_reg // width), bins - 1)] += 1
    window = max(sc.run.duration_s - warm, 1e-9)
    abandoned = {name: outcomes.get(name, 0) for name in ABANDON_OUTCOMES}
    samples = record.samples
    return {
        "scenario": sc.name,
        "seed": record.seed,
        "duration_s": sc.run.duration_s,
        "drain_s": sc.run.drain_s,
        "warmup_s": warm,
        "wall_s": round(record.wall_s, 4),
        "arrivals": dict(zip(KINDS, record.arrivals, strict=True)),
        "journeys": {
            "started": len(journeys),
            "code_delivered": len(delivered),
            "code_undelivered_at_end": undelivered,
            "registered": sum(1 for j in journeys if j.t_registered >= 0),
            "activated": sum(1 for j in journeys if j.t_activated >= 0),
            "abandoned": abandoned,
            "abandoned_total": sum(abandoned.values()),
            "unfinished": outcomes.get("in_progress", 0),
        },
        "code_latency_s": latency_stats([j.t_delivered - j.t_reg for j in delivered], undelivered),
        "code_latency_outside_outages_s": latency_stats(
            [j.t_delivered - j.t_reg for j in spared if 0 <= j.t_delivered <= end], spared_undelivered
        ),
        "code_latency_stages_s": {name: latency_stats(values) for name, values in stages.items()},
        # the part of the code latency the operator's configuration sets (ingestion, workers, SMS
        # sender), without the carrier's delivery: what a planner can change
        "code_latency_controllable_s": latency_stats([j.t_dispatch - j.t_reg for j in delivered]),
        "registration_latency_s": latency_stats(
            [j.t_registered - j.t_reg for j in journeys if j.t_registered >= 0]
        ),
        "activation_latency_s": latency_stats([d - p for p, d, k in activations if k == ACT]),
        "dm_activation_latency_s": latency_stats([d - p for p, d, k in activations if k == DM]),
        # by tweet and by DM together: what a load run measures as its activation latency
        "all_activation_latency_s": latency_stats([d - p for p, d, _ in activations]),
        "activations": {
            "total": len(activations),
            "per_s_mean": round(sum(1 for _, d, _ in activations if d <= sc.run.duration_s) / window, 4),
            "per_s_peak": round(max(per_bin, default=0) / width, 4),
            "rejected_unregistered": len(record.rejected_buys),
        },
        "sms": {"sent": record.sms_sent, "expired_in_queue": record.sms_expired},
        "messages": dict(sorted(record.messages.items())),
        "replies": {"posted": record.replies_posted, "dropped": record.replies_dropped},
        # over the arrival window (after the warm-up, before the drain): the drain's idle time would
        # dilute it (a run at rho 0.9 read 0.87 when divided by the whole run)
        "worker_utilization": record.utilisation["workers"]["mean"]
        if record.utilisation
        else round(record.worker_busy_s / (sc.system.workers.count * record.end_s), 4),
        "utilisation": record.utilisation,
        "budgets": record.budgets,
        "queues_max": {
            "worker_queue": round(max((s[1] for s in samples), default=0.0), 3),
            "sms_queue": round(max((s[2] for s in samples), default=0.0), 3),
            "unread_mentions": max((s[3] for s in samples), default=0),
            "unread_dms": max((s[4] for s in samples), default=0),
        },
        "timeseries": {
            "bin_s": width,
            "t": [round(k * width, 3) for k in range(bins)],
            "registrations_per_s": [round(n / width, 3) for n in arrivals_per_bin],
            "activations_per_s": [round(n / width, 3) for n in per_bin],
        },
        "samples": {
            "t": [round(s[0], 3) for s in samples],
            "worker_queue": [round(s[1], 3) for s in samples],
            "sms_queue": [round(s[2], 3) for s in samples],
            "unread_mentions": [s[3] for s in samples],
            "unread_dms": [s[4] for s in samples],
        },
        "cost": round(sc.cost.of(sc.system), 4),
    }


def flat_metrics(summary: dict[str, Any]) -> dict[str, float]:
    """Flat ``name -> value`` metrics that SLOs and ``plan`` refer to (nan when undefined)."""
    out: dict[str, float] = {}
    for prefix, key in _LATENCIES:
        stats = summary[key]
        for stat in _STATS:
            value = stats[stat]
            if value is None:
                out[f"{prefix}_{stat}"] = math.inf if stats["censored"] and stat != "mean" else math.nan
            else:
                out[f"{prefix}_{stat}"] = float(value)
    started = summary["journeys"]["started"]
    out["abandoned_share"] = summary["journeys"]["abandoned_total"] / started if started else 0.0
    out["completion_share"] = summary["journeys"]["activated"] / started if started else 0.0
    out["activations_per_s"] = float(summary["activations"]["per_s_mean"])
    out["worker_utilization"] = float(summary["worker_utilization"])
    out["replies_dropped"] = float(summary["replies"]["dropped"])
    out["sms_queue_max"] = float(summary["queues_max"]["sms_queue"])
    out["cost"] = float(summary["cost"])
    return out
