"""Utilisation per resource over the arrival window: the workers, the SMS sender and the X budgets.

The workers and the sender carry a :class:`~simulator.stations.BusyMeter`; over the bins of the
arrival window (after the warm-up, before the drain) a station's utilisation is the work it did
divided by its capacity (servers x time), and its peak *offered* load is the work that arrived in
the busiest bin divided by the capacity of that bin (above 1: more arrived than it could do, the
queue grew). A budget's figure is the largest share of its limit any of its windows that opened
during the arrivals used (1: it ran out). :func:`depth_sampler` is the simpy process that samples
the queues while the model runs.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Mapping, Sized
from typing import Any

import simpy

from simulator.stations import BusyMeter, FifoServers, RateCappedSender, SmppSubmit, WindowBudget

__all__ = [
    "BINS_PER_WINDOW",
    "budget_summary",
    "budget_utilisation",
    "depth_sampler",
    "meter_bin_s",
    "run_utilisation",
    "station_utilisation",
]

#: the arrival window is cut into this many bins to find the busiest stretch
BINS_PER_WINDOW = 30
#: the shortest stretch judged: a second's Poisson noise is not a peak a planner provisions for
MIN_BIN_S = 5.0


def meter_bin_s(duration_s: float) -> float:
    """Bin width: the arrival window in :data:`BINS_PER_WINDOW` bins, at least :data:`MIN_BIN_S`."""
    return max(MIN_BIN_S, duration_s / BINS_PER_WINDOW)


def station_utilisation(
    meter: BusyMeter, servers: int, window: tuple[float, float], capacity: str, unit_capacity: float
) -> dict[str, Any]:
    """``mean`` busy share over ``window``, ``peak_offered`` (its busiest bin) and where that was.

    ``unit_capacity`` is what one unit of the resource is worth in the figure a planner sets
    (1 per worker; the sender's msg/s), so ``needed_for_80`` is in the same units as ``capacity``.
    """
    width = meter.width
    first = math.ceil(window[0] / width - 1e-9)
    last = max(first + 1, math.floor(window[1] / width + 1e-9))
    bins = range(first, min(last, len(meter.busy)))
    span = width * len(bins) * servers
    busy = sum(meter.busy[b] for b in bins)
    peak = max(bins, key=lambda b: meter.offered[b], default=first)
    offered = meter.offered[peak] / (width * servers) if bins else 0.0
    return {
        "capacity": capacity,
        "mean": round(busy / span, 4) if span else 0.0,
        "peak_offered": round(offered, 4),
        "peak_from_s": round(peak * width, 3),
        "peak_to_s": round((peak + 1) * width, 3),
        "needed_for_80": math.ceil(offered * unit_capacity * servers / 0.8 - 1e-9) if offered else 0,
    }


def budget_utilisation(budget: WindowBudget, arrivals_end_s: float) -> dict[str, Any]:
    """The largest share of the limit used by a window opened during the arrivals, when it ran out."""
    uses = [used for start, used in budget.uses_per_window() if start < arrivals_end_s]
    ran_out = [t for t in budget.exhausted_at if t // budget.window_s * budget.window_s < arrivals_end_s]
    return {
        "capacity": f"{budget.limit} per {budget.window_s:g} s",
        "peak": round(max(uses, default=0) / budget.limit, 4) if budget.limit else 0.0,
        "used": sum(uses),
        "ran_out_at_s": round(ran_out[0], 3) if ran_out else None,
    }


def budget_summary(budget: WindowBudget) -> dict[str, Any]:
    """A budget's limit, window, use, denials and the times it ran out (for the run record)."""
    return {
        "limit": budget.limit,
        "window_s": budget.window_s,
        "used": budget.used_total,
        "denied": budget.denied,
        "exhausted_at": [round(t, 3) for t in budget.exhausted_at],
    }


def run_utilisation(
    workers: FifoServers,
    sms: RateCappedSender,
    budgets: Mapping[str, WindowBudget],
    *,
    window: tuple[float, float],
    mps: float,
    duration_s: float,
) -> dict[str, Any]:
    """Per resource over the arrival ``window``: the workers, the SMS sender (``mps`` over its
    numbers), and each budget that was used or denied a request."""
    assert workers.meter is not None and sms.meter is not None
    count = workers.servers
    out: dict[str, Any] = {
        "workers": station_utilisation(
            workers.meter, count, window, f"{count} worker" + ("s" if count != 1 else ""), 1.0
        ),
        "sms_sender": station_utilisation(
            sms.meter, sms.numbers, window, f"{mps:g} msg/s", mps / sms.numbers
        ),
    }
    for name, budget in budgets.items():
        if budget.used_total or budget.denied:
            out[name] = budget_utilisation(budget, duration_s)
    return out


def depth_sampler(
    env: simpy.Environment,
    samples: list[tuple[float, float, float, int, int]],
    interval: float,
    workers: FifoServers,
    sms: RateCappedSender,
    smpp: SmppSubmit | None,
    mentions: Sized,
    dms: Sized,
) -> Generator[simpy.Event, Any, None]:
    """Every ``interval``: mean queue lengths over the interval (workers; SMS sender plus the SMPP
    submit stage) and the unread backlogs (``mentions``, ``dms``), appended to ``samples``."""
    samples.append((0.0, 0.0, 0.0, 0, 0))
    while True:
        since = env.now
        yield env.timeout(interval)
        now = env.now
        samples.append(
            (
                now,
                workers.mean_queue(since, now),
                sms.mean_queue(since, now) + (smpp.mean_queue(since, now) if smpp else 0.0),
                len(mentions),
                len(dms),
            )
        )
