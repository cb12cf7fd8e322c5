"""The locustfile: one thin user class per actor, an open-model shape, and the run's reporting hooks.

Run through ``twittcom loadtest`` (which sets ``TWITTCOM_LOADTEST_CONFIG``), or by hand::

    TWITTCOM_LOADTEST_CONFIG='{"scenario_path": "scenarios/ci-smoke.toml", "x_url": ..., "sms_url": ...}' \\
        locust -f loadtests/locustfile.py --headless --processes 2

Open model: each process builds its share of the scenario's seeded arrival stream at ``test_start``
(:mod:`loadtests.schedule`); each user takes the next start of its actor's kind, sleeps until it and
runs the journey; :class:`OpenModelShape` keeps enough users of each class (:mod:`loadtests.sizing`)
and ends the run after the arrivals plus the drain. Workers send their arrival ledger and CPU
samples with their stats reports; the master (or the local runner) writes the summary JSON and
arrivals CSV and turns failed thresholds into exit code 1.
"""

from __future__ import annotations

import logging
import random
import sys
import time
from typing import Any

import gevent
import httpx
import locust.runners
from locust import LoadTestShape, User, constant, events, task
from locust.runners import MasterRunner, WorkerRunner

from loadtests.config import LoadtestConfig
from loadtests.drain import drain_over, held_past_end
from loadtests.hdr import JourneyHistograms
from loadtests.journeys import JourneyKit, Transport
from loadtests.lean_http import LeanHttp, quiet_interrupts
from loadtests.metrics import EventsSink
from loadtests.preflight import x_clock_offset
from loadtests.report import format_summary, live_line, run_document, write_arrivals_csv, write_summary
from loadtests.run_fakes import (
    apply_x_limits,
    count_hopeless,
    operator_id,
    population_share,
    preregister,
    schedule_outages,
)
from loadtests.schedule import ArrivalLedger, ArrivalSchedule, add_ledger_counts, split_stream
from loadtests.sizing import users_needed
from scenario import load_scenario

__all__ = ["Complainer", "DmBuyer", "NewSubscriber", "OpenModelShape", "RepeatBuyer"]

log = logging.getLogger("twittcom.loadtest")
locust.runners.WORKER_REPORT_INTERVAL = 1.0  # not 3 s: the master's per-second history lags less

CONFIG = LoadtestConfig.from_env()
SCENARIO = load_scenario(CONFIG.scenario_path, CONFIG.overrides)
SEED = SCENARIO.run.seed if CONFIG.seed is None else CONFIG.seed
ARRIVALS_S = (
    CONFIG.duration_s if CONFIG.duration_s > 0 else (SCENARIO.run.duration_s or SCENARIO.arrivals.duration_s)
)
DRAIN_S = CONFIG.drain_s if CONFIG.drain_s >= 0 else min(SCENARIO.run.drain_s, 60.0)
USERS = users_needed(SCENARIO, CONFIG.headroom)
USERS.update({k: int(v) for k, v in CONFIG.extra.get("users", {}).items() if k in USERS})
SPAWN_RATE = 100.0
#: users are spawned during this lead, before the first scheduled start
LEAD_S = BASE_LEAD_S = 2.0 + sum(USERS.values()) / SPAWN_RATE
if CONFIG.preregister > 0 and not CONFIG.stand_in:
    LEAD_S += CONFIG.preregister_s


class _State:
    """This process's run state (built at ``test_start``)."""

    t0 = 0.0
    started_at = 0.0
    local = False
    warming = False
    schedule: ArrivalSchedule | None = None
    kit: JourneyKit | None = None
    ledger = ArrivalLedger(tolerance_s=CONFIG.tolerance_s)
    cpu: dict[str, list[float]] = {}
    local_cpu: list[float] = []
    sampler: gevent.Greenlet | None = None
    running = 0  # journeys claimed and not yet over
    running_kinds: dict[str, int] = {}
    lost_codes: set[int] = set()  # awaited codes the carrier reported lost (the drain watcher's finding)
    drained = False  # the adaptive drain found nothing left that can finish
    histograms = JourneyHistograms()  # this process's journey latencies (merged ones on the master)
    index = 0  # this worker's index (0 locally)
    per_worker: dict[str, dict[str, Any]] = {}  # on the master: each worker's index and journey counts


STATE = _State()


