"""``twittcom sweep SCENARIO --against ...``: the offered-load sweep of a system the harness did not write.

:func:`run_against_sweep` serves the fakes, seeds the population and starts the system as ``storm
--against`` does (:func:`twittcom.against.against_stack`), then

1. **probes**: steps from 3 times the calibrated model's service capacity (workers / mean service
   time of the mix) up until the system falls well behind; the rate it answered at then is the
   capacity (the grid's unless ``--capacity``), and the model's workers are held
   ``model capacity / probed capacity`` of each service time;
2. **measures** each step of the grid (fractions of the capacity): open-loop Poisson posts of the
   scenario's mix through fake X, each by a new user (:mod:`loadtests.x_posts`, in a process of its
   own, its CPU reported), then waits until every timed event is answered (or answers stop coming),
   and reads each event's first answer from the fakes. Latency runs from the event's scheduled time
   to that answer; figures and knee are :mod:`loadtests.sweep_steps`' (the same definitions as the
   bundled sweep: accepted = posts fake X accepted);
3. **predicts** the same steps from the scenario, calibrated by ``twittcom calibrate``
   (:mod:`simulator.polled_sweep`: the model's ingestion and worker stations with the calibrated
   keys); nothing is fitted to the sweep.

The document has the bundled sweep's keys, so :mod:`twittcom.sweep_report` shows it.
"""

from __future__ import annotations

import json
import math
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from loadtests.sweep_driver import DriverResult, poisson_offsets
from loadtests.sweep_steps import StepFigures, interpolated, knee, knee_rate, step_figures
from loadtests.x_posts import (
    PostEvent,
    drive_posts_in_subprocess,
    first_answers,
    mention_rounds,
    post_requests,
)
from scenario import Scenario, load_scenario
from simulator.polled_sweep import KINDS, PolledStep, read_cost_per_message, simulate_polled_step
from twittcom.against import Against, against_stack

__all__ = ["AgainstSweepSpec", "model_capacity", "run_against_sweep"]


