"""``twittcom sweep``: offered load in steps through the live processor to saturation, beside the model.

:func:`run_sweep` deploys :func:`~twittcom.sweep_stack.sweep_stack`, then

1. **calibrates** on this machine, now: a low-rate probe (CPU seconds per event of the service, the
   store, the sink and the driver; the other load on the machine; each event's time in ingestion,
   group commit and dispatch) and a saturating probe (CPU per event in full batches, and the rate
   events are finished at: the capacity);
2. **measures** each step of the grid (fractions of the capacity, or of ``--capacity``): open-loop
   Poisson deliveries (:mod:`loadtests.sweep_driver`), then the drain, then every event's times from
   the store (:mod:`loadtests.sweep_steps`), with CPU per process and queue depths sampled
   meanwhile; and two more steps at 50 % and 80 % of the measured knee;
3. **predicts** the same steps with :mod:`simulator.saturation` calibrated from step 1 (its one
   fitted figure, the store's serial share, is fitted to the saturating probe only; nothing is
   fitted to the sweep).

The result is one JSON-ready document; :mod:`twittcom.sweep_report` turns it into HTML.
"""

from __future__ import annotations

import math
import os
import resource
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from loadtests.sweep_driver import DriverJob, DriverResult, drive_in_subprocess
from loadtests.sweep_steps import StepFigures, interpolated, knee, knee_rate, step_figures
from simulator.saturation import SaturationParams, SimulatedStep, fit_serial_share, fit_slice, simulate_step
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
    scenario: str = ""
    notes: tuple[str, ...] = ()


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores) from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    ticks = float(os.sysconf("SC_CLK_TCK"))
    return (sum(fields[:8]) - fields[3] - fields[4]) / ticks


