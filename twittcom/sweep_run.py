"""``twittcom sweep``: offered load in steps through the live processor to saturation, beside the model.

:func:`run_sweep` deploys :func:`~twittcom.sweep_stack.sweep_stack`, then

1. **calibrates** on this machine, now: a low-rate probe (CPU seconds per event of the service, the
   store, the sink and the driver; the other load on the machine; each event's time in ingestion,
   group commit and dispatch) and a saturating probe (CPU per event in full batches, and the rate
   events are finished at: the capacity);
2. **measures** each step of the grid (fractions of the capacity, or of ``--capacity``): open-loop
   Poisson deliveries (:mod:`loadtests.sweep_driver`), then the drain, then every event's times from
   the store (:mod:`loadtests.sweep_steps`), with CPU per process and queue depths sampled
   meanwhile; as soon as a step fails (which fixes the knee's bracket), up to ``refine_steps``
   more steps bisect the bracket between the last passing and that step
   (:func:`loadtests.sweep_intervals.refine`); then the checks: steps at 50 % and
   80 % of the measured knee, alternating,
   ``check_repeats`` times each, every event's latency kept so that the acceptance's measured p95
   is pooled over the repeats (one step's p95 moves with the machine's other load by more than the
   20 % bound);
3. **predicts** the same steps with :mod:`simulator.saturation` calibrated from step 1 (its one
   fitted figure, the store's serial share, is fitted to the saturating probe only; nothing is
   fitted to the sweep).

The result is one JSON-ready document; :mod:`twittcom.sweep_report` turns it into HTML.
"""

from __future__ import annotations

import math
import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from loadtests.sweep_driver import DriverJob, DriverResult, drive_in_subprocess
from loadtests.sweep_intervals import DEFAULT_REFINE_STEPS, bracket_said, refine_bracket
from loadtests.sweep_steps import StepFigures, knee, knee_rate, latencies, step_figures
from twittcom.sweep_model import predict
from twittcom.sweep_proc import machine_busy, others_running, own_cpu, procs_running
from twittcom.sweep_stack import OPERATOR_ID, SECRET, EventTimes, StackSpec, SweepStack, sweep_stack

__all__ = ["DEFAULT_STEPS", "SweepSpec", "run_sweep"]

DEFAULT_STEPS = (0.1, 0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 1.0, 1.1, 1.3)
_BASE_ID = 1_100_000_000_000_000_000
_ACT = "@tatadocomo #act #TD49DEL"


@dataclass(frozen=True)
class SweepSpec:
    """What to sweep (see ``twittcom sweep --help``)."""

    stack: StackSpec = field(default_factory=StackSpec)
    steps: tuple[float, ...] = DEFAULT_STEPS
    capacity: float | None = None
    step_seconds: float = 8.0
    slo_p99_s: float = 0.25
    reg_share: float = 0.0
    seed: int = 1
    replications: int = 5
    probe_low_rate: float = 100.0
    probe_high_rate: float = 2500.0
    probe_seconds: float = 4.0
    check_repeats: int = 5
    refine_steps: int = DEFAULT_REFINE_STEPS
    reprobe_every: int = 3
    scenario: str = ""
    notes: tuple[str, ...] = ()


