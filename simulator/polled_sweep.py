"""One offered-load sweep step of a system under test, predicted from a calibrated scenario.

``twittcom sweep --against`` offers open-loop Poisson posts of a scenario's mix (mentions and DMs,
each from a new user: no journey follows) and times each from its scheduled time to the system's
first answer at a fake. This predicts the same step with the stations of
:class:`simulator.model.TwittcomModel`, calibrated by ``twittcom calibrate``
(:mod:`simulator.fit`): ingestion as the model has it (polling every ``poll_interval_s`` /
``dm_poll_interval_s`` with pages of ``page_size`` under the read budget of
``rate_limit_requests`` per window, or webhook deliveries after ``webhook_delay``), then
``workers.count`` FIFO servers (:class:`~simulator.stations.FifoServers`) with each command's
calibrated service time (noise takes its server's time and gets no answer). A job's answer time
is its completion, as the fit defines it (the gateway or X received the answer).

A mentions round reaches only X's :data:`MENTIONS_DEPTH` newest mentions: a poller further behind
loses the older ones, which are never answered (as at X, and at fake X), unless it reads them from
recent search (``depth=None``). DMs have no such depth.

Left out, as in the calibration: journeys (no code reply or buy follows a post), the gateway's
queue and the carrier (the sweep stops its clock at the fake, before either), and the poll's own
phase, drawn uniformly per replication.
"""

from __future__ import annotations

import bisect
import math
import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scenario import Scenario
from simulator.stations import FifoServers, WindowBudget

__all__ = ["MENTIONS_DEPTH", "PolledStep", "read_cost_per_message", "simulate_polled_step"]

#: the kinds the sweep offers, in the scenario's mix order (code is left out: it answers an SMS)
KINDS = ("noise", "reg", "act", "dm")
#: X's mentions timeline pages back through the newest 800 mentions only (GET /2/users/:id/mentions)
MENTIONS_DEPTH = 800


@dataclass(frozen=True)
class PolledStep:
    """One simulated step: events offered, latencies (s) of the answered kinds, answered in the step."""

    offered: int
    timed: int
    processed_in_step: int
    latencies: tuple[float, ...]

    def percentile(self, q: float) -> float:
        """The ``q`` (0-100) percentile of the latencies (nearest rank); nan without any."""
        values = self.latencies
        if not values:
            return math.nan
        rank = min(len(values) - 1, max(0, math.ceil(q / 100 * len(values)) - 1))
        return values[rank]


def _arrivals(
    rate: float, seconds: float, shares: list[float], rng: random.Random
) -> list[tuple[float, int]]:
    out: list[tuple[float, int]] = []
    t, acc = 0.0, 0.0
    cumulative: list[float] = []
    for share in shares:
        acc += share
        cumulative.append(acc)
    while True:
        t += rng.expovariate(rate)
        if t >= seconds:
            return out
        u = rng.random() * acc
        out.append((t, next(i for i, c in enumerate(cumulative) if u <= c)))


def _polled(
    arrivals: list[tuple[float, int]],
    interval: float,
    phase: float,
    budget: WindowBudget,
    page: int,
    end: float,
    read_cost: float = 0.0,
    depth: int | None = None,
    stall: Callable[[], float] = lambda: 0.0,
) -> list[tuple[float, float, int]]:
    """(ingested, posted, kind) of ``arrivals`` read by a poller from ``phase`` on: a round reads
    what is there (the ``depth`` newest of it: the older are lost), ingests it ``read_cost`` per
    message and a ``stall()`` later, and the next round starts ``interval`` after that
    (``read_cost`` 0 and no stalls: a fixed cadence)."""
    out: list[tuple[float, float, int]] = []
    backlog: deque[tuple[float, int]] = deque()
    i, now = 0, phase
    while now <= end and (i < len(arrivals) or backlog):
        while i < len(arrivals) and arrivals[i][0] <= now:
            backlog.append(arrivals[i])
            i += 1
        while depth is not None and len(backlog) > depth:
            backlog.popleft()  # beyond the timeline's reach: never read
        pages = budget.take(now, max(1, math.ceil(len(backlog) / page)))
        taken = min(len(backlog), pages * page)
        ingested = now + read_cost * taken + stall()
        for _ in range(taken):
            posted, kind = backlog.popleft()
            out.append((ingested, posted, kind))
        now = ingested + interval
    return out


