"""Fitting the model's stations to what the fakes observed of a system (``twittcom calibrate``).

The input is plain data (``loadtests.observe`` writes it): *jobs* ``(command, posted, done)``, one
per message a subscriber sent (``done`` is when the system's first answer reached a fake, None when
none is expected or came), and the instants the system read its mentions and DMs. The model's
stations and what fits each:

- **ingestion** (polling): the poll period is the median gap between reads (reads closer than
  :data:`SAME_POLL_S` are pages of one poll); each job is ingested at the first read of its channel
  at or after it was posted. Without reads the system takes webhooks: a job is ingested
  ``webhook_delay_s`` (the fake's own delay, the scenario's) after it was posted.
- **workers**: ``c`` FIFO servers, each command a mean service time. For a given ``c``, every job is
  replayed through the exact FIFO recursion (start = max(ingested, earliest free server)) with the
  commands' means, and the means minimise the absolute error of the predicted done times (noise,
  never answered, still takes its server's time): coordinate descent by golden-section search.
  Each candidate ``c`` gets its error, so how well the configured concurrency explains the run is
  stated, not assumed.
- **variability**: each command's coefficient of variation from the jobs that found the servers idle
  (their done - ingested *is* one service time); below :data:`CONSTANT_CV` the service is a constant.

The processing error (:attr:`StationFit.error`) is the median absolute error of the replayed
processing latencies (done - posted) over their median.
"""

from __future__ import annotations

import heapq
import statistics
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CONSTANT_CV", "SAME_POLL_S", "StationFit", "fit_stations", "poll_period"]

#: reads closer than this are pages of one poll
SAME_POLL_S = 0.05
#: a command whose services vary less than this (sd / mean) is given a constant service time
CONSTANT_CV = 0.1
_COMMANDS = ("reg", "code", "act", "dm", "noise")
_FLOOR_S = 1e-5


@dataclass
class StationFit:
    """What the fit found (the scenario keys are :meth:`scenario_keys`)."""

    mode: str
    poll_interval_s: float | None
    dm_poll_interval_s: float | None
    page_size: int | None
    workers: int
    service_mean_s: dict[str, float]
    service_cv: dict[str, float]
    reply_to: list[str]
    error: float
    error_by_workers: dict[int, float] = field(default_factory=dict)
    jobs: int = 0
    answered: int = 0
    observed_processing_s: dict[str, float] = field(default_factory=dict)
    predicted_processing_s: dict[str, float] = field(default_factory=dict)

    def service_spec(self, command: str) -> dict[str, Any]:
        mean = self.service_mean_s[command]
        cv = self.service_cv.get(command, 0.0)
        if cv < CONSTANT_CV:
            return {"dist": "constant", "value": round(mean, 6)}
        return {"dist": "lognormal", "mean": round(mean, 6), "sd": round(mean * cv, 6)}

    def scenario_keys(self) -> dict[str, Any]:
        """The nested scenario keys the fit determined (merge them over the run's scenario)."""
        ingestion: dict[str, Any] = {"mode": self.mode}
        if self.poll_interval_s is not None:
            ingestion["poll_interval_s"] = round(self.poll_interval_s, 4)
        if self.dm_poll_interval_s is not None:
            ingestion["dm_poll_interval_s"] = round(self.dm_poll_interval_s, 4)
        if self.page_size:
            ingestion["page_size"] = self.page_size
        service = {c: self.service_spec(c) for c in _COMMANDS if c in self.service_mean_s}
        return {
            "system": {
                "ingestion": ingestion,
                "workers": {"count": self.workers, "service": service},
                "x_budget": {"reply_to": self.reply_to},
            }
        }


def poll_period(reads: list[float]) -> float | None:
    """The median gap between polls (reads within :data:`SAME_POLL_S` are one poll), None if < 3."""
    polls: list[float] = []
    for t in sorted(reads):
        if not polls or t - polls[-1] > SAME_POLL_S:
            polls.append(t)
    if len(polls) < 3:
        return None
    return statistics.median(b - a for a, b in zip(polls, polls[1:], strict=False))


def _ingested(jobs: list[list[Any]], reads: dict[str, list[float]], webhook_delay_s: float) -> list[float]:
    import bisect

    out = []
    for command, posted, _ in jobs:
        channel = reads["dms" if command == "dm" else "mentions"]
        if not channel:
            out.append(posted + webhook_delay_s)
            continue
        i = bisect.bisect_left(channel, posted)
        out.append(channel[i] if i < len(channel) else float("nan"))
    return out


def _replay(
    order: list[int], kinds: list[int], ingest: list[float], means: list[float], c: int
) -> list[float]:
    """Done times of jobs (in ``order``) through ``c`` FIFO servers with deterministic services."""
    done = [0.0] * len(kinds)
    if c == 1:  # one server: the Lindley recursion, no heap
        last = float("-inf")
        for i in order:
            last = done[i] = (ingest[i] if ingest[i] > last else last) + means[kinds[i]]
        return done
    free = [float("-inf")] * c
    for i in order:
        start = max(ingest[i], free[0])
        done[i] = start + means[kinds[i]]
        heapq.heapreplace(free, done[i])
    return done


def _golden(f: Any, lo: float, hi: float, steps: int = 20) -> float:
    ratio = 0.6180339887
    a, b = lo, hi
    x1, x2 = b - ratio * (b - a), a + ratio * (b - a)
    f1, f2 = f(x1), f(x2)
    for _ in range(steps):
        if f1 <= f2:
            b, x2, f2 = x2, x1, f1
            x1 = b - ratio * (b - a)
            f1 = f(x1)
        else:
            a, x1, f1 = x1, x2, f2
            x2 = a + ratio * (b - a)
            f2 = f(x2)
    return (a + b) / 2


