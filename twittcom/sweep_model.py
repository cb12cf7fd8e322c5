"""The sweep's prediction: :mod:`simulator.saturation` calibrated from the probes, run at every step.

Pure with respect to the live stack: everything here reads a sweep document (``sweep.json``), so a
saved run can be predicted again (``twittcom sweep --replay DIR``) after the model changes.

Calibration (:func:`fit_params`), from the two probes only:

- CPU per event of the service and its store (``/proc``) at a low rate and saturated: the model
  counts how many group commits each event shares at each probe (``k``), so ``c = V + F k`` twice
  gives the commits' fixed cost ``F`` and the per-event cost ``V``;
- ``V`` is split between ingestion, the worker's batch and the dispatch as the low probe's median
  stage times are (scheduled -> queued, -> outbox written, -> last message accepted);
- PostgreSQL: the backends' CPU per event (measured) is the commits' store work; SQLite: the
  store's share of a commit is the one figure fitted, so that the model finishes the saturating
  probe at the rate the live probe did (PostgreSQL fits the serial share of the store work the
  same way, and the wall time per store call to the low probe's median latency);
- the wake-up slice under other load is fitted to the low probe's p95.

Nothing is fitted to the sweep itself; each step's other load (CPU other processes took in it,
from ``/proc/stat``) is an input of the prediction at that step.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import Any, Literal

from loadtests.sweep_intervals import model_rows_beyond
from loadtests.sweep_steps import StepFigures, interpolated, knee_rate
from simulator.metrics import percentile
from simulator.saturation import SaturationParams, SimulatedStep, fit_share, fit_slice, simulate_step
from twittcom.sweep_verdict import judge_sweep

__all__ = ["fit_params", "predict", "predicted_step", "spread"]

#: how the dispatch's per-event CPU divides: sending both messages, reading each answer, recording
#: each result (a fixed split, read from the code path, not measured)
_SEND, _RECEIVE, _FINISH = 0.4, 0.2, 0.1
#: PostgreSQL round trips per store call (ingest, the dispatcher's results, a worker's batch),
#: counted on the code path, not measured: BEGIN, the statements, COMMIT; a batch is three
#: transactions (the claim, the processor's reads and writes, completion with the hand-off lease)
ROUND_TRIPS = (3, 3, 18)


def _cpu(probe: dict[str, Any]) -> tuple[float, float]:
    """(service + store, store alone) CPU seconds per event of a probe."""
    total = float(probe["service_cpu_per_event_s"])
    store = probe.get("database_cpu_per_event_s")
    if store is None:
        store = probe["database_cores"] * probe["seconds"] / max(1, probe["offered"])
    return total, float(store)


def _other_load(step: dict[str, Any]) -> float:
    """Cores the model's servers do not get: other processes' CPU and the load driver's, both
    measured in the step."""
    return float(step["background_cores"]) + float(step["driver_cores"])


def _other_threads(step: dict[str, Any]) -> float | None:
    """The other load's runnable threads as the step counted them, thread by thread outside the
    deployment (the driver's included), None where the step did not count them (older documents, a
    system under test's sweep). Not ``background_threads`` (procs_running less our CPU): our own
    threads waiting for a core inflate it (3.2-3.7 on PostgreSQL beside 0.01-0.04 other cores)."""
    threads = step.get("other_runnable_threads")
    if not isinstance(threads, (int, float)) or not math.isfinite(threads):
        return None
    return float(threads)


def _under(params: SaturationParams, step: dict[str, Any], cores: float | None = None) -> SaturationParams:
    """``params`` under the other load ``step`` measured: its CPU (``cores``, else the step's) and
    its runnable threads."""
    load = _other_load(step) if cores is None else cores
    return replace(params, background_cores=load, background_threads=_other_threads(step))


def speed_at(speeds: Sequence[dict[str, Any]], at: float | None) -> float:
    """The machine's slowness at ``at`` seconds into the sweep relative to the calibration: the
    saturating probes' CPU per event (the first is the calibration's own), interpolated linearly in
    time between the two around ``at`` (the nearest outside them); 1 without readings or a time."""
    readings = sorted((float(p["at_s"]), float(p["cpu_per_event_s"])) for p in speeds)
    base = float(speeds[0]["cpu_per_event_s"]) if speeds else 0.0
    if at is None or base <= 0 or not math.isfinite(at):
        return 1.0
    if at <= readings[0][0]:
        return readings[0][1] / base
    for (t0, c0), (t1, c1) in zip(readings, readings[1:], strict=False):
        if at <= t1:
            share = (at - t0) / (t1 - t0) if t1 > t0 else 1.0
            return (c0 + share * (c1 - c0)) / base
    return readings[-1][1] / base


def at_speed(params: SaturationParams, factor: float) -> SaturationParams:
    """``params`` on a machine ``factor`` times slower: every CPU cost scaled (the service's, its
    commits', the sink's); wall-clock waits (the store's round trips, wake-ups) left as they are."""
    if factor == 1.0:
        return params
    return replace(params, request_s=params.request_s * factor, ingest_s=params.ingest_s * factor,
                   batch_per_event_s=params.batch_per_event_s * factor, send_s=params.send_s * factor,
                   receive_s=params.receive_s * factor, finish_s=params.finish_s * factor,
                   commit_fixed_s=params.commit_fixed_s * factor, sink_s=params.sink_s * factor)  # fmt: skip


def _speeds(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list(doc["calibration"].get("speed_probes", []))


def _at_of(step: dict[str, Any]) -> float | None:
    at = step.get("at_s")
    return float(at) if isinstance(at, (int, float)) else None


def _split(p: SaturationParams, low: dict[str, Any], per_event: float) -> SaturationParams:
    stages = [max(1e-6, float(low[f"stage_{s}_p50_s"])) for s in ("ingest", "batch", "out")]
    total = sum(stages)
    v_in, v_batch, v_out = (per_event * t / total for t in stages)
    return replace(p, request_s=v_in / 2, ingest_s=v_in / 2, batch_per_event_s=v_batch,
                   send_s=_SEND * v_out, receive_s=_RECEIVE * v_out, finish_s=_FINISH * v_out)  # fmt: skip


def fit_params(doc: dict[str, Any]) -> tuple[SaturationParams, dict[str, Any]]:
    """The model's parameters from the probes of a sweep document, and what the fit found."""
    cal, probe = doc["calibration"], doc["probe"]
    low, high = cal["low_probe"], cal["high_probe"]
    low_rate, high_rate, seconds = probe["low_rate"], probe["high_rate"], probe["seconds"]
    capacity = cal["capacity_per_s"]
    inline = doc["store"] != "postgresql"
    (c_low, d_low), (c_high, _) = _cpu(low), _cpu(high)
    offered_low = max(1, low["offered"])
    params = SaturationParams(
        cores=doc["cores"], processes=doc["processes"], workers=doc["workers"], batch_size=doc["batch_size"],
        request_s=0.0, ingest_s=0.0, batch_per_event_s=0.0, send_s=0.0, receive_s=0.0, finish_s=0.0,
        commit_fixed_s=0.0, sink_s=low["sink_cores"] * low["seconds"] / offered_low,
        driver_s=0.0, background_cores=0.0,
        store_share=0.5, inline_store=inline, serial_share=1.0 if inline else 0.0,
        round_trips=(0, 0, 0) if inline else ROUND_TRIPS,
    )  # fmt: skip
    # the saturating probe works mostly after its drive, while its backlog drains: its other load
    # over both (when the run recorded it)
    bg_high = high.get("other_cores_drained", _other_load(high))
    fitted: Literal["store_share", "serial_share"] = "store_share" if inline else "serial_share"

    def fit_capacity(p: SaturationParams) -> SaturationParams:
        return replace(fit_share(_under(p, high, bg_high), fitted, high_rate, seconds, capacity),
                       background_cores=0.0, background_threads=None)  # fmt: skip

    # the commits each event shares at the two probes are the model's own: start from one of each
    # kind per event and full batches, then take what the model shows (the store's share, fitted
    # last, barely moves them)
    k_low, k_high = 3.0, 3.0 / doc["batch_size"]
    for _ in range(2):
        fixed = max(0.0, c_low - c_high) / max(1e-9, k_low - k_high)
        per_event = max(1e-6, c_low - fixed * k_low)
        params = _split(replace(params, commit_fixed_s=fixed), low, per_event)
        if not inline:  # the backends' CPU is the commits' store work
            commit_work = fixed * k_low + params.ingest_s + params.batch_per_event_s + 2 * params.finish_s
            params = replace(params, store_share=min(0.95, d_low / max(1e-9, commit_work)))
        at_low = simulate_step(_under(params, low), low_rate, seconds, 5)
        at_high = simulate_step(_under(params, high, bg_high), high_rate, seconds, 5)
        k_low, k_high = at_low.commits_per_event, at_high.commits_per_event
    # wall time beyond the CPU, from the low probe's median: on PostgreSQL each store call's (round
    # trips, the flush; two commits on an event's path), on SQLite the sink's round trip's
    seed = doc.get("seed", 1)
    # and the wake-up slice under other load from its p95; each moves the other a little: twice
    for _ in range(2):
        runs = _replicated(_under(params, low), low_rate, seconds, 3, seed)
        gap = low["p50_s"] - statistics.median(s.percentile(50) for s in runs)
        if inline:
            params = replace(params, hop_s=max(0.0, params.hop_s + gap / 2))
        else:
            params = replace(params, store_wait_s=max(0.0, params.store_wait_s + gap / 2))
        sliced = fit_slice(_under(params, low), low_rate, seconds, low["p95_s"])
        params = replace(params, slice_s=sliced.slice_s)
    params = fit_capacity(params)
    found = {"commits_per_event": [k_low, k_high], "cpu_per_event_s": [c_low, c_high],
             "store_cpu_per_event_s": d_low, "fitted": fitted}  # fmt: skip
    return params, found


def spread(values: Sequence[float]) -> dict[str, Any]:
    """Figures over replications: the median, the range (min, max) and each replication's."""
    return {"median": statistics.median(values), "interval": [min(values), max(values)],
            "replications": list(values)}  # fmt: skip


def _replicated(
    params: SaturationParams, rate: float, seconds: float, count: int, seed: int
) -> list[SimulatedStep]:
    return [simulate_step(params, rate, seconds, seed + 1000 * r) for r in range(count)]


def predicted_step(
    params: SaturationParams, rate: float, seconds: float, count: int, seed: int
) -> dict[str, Any]:
    """The model's figures at ``rate``: medians over replications and their range (min, max)."""
    runs = _replicated(params, rate, seconds, count, seed)
    cpu = [params.per_event_s + params.commit_fixed_s * s.commits_per_event for s in runs]

    return {
        "target_rate": rate,
        "offered_rate": spread([s.offered / seconds for s in runs]),
        "processed_rate": spread([s.processed_in_step / seconds for s in runs]),
        **{f"p{q}_s": spread([s.percentile(q) for s in runs]) for q in (50, 95, 99)},
        # beside each step's measured service_cpu_per_event_s: a check of the calibration, not a fit
        "cpu_per_event_s": spread(cpu),
    }


def _as_figures(rows: list[dict[str, Any]], seconds: float) -> list[StepFigures]:
    out = []
    for row in rows:
        offered = round(row["offered_rate"]["median"] * seconds)
        processed = round(row["processed_rate"]["median"] * seconds)
        p95, p99 = row["p95_s"], row["p99_s"]
        out.append(
            StepFigures(
                row["target_rate"], seconds, offered, offered, processed, offered, row["p50_s"]["median"],
                p95["median"], p99["median"], tuple(p95["interval"]), tuple(p99["interval"]),  # type: ignore[arg-type]
            )
        )  # fmt: skip
    return out


def _measured(rows: list[dict[str, Any]]) -> list[StepFigures]:
    return [StepFigures.from_json(r) for r in rows]


def _check_runs(doc: dict[str, Any], share: float) -> list[dict[str, Any]]:
    """The steps run at ``share`` of the measured knee after the sweep (older documents: one per
    share, in order, without their latencies)."""
    runs = doc.get("knee_share_runs", [])
    return [r for i, r in enumerate(runs) if r.get("share", (0.5, 0.8)[i] if i < 2 else None) == share]


def _pooled_p95(samples: Sequence[Sequence[float]]) -> float:
    values = sorted(v for sample in samples for v in sample)
    return percentile(values, 95)


def _geomean(values: Sequence[float]) -> float:
    """The geometric mean; nan when a value is not positive and finite."""
    if not values or not all(0 < v < math.inf for v in values):
        return math.nan
    return math.exp(statistics.mean(math.log(v) for v in values))


def _at_share(
    params: SaturationParams,
    measured: list[StepFigures],
    share: float,
    knee_measured: float,
    runs: list[dict[str, Any]],
    seconds: float,
    count: int,
    seed: int,
    speeds: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """p95 at ``share`` of the measured knee, measured and predicted. With check runs that kept
    their latencies (``twittcom sweep`` since ``--check-repeats``): the measured p95 is pooled over
    their events, and the model runs each at its own measured other load, its replication ``k``
    pooled across the runs (median and range over ``k``); what ``--check`` judges is the geometric
    mean of the runs' p95, measured and in each replication (``p95_of_runs_s``;
    :mod:`twittcom.sweep_verdict`). Otherwise: measured on the way up (interpolated between the
    grid's steps), predicted under the other load interpolated there."""
    rate = share * knee_measured
    p95_up = interpolated(measured, rate, "p95")
    pooled = [r for r in runs if r.get("latencies_ms")]
    if pooled:
        loads = [_other_load(r) for r in pooled]
        factors = [speed_at(speeds, _at_of(r)) for r in pooled]
        sims = [
            _replicated(at_speed(_under(params, r), f), rate, seconds, count, seed)
            for r, f in zip(pooled, factors, strict=True)
        ]
        per_k = [_pooled_p95([sim[k].latencies for sim in sims]) for k in range(count)]
        threads = [_other_threads(r) for r in pooled]
        mean_threads = None if None in threads else statistics.mean(t or 0.0 for t in threads)
        guess = predicted_step(
            at_speed(
                replace(params, background_cores=statistics.mean(loads), background_threads=mean_threads),
                statistics.mean(factors),
            ),
            rate, seconds, count, seed,
        )  # fmt: skip
        guess["p95_s"] = spread(per_k)
        # each run alone too (median over replications at its load): how far one run's p95 moves
        guess["runs_p95_s"] = [statistics.median(s.percentile(95) for s in sim) for sim in sims]
        # what the check judges: each replication's geometric mean of the runs' p95, as measured
        guess["p95_of_runs_s"] = spread(
            [_geomean([sim[k].percentile(95) for sim in sims]) for k in range(count)]
        )
        measured_p95 = _pooled_p95([r["latencies_ms"] for r in pooled]) / 1e3
        how = "pooled"
    else:
        loads = [
            interpolated(measured, rate, "background_cores") + interpolated(measured, rate, "driver_cores")
        ]
        way_up = {key: interpolated(measured, rate, key) for key in ("background_cores", "driver_cores")}
        if all("other_runnable_threads" in m.extra for m in measured):
            way_up["other_runnable_threads"] = interpolated(measured, rate, "other_runnable_threads")
        at = interpolated(measured, rate, "at_s") if all("at_s" in m.extra for m in measured) else None
        guess = predicted_step(
            at_speed(_under(params, way_up), speed_at(speeds, at)), rate, seconds, count, seed
        )
        measured_p95, how = p95_up, "way_up"
    return {"share": share, "rate": rate, "measured_p95_s": measured_p95, "measured_how": how,
            "measured_way_up_p95_s": p95_up, "runs": len(pooled) or len(runs),
            "runs_p95_s": [r["p95_s"] for r in runs], "runs_other_load_cores": [_other_load(r) for r in runs],
            "events": sum(len(r["latencies_ms"]) for r in pooled),
            "measured_after_sweep": runs[0] if runs and not pooled else None,
            "predicted": guess, "other_load_cores": statistics.mean(loads),
            "p95_ratio": guess["p95_s"]["median"] / measured_p95 if measured_p95 > 0 else None}  # fmt: skip


def predict(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with the model fitted to its probes and its prediction of every measured step, the
    knee, and p95 at 50 % and 80 % of the measured knee (with the predicted/measured ratios)."""
    params, found = fit_params(doc)
    seconds, count, seed = doc["step_seconds"], doc["replications"], doc.get("seed", 1)
    measured = _measured(doc["measured"])
    speeds = _speeds(doc)

    def under(step: dict[str, Any]) -> SaturationParams:
        """The model as the step ran: under its other load, at the machine's speed then."""
        return at_speed(_under(params, step), speed_at(speeds, _at_of(step)))

    predicted = [predicted_step(under(m.extra), m.target_rate, seconds, count, seed) for m in measured]
    # past the grid's ends, the model runs under the other load measured at the nearest end
    ends = sorted(measured, key=lambda m: m.target_rate)
    beyond = model_rows_beyond(
        predicted,
        lambda rate: predicted_step(
            under((ends[-1] if rate > ends[-1].target_rate else ends[0]).extra), rate, seconds, count, seed
        ),
        seconds,
        doc["slo_p99_s"],
    ) if ends else []  # fmt: skip
    knee_measured = knee_rate(measured, doc["slo_p99_s"])
    knee_predicted = knee_rate(_as_figures([*predicted, *beyond], seconds), doc["slo_p99_s"])
    at_share = [
        _at_share(
            params,
            measured,
            share,
            (knee_measured or 0.0),
            _check_runs(doc, share),
            seconds,
            count,
            seed,
            speeds,
        )
        for share in ((0.5, 0.8) if knee_measured else ())
    ]
    knee_ratio = knee_predicted / knee_measured if knee_measured and knee_predicted else None
    loads = [_other_load(m.extra) for m in measured]
    result = {
        **doc,
        "calibration": {**doc["calibration"], "params": asdict(params), "fit": found},
        "predicted": predicted,
        "predicted_beyond": beyond,
        "knee": {
            **doc.get("knee", {}),
            "measured_per_s": knee_measured,
            "predicted_per_s": knee_predicted,
            "ratio": knee_ratio,
        },  # fmt: skip
        "at_knee_share": at_share,
        "other_load_cores": {"mean": statistics.mean(loads), "min": min(loads), "max": max(loads)}
        if loads
        else None,
        "acceptance": {
            "knee_ratio": knee_ratio,
            **{f"p95_ratio_at_{round(a['share'] * 100)}": a["p95_ratio"] for a in at_share},
        },  # fmt: skip
    }
    result["verdicts"] = judge_sweep(result)
    return result