def _procs_running() -> int:
    """Threads runnable on the machine now (the kernel's ``procs_running``)."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("procs_running"):
            return int(line.split()[1])
    return 0


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Stepper:
    """Runs steps against one deployment, numbering events so that no tweet id repeats."""

    def __init__(self, stack: SweepStack, spec: SweepSpec) -> None:
        self.stack, self.spec = stack, spec
        self.next_base = _BASE_ID
        self.fresh = 0

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
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.5):
                running.append(_procs_running())
                try:
                    depths.append(self.stack.depths())
                except Exception:  # noqa: BLE001 - a missed sample is only a missed sample
                    continue

        sampler = threading.Thread(target=sample, daemon=True)
        cpu0, busy0, t0, own0 = self.stack.cpu_seconds(), _machine_busy(), time.monotonic(), _own_cpu()
        sampler.start()
        driven = drive_in_subprocess(job)
        cpu1, busy1, wall = self.stack.cpu_seconds(), _machine_busy(), time.monotonic() - t0
        own = _own_cpu() - own0
        stop.set()
        sampler.join()
        self.stack.wait_drained()
        cpu_end = self.stack.cpu_seconds()
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
        }
        # other people's runnable threads: those the kernel counted less ours (and the sampler),
        # at least as many as the cores' worth of CPU they took
        ours_cores = ours / wall
        counted = (statistics.mean(running) - 1 - ours_cores) if running else 0.0
        extra["background_threads"] = max(extra["background_cores"], counted)
        completions = {i: t.completed for i, t in times.items()}
        return step_figures(rate, seconds, driven, completions, time.time(), extra), driven, times


def _median_stage(times: dict[int, EventTimes], driven: DriverResult) -> tuple[float, float, float]:
    ingest = [t.received - (driven.start_epoch + driven.scheduled[i]) for i, t in times.items()]
    batch = [t.created - t.received for t in times.values()]
    out = [t.completed - t.created for t in times.values()]
    return tuple(max(1e-6, statistics.median(v)) for v in (ingest, batch, out))  # type: ignore[return-value]


def _finished_rate(times: dict[int, EventTimes], driven: DriverResult) -> float:
    if len(times) < 2:
        return 0.0
    first = driven.start_epoch + driven.scheduled[0]
    return len(times) / (max(t.completed for t in times.values()) - first)


def calibrate(stepper: _Stepper, spec: SweepSpec, log: Callable[[str], None]) -> dict[str, Any]:
    """The probes of step 1; the model's parameters and the capacity (see the module docstring)."""
    stepper.run(spec.probe_low_rate, 1.0)  # warm-up: connections, caches
    low, low_driven, low_times = stepper.run(spec.probe_low_rate, spec.probe_seconds)
    high, high_driven, high_times = stepper.run(spec.probe_high_rate, spec.probe_seconds)
    capacity = _finished_rate(high_times, high_driven)
    c_low, c_high = low.extra["service_cpu_per_event_s"], high.extra["service_cpu_per_event_s"]
    batch = spec.stack.batch_size
    t_in, t_batch, t_out = _median_stage(low_times, low_driven)
    total = t_in + t_batch + t_out

    def split(n_low: float, n_high: float, p: SaturationParams) -> SaturationParams:
        """CPU per event = per_event + fixed / batch size: two probes, two batch sizes, two unknowns."""
        fixed = max(0.0, c_low - c_high) / max(1e-9, 1 / n_low - 1 / n_high)
        per_event = max(1e-6, c_low - fixed / n_low)
        share = per_event / total
        return replace(p, ingest_s=share * t_in, batch_fixed_s=fixed, batch_per_event_s=share * t_batch,
                       dispatch_s=share * t_out)  # fmt: skip

    inline = not spec.stack.store.startswith(("postgresql://", "postgres://"))
    offered_low = max(1, low.offered)
    params = SaturationParams(
        cores=float(len(os.sched_getaffinity(0))),
        processes=spec.stack.processes,
        workers=spec.stack.workers,
        batch_size=batch,
        ingest_s=0.0,
        batch_fixed_s=0.0,
        batch_per_event_s=0.0,
        dispatch_s=0.0,
        sink_s=low.extra["sink_cores"] * low.seconds / offered_low,
        driver_s=low.extra["driver_cores"] * low.seconds / offered_low,
        background_threads=statistics.mean(
            [low.extra["background_threads"], high.extra["background_threads"]]
        ),
        serial_share=0.5,
        inline_store=inline,
    )
    # each probe is modelled under the other load measured in it
    bg_low, bg_high = low.extra["background_threads"], high.extra["background_threads"]

    def fit_serial(p: SaturationParams) -> SaturationParams:
        fitted = fit_serial_share(replace(p, background_threads=bg_high), spec.probe_high_rate,
                                  spec.probe_seconds, capacity)  # fmt: skip
        return replace(fitted, background_threads=p.background_threads)

    # the batch sizes behind the two CPU figures are the model's own at the two probes: start from
    # one and full batches, then take what the calibrated model shows, twice
    n_low, n_high = 1.0, float(batch)
    for _ in range(3):
        params = fit_serial(split(n_low, n_high, params))
        sim_low = simulate_step(
            replace(params, background_threads=bg_low), spec.probe_low_rate, spec.probe_seconds, 5
        )
        sim_high = simulate_step(replace(params, background_threads=bg_high), spec.probe_high_rate,
                                spec.probe_seconds, 5)  # fmt: skip
        n_low, n_high = max(1.0, sim_low.mean_batch), max(1.0, sim_high.mean_batch)
        if n_high <= n_low * 1.05:
            break
    if not inline:  # the wall time of store calls beyond their CPU: from the low probe's median latency
        at_low = replace(params, background_threads=bg_low)
        model_low = _replicated(at_low, spec.probe_low_rate, spec.probe_seconds, 3, spec.seed)
        gap = low.p50 - statistics.median(s.percentile(50) for s in model_low)
        params = fit_serial(replace(params, store_wait_s=max(0.0, gap / 3)))
    # the wake-up wait under other people's load: fitted to the low probe's p95, then the share again
    sliced = fit_slice(
        replace(params, background_threads=bg_low), spec.probe_low_rate, spec.probe_seconds, low.p95
    )
    params = fit_serial(replace(params, slice_s=sliced.slice_s))
    log(
        f"calibrated: capacity {capacity:,.0f}/s, CPU per event {c_low * 1e3:.2f} ms at "
        f"{spec.probe_low_rate:.0f}/s and {c_high * 1e3:.2f} ms saturated, serial share "
        f"{params.serial_share:.2f}, wake-up slice {params.slice_s * 1e3:.1f} ms, other load "
        f"{params.background_threads:.2f} threads"
    )
    return {
        "capacity_per_s": capacity,
        "model_batch_sizes": [n_low, n_high],
        "params": asdict(params),
        "low_probe": low.as_json(),
        "high_probe": high.as_json(),
    }


def _replicated(
    params: SaturationParams, rate: float, seconds: float, count: int, seed: int
) -> list[SimulatedStep]:
    return [simulate_step(params, rate, seconds, seed + 1000 * r) for r in range(count)]


def _predicted_step(
    params: SaturationParams, rate: float, seconds: float, count: int, seed: int
) -> dict[str, Any]:
    """The model's figures at ``rate``: medians over replications and their range (min, max)."""
    runs = _replicated(params, rate, seconds, count, seed)

    def spread(values: Sequence[float]) -> dict[str, Any]:
        return {"median": statistics.median(values), "interval": [min(values), max(values)]}

    return {
        "target_rate": rate,
        "offered_rate": spread([s.offered / seconds for s in runs]),
        "processed_rate": spread([s.processed_in_step / seconds for s in runs]),
        **{f"p{q}_s": spread([s.percentile(q) for s in runs]) for q in (50, 95, 99)},
    }


