"""Analytic queueing results used to validate the simulator.

Erlang C for M/M/c (anchors §4): with offered load A = lambda*h Erlangs and c servers,
P_W = [A^c/c! * c/(c-A)] / [sum_{k<c} A^k/k! + A^c/c! * c/(c-A)] and W_q = P_W*h/(c-A).
Computed through the numerically stable Erlang B recursion. A Jackson network of M/M/c stations in
series (a tandem) behaves as independent M/M/c queues each fed at the same rate (Burke's theorem).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MmcAnalytic", "erlang_b", "erlang_c", "mmc_analytic"]


def erlang_b(offered: float, servers: int) -> float:
    """Blocking probability of M/M/c/c with ``offered`` Erlangs."""
    b = 1.0
    for k in range(1, servers + 1):
        b = offered * b / (k + offered * b)
    return b


def erlang_c(offered: float, servers: int) -> float:
    """Probability that an arrival waits in M/M/c (requires offered < servers)."""
    if offered >= servers:
        return 1.0
    b = erlang_b(offered, servers)
    rho = offered / servers
    return b / (1.0 - rho * (1.0 - b))


@dataclass(frozen=True)
class MmcAnalytic:
    """Steady-state figures of an M/M/c queue."""

    utilization: float
    p_wait: float
    mean_wait: float
    mean_sojourn: float
    mean_queue_length: float


def mmc_analytic(arrival_rate: float, service_time: float, servers: int) -> MmcAnalytic:
    """Erlang C figures for arrival rate lambda, mean service time h and c servers (stable only)."""
    offered = arrival_rate * service_time
    if offered >= servers:
        raise ValueError(f"unstable: offered load {offered:.3f} >= {servers} servers")
    p_wait = erlang_c(offered, servers)
    mean_wait = p_wait * service_time / (servers - offered)
    return MmcAnalytic(
        offered / servers, p_wait, mean_wait, mean_wait + service_time, arrival_rate * mean_wait
    )
