"""The processor near saturation: service processes sharing a few cores, one store, and a sink.

:mod:`simulator.model` treats the processor as c FIFO servers with given service times, which is
right while it is lightly used; near saturation what limits it is the machine: N single-threaded
service processes (one event loop each), the load driver, the sink (X and Twilio) and whatever
else runs, all on ``cores`` CPUs, and the store's commits, which are serial. This is an exact
event-driven simulation of that, with no simpy (a processor-sharing CPU does not fit simpy's
timeouts: every runnable task's finishing time moves whenever another becomes runnable):

- **CPU**: processor sharing. Runnable entities (each process's loop, the store lane, the sink)
  each progress at ``min(1, free / (runnable + background))``: ``free`` is ``cores`` less the
  driver's demand (fluid: its CPU seconds per second, small), and the machine's other load counts
  as ``background_threads`` always-runnable threads (the kernel's fair scheduler shares the cores
  among runnable threads, so other people's busy processes slow every step of ours alike). A loop
  that was asleep and gets work waits for its turn first: exponential, with mean ``slice_s`` times
  the other threads per core (the scheduler's time slices of those ahead of it).
- **A process's loop** runs its ready tasks FIFO, one at a time: ``ingest`` (the webhook: parse,
  verify, queue commit), ``batch`` (a worker's group commit of up to ``batch_size`` claimed events,
  ``batch_fixed_s + n * batch_per_event_s``) and ``dispatch`` (an event's reply tweet and SMS:
  client work, then two requests the sink answers, then the sent marks). A share
  ``serial_share`` of each task's work is store work: it runs on the single **store lane**
  (SQLite's write lock; PostgreSQL's commit path), FIFO. With ``inline_store`` (SQLite on the
  loop) the loop waits for it and, finding the lane busy, sleeps as SQLite's busy handler does
  (1, 2, 5, 10, 15, 20, 25 ... ms between retries); otherwise (PostgreSQL, in threads) the loop
  goes on and each store call also waits ``store_wait_s`` of wall time (round trips, flush).
- **Workers**: ``workers`` per process claim from the one shared queue (FIFO) when free.
- Events arrive by a Poisson stream, each to a process chosen at random (keep-alive connections
  land on processes at random). Latency runs from arrival to the sink's answer to the last of the
  event's two messages.

What it leaves out is listed in ``simulator/ARCHITECTURE.md``.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from dataclasses import dataclass, replace
from typing import cast

__all__ = ["SaturationParams", "SimulatedStep", "fit_serial_share", "fit_slice", "simulate_step"]

_BUSY_BACKOFF_S = (0.001, 0.002, 0.005, 0.010, 0.015, 0.020, 0.025, 0.025, 0.025, 0.050, 0.050, 0.100)


@dataclass(frozen=True)
class SaturationParams:
    """Service times (CPU seconds) and the deployment's shape; see the module docstring."""

    cores: float
    processes: int
    workers: int
    batch_size: int
    ingest_s: float
    batch_fixed_s: float
    batch_per_event_s: float
    dispatch_s: float
    sink_s: float
    driver_s: float
    background_threads: float
    serial_share: float
    inline_store: bool
    store_wait_s: float = 0.0
    slice_s: float = 0.0


@dataclass(frozen=True)
class SimulatedStep:
    """One simulated step: counts and sorted latencies (seconds) of the events that arrived in it."""

    rate: float
    seconds: float
    offered: int
    processed_in_step: int
    latencies: list[float]
    mean_batch: float = math.nan

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return math.nan
        return self.latencies[
            min(len(self.latencies) - 1, max(0, math.ceil(q / 100 * len(self.latencies)) - 1))
        ]


class _Task:
    __slots__ = ("kind", "cpu", "store", "events", "owner")

    def __init__(self, kind: str, cpu: float, store: float, events: list[int], owner: int) -> None:
        self.kind, self.cpu, self.store, self.events, self.owner = kind, cpu, store, events, owner