class _Actor(User):
    """Takes the next scheduled start of its kind, waits for it, runs one journey; never paced. Its
    one task runs journeys back to back while starts of its kind are left (locust's round between
    tasks, a pass through the event loop, would add to each journey's cost).

    Its HTTP: :class:`loadtests.lean_http.LeanHttp` over :mod:`loadtests.wire_http` (a minimal
    keep-alive HTTP/1.1 client on gevent's loop, reported to locust's request statistics), about
    3x fewer CPU-seconds per request than ``FastHttpSession`` (benchmarks/test_journey_cost.py)."""

    abstract = True
    host = CONFIG.x_url
    wait_time = constant(0)
    kind = ""

    def on_start(self) -> None:
        self.http: Transport = LeanHttp(self.environment.events.request.fire)

    @task
    def next_journeys(self) -> None:
        kit, schedule = STATE.kit, STATE.schedule
        if kit is None or schedule is None:
            gevent.sleep(0.2)
            return
        while (start := schedule.take(self.kind)) is not None:
            STATE.running += 1
            STATE.running_kinds[self.kind] = STATE.running_kinds.get(self.kind, 0) + 1
            try:
                while (delay := STATE.t0 + start.offset_s - time.time()) > 0:
                    # during a warm-up t0 may move earlier (local runs), so wake up to re-read it
                    gevent.sleep(min(delay, 0.5) if STATE.warming else delay)
                STATE.ledger.record(start.offset_s, time.time() - STATE.t0)
                self.journey(kit, STATE.t0 + start.offset_s)
            finally:
                STATE.running -= 1
                STATE.running_kinds[self.kind] -= 1
        gevent.sleep(1.0)

    def journey(self, kit: JourneyKit, scheduled_at: float) -> None:
        """Run one journey whose start was scheduled at ``scheduled_at`` (its latencies count from there)."""
        raise NotImplementedError


class NewSubscriber(_Actor):
    """``#reg`` by tweet, the code from the handset back by tweet, then (often) a purchase."""

    kind = "reg"
    fixed_count = USERS["reg"]

    def journey(self, kit: JourneyKit, scheduled_at: float) -> None:
        kit.new_subscriber(self.http, scheduled_at)


class RepeatBuyer(_Actor):
    """A registered user tweeting ``#act #PACK``."""

    kind = "act"
    fixed_count = USERS["act"]

    def journey(self, kit: JourneyKit, scheduled_at: float) -> None:
        kit.repeat_buyer(self.http, scheduled_at)


class DmBuyer(_Actor):
    """A registered user buying by DM to the operator."""

    kind = "dm"
    fixed_count = USERS["dm"]

    def journey(self, kit: JourneyKit, scheduled_at: float) -> None:
        kit.dm_buyer(self.http, scheduled_at)


class Complainer(_Actor):
    """Mentions the operator without a command (chatter and complaints)."""

    kind = "noise"
    fixed_count = USERS["noise"]

    def journey(self, kit: JourneyKit, scheduled_at: float) -> None:
        kit.complainer(self.http)


class OpenModelShape(LoadTestShape):
    """All actors' users at once during the lead; stop after arrivals plus drain (sooner locally:
    as soon as no started journey can still finish, :mod:`loadtests.drain`)."""

    use_common_options = False

    def tick(self) -> tuple[int, float] | None:
        if STATE.t0 and STATE.local:
            if STATE.drained or time.time() > STATE.t0 + ARRIVALS_S + DRAIN_S:
                return None
        elif self.get_run_time() > LEAD_S + ARRIVALS_S + DRAIN_S:  # type: ignore[no-untyped-call]
            return None
        return sum(USERS.values()), SPAWN_RATE


def _warm_up(kit: JourneyKit, count: int, deadline: float) -> None:
    """Register ``count`` accounts before ``deadline`` (:func:`loadtests.run_fakes.preregister`)."""
    preregister(kit, count, deadline)
    if STATE.local:  # alone, this process can start the schedule as soon as the warm-up is over
        STATE.t0 = min(STATE.t0, max(time.time() + 0.5, STATE.started_at + BASE_LEAD_S))
        _at_t0(STATE.t0)
    STATE.warming = False


def _at_t0(t0: float) -> None:
    """What the run does to the fakes on the arrivals' clock: outages and X rate limits."""
    if CONFIG.outages:
        schedule_outages(CONFIG, t0)
    if CONFIG.x_limits:
        gevent.spawn(apply_x_limits, CONFIG, t0)