def simulate_polled_step(
    scenario: Scenario,
    rate: float,
    seconds: float,
    seed: int,
    drain_s: float = 120.0,
    held: float = 1.0,
    read_cost: float = 0.0,
    stalls: Sequence[float] = (),
    depth: int | None = MENTIONS_DEPTH,
) -> PolledStep:
    """The step at ``rate`` posts/s for ``seconds`` (see the module docstring).

    ``held`` scales the time each message holds its server (the calibrated capacity over the one
    a saturating probe measured); its answer comes ``max(1, held)`` times its service time after
    its start. Below 1: part of the low-load service time overlaps the next message (a system that
    batches or pipelines); above 1: each message costs more under load than alone. ``read_cost``
    (s per message) is the time a polling round takes per message it reads, for a poller that waits
    its interval after each round rather than keeping a cadence, and each round takes one of
    ``stalls`` (s, drawn at random) more (see :func:`read_cost_per_message`). ``depth`` None: the
    system reads what its mentions timeline lost from recent search (as the reference does), and
    loses none."""
    rng = random.Random(f"{seed}/polled-sweep")
    mix = scenario.arrivals.mix
    shares = [mix.share(k) for k in KINDS]
    arrivals = _arrivals(rate, seconds, shares, rng) if rate > 0 else []
    system = scenario.system
    ing = system.ingestion
    end = seconds + drain_s
    if ing.mode == "polling":
        draw = random.Random(f"{seed}/stalls")

        def stall() -> float:
            return draw.choice(stalls) if stalls else 0.0

        mentions = [a for a in arrivals if KINDS[a[1]] != "dm"]
        dms = [a for a in arrivals if KINDS[a[1]] == "dm"]
        read = _polled(
            mentions,
            ing.poll_interval_s,
            rng.random() * ing.poll_interval_s,
            WindowBudget(ing.rate_limit_requests, ing.rate_limit_window_s),
            ing.page_size,
            end,
            read_cost,
            depth,
            stall,
        )
        read += _polled(
            dms,
            ing.dm_poll_interval_s,
            rng.random() * ing.dm_poll_interval_s,
            WindowBudget(ing.dm_rate_limit_requests, ing.dm_rate_limit_window_s),
            ing.page_size,
            end,
            read_cost,
            stall=stall,
        )
    else:
        delay = ing.webhook_delay.sampler(random.Random(f"{seed}/webhook"))
        read = [(t + delay(), t, kind) for t, kind in arrivals]
    read.sort()
    service = [system.workers.service_of(k).sampler(random.Random(f"{seed}/service/{k}")) for k in KINDS]
    servers = FifoServers(system.workers.count, track_queue=False)
    latencies, in_step, timed = [], 0, 0
    for ingested, posted, kind in read:
        work = service[kind]()
        _, done = servers.admit(ingested, held * work)
        done += max(0.0, (1 - held) * work)
        if KINDS[kind] == "noise":
            continue
        timed += 1
        latencies.append(done - posted)
        in_step += done <= seconds
    timed_offered = sum(1 for _, kind in arrivals if KINDS[kind] != "noise")
    # a post never read before the drain's end counts as answered then (the measurement's lower bound)
    latencies += [end] * (timed_offered - timed)
    latencies.sort()
    return PolledStep(len(arrivals), timed_offered, in_step, tuple(latencies))


def read_cost_per_message(
    round_starts: list[float],
    post_times: list[float],
    interval: float,
    windows: list[tuple[float, float]],
    max_read: int = MENTIONS_DEPTH,
) -> tuple[float, tuple[float, ...]]:
    """How much longer than ``interval`` a polling round takes: seconds per message it reads, and
    the rest (stalls), from when the rounds started (a round reads the posts since the previous
    one's start) and when the posts were made, for the rounds that start inside one of ``windows``
    and read at most ``max_read`` (X's mentions timeline holds the newest 800: a longer round was
    cut short). Each round's time beyond the interval is ``cost * read + stall``: the cost is the
    median per message of the rounds that read at least 100 (all rounds' total over their
    messages when none did), a stall what a round took beyond that (another round holding the
    poller, the machine's other load), as often as the rounds saw it; (0, ()) when the gaps never
    exceed the interval (a fixed cadence)."""
    posts = sorted(post_times)
    rounds: list[tuple[int, float]] = []  # (messages read, time beyond the interval)
    for before, start, after in zip(round_starts, round_starts[1:], round_starts[2:], strict=False):
        count = bisect.bisect_right(posts, start) - bisect.bisect_right(posts, before)
        if count > max_read or not any(lo <= start <= hi for lo, hi in windows):
            continue
        rounds.append((count, max(0.0, after - start - interval)))
    read = sum(n for n, _ in rounds)
    if not read:
        return 0.0, ()
    large = sorted(extra / n for n, extra in rounds if n >= 100)
    cost = large[len(large) // 2] if large else sum(extra for _, extra in rounds) / read
    return cost, tuple(max(0.0, extra - cost * n) for n, extra in rounds)