def fit_stations(
    observed: dict[str, Any], *, workers: int, fit_workers: bool = False, webhook_delay_s: float = 0.0,
    candidates: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 16),
) -> StationFit:  # fmt: skip
    """Fit the stations to ``observed`` (see the module docstring); ``workers`` is the system's
    configured concurrency, kept unless ``fit_workers`` (then the candidate with the least error)."""
    reads = {k: sorted(v) for k, v in observed["reads"].items()}
    raw = [j for j in observed["jobs"] if j[0] in _COMMANDS]
    ingest_all = _ingested(raw, reads, webhook_delay_s)
    keep = [i for i, t in enumerate(ingest_all) if t == t]  # drop jobs no read ever reached
    jobs = [raw[i] for i in keep]
    ingest = [ingest_all[i] for i in keep]
    if not any(j[2] is not None for j in jobs):
        raise ValueError("no answered job in the observed run: nothing to fit (did the system answer?)")
    kinds = [_COMMANDS.index(j[0]) for j in jobs]
    order = sorted(range(len(jobs)), key=lambda i: (ingest[i], jobs[i][1]))
    answered = [i for i in order if jobs[i][2] is not None]
    idle = _idle_services(order, jobs, ingest)
    start = []
    for k, command in enumerate(_COMMANDS):
        sample = idle.get(command) or [jobs[i][2] - ingest[i] for i in answered if kinds[i] == k]
        start.append(max(_FLOOR_S, statistics.median(sample)) if sample else 0.0)
    if start[_COMMANDS.index("noise")] == 0.0:
        known = [s for s in start if s > 0]
        start[_COMMANDS.index("noise")] = min(known) if known else _FLOOR_S
    present = sorted({kinds[i] for i in range(len(jobs))})

    def loss(means: list[float], c: int) -> float:
        done = _replay(order, kinds, ingest, means, c)
        return float(sum(abs(done[i] - jobs[i][2]) for i in answered))

    errors: dict[int, float] = {}
    fitted: dict[int, list[float]] = {}
    # the configured concurrency first; the other candidates start from its fit and, unless they
    # may be chosen (fit_workers), get one sweep: enough to state their error
    for c in [workers, *sorted(set(candidates) - {workers})]:
        means = list(fitted.get(workers, start))
        for _ in range(3 if fit_workers or c == workers else 1):
            for k in present:
                hi = max(4 * means[k], 0.05)

                def f(x: float, k: int = k, c: int = c, means: list[float] = means) -> float:
                    means[k] = x
                    return loss(means, c)

                means[k] = _golden(f, _FLOOR_S, hi)
        fitted[c], errors[c] = means, loss(means, c) / len(answered)
    chosen = min(errors, key=lambda c: (errors[c], c)) if fit_workers else workers
    means = fitted[chosen]
    done = _replay(order, kinds, ingest, means, chosen)
    observed_lat = [jobs[i][2] - jobs[i][1] for i in answered]
    predicted_lat = [done[i] - jobs[i][1] for i in answered]
    mae = statistics.median(abs(p - o) for p, o in zip(predicted_lat, observed_lat, strict=True))
    by_command_obs: dict[str, float] = {}
    by_command_pred: dict[str, float] = {}
    for k, command in enumerate(_COMMANDS):
        mine = [n for n, i in enumerate(answered) if kinds[i] == k]
        if mine:
            by_command_obs[command] = statistics.mean(observed_lat[n] for n in mine)
            by_command_pred[command] = statistics.mean(predicted_lat[n] for n in mine)
    cv = {
        command: statistics.pstdev(sample) / statistics.mean(sample)
        for command, sample in idle.items()
        if len(sample) >= 5 and statistics.mean(sample) > 0
    }
    pooled = statistics.median(cv.values()) if cv else 0.0
    replied = observed.get("replied", {})
    counts = observed.get("counts", {})
    return StationFit(
        mode="polling" if reads.get("mentions") else "webhook",
        poll_interval_s=poll_period(reads.get("mentions", [])),
        dm_poll_interval_s=poll_period(reads.get("dms", [])),
        page_size=max(observed.get("page_sizes") or [0]) or None,
        workers=chosen,
        service_mean_s={_COMMANDS[k]: means[k] for k in present},
        service_cv={_COMMANDS[k]: cv.get(_COMMANDS[k], pooled) for k in present},
        reply_to=[c for c in ("reg", "code", "act") if counts.get(c) and replied.get(c, 0) > counts[c] / 2],
        error=mae / max(1e-9, statistics.median(observed_lat)),
        error_by_workers=errors,
        jobs=len(jobs),
        answered=len(answered),
        observed_processing_s=by_command_obs,
        predicted_processing_s=by_command_pred,
    )


def _idle_services(order: list[int], jobs: list[list[Any]], ingest: list[float]) -> dict[str, list[float]]:
    """Service times of answered jobs that were first of their poll and found the system idle (every
    job ingested before them had been answered by their ingestion)."""
    out: dict[str, list[float]] = {}
    busy_until, previous_ingest = float("-inf"), None
    for i in order:
        command, _, done = jobs[i]
        if ingest[i] != previous_ingest and done is not None and busy_until <= ingest[i]:
            out.setdefault(command, []).append(done - ingest[i])
        if done is not None:
            busy_until = max(busy_until, done)
        previous_ingest = ingest[i]
    return out