def _watch_drain(kit: JourneyKit) -> None:
    """After the arrivals, set ``STATE.drained`` once the journeys still running cannot finish."""
    lost = STATE.lost_codes
    http = LeanHttp(_unrecorded, network_timeout=10.0)  # the harness's questions, not the journeys'
    while not STATE.drained:
        gevent.sleep(1.0)
        now, run_end = time.time(), STATE.t0 + ARRIVALS_S + DRAIN_S
        if STATE.warming or now < STATE.t0 + ARRIVALS_S or STATE.schedule is None:
            continue
        hopeless = count_hopeless(http, kit, lost, CONFIG, t0=STATE.t0, now=now, run_end=run_end)
        if int(now - STATE.t0 - ARRIVALS_S) % 5 == 0:
            log.info("drain: %d running %s, %d awaiting a code, %d of them hopeless",
                     STATE.running, STATE.running_kinds, len(kit.waiting_codes), hopeless)  # fmt: skip
        STATE.drained = drain_over(
            now=now,
            arrivals_end=STATE.t0 + ARRIVALS_S,
            unclaimed=STATE.schedule.remaining(),
            running=STATE.running,
            hopeless=hopeless,
        )
    log.info("adaptive drain: done %.1f s after the arrivals", time.time() - STATE.t0 - ARRIVALS_S)


def _unrecorded(**_: Any) -> None:
    """The request event of the drain watcher's questions: not a journey's, kept out of the stats."""


def _sample_cpu(into: list[float]) -> None:
    """Append this process's CPU use (percent of one core) every second."""
    wall, cpu = time.monotonic(), time.process_time()
    while True:
        gevent.sleep(1.0)
        now_wall, now_cpu = time.monotonic(), time.process_time()
        into.append(100.0 * (now_cpu - cpu) / max(1e-9, now_wall - wall))
        wall, cpu = now_wall, now_cpu


#: seconds between the live progress lines (on stderr, from the local runner or the master)
LIVE_EVERY_S = 5.0


def _live_lines(environment: Any) -> None:
    """Every :data:`LIVE_EVERY_S` after the first scheduled start, one progress line on stderr."""
    while True:
        gevent.sleep(LIVE_EVERY_S)
        t0 = STATE.t0 if STATE.local else STATE.started_at + LEAD_S
        if t0 and time.time() >= t0:
            print(live_line(time.time() - t0, STATE.ledger, environment.stats), file=sys.stderr, flush=True)