class _Stepper:
    """Runs steps against one deployment, numbering events so that no tweet id repeats."""

    def __init__(self, stack: SweepStack, spec: SweepSpec) -> None:
        self.stack, self.spec = stack, spec
        self.next_base = _BASE_ID
        self.fresh = 0
        self.started = time.monotonic()
        self.measured_steps = 0
        #: the machine's speed over the run: saturating probes between the measured steps
        self.speed_probes: list[dict[str, float]] = []

    def step(self, rate: float, seconds: float) -> tuple[StepFigures, DriverResult, dict[int, EventTimes]]:
        """A measured step (grid, refining or check); every ``reprobe_every`` of them, a speed probe.
        After a step that did not keep up, the settling step."""
        out = self.run(rate, seconds)
        self.measured_steps += 1
        if not out[0].keeps_up(self.spec.slo_p99_s):
            self.settle()
        every = self.spec.reprobe_every
        if every and self.measured_steps % every == 0:
            self.speed_probe()
        return out

    def settle(self) -> None:
        """Two seconds at the low probe's rate, not measured, after an overload: its debris (the
        store's write-ahead log grown through the backlog, cold caches after the long batches) is
        cleared by a step nobody judges, not by the next measured one (the first check run right
        after a failing step measured p95 102 ms where the next two measured 24 and 13 ms)."""
        self.run(self.spec.probe_low_rate, 2.0)

    def speed_probe(self) -> dict[str, float]:
        """The saturating probe again: its CPU per event in full batches tells the machine's speed
        now (the same code's moved 1.05 -> 1.45 ms between two quiet sweeps 10 minutes apart)."""
        figures, driven, times = self.run(self.spec.probe_high_rate, self.spec.probe_seconds)
        found = speed_of(figures, _finished_rate(times, driven))
        self.speed_probes.append(found)
        self.settle()
        return found

    def run(self, rate: float, seconds: float) -> tuple[StepFigures, DriverResult, dict[int, EventTimes]]:
        base, self.next_base = self.next_base, self.next_base + 10**9
        job = DriverJob(
            self.stack.url,
            rate,
            seconds,
            SECRET,
            OPERATOR_ID,
            _ACT,
            self.spec.stack.users,
            base,
            seed=self.spec.seed + base % 10**6,
            reg_share=self.spec.reg_share,
            fresh_base=self.fresh,
        )
        self.fresh += int(rate * seconds * 1.5) + 50
        depths: list[dict[str, float]] = []
        running: list[int] = []
        others: list[int] = []
        ours_pids = self.stack.our_pids()
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.5):
                running.append(procs_running())
                others.append(others_running(ours_pids))
                try:
                    depths.append(self.stack.depths())
                except Exception:  # noqa: BLE001 - a missed sample is only a missed sample
                    continue

        sampler = threading.Thread(target=sample, daemon=True)
        cpu0, busy0, t0, own0 = self.stack.cpu_seconds(), machine_busy(), time.monotonic(), own_cpu()
        at = t0 - self.started + seconds / 2  # the middle of its drive, seconds into the sweep
        sampler.start()
        driven = drive_in_subprocess(job)
        cpu1, busy1, wall = self.stack.cpu_seconds(), machine_busy(), time.monotonic() - t0
        own = own_cpu() - own0
        stop.set()
        sampler.join()
        self.stack.wait_drained()
        cpu_end, busy_end, wall_end = self.stack.cpu_seconds(), machine_busy(), time.monotonic() - t0
        own_end = own_cpu() - own0
        times = self.stack.event_times(base, driven.offered)
        cores = {k: (cpu1.get(k, 0.0) - cpu0.get(k, 0.0)) / wall for k in cpu1 if k.startswith("service:")}
        ours = sum(cpu1[k] - cpu0.get(k, 0.0) for k in ("service", "sink", "database"))
        ours += driven.process_cpu_s + own  # the driver's start-up and this process's sampling too
        extra = {
            "driver_cores": driven.cpu_s / wall,
            "service_cores": (cpu1["service"] - cpu0["service"]) / wall,
            "database_cores": (cpu1["database"] - cpu0["database"]) / wall,
            "sink_cores": (cpu1["sink"] - cpu0["sink"]) / wall,
            "background_cores": max(0.0, (busy1 - busy0 - ours) / wall),
            "runnable_threads_mean": statistics.mean(running) if running else math.nan,
            "busiest_process_cores": max(cores.values(), default=0.0),
            "service_cpu_per_event_s": (
                cpu_end["service"] - cpu0["service"] + cpu_end["database"] - cpu0["database"]
            )
            / max(1, driven.offered),
            "inbound_pending_max": max((d.get("inbound_pending", 0.0) for d in depths), default=0.0),
            "outbox_due_max": max((d.get("outbox_due", 0.0) for d in depths), default=0.0),
            "driver_max_lateness_s": driven.max_lateness_s,
            "at_s": at,
        }
        # other people's runnable threads: those the kernel counted less ours (and the sampler),
        # at least as many as the cores' worth of CPU they took
        ours_cores = ours / wall
        counted = (statistics.mean(running) - 1 - ours_cores) if running else 0.0
        extra["background_threads"] = max(extra["background_cores"], counted)
        # the same, counted thread by thread outside the deployment (so ours waiting for a core are
        # not taken for other load), the driver included: what the model's other load runs as
        extra["other_runnable_threads"] = statistics.mean(others) if others else math.nan
        # over the drive and the drain (a saturating probe is mostly drain): all CPU but the
        # service's, its store's and the sink's, so the driver's too
        theirs = (
            busy_end
            - busy0
            - own_end
            - sum(cpu_end[k] - cpu0.get(k, 0.0) for k in ("service", "sink", "database"))
        )
        extra["other_cores_drained"] = max(0.0, theirs / wall_end)
        extra["drained_wall_s"] = wall_end
        extra.update(_stage_figures(times, driven))
        extra["database_cpu_per_event_s"] = (cpu_end["database"] - cpu0["database"]) / max(1, driven.offered)
        completions = {i: t.completed for i, t in times.items()}
        return step_figures(rate, seconds, driven, completions, time.time(), extra), driven, times


