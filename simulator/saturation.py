"""The processor near saturation: service processes and store backends sharing a few cores.

:mod:`simulator.model` treats the processor as c FIFO servers with given service times, which is
right while it is lightly used; near saturation what limits it is the machine: N single-threaded
service processes (one event loop each, their worker threads under the same GIL), on PostgreSQL
one backend process per connection, the load driver, the sink (X and Twilio) and whatever else
runs, all on ``cores`` CPUs, and the store's serial work. :mod:`simulator.saturation_sim` is an
exact event-driven simulation of that, with no simpy (under processor sharing every runnable
server's finishing time moves whenever another becomes runnable); its docstring gives the flow.

- **CPU**: processor sharing among the running servers and the machine's other load, given as
  ``background_cores``: the CPU other processes (the load driver included) were measured to take in
  the step, and ``background_threads``, their runnable threads as the step counted them (threads
  in state R outside the deployment). Without the count, the CPU becomes the number of always-runnable
  threads that would take that much beside the model's own servers (:func:`other_threads`, from a
  pilot run), which undercounts threads that are runnable but share their core's time. A
  server that was asleep and gets work waits first for its turn: exponential, mean ``slice_s``
  times the other load per core.
- **Group commits** (webhook ingestion, a worker's batch, the dispatcher's record of results) cost
  ``commit_fixed_s`` each plus a per-event figure; a share ``store_share`` of that is store work.
  SQLite (``inline_store``): the loop's thread does it under the write lock, sleeping as SQLite's
  busy handler does (1, 2, 5, 10 ... ms) while another process holds it. PostgreSQL: the
  connection's backend does it beside the loops, its ``serial_share`` on one lane (locks, the WAL),
  then ``store_wait_s`` of wall time (round trips, the flush).
- **Workers** (``workers`` per process) claim from the one shared queue; a process's ingest commit
  wakes its own idle workers, the others look every ``idle_poll_s``.
- **The dispatcher** sends each event's two messages from the loop (``send_s``), the sink answers
  each (``sink_s`` per event), and reading each answer (``receive_s``) is another loop task: the
  event's latency ends there, from its arrival (to a process chosen at random). Each way to and
  from the sink also takes ``hop_s`` of wall time (wake-ups, loopback, the clients' own waits).

What it leaves out is listed in ``simulator/ARCHITECTURE.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from simulator.metrics import percentile
from simulator.saturation_params import SaturationParams
from simulator.saturation_sim import Engine

__all__ = ["SaturationParams", "SimulatedStep", "fit_share", "fit_slice", "other_threads", "simulate_step"]


@dataclass(frozen=True)
class SimulatedStep:
    """One simulated step: counts and sorted latencies (seconds) of the events that arrived in it."""

    rate: float
    seconds: float
    offered: int
    processed_in_step: int
    latencies: list[float]
    mean_batch: float = math.nan
    commits_per_event: float = math.nan

    def percentile(self, q: float) -> float:
        return percentile(self.latencies, q)


def other_threads(running_time: dict[int, float], cores: float, other_cores: float) -> float:
    """Always-runnable threads that, sharing ``cores`` with our servers (``running_time``: how long
    n of them were running), take ``other_cores`` on average: ``k`` with
    ``sum_n P(n) * k * min(1, cores / (n + k)) = other_cores`` (at least ``other_cores``)."""
    total = sum(running_time.values())
    if other_cores <= 0 or total <= 0:
        return max(0.0, other_cores)

    def taken(k: float) -> float:
        return sum(t * k * min(1.0, cores / (n + k)) for n, t in running_time.items()) / total

    lo, hi = other_cores, 64.0
    if taken(hi) <= other_cores:  # more than sharing can give them
        return hi
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if taken(mid) < other_cores else (lo, mid)
    return (lo + hi) / 2


def simulate_step(
    params: SaturationParams, rate: float, seconds: float, seed: int, drain_s: float = 120.0
) -> SimulatedStep:
    """Offer ``rate`` events/s for ``seconds``, then let the backlog drain (at most ``drain_s``);
    an event still unfinished then counts at the horizon (a lower bound on its latency). The other
    load (``background_cores``, CPU) runs as ``background_threads`` always-runnable threads when
    those were measured, else as :func:`other_threads` threads, found from a pilot run of the
    offered period with as many threads as cores."""
    sim = _run(params, rate, seconds, seed, seconds + drain_s)
    end = sim.now if all(not math.isnan(d) for d in sim.done) else seconds + drain_s
    latencies = sorted(
        (d if not math.isnan(d) else end) - a for a, d in zip(sim.arrived, sim.done, strict=True)
    )
    in_step = sum(1 for d in sim.done if d <= seconds)
    mean_batch = sim.batched / sim.batches if sim.batches else math.nan
    events = len(sim.arrived)
    commits = sim.commits / events if events else math.nan
    return SimulatedStep(rate, seconds, events, in_step, latencies, mean_batch, commits)


def _run(params: SaturationParams, rate: float, seconds: float, seed: int, horizon: float) -> Engine:
    threads = params.background_cores
    if params.background_threads is not None and threads > 0:
        threads = params.background_threads  # measured: as many as the kernel counted
    elif threads > 0:
        pilot = Engine(params, rate, seed, threads)
        pilot.run(seconds, seconds)
        threads = other_threads(pilot.running_time, params.cores, params.background_cores)
    sim = Engine(params, rate, seed, threads)
    sim.run(seconds, horizon)
    return sim


def fit_share(
    params: SaturationParams,
    name: Literal["store_share", "serial_share"],
    rate: float,
    seconds: float,
    measured_per_s: float,
    seed: int = 7,
) -> SaturationParams:
    """``params`` with the share ``name`` (``store_share`` or ``serial_share``, on [0, 0.95]) at
    which a saturating step of ``rate`` for ``seconds`` finishes ``measured_per_s`` events/s, as the
    calibration probe did (bisection; 0 when even that finishes fewer)."""
    lo, hi = 0.0, 0.95
    for _ in range(8):
        mid = (lo + hi) / 2
        if _finished_rate(_with_share(params, name, mid), rate, seconds, seed) > measured_per_s:
            lo = mid
        else:
            hi = mid
    return _with_share(params, name, (lo + hi) / 2)


def _with_share(params: SaturationParams, name: str, value: float) -> SaturationParams:
    if name == "store_share":
        return replace(params, store_share=value)
    return replace(params, serial_share=value)


def _finished_rate(params: SaturationParams, rate: float, seconds: float, seed: int) -> float:
    sim = _run(params, rate, seconds, seed, seconds + 120.0)
    finished = [d for d in sim.done if not math.isnan(d)]
    return len(finished) / (max(finished) - sim.arrived[0]) if len(finished) > 1 else 0.0


def fit_slice(
    params: SaturationParams, rate: float, seconds: float, measured_p95_s: float, seeds: int = 3
) -> SaturationParams:
    """``params`` with the ``slice_s`` (0-20 ms) at which a low-rate step's p95 (median over
    ``seeds`` runs) is the measured one: the wake-up wait under the machine's other load."""
    if params.background_cores <= 0:
        return params

    def p95(slice_s: float) -> float:
        runs = [simulate_step(replace(params, slice_s=slice_s), rate, seconds, 11 + k) for k in range(seeds)]
        return sorted(r.percentile(95) for r in runs)[seeds // 2]

    lo, hi = 0.0, 0.020
    for _ in range(8):
        mid = (lo + hi) / 2
        if p95(mid) < measured_p95_s:
            lo = mid
        else:
            hi = mid
    return replace(params, slice_s=(lo + hi) / 2)
