"""The event engine behind :mod:`simulator.saturation`: servers sharing CPUs, the processor's flow.

Every CPU consumer is a :class:`_Server`: a FIFO of jobs (CPU seconds each) that runs its head when
it is neither blocked nor waking. All running servers progress at one speed,
``min(1, free / (running + threads))`` (processor sharing with the machine's other load as
``threads`` always-runnable threads; ``free`` is the cores less the driver's demand when it is
modelled, ``driver_s`` per event). Servers:

- one **loop** per service process (its event loop and, under the GIL, its worker threads'
  Python): webhook requests, the commits' Python, the dispatcher's sends and answers;
- one **backend** per connection on PostgreSQL (ingest, each worker, the dispatcher): separate
  processes, so a commit's store work runs there in parallel with the loops;
- the **lane**: store work that is serial across processes (SQLite's write lock, run by the
  loop that holds it, which is blocked meanwhile; on PostgreSQL the fitted serial part);
- the **sink** (X and Twilio), one process.

The flow of one event in process ``p``: ``request`` (loop) -> the process's ingest group commit
(one in flight; events arriving meanwhile go into the next) -> the shared queue; ``p``'s idle
workers are woken, other idle workers look every ``idle_poll_s`` -> a worker's batch (group
commit of up to ``batch_size``) -> per event ``send`` (loop) -> the sink's two answers ->
``receive`` (loop) per answer, each way after ``hop_s`` of wall time; the event is done when its
second answer has been read. Each answer then joins the dispatcher's own group commit of results
(``finish``), which costs CPU but times nothing.

**Wake-ups** under the machine's other load (``background_cores`` > 0): a server that was asleep
and gets work, and on PostgreSQL each of a store call's ``round_trips`` (the client and its backend
waking each other), waits an exponential time of mean ``slice_s`` times the runnable threads per
core at that moment, ours and the other load's: the wait grows with our own load too, not only
with the CPU other processes took.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Callable

from simulator.saturation_params import SaturationParams

__all__ = ["Engine"]

#: SQLite's busy handler: sleeps between tries for the write lock
BUSY_BACKOFF_S = (0.001, 0.002, 0.005, 0.010, 0.015, 0.020, 0.025, 0.025, 0.025, 0.050, 0.050, 0.100)

Done = Callable[[], None]


class _Server:
    __slots__ = ("jobs", "left", "blocked", "waking")

    def __init__(self) -> None:
        self.jobs: deque[tuple[float, Done]] = deque()
        self.left = 0.0
        self.blocked = False
        self.waking = False

    def runs(self) -> bool:
        return bool(self.jobs) and not self.blocked and not self.waking


class _Process:
    __slots__ = ("loop", "backends", "pending_in", "committing_in", "pending_out", "committing_out")

    def __init__(self, backends: int) -> None:
        self.loop = _Server()
        self.backends = [_Server() for _ in range(backends)]  # 0 ingest, 1 dispatcher, 2.. workers
        self.pending_in: list[int] = []
        self.committing_in = False
        self.pending_out = 0
        self.committing_out = False


class Engine:
    """One run: Poisson arrivals at ``rate`` for ``seconds`` (see the module docstring)."""

    def __init__(self, p: SaturationParams, rate: float, seed: int, threads: float) -> None:
        self.p, self.rate, self.rng = p, rate, random.Random(seed)
        self.now = 0.0
        self.free = max(0.1, p.cores - min(1.0, p.driver_s * rate))
        self.threads = threads  # the other load as always-runnable threads
        self.running = 0  # our servers running now (wake-ups wait behind them and the threads)
        self.running_time: dict[int, float] = {}  # how long n of our servers were running
        backends = 0 if p.inline_store else 2 + p.workers
        self.procs = [_Process(backends) for _ in range(p.processes)]
        self.lane = _Server()
        self.sink = _Server()
        self.servers = [s for q in self.procs for s in (q.loop, *q.backends)] + [self.lane, self.sink]
        self.queue: deque[int] = deque()
        self.idle: list[list[int]] = [list(range(p.workers)) for _ in range(p.processes)]
        self.poll_token = [[0] * p.workers for _ in range(p.processes)]
        self.timers: list[tuple[float, int, Done]] = []
        self.serial = 0
        self.commits = 0
        self.batches = 0
        self.batched = 0
        self.arrived: list[float] = []
        self.answers: list[int] = []
        self.done: list[float] = []
        self.unfinished = 0
        for index in range(p.processes):  # idle workers look every idle_poll_s, at random phases
            for worker in range(p.workers):
                self.after(self.rng.uniform(0, p.idle_poll_s), self._poller(index, worker, 0))

    # plumbing -----------------------------------------------------------------------------------
    def after(self, delay: float, then: Done) -> None:
        self.serial += 1
        heapq.heappush(self.timers, (self.now + delay, self.serial, then))

    def put(self, server: _Server, work: float, then: Done, wake: bool = True) -> None:
        idle = not server.jobs
        server.jobs.append((work, then))
        if idle:
            server.left = work
            waits = self.p.slice_s > 0 and self.p.background_cores > 0
            if wake and waits and not server.waking and not server.blocked:
                server.waking = True  # a sleeping thread runs again after other threads' slices

                def woken() -> None:
                    server.waking = False

                self.after(self._wake_wait(), woken)

    def _wake_wait(self) -> float:
        """One wake-up's wait: exponential, mean ``slice_s`` x runnable threads per core (0 on a
        machine without other load)."""
        if self.p.background_cores <= 0 or self.p.slice_s <= 0:
            return 0.0
        ahead = self.running + self.threads  # no one runnable (a measured idle machine): no wait
        return self.rng.expovariate(self.p.cores / (self.p.slice_s * ahead)) if ahead > 0 else 0.0

    def _finish(self, server: _Server) -> None:
        _, then = server.jobs.popleft()
        self.running -= 1  # it stops (its next job, if any, counts from the next instant)
        if server.jobs:
            server.left = server.jobs[0][0]
        then()

    # the store ------------------------------------------------------------------------------------
    def commit(self, q: _Process, backend: int, work: float, then: Done) -> None:
        """A commit of ``work`` CPU seconds: its Python on the loop, its store work inline under the
        write lock (SQLite) or on the connection's backend, its serial part on the lane, then
        ``store_wait_s`` of wall time (PostgreSQL)."""
        p = self.p
        self.commits += 1
        store = work * p.store_share
        python = work - store
        if p.inline_store:

            def locked() -> None:
                q.loop.blocked = True  # the loop's thread holds the lock and does the store work
                self._try_lock(q, store, then, 0)

            self.put(q.loop, python, locked)
            return
        serial = store * p.serial_share

        trips = p.round_trips[min(backend, 2)]

        def stored() -> None:
            wait = p.store_wait_s + sum(self._wake_wait() for _ in range(trips))
            if wait > 0:
                self.after(wait, then)
            else:
                then()

        def on_backend() -> None:
            self.put(
                q.backends[backend], store - serial, lambda: self.put(self.lane, serial, stored, wake=False)
            )

        self.put(q.loop, python, on_backend)

    def _try_lock(self, q: _Process, store: float, then: Done, attempt: int) -> None:
        if self.lane.jobs:
            delay = BUSY_BACKOFF_S[min(attempt, len(BUSY_BACKOFF_S) - 1)]
            self.after(delay, lambda: self._try_lock(q, store, then, attempt + 1))
            return

        def released() -> None:
            q.loop.blocked = False
            then()

        self.put(self.lane, store, released, wake=False)

    # the flow ---------------------------------------------------------------------------------------
    def arrive(self) -> None:
        event = len(self.arrived)
        self.arrived.append(self.now)
        self.answers.append(2)
        self.unfinished += 1
        self.done.append(math.nan)
        q = self.procs[self.rng.randrange(self.p.processes)]
        self.put(q.loop, self.p.request_s, lambda: self._queued(q, event))

    def _queued(self, q: _Process, event: int) -> None:
        q.pending_in.append(event)
        if not q.committing_in:
            self._commit_in(q)

    def _commit_in(self, q: _Process) -> None:
        events, q.pending_in = q.pending_in, []
        q.committing_in = True
        work = self.p.commit_fixed_s + len(events) * self.p.ingest_s

        def committed() -> None:
            self.queue.extend(events)
            q.committing_in = False
            if q.pending_in:
                self._commit_in(q)
            index = self.procs.index(q)
            for worker in list(self.idle[index]):  # this process's workers are woken
                self._claim(index, worker)

        self.commit(q, 0, work, committed)

    def _claim(self, index: int, worker: int) -> None:
        idle = self.idle[index]
        if not self.queue:
            if worker not in idle:
                idle.append(worker)
                self.poll_token[index][worker] += 1
                token = self.poll_token[index][worker]
                self.after(self.p.idle_poll_s, self._poller(index, worker, token))
            return
        if worker in idle:
            idle.remove(worker)
        n = min(self.p.batch_size, len(self.queue))
        events = [self.queue.popleft() for _ in range(n)]
        self.batches += 1
        self.batched += n
        q = self.procs[index]
        work = self.p.commit_fixed_s + n * self.p.batch_per_event_s

        def processed() -> None:
            for event in events:
                self.put(q.loop, self.p.send_s, lambda e=event: self._sent(q, e))  # type: ignore[misc]
            self._claim(index, worker)

        self.commit(q, 2 + worker, work, processed)

    def _poller(self, index: int, worker: int, token: int) -> Done:
        return lambda: self._polled(index, worker, token)

    def _polled(self, index: int, worker: int, token: int) -> None:
        if self.poll_token[index][worker] != token or worker not in self.idle[index]:
            return
        self.idle[index].remove(worker)
        self._claim(index, worker)

    def _sent(self, q: _Process, event: int) -> None:
        p = self.p

        def answered() -> None:
            self.after(p.hop_s, lambda: self.put(q.loop, p.receive_s, lambda: self._answered(q, event)))

        for _ in range(2):
            self.after(p.hop_s, lambda: self.put(self.sink, p.sink_s / 2, answered))

    def _answered(self, q: _Process, event: int) -> None:
        self.answers[event] -= 1
        if self.answers[event] == 0:
            self.done[event] = self.now
            self.unfinished -= 1
        q.pending_out += 1
        if not q.committing_out:
            self._commit_out(q)

    def _commit_out(self, q: _Process) -> None:
        n, q.pending_out = q.pending_out, 0
        q.committing_out = True

        def recorded() -> None:
            q.committing_out = False
            if q.pending_out:
                self._commit_out(q)

        self.commit(q, 1, self.p.commit_fixed_s + n * self.p.finish_s, recorded)

    # time -------------------------------------------------------------------------------------------
    def run(self, seconds: float, horizon: float) -> None:
        next_arrival = self.rng.expovariate(self.rate) if self.rate > 0 else math.inf
        servers, timers = self.servers, self.timers
        while True:
            running = [s for s in servers if s.runs()]
            self.running = len(running)
            if not running and next_arrival >= seconds and self.unfinished == 0:
                return  # only idle polls are left
            speed = min(1.0, self.free / (len(running) + self.threads)) if running else 1.0
            first: _Server | None = None
            at = math.inf
            for server in running:
                if self.now + server.left / speed < at:
                    at, first = self.now + server.left / speed, server
            kind = 0
            if timers and timers[0][0] < at:
                at, kind = timers[0][0], 1
            if next_arrival < at and next_arrival < seconds:
                at, kind = next_arrival, 2
            if at == math.inf or at > horizon:
                return
            spent = self.running_time
            spent[len(running)] = spent.get(len(running), 0.0) + at - self.now
            work = (at - self.now) * speed
            for server in running:
                server.left -= work
            self.now = at
            if kind == 2:
                self.arrive()
                next_arrival = at + self.rng.expovariate(self.rate)
            elif kind == 1:
                heapq.heappop(timers)[2]()
            else:
                assert first is not None
                self._finish(first)