def _stage_figures(times: dict[int, EventTimes], driven: DriverResult) -> dict[str, float]:
    """Each event's time in ingestion (scheduled send -> queued), the group commit (queued ->
    outbox written) and dispatch (-> last message accepted): p50 and p95 of each, seconds."""
    if not times:
        return {}
    stages = {
        "ingest": sorted(t.received - (driven.start_epoch + driven.scheduled[i]) for i, t in times.items()),
        "batch": sorted(t.created - t.received for t in times.values()),
        "out": sorted(t.completed - t.created for t in times.values()),
    }
    out = {}
    for name, values in stages.items():
        for q in (50, 95):
            out[f"stage_{name}_p{q}_s"] = values[min(len(values) - 1, math.ceil(q / 100 * len(values)) - 1)]
    return out


def _finished_rate(times: dict[int, EventTimes], driven: DriverResult) -> float:
    if len(times) < 2:
        return 0.0
    first = driven.start_epoch + driven.scheduled[0]
    return len(times) / (max(t.completed for t in times.values()) - first)


def speed_of(figures: StepFigures, capacity: float) -> dict[str, float]:
    """A saturating probe as a reading of the machine's speed: when, its CPU per event (service and
    store) and the rate its events were finished at."""
    return {"at_s": figures.extra["at_s"], "cpu_per_event_s": figures.extra["service_cpu_per_event_s"],
            "capacity_per_s": capacity}  # fmt: skip


def calibrate(stepper: _Stepper, spec: SweepSpec, log: Callable[[str], None]) -> dict[str, Any]:
    """The probes of step 1: a low rate and a saturating one (the capacity: the rate the latter's
    events were finished at); :mod:`twittcom.sweep_model` fits the model to them."""
    stepper.run(spec.probe_low_rate, 1.0)  # warm-up: connections, caches
    low = stepper.run(spec.probe_low_rate, spec.probe_seconds)[0]
    high, high_driven, high_times = stepper.run(spec.probe_high_rate, spec.probe_seconds)
    capacity = _finished_rate(high_times, high_driven)
    stepper.speed_probes.append(speed_of(high, capacity))
    log(
        f"probed: capacity {capacity:,.0f}/s, CPU per event "
        f"{low.extra['service_cpu_per_event_s'] * 1e3:.2f} ms at {spec.probe_low_rate:.0f}/s and "
        f"{high.extra['service_cpu_per_event_s'] * 1e3:.2f} ms saturated, other load "
        f"{low.extra['background_cores']:.2f} / {high.extra['background_cores']:.2f} cores"
    )
    return {"capacity_per_s": capacity, "low_probe": low.as_json(), "high_probe": high.as_json()}