@dataclass(frozen=True)
class AgainstSweepSpec:
    """What to sweep (see ``twittcom sweep --help``)."""

    scenario: str
    against: Against
    overrides: tuple[str, ...] = ()
    steps: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.3)
    capacity: float | None = None
    step_seconds: float = 8.0
    slo_p99_s: float = 2.0
    seed: int = 1
    replications: int = 5
    probe_seconds: float = 6.0
    workdir: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def model_capacity(scenario: Scenario) -> float:
    """Events/s the calibrated workers can serve: ``count`` / the mix's mean service time."""
    mix, workers = scenario.arrivals.mix, scenario.system.workers
    mean = sum(mix.share(k) * workers.service_of(k).mean for k in KINDS)
    return workers.count / mean if mean > 0 else math.inf


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Offerer:
    """Offers steps to the running system: new users, new numbers, the posts, the answers."""

    def __init__(
        self, scenario: Scenario, x_url: str, sms_url: str, population: dict[str, Any], seed: int
    ) -> None:
        self.x_url, self.sms_url, self.seed = x_url, sms_url, seed
        self.operator = str(population["operator"]["handle"])
        self.operator_id = str(population["operator"]["user_id"])
        self.numbers = [s["msisdn"] for s in population["subscribers"] if s["active"] and s["prepaid"]]
        self.pack = str(population["packs"][0]["hashtag"]) if population["packs"] else "TD49DEL"
        mix = scenario.arrivals.mix
        self.shares = [mix.share(k) for k in KINDS]
        self.users = 0
        self.step = 0
        ing = scenario.system.ingestion
        self.polling, self.poll_interval = ing.mode == "polling", ing.poll_interval_s
        self.last_events: list[PostEvent] = []
        self.last_offsets: list[float] = []

    def _new_users(self, count: int) -> list[tuple[str, str]]:
        made: list[tuple[str, str]] = []
        with httpx.Client(timeout=120) as client:
            while len(made) < count:
                chunk = min(1000, count - len(made))
                names = [{"username": f"sw{self.users + i}"} for i in range(chunk)]
                self.users += chunk
                reply = client.post(f"{self.x_url}/_fake/users", json={"users": names})
                if reply.status_code != 201:
                    raise RuntimeError(f"fake X refused the sweep's users: {reply.text[:200]}")
                made += [(str(u["id"]), str(u.get("bearer_token", ""))) for u in reply.json()["data"]]
        return made

    def _events(self, count: int) -> list[PostEvent]:
        import random

        rng = random.Random(f"{self.seed}/{self.step}/kinds")
        users = self._new_users(count)
        out = []
        total = sum(self.shares)
        for n, (user_id, token) in enumerate(users):
            u, acc, kind = rng.random() * total, 0.0, KINDS[-1]
            for name, share in zip(KINDS, self.shares, strict=True):
                acc += share
                if u <= acc:
                    kind = name
                    break
            number, text = "", f"@{self.operator} hello there {n}"
            if kind == "reg":
                if not self.numbers:
                    raise RuntimeError(
                        "the population has no unregistered number left: a larger --population-size"
                    )
                number = self.numbers.pop()
                text = f"@{self.operator} #reg {number.removeprefix('+91')}"
            elif kind == "act":
                text = f"@{self.operator} #act #{self.pack}"
            elif kind == "dm":
                text = f"act {self.pack}"
            out.append(PostEvent(kind, user_id, token, text, number))
        return out

    def run(
        self, rate: float, seconds: float, drain_s: float, log: Callable[[str], None]
    ) -> tuple[StepFigures, dict[int, float], DriverResult]:
        self.step += 1
        offsets = poisson_offsets(rate, seconds, self.seed * 1000 + self.step)
        events = self._events(len(offsets))
        self.last_events, self.last_offsets = events, offsets
        payloads = post_requests(self.x_url, self.operator_id, events)
        own0, t0 = _own_cpu(), time.monotonic()
        driven = drive_posts_in_subprocess(self.x_url, offsets, payloads)
        fakes_cores = (_own_cpu() - own0) / max(1e-9, time.monotonic() - t0)
        timed = [i for i, e in enumerate(events) if e.kind != "noise"]
        answers: dict[int, float] = {}
        deadline, last_change, count = time.monotonic() + drain_s, time.monotonic(), -1
        while time.monotonic() < deadline:
            answers = first_answers(self.x_url, self.sms_url, self.operator_id, events, driven.start_epoch)
            if len(answers) >= len(timed):
                break
            if len(answers) != count:
                count, last_change = len(answers), time.monotonic()
            elif time.monotonic() - last_change > 8.0:
                break  # answers stopped coming: the rest count as unanswered (at the read time)
            time.sleep(1.0)
        only = DriverResult(
            driven.start_epoch,
            [driven.scheduled[i] for i in timed],
            [driven.answered[i] for i in timed],
            [driven.statuses[i] for i in timed],
            driven.cpu_s,
            driven.wall_s,
            driven.max_lateness_s,
            driven.process_cpu_s,
        )
        done = {j: answers[i] for j, i in enumerate(timed) if i in answers}
        extra = {
            "driver_cores": driven.cpu_s / max(1e-9, driven.wall_s),
            "driver_cpu_per_post_ms": 1e3 * driven.cpu_s / max(1, len(offsets)),
            "driver_max_lateness_s": driven.max_lateness_s,
            "posts_offered": float(len(offsets)),
            "posts_accepted": float(driven.accepted),
            "sink_cores": fakes_cores,  # the fakes, served in this process, are the system's sink
            "service_cores": math.nan, "busiest_process_cores": math.nan, "database_cores": math.nan,
            "background_cores": math.nan, "background_threads": math.nan,
            "inbound_pending_max": math.nan, "outbox_due_max": math.nan,
            "unanswered": float(len(timed) - len(done)),
            **{f"unanswered_{k}": float(sum(1 for i in timed if events[i].kind == k and i not in answers))
               for k in KINDS[1:]},
        }  # fmt: skip
        figures = step_figures(rate, seconds, only, done, time.time(), extra)
        # the rates of the whole mix (noise included), the latencies of the timed events
        scale = len(offsets) / max(1, len(timed))
        figures = replace(figures, offered=len(offsets), accepted=driven.accepted,
                          processed_in_step=round(figures.processed_in_step * scale))  # fmt: skip
        return figures, done, only


