"""``twittcom sweep SCENARIO --against ...``: the offered-load sweep of a system the harness did not write.

:func:`run_against_sweep` serves the fakes, seeds the population and starts the system as ``storm
--against`` does (:func:`twittcom.against.against_stack`), then

1. **probes** (:func:`twittcom.sweep_offer.probe`): steps from the calibrated model's service
   capacity (workers / mean service time of the mix), 1.5 times more each, until the system falls
   well behind or loses mentions (a poller more than X's 800 newest mentions behind); the rate it
   answered at then is the capacity (the grid's unless ``--capacity``), and the model's workers
   are held ``model capacity / probed capacity`` of each service time (when the probe's reads,
   not its workers, held it back: never more than 1);
2. **measures** each step of the grid (fractions of the capacity): open-loop Poisson posts of the
   scenario's mix through fake X, each by a new user (:mod:`loadtests.x_posts`, in a process of its
   own, its CPU reported), then waits until the fakes go quiet and every timed event is answered
   (or answers stop coming), and reads each event's first answer from the fakes; after the first
   failing step, up to ``refine_steps`` more bisect the knee's bracket (each carrying its rate
   exactly: at tens of events a second a Poisson count is +-8 % off). Latency runs
   from the event's scheduled time to that answer; figures and knee are
   :mod:`loadtests.sweep_steps`' (the same definitions as the bundled sweep: accepted = posts fake
   X accepted);
3. **predicts** the same steps from the scenario, calibrated by ``twittcom calibrate``
   (:mod:`simulator.polled_sweep`: the model's ingestion and worker stations with the calibrated
   keys); nothing is fitted to the sweep.

The document has the bundled sweep's keys, so :mod:`twittcom.sweep_report` shows it.
"""

from __future__ import annotations

import json
import math
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from loadtests.sweep_intervals import DEFAULT_REFINE_STEPS, bracket_said, model_rows_beyond, refine_bracket
from loadtests.sweep_steps import StepFigures, interpolated, knee, knee_rate
from loadtests.x_posts import (
    timeline_reads,
)
from scenario import Scenario, load_scenario
from simulator.polled_sweep import (
    KINDS,
    MENTIONS_DEPTH,
    PolledStep,
    simulate_polled_step,
)
from twittcom.against import Against, against_stack
from twittcom.sweep_offer import Offerer, Probe, probe
from twittcom.sweep_verdict import judge_sweep

__all__ = ["AgainstSweepSpec", "model_capacity", "run_against_sweep"]


#: fake X's route key of recent search, in its log of reads
SEARCH_ROUTE = "GET /2/tweets/search/recent"


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
    refine_steps: int = DEFAULT_REFINE_STEPS
    workdir: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def model_capacity(scenario: Scenario) -> float:
    """Events/s the calibrated workers can serve: ``count`` / the mix's mean service time."""
    mix, workers = scenario.arrivals.mix, scenario.system.workers
    mean = sum(mix.share(k) * workers.service_of(k).mean for k in KINDS)
    return workers.count / mean if mean > 0 else math.inf