def _as_figures(rows: list[dict[str, Any]], seconds: float) -> list[StepFigures]:
    out = []
    for row in rows:
        offered = round(row["offered_rate"]["median"] * seconds)
        out.append(
            StepFigures(
                row["target_rate"],
                seconds,
                offered,
                offered,
                round(row["processed_rate"]["median"] * seconds),
                offered,
                row["p50_s"]["median"],
                row["p95_s"]["median"],
                row["p99_s"]["median"],
                tuple(row["p95_s"]["interval"]),
                tuple(row["p99_s"]["interval"]),
            )
        )  # type: ignore[arg-type]
    return out


def run_sweep(spec: SweepSpec, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Calibrate, measure and predict (see the module docstring); the document the report shows."""
    started = time.monotonic()
    seconds = spec.step_seconds
    fresh = 0
    if spec.reg_share > 0:
        rates = (spec.capacity or spec.probe_high_rate) * max(spec.steps)
        fresh = (
            int(
                spec.reg_share
                * 2
                * (spec.probe_high_rate * spec.probe_seconds + rates * seconds * (len(spec.steps) + 2))
            )
            + 10_000
        )
    with sweep_stack(replace(spec.stack, fresh=fresh)) as stack:
        stepper = _Stepper(stack, spec)
        calibration = calibrate(stepper, spec, log)
        params = SaturationParams(**calibration["params"])
        capacity = spec.capacity or calibration["capacity_per_s"]
        measured: list[StepFigures] = []
        for fraction in spec.steps:
            figures = stepper.run(fraction * capacity, seconds)[0]
            measured.append(figures)
            log(
                f"  {figures.offered_rate:7.0f}/s offered  {figures.accepted_rate:7.0f}/s accepted  "
                f"{figures.processed_rate:7.0f}/s processed  p50 {figures.p50 * 1e3:7.1f} ms  p95 "
                f"{figures.p95 * 1e3:7.1f} ms  p99 {figures.p99 * 1e3:7.1f} ms  driver "
                f"{figures.extra['driver_cores']:.2f} cores"
            )
        knee_measured = knee_rate(measured, spec.slo_p99_s)
        checks: list[StepFigures] = []
        if knee_measured:
            for share in (0.5, 0.8):
                checks.append(stepper.run(share * knee_measured, seconds)[0])
    # the machine's other load is a condition of each step, measured in it, not a fitted figure
    predicted = [
        _predicted_step(
            replace(params, background_threads=m.extra["background_threads"]),
            m.target_rate,
            seconds,
            spec.replications,
            spec.seed,
        )
        for m in measured
    ]
    knee_predicted = knee_rate(_as_figures(predicted, seconds), spec.slo_p99_s)
    # p95 at 50 % and 80 % of the knee: measured on the way up (interpolated between the grid's steps,
    # before any overload), predicted at exactly that rate under the other load measured there; the
    # steps re-run there after the sweep show what an overload leaves behind
    at_share = []
    for share, again in zip((0.5, 0.8), checks, strict=False):
        rate = share * (knee_measured or 0.0)
        p95_up = interpolated(measured, rate, "p95")
        model = replace(params, background_threads=interpolated(measured, rate, "background_threads"))
        guess = _predicted_step(model, rate, seconds, spec.replications, spec.seed)
        at_share.append({"share": share, "rate": rate, "measured_p95_s": p95_up, "predicted": guess,
                         "measured_after_sweep": again.as_json(),
                         "p95_ratio": guess["p95_s"]["median"] / p95_up if p95_up > 0 else None})  # fmt: skip
    knee_step = knee(measured, spec.slo_p99_s)
    return {
        "scenario": spec.scenario,
        "store": "postgresql" if not params.inline_store else "sqlite",
        "processes": spec.stack.processes,
        "workers": spec.stack.workers,
        "batch_size": spec.stack.batch_size,
        "cores": params.cores,
        "step_seconds": seconds,
        "slo_p99_s": spec.slo_p99_s,
        "reg_share": spec.reg_share,
        "replications": spec.replications,
        "notes": list(spec.notes),
        "calibration": calibration,
        "capacity_per_s": capacity,
        "measured": [m.as_json() for m in measured],
        "predicted": predicted,
        "knee": {
            "measured_per_s": knee_measured,
            "predicted_per_s": knee_predicted,
            "measured_step_per_s": knee_step.offered_rate if knee_step else None,
            "ratio": (knee_predicted / knee_measured) if knee_measured and knee_predicted else None,
        },
        "at_knee_share": at_share,
        "seconds": time.monotonic() - started,
    }