def _spread(values: Sequence[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "interval": [min(values), max(values)]}


def predicted_step(
    scenario: Scenario,
    rate: float,
    seconds: float,
    count: int,
    seed: int,
    held: float = 1.0,
    read_cost: float = 0.0,
) -> dict[str, Any]:
    """The calibrated model's figures at ``rate``: medians over ``count`` replications and their range."""
    runs: list[PolledStep] = [
        simulate_polled_step(scenario, rate, seconds, seed + 1000 * r, held=held, read_cost=read_cost)
        for r in range(count)
    ]
    return {
        "target_rate": rate,
        "offered_rate": _spread([s.offered / seconds for s in runs]),
        "processed_rate": _spread(
            [s.processed_in_step * s.offered / max(1, s.timed) / seconds for s in runs]
        ),
        **{f"p{q}_s": _spread([s.percentile(q) for s in runs]) for q in (50, 95, 99)},
    }


def _as_figures(rows: list[dict[str, Any]], seconds: float) -> list[StepFigures]:
    out = []
    for row in rows:
        offered = round(row["offered_rate"]["median"] * seconds)
        out.append(StepFigures(
            row["target_rate"], seconds, offered, offered, round(row["processed_rate"]["median"] * seconds),
            offered, row["p50_s"]["median"], row["p95_s"]["median"], row["p99_s"]["median"],
            tuple(row["p95_s"]["interval"]), tuple(row["p99_s"]["interval"]),  # type: ignore[arg-type]
        ))  # fmt: skip
    return out


def _answered_rate(figures: StepFigures, done: dict[int, float], driven: DriverResult) -> float:
    """Events/s (whole mix) a saturated system answered at while the posts still came (as in a
    step: the driver and the fakes busy beside it): answers from its first to the probe's end,
    scaled from the timed events to the whole mix."""
    end = driven.start_epoch + figures.seconds
    first = min(done.values(), default=end)
    inside = sum(1 for t in done.values() if t <= end)
    if inside < 3 or end - first <= 0:
        return 0.0
    return (inside - 1) * figures.offered / max(1, len(driven.scheduled)) / (end - first)


def _probe(
    offerer: _Offerer, estimate: float, seconds: float, drain: float, log: Callable[[str], None]
) -> tuple[dict[str, Any], float, float]:
    """The calibration probe: offer more than the system finishes (from 3 times the calibrated
    capacity, 2.5 times more until its answers end at least half the probe's length after its
    posts: a backlog long enough that the poll period does not blur the rate), and the rate it
    finished at then."""
    rate, finished, figures = 3.0 * estimate, 0.0, None
    posts: list[float] = []  # the probes' mentions and when each probe posted them: the read cost
    windows: list[tuple[float, float]] = []
    for _ in range(4):
        figures, done, driven = offerer.run(rate, seconds, drain, log)
        posts += [driven.start_epoch + offerer.last_offsets[i] for i, e in enumerate(offerer.last_events)
                  if e.kind != "dm"]  # fmt: skip
        windows.append((driven.start_epoch, driven.start_epoch + seconds))
        finished = _answered_rate(figures, done, driven)
        behind = max(done.values(), default=0.0) - (driven.start_epoch + seconds)
        log(
            f"probe: offered {figures.offered_rate:.1f}/s, finished {finished:.1f}/s "
            f"(model: {estimate:.1f}/s)"
        )
        if behind >= 0.5 * seconds:
            break
        rate *= 2.5
    read_cost = 0.0
    if figures is not None and offerer.polling:
        interval = offerer.poll_interval
        rounds = mention_rounds(offerer.x_url, 0.25 * interval)
        read_cost = read_cost_per_message(rounds, posts, interval, windows)
        log(f"probe: polling rounds take {read_cost * 1e3:.2f} ms per mention read beyond the interval")
    return ({} if figures is None else figures.as_json()), finished, read_cost


def run_against_sweep(
    spec: AgainstSweepSpec, population_size: int = 0, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Capacity, measure and predict (see the module docstring); the document the report shows."""
    started = time.monotonic()
    scenario = load_scenario(spec.scenario, list(spec.overrides))
    seconds = spec.step_seconds
    estimate = model_capacity(scenario)
    top = (spec.capacity or estimate) * max(spec.steps) * 1.3
    size = population_size or max(
        20_000, int(4 * scenario.arrivals.mix.share("reg") * top * seconds * (len(spec.steps) + 2))
    )
    drain = 30.0 + 3 * max(
        scenario.system.ingestion.poll_interval_s, scenario.system.ingestion.dm_poll_interval_s
    )
    workdir = Path(spec.workdir or tempfile.mkdtemp(prefix="twittcom-sweep-against-"))
    with against_stack(scenario, size, spec.against, workdir) as urls:
        population = json.loads(Path(urls.population_file).read_text())
        offerer = _Offerer(scenario, urls.x, urls.sms, population, spec.seed)
        offerer.run(max(1.0, 0.1 * estimate), 2.0, drain, log)  # warm-up
        probe, finished, read_cost = _probe(offerer, estimate, spec.probe_seconds, drain, log)
        capacity = spec.capacity or finished
        held = estimate / finished if finished > 0 else 1.0
        measured: list[StepFigures] = []
        for fraction in spec.steps:
            figures = offerer.run(fraction * capacity, seconds, drain, log)[0]
            measured.append(figures)
            log(
                f"  {figures.offered_rate:7.1f}/s offered  {figures.accepted_rate:7.1f}/s accepted  "
                f"{figures.processed_rate:7.1f}/s processed  p50 {figures.p50 * 1e3:7.0f} ms  p95 "
                f"{figures.p95 * 1e3:7.0f} ms  p99 {figures.p99 * 1e3:7.0f} ms  driver "
                f"{figures.extra['driver_cores']:.3f} cores "
                f"({figures.extra['driver_cpu_per_post_ms']:.2f} ms/post)"
            )
    predicted = [
        predicted_step(scenario, m.target_rate, seconds, spec.replications, spec.seed, held, read_cost)
        for m in measured
    ]
    knee_measured = knee_rate(measured, spec.slo_p99_s)
    knee_predicted = knee_rate(_as_figures(predicted, seconds), spec.slo_p99_s)
    # the same model without the probe: the storm's calibration alone
    unprobed = [
        predicted_step(scenario, m.target_rate, seconds, spec.replications, spec.seed) for m in measured
    ]
    knee_unprobed = knee_rate(_as_figures(unprobed, seconds), spec.slo_p99_s)
    at_share = []
    for share in (0.5, 0.8):
        if not knee_measured:
            break
        rate = share * knee_measured
        p95 = interpolated(measured, rate, "p95")
        guess = predicted_step(scenario, rate, seconds, spec.replications, spec.seed, held, read_cost)
        at_share.append({"share": share, "rate": rate, "measured_p95_s": p95, "predicted": guess,
                         "measured_after_sweep": {"p95_s": p95},
                         "p95_ratio": guess["p95_s"]["median"] / p95 if p95 > 0 else None})  # fmt: skip
    knee_step = knee(measured, spec.slo_p99_s)
    system = scenario.system
    return {
        "scenario": scenario.name,
        "against": spec.against.command or f"x={spec.against.x_url},sms={spec.against.sms_url}",
        "store": "system under test",
        "processes": 1,
        "workers": system.workers.count,
        "batch_size": 0,
        "cores": 2.0,
        "step_seconds": seconds,
        "slo_p99_s": spec.slo_p99_s,
        "replications": spec.replications,
        "notes": [
            *spec.notes,
            "posts of the scenario's mix through fake X, each by a new user; noise is offered, not timed; "
            "latency from each post's scheduled time to the system's first answer at a fake",
            f"model: the calibrated scenario's stations (ingestion {system.ingestion.mode}, "
            f"{system.workers.count} worker(s)); service capacity {estimate:.1f}/s",
        ],
        "calibration": {
            "capacity_per_s": capacity,
            "model_capacity_per_s": estimate,
            "probe_capacity_per_s": finished,
            "held_share": held,
            "read_cost_per_message_s": read_cost,
            "probe": probe,
            "params": {"scenario": spec.scenario, "overrides": list(spec.overrides)},
        },  # fmt: skip
        "capacity_per_s": capacity,
        "measured": [m.as_json() for m in measured],
        "predicted": predicted,
        "knee": {
            "measured_per_s": knee_measured,
            "predicted_per_s": knee_predicted,
            "measured_step_per_s": knee_step.offered_rate if knee_step else None,
            "ratio": (knee_predicted / knee_measured) if knee_measured and knee_predicted else None,
            "predicted_without_probe_per_s": knee_unprobed,
        },
        "at_knee_share": at_share,
        "seconds": time.monotonic() - started,
    }