def _checks(
    stepper: _Stepper, knee_measured: float | None, spec: SweepSpec, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Steps at 50 % and 80 % of the measured knee, alternating, ``check_repeats`` times: each with
    its share, its repeat and every event's latency (milliseconds, sorted) for the pooled p95."""
    out: list[dict[str, Any]] = []
    for repeat in range(spec.check_repeats if knee_measured else 0):
        for share in (0.5, 0.8):
            figures, driven, times = stepper.step(share * (knee_measured or 0.0), spec.step_seconds)
            done = {i: t.completed for i, t in times.items()}
            values = latencies(spec.step_seconds, driven, done, time.time())[0]
            out.append({**figures.as_json(), "share": share, "repeat": repeat,
                        "latencies_ms": [round(v * 1e3, 2) for v in values]})  # fmt: skip
            log(
                f"  check {share:.0%} of the knee, run {repeat + 1}: {figures.offered_rate:7.0f}/s offered  "
                f"p95 {figures.p95 * 1e3:7.1f} ms  other load {figures.extra['background_cores']:.2f} cores"
            )
    return out


def fresh_numbers_needed(spec: SweepSpec) -> int:
    """New numbers the directory needs for the whole sweep: every run takes ``rate x seconds x 1.5
    + 50`` of them (a ``#reg`` event's number is its index past the run's base), at most the
    probes', the grid's, the refining and check steps', the speed probes' and the settling steps'
    (a step's rate at most the saturating probe's rate times the top fraction)."""

    def taken(rate: float, seconds: float) -> int:
        return int(rate * seconds * 1.5) + 50

    top = (spec.capacity or spec.probe_high_rate) * max(spec.steps, default=1.0)
    measured = len(spec.steps) + spec.refine_steps + 2 * spec.check_repeats
    probes = 1 + (measured // spec.reprobe_every + 1 if spec.reprobe_every else 0)
    settles = measured + probes
    return (
        taken(spec.probe_low_rate, 1.0) + taken(spec.probe_low_rate, spec.probe_seconds)
        + probes * taken(spec.probe_high_rate, spec.probe_seconds) + measured * taken(top, spec.step_seconds)
        + settles * taken(spec.probe_low_rate, 2.0)
    )  # fmt: skip


def run_sweep(spec: SweepSpec, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Calibrate, measure and predict (see the module docstring); the document the report shows."""
    started = time.monotonic()
    seconds = spec.step_seconds
    fresh = fresh_numbers_needed(spec) if spec.reg_share > 0 else 0
    with sweep_stack(replace(spec.stack, fresh=fresh)) as stack:
        stepper = _Stepper(stack, spec)
        calibration = calibrate(stepper, spec, log)
        capacity = spec.capacity or calibration["capacity_per_s"]
        measured: list[StepFigures] = []
        checks: list[dict[str, Any]] | None = None
        refinement: dict[str, Any] = {}

        def step(rate: float, refining: bool = False) -> StepFigures:
            figures = stepper.step(rate, seconds)[0]
            if refining:
                figures = replace(figures, extra={**figures.extra, "refined": 1.0})
            log(
                f"  {figures.offered_rate:7.0f}/s offered  {figures.accepted_rate:7.0f}/s accepted  "
                f"{figures.processed_rate:7.0f}/s processed  p50 {figures.p50 * 1e3:7.1f} ms  p95 "
                f"{figures.p95 * 1e3:7.1f} ms  p99 {figures.p99 * 1e3:7.1f} ms  driver "
                f"{figures.extra['driver_cores']:.2f} cores  other load "
                f"{figures.extra['background_cores']:.2f} cores{'  (refining the knee)' if refining else ''}"
            )
            return figures

        for fraction in spec.steps:
            measured.append(step(fraction * capacity))
            if checks is None and not measured[-1].keeps_up(spec.slo_p99_s):
                # the first step that fails fixes the knee's bracket (later steps cannot move it):
                # bisect it, then the checks, all before the deeper overloads (the store can come
                # out of them slower)
                refined, refinement = refine_bracket(
                    lambda rate: step(rate, True), measured, spec.slo_p99_s, spec.refine_steps
                )
                log(f"  {bracket_said(refinement)}")
                measured += refined
                checks = _checks(stepper, knee_rate(measured, spec.slo_p99_s), spec, log)
        if checks is None:
            checks = _checks(stepper, knee_rate(measured, spec.slo_p99_s), spec, log)
        if spec.reprobe_every:
            stepper.speed_probe()  # the last reading, after the last step
            said = ", ".join(f"{p['cpu_per_event_s'] * 1e3:.2f}" for p in stepper.speed_probes)
            log(f"  the machine's speed over the run (ms per event, saturated): {said}")
        calibration["speed_probes"] = stepper.speed_probes
        measured.sort(key=lambda s: s.target_rate)
    knee_step = knee(measured, spec.slo_p99_s)
    document = {
        "scenario": spec.scenario,
        "store": "postgresql" if spec.stack.store.startswith(("postgresql://", "postgres://")) else "sqlite",
        "processes": spec.stack.processes,
        "workers": spec.stack.workers,
        "batch_size": spec.stack.batch_size,
        "cores": float(len(os.sched_getaffinity(0))),
        "step_seconds": seconds,
        "slo_p99_s": spec.slo_p99_s,
        "reg_share": spec.reg_share,
        "replications": spec.replications,
        "seed": spec.seed,
        "probe": {
            "low_rate": spec.probe_low_rate,
            "high_rate": spec.probe_high_rate,
            "seconds": spec.probe_seconds,
        },  # fmt: skip
        "notes": list(spec.notes),
        "calibration": calibration,
        "capacity_per_s": capacity,
        "measured": [m.as_json() for m in measured],
        "knee": {"measured_step_per_s": knee_step.offered_rate if knee_step else None},
        "knee_share_runs": checks,
        "refinement": refinement,
        "measured_seconds": time.monotonic() - started,
    }
    document = predict(document)
    document["seconds"] = time.monotonic() - started
    return document