class _Sim:
    """State of one run (see :func:`simulate_step`)."""

    def __init__(self, p: SaturationParams, rate: float, seed: int) -> None:
        self.p, self.rate, self.rng = p, rate, random.Random(seed)
        self.now = 0.0
        self.free_cores = max(0.05, p.cores - min(1.0, p.driver_s * rate))
        self.loops: list[deque[_Task]] = [deque() for _ in range(p.processes)]
        self.running: list[_Task | None] = [None] * p.processes  # loop task in CPU phase
        self.left: list[float] = [0.0] * p.processes
        self.blocked: list[bool] = [False] * p.processes  # waiting on the store (inline)
        self.waking: list[bool] = [False] * p.processes  # woken, waiting for the scheduler's turn
        self.wake_mean = p.slice_s * p.background_threads / p.cores
        self.lane: deque[_Task] = deque()
        self.lane_left = 0.0
        self.sink: deque[int] = deque()
        self.sink_left = 0.0
        self.queue: deque[int] = deque()
        self.idle_workers: list[int] = [i for i in range(p.processes) for _ in range(p.workers)]
        self.timers: list[tuple[float, int, str, object]] = []
        self.serial = 0
        self.batches = 0
        self.batched = 0
        self.arrived: list[float] = []
        self.pending: list[int] = []  # sink answers still due per event
        self.done: list[float] = []

    def timer(self, at: float, kind: str, data: object) -> None:
        self.serial += 1
        heapq.heappush(self.timers, (at, self.serial, kind, data))

    def submit(self, process: int, kind: str, work: float, events: list[int]) -> None:
        store = work * self.p.serial_share
        idle = self.running[process] is None and not self.blocked[process] and not self.loops[process]
        self.loops[process].append(_Task(kind, work - store, store, events, process))
        if idle and self.wake_mean > 0 and not self.waking[process]:
            self.waking[process] = True  # a sleeping loop runs again after other threads' slices
            self.timer(self.now + self.rng.expovariate(1 / self.wake_mean), "wake", process)
            return
        self._start_loop(process)

    def _start_loop(self, process: int) -> None:
        if self.waking[process]:
            return
        if self.running[process] is None and not self.blocked[process] and self.loops[process]:
            task = self.loops[process].popleft()
            self.running[process], self.left[process] = task, task.cpu

    def _cpu_done(self, process: int) -> None:
        task = self.running[process]
        assert task is not None
        self.running[process] = None
        if task.store > 0:
            if self.p.inline_store:
                self.blocked[process] = True
                self._try_lock(task, 0)
                return
            self._enter_lane(task)
        else:
            self._finished(task)
        self._start_loop(process)

    def _try_lock(self, task: _Task, attempt: int) -> None:
        if not self.lane:
            self._enter_lane(task)
        else:
            delay = _BUSY_BACKOFF_S[min(attempt, len(_BUSY_BACKOFF_S) - 1)]
            self.timer(self.now + delay, "retry", (task, attempt + 1))

    def _enter_lane(self, task: _Task) -> None:
        self.lane.append(task)
        if len(self.lane) == 1:
            self.lane_left = task.store

    def _lane_done(self) -> None:
        task = self.lane.popleft()
        if self.lane:
            self.lane_left = self.lane[0].store
        if self.p.inline_store:
            self.blocked[task.owner] = False
            self._finished(task)
            self._start_loop(task.owner)
        elif self.p.store_wait_s > 0:
            self.timer(self.now + self.p.store_wait_s, "stored", task)
        else:
            self._finished(task)

    def _finished(self, task: _Task) -> None:
        p = self.p
        if task.kind == "ingest":
            self.queue.extend(task.events)
            self._claim()
        elif task.kind == "batch":
            self.idle_workers.append(task.owner)
            for event in task.events:
                self.submit(task.owner, "dispatch", p.dispatch_s, [event])
            self._claim()
        else:
            for event in task.events:
                self.sink.extend((event, event))
                if len(self.sink) == 2:
                    self.sink_left = p.sink_s / 2

    def _claim(self) -> None:
        while self.queue and self.idle_workers:
            owner = self.idle_workers.pop(self.rng.randrange(len(self.idle_workers)))
            n = min(self.p.batch_size, len(self.queue))
            events = [self.queue.popleft() for _ in range(n)]
            self.batches += 1
            self.batched += n
            self.submit(owner, "batch", self.p.batch_fixed_s + n * self.p.batch_per_event_s, events)

    def _sink_done(self) -> None:
        event = self.sink.popleft()
        if self.sink:
            self.sink_left = self.p.sink_s / 2
        self.pending[event] -= 1
        if self.pending[event] == 0:
            self.done[event] = self.now

    def run(self, seconds: float, horizon: float) -> None:
        next_arrival = self.rng.expovariate(self.rate) if self.rate > 0 else math.inf
        while True:
            runnable = sum(1 for t in self.running if t is not None) + bool(self.lane) + bool(self.sink)
            speed = min(1.0, self.free_cores / (runnable + self.p.background_threads)) if runnable else 1.0
            step, which = math.inf, ""
            for process, task in enumerate(self.running):
                if task is not None and self.left[process] / speed < step:
                    step, which = self.left[process] / speed, f"loop{process}"
            if self.lane and self.lane_left / speed < step:
                step, which = self.lane_left / speed, "lane"
            if self.sink and self.sink_left / speed < step:
                step, which = self.sink_left / speed, "sink"
            at = self.now + step
            if self.timers and self.timers[0][0] < at:
                at, which = self.timers[0][0], "timer"
            if next_arrival < at and next_arrival < seconds:
                at, which = next_arrival, "arrival"
            if at == math.inf or at > horizon:
                return
            work = (at - self.now) * speed
            for process, task in enumerate(self.running):
                if task is not None:
                    self.left[process] -= work
            if self.lane:
                self.lane_left -= work
            if self.sink:
                self.sink_left -= work
            self.now = at
            if which == "arrival":
                event = len(self.arrived)
                self.arrived.append(at)
                self.pending.append(2)
                self.done.append(math.nan)
                self.submit(self.rng.randrange(self.p.processes), "ingest", self.p.ingest_s, [event])
                next_arrival = at + self.rng.expovariate(self.rate)
            elif which == "timer":
                _, _, kind, data = heapq.heappop(self.timers)
                if kind == "retry":
                    retried, attempt = cast(tuple[_Task, int], data)
                    self._try_lock(retried, attempt)
                elif kind == "wake":
                    self.waking[cast(int, data)] = False
                    self._start_loop(cast(int, data))
                else:
                    self._finished(data)  # type: ignore[arg-type]
            elif which == "lane":
                self._lane_done()
            elif which == "sink":
                self._sink_done()
            else:
                self._cpu_done(int(which[4:]))