def on_test_start(environment: Any, **_: Any) -> None:
    runner = environment.runner
    STATE.started_at = time.time()
    STATE.local_cpu = []
    STATE.sampler = gevent.spawn(_sample_cpu, STATE.local_cpu)
    STATE.local = not isinstance(runner, MasterRunner | WorkerRunner)
    if not isinstance(runner, WorkerRunner):
        gevent.spawn(_live_lines, environment)
    if isinstance(runner, MasterRunner):
        _at_t0(STATE.started_at + LEAD_S)
        return
    workers = max(1, CONFIG.workers) if isinstance(runner, WorkerRunner) else 1
    index = STATE.index = runner.worker_index if isinstance(runner, WorkerRunner) else 0
    starts = list(
        split_stream(SCENARIO.arrivals, SEED, worker_index=index, workers=workers, duration_s=ARRIVALS_S)
    )
    STATE.ledger.expect(s.offset_s for s in starts)
    with httpx.Client(timeout=30) as client:
        operator = operator_id(client, CONFIG)
        scale = float(client.get(f"{CONFIG.sms_url}/_fake/clock").json().get("time_scale") or 1.0)
        x_offset = x_clock_offset(client, CONFIG.x_url)
    if abs(x_offset) > 1.0:
        log.warning("fake X's clock runs %.0f s ahead of the wall clock: journeys take it out", x_offset)
    STATE.kit = JourneyKit(
        config=CONFIG,
        behaviour=SCENARIO.user,
        population=population_share(CONFIG, SCENARIO.population.circles, SEED, index, workers),
        sink=EventsSink(environment.events, STATE.histograms),
        now=time.time,
        sleep=gevent.sleep,
        rng=random.Random(SEED * 1_000 + index),
        operator_id=operator,
        sms_time_scale=scale or 1.0,
        tag=f"w{index}",
        config_user_tweet_limit=SCENARIO.system.x_budget.user_limit,
        x_clock_offset_s=x_offset,
    )
    STATE.t0 = STATE.started_at + LEAD_S
    if CONFIG.preregister > 0 and not CONFIG.stand_in:
        STATE.warming = True
        gevent.spawn(_warm_up, STATE.kit, -(-CONFIG.preregister // workers), STATE.t0 - 1.0)
    elif STATE.local:
        _at_t0(STATE.t0)
    STATE.schedule = ArrivalSchedule(starts)
    if STATE.local:
        gevent.spawn(_watch_drain, STATE.kit)
    log.info("worker %d/%d: %d scheduled starts, users %s", index, workers, len(starts), USERS)


def on_test_stop(environment: Any, **_: Any) -> None:
    """Count the codes still awaited at the stop: held by an outage past the end (never arrived, as
    the simulator counts them), lost by the carrier, or cut off by the drain's bound (unknown)."""
    kit = STATE.kit
    if kit is None or isinstance(environment.runner, MasterRunner):
        return
    circles: dict[str, int] = {}
    now, run_end = time.time(), STATE.t0 + ARRIVALS_S + DRAIN_S
    for key, (_msisdn, circle, gives_up_at) in kit.waiting_codes.items():
        if key in STATE.lost_codes:  # no late code: the simulator leaves failed codes out too
            outcome = "code_lost"
        elif held_past_end(circle, gives_up_at, CONFIG.outages, t0=STATE.t0, now=now, run_end=run_end):
            outcome = "code_pending_at_end"  # held by an outage: never arrives, as in the simulator
        else:
            outcome = "code_cut_off"  # still on its way when the drain's bound ended the run
        kit.sink.outcome("new_subscriber", outcome)
        circles[circle] = circles.get(circle, 0) + 1
    log.info(
        "stopped %.1f s after the arrivals; codes still awaited by circle %s (%d lost by the carrier)",
        time.time() - STATE.t0 - ARRIVALS_S,
        circles,
        len(STATE.lost_codes & set(kit.waiting_codes)),
    )
    kit.waiting_codes.clear()


def on_report_to_master(client_id: str, data: dict[str, Any], **_: Any) -> None:
    data["twittcom"] = {
        "ledger": STATE.ledger.drain(),
        "cpu": STATE.local_cpu[:],
        "hdr": STATE.histograms.encode(),
        "index": STATE.index,
    }
    STATE.local_cpu.clear()
    STATE.histograms.reset()


def on_worker_report(client_id: str, data: dict[str, Any], **_: Any) -> None:
    ours = data.get("twittcom")
    if ours:
        STATE.ledger.merge(ours["ledger"])
        STATE.histograms.merge(ours.get("hdr", {}))
        STATE.cpu.setdefault(client_id, []).extend(ours["cpu"])
        worker = STATE.per_worker.setdefault(client_id, {})
        worker["index"] = ours.get("index", 0)  # reports before the test start carry none yet
        add_ledger_counts(worker, ours["ledger"])


def on_quitting(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner) or STATE.started_at == 0:
        return
    cpu = dict(STATE.cpu) if isinstance(runner, MasterRunner) else {"local": STATE.local_cpu}
    document = run_document(
        environment.stats,
        STATE.ledger,
        STATE.histograms,
        thresholds=CONFIG.thresholds,
        cpu=cpu,
        scenario=SCENARIO.name,
        arrivals=SCENARIO.arrivals,
        mode="stand-in" if CONFIG.stand_in else "live",
        workers=CONFIG.workers if isinstance(runner, MasterRunner) else 1,
        t0=STATE.t0 if STATE.local else STATE.started_at + LEAD_S,
        started_at=STATE.started_at,
        arrivals_s=ARRIVALS_S,
        drain_s=DRAIN_S,
        now=time.time(),
    )
    if isinstance(runner, MasterRunner):
        document["per_worker"] = sorted(STATE.per_worker.values(), key=lambda w: int(w["index"]))
    if CONFIG.summary_path:
        write_summary(CONFIG.summary_path, document)
        write_arrivals_csv(
            CONFIG.summary_path.removesuffix(".json") + "_arrivals.csv",
            STATE.ledger,
            SCENARIO.arrivals,
            LEAD_S,
        )
    else:
        print(format_summary(document), flush=True)
    if not document["passed"]:
        environment.process_exit_code = 1


quiet_interrupts()
_HOOKS: Any = events
_HOOKS.test_start.add_listener(on_test_start)
_HOOKS.test_stop.add_listener(on_test_stop)
_HOOKS.report_to_master.add_listener(on_report_to_master)
_HOOKS.worker_report.add_listener(on_worker_report)
_HOOKS.quitting.add_listener(on_quitting)
