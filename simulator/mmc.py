"""Plain M/M/c queues (and tandems of them) in simpy, for validation against Erlang C and Jackson.

Each arrival is a simpy event (a callback on a timeout, no generator process), and so is each
departure that feeds a downstream station. The waiting time of a FIFO customer is exact on
arrival by the Kiefer-Wolfowitz recursion (:class:`~simulator.stations.FifoServers`), so a
departure nobody consumes is not scheduled. Statistics are streamed (no per-customer storage).
Warm-up: the first ``warmup`` customers are simulated but not measured (default: a tenth of
``customers``). ``mean_wait_ci95`` is a batch-means interval (20 batches) of the measured ones.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from heapq import heapreplace
from typing import Any

import simpy
from simpy.events import Timeout

from simulator.erlang import mmc_analytic

__all__ = ["MmcResult", "StationResult", "simulate_mmc", "simulate_tandem"]

_BATCHES = 20
#: two-sided 95 % Student t quantile for 19 degrees of freedom (20 batches)
_T19 = 2.093


@dataclass
class StationResult:
    """Measured figures of one station."""

    servers: int
    service_time: float
    p_wait: float
    mean_wait: float
    mean_wait_ci95: tuple[float, float]
    utilization: float
    analytic_p_wait: float
    analytic_mean_wait: float


@dataclass
class MmcResult:
    """Result of one M/M/c (or tandem) run; :meth:`as_json` is what ``simulate mmc --json`` prints."""

    arrival_rate: float
    customers: int
    warmup_customers: int
    seed: int
    stations: list[StationResult] = field(default_factory=list)
    sim_time: float = 0.0
    wall_s: float = 0.0
    events: int = 0

    @property
    def p_wait(self) -> float:
        """Probability of waiting at the first station."""
        return self.stations[0].p_wait

    @property
    def mean_wait(self) -> float:
        """Mean time in queue at the first station."""
        return self.stations[0].mean_wait

    def as_json(self) -> dict[str, Any]:
        """Flat JSON for one station, nested ``stations`` for a tandem."""
        out: dict[str, Any] = {
            "arrival_rate": self.arrival_rate,
            "customers": self.customers,
            "warmup_customers": self.warmup_customers,
            "seed": self.seed,
            "sim_time": self.sim_time,
            "wall_s": self.wall_s,
            "customers_per_s": self.customers_per_s,
        }
        if len(self.stations) == 1:
            out.update(asdict(self.stations[0]))
        else:
            out["stations"] = [asdict(s) for s in self.stations]
            out["mean_wait_total"] = sum(s.mean_wait for s in self.stations)
        return out

    @property
    def customers_per_s(self) -> float:
        """Simulated customers (warm-up included) per wall-clock second."""
        return (self.customers + self.warmup_customers) / self.wall_s if self.wall_s > 0 else math.inf


class _Station:
    """One FIFO M/M/c station with streaming statistics (no per-customer storage).

    The Kiefer-Wolfowitz recursion of :class:`~simulator.stations.FifoServers`, inlined: this is
    the inner loop of the validation runs and of the ciw comparison.
    """

    __slots__ = (
        "departures",
        "batch_start",
        "free",
        "left_in_batch",
        "waited",
        "warmup",
        "batch_size",
        "batches",
        "busy",
        "env",
        "measured",
        "next",
        "service",
        "servers",
        "total_wait",
    )

    def __init__(
        self, env: simpy.Environment, servers: int, service: Any, warmup: int, batch_size: int
    ) -> None:
        self.env = env
        self.servers = servers
        self.free = [0.0] * servers  # heap of the times each server next becomes free
        self.service = service
        self.warmup = warmup
        self.batch_size = self.left_in_batch = max(batch_size, 1)
        self.next: _Station | None = None
        self.departures = False
        self.busy = self.total_wait = self.batch_start = 0.0
        self.measured = self.waited = 0
        self.batches: list[float] = []

    def arrive(self, index: int) -> None:
        now = self.env.now
        service = self.service()
        free = self.free  # Kiefer-Wolfowitz: the heap of server free times, inlined for speed
        earliest = free[0]
        start = earliest if earliest > now else now
        heapreplace(free, start + service)
        if index >= self.warmup:
            wait = start - now
            self.busy += service
            if wait > 0:
                self.total_wait += wait
                self.waited += 1
            self.left_in_batch -= 1
            if not self.left_in_batch:
                self.measured += self.batch_size
                self.batches.append((self.total_wait - self.batch_start) / self.batch_size)
                self.batch_start = self.total_wait
                self.left_in_batch = self.batch_size
        if self.next is not None or self.departures:  # done is exact; the event is for a consumer
            Timeout(self.env, start + service - now, index).callbacks.append(self._depart)

    def finish(self) -> None:
        """Count the customers of the last, partial batch."""
        self.measured += self.batch_size - self.left_in_batch

    def _depart(self, event: simpy.Event) -> None:
        if self.next is not None:
            self.next.arrive(event._value)


def simulate_tandem(
    arrival_rate: float,
    stations: Sequence[tuple[float, int]],
    customers: int,
    seed: int = 1,
    warmup: int | None = None,
    departure_events: bool = False,
) -> MmcResult:
    """Poisson arrivals through M/M/c stations in series, given as ``(mean service time, servers)``.

    ``departure_events`` schedules every departure as a simpy event even when nothing consumes it
    (the results are the same; it shows what a full event-per-departure model costs).
    """
    if arrival_rate <= 0 or customers <= 0 or not stations:
        raise ValueError("arrival_rate, customers and stations must be positive")
    warm = customers // 10 if warmup is None else warmup
    total = customers + warm
    env = simpy.Environment()
    rng = random.Random(seed)
    expo = rng.expovariate
    nodes: list[_Station] = []
    for service_time, servers in stations:
        rate = 1.0 / service_time
        nodes.append(_Station(env, servers, lambda rate=rate: expo(rate), warm, customers // _BATCHES))
    for a, b in zip(nodes, nodes[1:], strict=False):
        a.next = b
    nodes[-1].departures = departure_events
    measure_from = last_arrival = 0.0
    arrive = nodes[0].arrive
    index = 0

    def on_arrival(event: simpy.Event) -> None:
        nonlocal index, measure_from, last_arrival
        last_arrival = env.now
        if index == warm:
            measure_from = env.now
        arrive(index)
        index += 1
        if index < total:
            Timeout(env, expo(arrival_rate)).callbacks.append(on_arrival)

    Timeout(env, expo(arrival_rate)).callbacks.append(on_arrival)
    started = time.perf_counter()
    env.run()
    wall = time.perf_counter() - started
    span = last_arrival - measure_from  # the measured arrivals' window
    result = MmcResult(arrival_rate, customers, warm, seed, sim_time=env.now, wall_s=wall)
    for node, (service_time, servers) in zip(nodes, stations, strict=True):
        analytic = mmc_analytic(arrival_rate, service_time, servers)
        node.finish()
        mean = node.total_wait / node.measured
        result.stations.append(
            StationResult(
                servers,
                service_time,
                node.waited / node.measured,
                mean,
                _batch_ci(node.batches[:_BATCHES], mean),
                node.busy / (servers * span) if span > 0 else 0.0,
                analytic.p_wait,
                analytic.mean_wait,
            )
        )
    return result


def simulate_mmc(
    arrival_rate: float,
    service_time: float,
    servers: int,
    customers: int,
    seed: int = 1,
    warmup: int | None = None,
    departure_events: bool = False,
) -> MmcResult:
    """One M/M/c queue: Poisson arrivals at ``arrival_rate``, exponential service of mean ``service_time``."""
    return simulate_tandem(arrival_rate, [(service_time, servers)], customers, seed, warmup, departure_events)


def _batch_ci(means: list[float], mean: float) -> tuple[float, float]:
    if len(means) < _BATCHES:
        return (mean, mean)
    grand = sum(means) / _BATCHES
    sd = math.sqrt(sum((m - grand) ** 2 for m in means) / (_BATCHES - 1))
    half = _T19 * sd / math.sqrt(_BATCHES)
    return (mean - half, mean + half)