def simulate_step(
    params: SaturationParams, rate: float, seconds: float, seed: int, drain_s: float = 120.0
) -> SimulatedStep:
    """Offer ``rate`` events/s for ``seconds``, then let the backlog drain (at most ``drain_s``);
    an event still unfinished then counts at the horizon (a lower bound on its latency)."""
    sim = _Sim(params, rate, seed)
    horizon = seconds + drain_s
    sim.run(seconds, horizon)
    end = sim.now if all(not math.isnan(d) for d in sim.done) else horizon
    latencies = sorted(
        (d if not math.isnan(d) else end) - a for a, d in zip(sim.arrived, sim.done, strict=True)
    )
    in_step = sum(1 for d in sim.done if d <= seconds)
    mean_batch = sim.batched / sim.batches if sim.batches else math.nan
    return SimulatedStep(rate, seconds, len(sim.arrived), in_step, latencies, mean_batch)


def fit_serial_share(
    params: SaturationParams, rate: float, seconds: float, measured_per_s: float, seed: int = 7
) -> SaturationParams:
    """``params`` with the ``serial_share`` at which a saturating step of ``rate`` for ``seconds``
    finishes ``measured_per_s`` events/s, as the calibration probe did (bisection on [0, 1]; a share
    of 0 when even that finishes fewer)."""
    lo, hi = 0.0, 1.0
    for _ in range(10):
        mid = (lo + hi) / 2
        if _finished_rate(replace(params, serial_share=mid), rate, seconds, seed) > measured_per_s:
            lo = mid
        else:
            hi = mid
    return replace(params, serial_share=(lo + hi) / 2)


def _finished_rate(params: SaturationParams, rate: float, seconds: float, seed: int) -> float:
    sim = _Sim(params, rate, seed)
    sim.run(seconds, seconds + 120.0)
    finished = [d for d in sim.done if not math.isnan(d)]
    return len(finished) / (max(finished) - sim.arrived[0]) if len(finished) > 1 else 0.0


def fit_slice(
    params: SaturationParams, rate: float, seconds: float, measured_p95_s: float, seeds: int = 3
) -> SaturationParams:
    """``params`` with the ``slice_s`` (0-20 ms) at which a low-rate step's p95 (median over
    ``seeds`` runs) is the measured one: the wake-up wait under the machine's other load."""
    if params.background_threads <= 0:
        return params

    def p95(slice_s: float) -> float:
        runs = [simulate_step(replace(params, slice_s=slice_s), rate, seconds, 11 + k) for k in range(seeds)]
        return sorted(r.percentile(95) for r in runs)[seeds // 2]

    lo, hi = 0.0, 0.020
    for _ in range(10):
        mid = (lo + hi) / 2
        if p95(mid) < measured_p95_s:
            lo = mid
        else:
            hi = mid
    return replace(params, slice_s=(lo + hi) / 2)