def _spread(values: Sequence[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "interval": [min(values), max(values)],
            "replications": list(values)}  # fmt: skip


def predicted_step(
    scenario: Scenario,
    rate: float,
    seconds: float,
    count: int,
    seed: int,
    held: float = 1.0,
    read_cost: float = 0.0,
    stalls: Sequence[float] = (),
    depth: int | None = MENTIONS_DEPTH,
) -> dict[str, Any]:
    """The calibrated model's figures at ``rate``: medians over ``count`` replications and their range;
    ``depth`` None for a system that reads what its mentions timeline lost from recent search."""
    runs: list[PolledStep] = [
        simulate_polled_step(
            scenario,
            rate,
            seconds,
            seed + 1000 * r,
            held=held,
            read_cost=read_cost,
            stalls=stalls,
            depth=depth,
        )
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


def _held(estimate: float, found: Probe) -> float:
    """The share of its service time each message holds a model worker: the calibrated capacity
    over the probed one. A probe whose reads, not its workers, held it back (it lost mentions, and
    answered as fast as it read): the workers finish at least that rate, so it may speed the
    model's up, never slow them."""
    held = estimate / found.finished if found.finished > 0 else 1.0
    return held if found.workers_bound else min(1.0, held)


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
        20_000,
        int(
            4 * scenario.arrivals.mix.share("reg") * top * seconds * (len(spec.steps) + 6 + spec.refine_steps)
        ),
    )
    drain = 30.0 + 3 * max(
        scenario.system.ingestion.poll_interval_s, scenario.system.ingestion.dm_poll_interval_s
    )
    workdir = Path(spec.workdir or tempfile.mkdtemp(prefix="twittcom-sweep-against-"))
    with against_stack(scenario, size, spec.against, workdir) as urls:
        population = json.loads(Path(urls.population_file).read_text())
        offerer = Offerer(scenario, urls.x, urls.sms, population, spec.seed)
        workdir.mkdir(parents=True, exist_ok=True)
        offerer.record = workdir / "steps.jsonl"
        offerer.run(max(1.0, 0.1 * estimate), 2.0, drain, log)  # warm-up
        first = probe(offerer, estimate, spec.probe_seconds, drain, log)
        capacity = spec.capacity or first.finished
        grid: list[StepFigures] = []
        refined: list[StepFigures] = []
        refinement: dict[str, Any] = {}

        def step(rate: float, refining: bool = False) -> StepFigures:
            figures = offerer.run(rate, seconds, drain, log, exact=refining)[0]
            if refining:
                figures = replace(figures, extra={**figures.extra, "refined": 1.0})
            log(
                f"  {figures.offered_rate:7.1f}/s offered  {figures.accepted_rate:7.1f}/s accepted  "
                f"{figures.processed_rate:7.1f}/s processed  p50 {figures.p50 * 1e3:7.0f} ms  p95 "
                f"{figures.p95 * 1e3:7.0f} ms  p99 {figures.p99 * 1e3:7.0f} ms  driver "
                f"{figures.extra['driver_cores']:.3f} cores "
                f"({figures.extra['driver_cpu_per_post_ms']:.2f} ms/post){'  refining' if refining else ''}"
            )
            return figures

        fractions = list(spec.steps)
        while fractions:
            grid.append(step(fractions.pop(0) * capacity))
            if not grid[-1].keeps_up(spec.slo_p99_s) and not refinement:
                # the first failure fixes the knee's bracket: bisect it before the deeper overloads
                refined, refinement = refine_bracket(
                    lambda rate: step(rate, True), grid, spec.slo_p99_s, spec.refine_steps
                )
                log(f"  {bracket_said(refinement)}")
            numbers = 3 * 1.25 * grid[-1].target_rate * seconds * scenario.arrivals.mix.share("reg")
            more = len(grid) < len(spec.steps) + 3 and grid[-1].keeps_up(spec.slo_p99_s)
            more = more and len(offerer.numbers) > numbers
            if not fractions and more:  # the grid ended below the knee: on until a step fails
                fractions.append(1.25 * grid[-1].target_rate / capacity)
        measured = sorted([*grid, *refined], key=lambda s: s.target_rate)
        # a second probe after the grid: a shared machine's other load moves within a run, and one
        # probe of a few seconds may catch it at its highest or lowest
        second = probe(offerer, first.finished or estimate, spec.probe_seconds, drain, log)
        reads = timeline_reads(urls.x)
        (workdir / "reads.json").write_text(json.dumps(reads), encoding="utf-8")
    # a system that searched X read what its mentions timeline had lost (the reference does): the
    # model then keeps every mention, else it drops a backlog beyond X's 800 newest
    searches = sum(1 for r in reads if r["route"] == SEARCH_ROUTE)
    depth = None if searches else MENTIONS_DEPTH
    probes = (first, second)
    finished = statistics.mean(p.finished for p in probes)
    held = statistics.mean(_held(estimate, p) for p in probes)
    read_cost = statistics.mean(p.read_cost for p in probes)
    stalls = first.stalls + second.stalls
    predicted = [
        predicted_step(
            scenario, m.target_rate, seconds, spec.replications, spec.seed, held, read_cost, stalls, depth
        )
        for m in measured
    ]
    beyond = model_rows_beyond(
        predicted,
        lambda rate: predicted_step(
            scenario, rate, seconds, spec.replications, spec.seed, held, read_cost, stalls, depth
        ),
        seconds,
        spec.slo_p99_s,
    )
    knee_measured = knee_rate(measured, spec.slo_p99_s)
    knee_predicted = knee_rate(_as_figures([*predicted, *beyond], seconds), spec.slo_p99_s)
    # the same model without the probe: the storm's calibration alone
    unprobed = [
        predicted_step(scenario, m.target_rate, seconds, spec.replications, spec.seed, depth=depth)
        for m in measured
    ]
    knee_unprobed = knee_rate(_as_figures(unprobed, seconds), spec.slo_p99_s)
    at_share = []
    for share in (0.5, 0.8):
        if not knee_measured:
            break
        rate = share * knee_measured
        p95 = interpolated(measured, rate, "p95")
        guess = predicted_step(
            scenario, rate, seconds, spec.replications, spec.seed, held, read_cost, stalls, depth
        )
        at_share.append({"share": share, "rate": rate, "measured_p95_s": p95, "predicted": guess,
                         "measured_after_sweep": {"p95_s": p95}, "measured_how": "way_up",
                         "p95_ratio": guess["p95_s"]["median"] / p95 if p95 > 0 else None})  # fmt: skip
    knee_step = knee(measured, spec.slo_p99_s)
    system = scenario.system
    document = {
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
            f"mentions beyond X's {MENTIONS_DEPTH} newest: "
            + (f"read from recent search ({searches} searches): none lost" if searches else "lost"),
        ],
        "calibration": {
            "capacity_per_s": capacity,
            "model_capacity_per_s": estimate,
            "probe_capacity_per_s": finished,
            "held_share": held,
            "probe_workers_bound": [p.workers_bound for p in probes],
            "probes_capacity_per_s": [p.finished for p in probes],
            "read_cost_per_message_s": read_cost,
            "round_stalls_s": list(stalls),
            "probe": first.figures,
            "probe_after": second.figures,
            "params": {"scenario": spec.scenario, "overrides": list(spec.overrides)},
        },  # fmt: skip
        "capacity_per_s": capacity,
        "measured": [m.as_json() for m in measured],
        "predicted": predicted,
        "predicted_beyond": beyond,
        "knee": {
            "measured_per_s": knee_measured,
            "predicted_per_s": knee_predicted,
            "measured_step_per_s": knee_step.offered_rate if knee_step else None,
            "ratio": (knee_predicted / knee_measured) if knee_measured and knee_predicted else None,
            "predicted_without_probe_per_s": knee_unprobed,
        },
        "at_knee_share": at_share,
        "refinement": refinement,
        "seconds": time.monotonic() - started,
    }
    document["verdicts"] = judge_sweep(document)
    return document
