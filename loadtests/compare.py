"""Measured beside simulated: the storm comparison table, plots and HTML report (no stack imports).

Inputs are plain data: the simulator's summary (``simulator.metrics.summarize``), a load run's
summary JSON (:mod:`loadtests.report`) and locust's ``_stats_history.csv`` (``--csv-full-history``),
from which activations per second over time are recovered (the cumulative count of the
``activation_latency`` rows per second). The prediction error of a figure is
``(simulated - measured) / measured``.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from loadtests.judge import AGREES, DISAGREES, TOO_FEW, rate_interval
from loadtests.rows import ACCEPTANCE, TOLERANCE, Row

__all__ = [
    "ACCEPTANCE",
    "Row",
    "TOLERANCE",
    "activation_series",
    "comparison_rows",
    "format_rows",
    "write_storm_report",
]


def _code_percentile(figures: Mapping[str, Any], q: str) -> float | None:
    """A simulated code percentile: None (JSON null) with codes censored means unbounded."""
    value = figures.get(q)
    if value is None and figures.get("censored"):
        return math.inf
    return None if value is None else float(value)


def activation_series(history_csv: str | Path, t0: float) -> list[tuple[float, float]]:
    """``(seconds since t0, activations/s)`` from locust's full stats history."""
    points: list[tuple[float, int]] = []
    with open(history_csv, newline="") as handle:
        for row in csv.DictReader(handle):
            if row.get("Type") == "JOURNEY" and row.get("Name") == "activation_latency":
                points.append((float(row["Timestamp"]) - t0, int(row["Total Request Count"])))
    points.sort()
    out = []
    for (t_prev, n_prev), (t, n) in zip(points, points[1:], strict=False):
        if t > t_prev:
            out.append((t, (n - n_prev) / (t - t_prev)))
    return out


def _mean_rate(series: Sequence[tuple[float, float]], lo: float, hi: float) -> float | None:
    inside = [rate for t, rate in series if lo < t <= hi]
    return sum(inside) / len(inside) if inside else None


def _stage_sum(stages: Mapping[str, Any], names: Sequence[str]) -> float | None:
    parts = [stages.get(k, {}).get("mean") for k in names]
    return None if any(p is None for p in parts) else float(sum(parts))


def _seed_rows(
    simulated: Mapping[str, Any], measured: Mapping[str, Any], series: Sequence[tuple[float, float]]
) -> list[Row]:
    """The rows against one seed's summary."""
    f = measured.get("figures", {})
    code = simulated.get("code_latency_s", {})
    stages = simulated.get("code_latency_stages_s", {})
    codes = int(f.get("code_count", 0) + f.get("code_undelivered", 0))
    rows = [
        Row(
            f"code latency {q} (s)",
            f.get(f"code_{q}"),
            _code_percentile(code, q),
            key=f"code_{q}",
            **_measured_interval(f, f"code_{q}", codes),
        )  # fmt: skip
        for q in ("p50", "p95", "p99")
    ]
    outside = simulated.get("code_latency_outside_outages_s", {})
    if "code_outside_p50" in f:  # the run had carrier outages: what capacity can still fix
        rows += [
            Row(
                f"  outside outages {q} (s)",
                f.get(f"code_outside_{q}"),
                _code_percentile(outside, q),
                key=f"code_outside_{q}",
                **_measured_interval(f, f"code_outside_{q}", int(f.get("code_outside_count", 0))),
            )
            for q in ("p50", "p95")
        ]
    # measured, the carrier's share starts when the SMS is created at the gateway, whose sender
    # queue (the short code's messages per second) comes after that: the model's SMS queue is its part
    processor = _stage_sum(stages, ("ingestion", "worker_queue", "worker_service"))
    rows.append(
        Row(
            "processor's share, mean (s)", f.get("code_processor_mean"), processor, key="processor_share_mean"
        )
    )
    carrier = _stage_sum(stages, ("sms_queue", "carrier"))
    rows.append(
        Row("carrier's share, mean (s)", f.get("code_carrier_mean"), carrier, key="carrier_share_mean")
    )
    # the load run's activation latency counts buys by tweet and by DM together (older model
    # summaries have only the #act tweets' figure)
    activation = simulated.get("all_activation_latency_s", simulated.get("activation_latency_s", {}))
    rows += _latency_rows("activation latency", "activation", f, activation)
    if f.get("dm_activation_count"):
        rows += _latency_rows("  by DM", "dm_activation", f, simulated.get("dm_activation_latency_s", {}))
    warm, end = float(simulated.get("warmup_s", 0)), float(measured.get("arrivals_s", 0))
    rate = _mean_rate(series, warm, end)
    count = round(rate * (end - warm)) if rate is not None else 0
    low, high = rate_interval(rate, count) if rate is not None else (None, None)
    rows.append(
        Row(
            "activations/s (arrival window)",
            rate,
            simulated.get("activations", {}).get("per_s_mean"),
            key="activations_per_s",
            measured_low=low,
            measured_high=high,
            samples=count,
        )
    )
    return rows


def _latency_rows(label: str, prefix: str, f: Mapping[str, Any], model: Mapping[str, Any]) -> list[Row]:
    """p50 and p95 of a latency family, measured (with its interval) beside the model's."""
    samples = int(f.get(f"{prefix}_count", 0))
    return [
        Row(
            f"{label} {q} (s)",
            f.get(f"{prefix}_{q}"),
            model.get(q),
            key=f"{prefix}_{q}",
            **_measured_interval(f, f"{prefix}_{q}", samples),
        )  # fmt: skip
        for q in ("p50", "p95")
    ]


def _measured_interval(figures: Mapping[str, Any], key: str, samples: int) -> dict[str, Any]:
    """A percentile's 95 % interval as the run recorded it (``<key>_low``/``_high``), and its samples."""
    return {"measured_low": figures.get(key + "_low"), "measured_high": figures.get(key + "_high"),
            "samples": samples}  # fmt: skip


def comparison_rows(
    simulated: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    measured: Mapping[str, Any],
    series: Sequence[tuple[float, float]],
) -> list[Row]:
    """Code latency p50/p95/p99, the processor's and carrier's shares, activation latency and
    throughput, measured beside the simulated mean over the seeds' summaries with its 95 % interval.

    The acceptance figures (:data:`ACCEPTANCE`) are code p50 and p95 (outside the outages when the
    run has them) and activations per second over the arrival window.
    """
    from simulator.seeds import mean_interval

    summaries = [simulated] if isinstance(simulated, Mapping) else list(simulated)
    per_seed = [_seed_rows(one, measured, series) for one in summaries]
    keys = {r.key for r in per_seed[0]}
    accepted = {k.replace("code_", "code_outside_") if "code_outside_p50" in keys else k for k in ACCEPTANCE}
    rows = []
    for index, first in enumerate(per_seed[0]):
        estimate = mean_interval([seed_rows[index].simulated for seed_rows in per_seed])
        rows.append(Row(first.label, first.measured, estimate.mean, estimate.low, estimate.high,
                        estimate.n, first.key, first.key in accepted, first.measured_low,
                        first.measured_high, first.samples))  # fmt: skip
    return rows


def _num(v: float | None) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3g}"


def interval_text(row: Row) -> str:
    """``8.29 [8.11, 8.47]``: the simulated mean and its 95 % interval over the seeds."""
    if row.simulated is None or row.low is None or row.high is None or row.seeds < 2:
        return _num(row.simulated)
    if math.isinf(row.simulated):
        return "inf"
    return f"{_num(row.simulated)} [{_num(row.low)}, {_num(row.high)}]"


def _measured_interval_text(row: Row) -> str:
    """``[4.1, 5.3] (n=612)``: the measured figure's own 95 % interval and its samples."""
    if row.measured_low is None or row.measured_high is None:
        return ""
    return f"[{_num(row.measured_low)}, {_num(row.measured_high)}] (n={row.samples})"


def _error_text(row: Row) -> str:
    """``+12 %``; ``inf`` when one side is unbounded (not a percentage); empty when not comparable."""
    if row.error is None:
        return ""
    return "inf" if math.isinf(row.error) else f"{100 * row.error:+.0f} %"


def verdict_text(row: Row) -> str:
    """``yes``/``NO``/``few`` (too few samples to judge) where the measured figure has an interval;
    ``(yes)``/``(no)``, the point estimate's side of the 15 %, where it has none; ``-`` not comparable."""
    if row.measured_low is None or row.measured_high is None:
        return {None: "-", True: "(yes)", False: "(no)"}[row.agrees]
    return {AGREES: "yes", DISAGREES: "NO", TOO_FEW: "few"}.get(row.judgement.verdict, "-")


def format_rows(rows: Sequence[Row]) -> str:
    """A terminal table: figure, measured, simulated mean [95 % interval], error, within 15 %."""
    seeds = max((r.seeds for r in rows), default=1)
    head = f"simulated ({seeds} seeds)" if seeds > 1 else "simulated"
    # 30 + 9 + 25 + 8 + 8 = 80 columns: fits a terminal of 80
    lines = [f"{'figure':<30} {'measured':>8} {head:>24} {'error':>7}  agree"]
    for r in rows:
        err = _error_text(r) or "-"
        agree = verdict_text(r)
        mark = " *" if r.acceptance else ""
        lines.append(f"{r.label:<30} {_num(r.measured):>8} {interval_text(r):>24} {err:>7}  {agree}{mark}")
    if any(r.acceptance for r in rows):
        lines.append("* acceptance figure (twittcom storm --check)")
    lines.append("few: too few samples to judge; (yes)/(no): within 15 % or not, no interval to judge on")
    return "\n".join(lines)


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def _plots(
    rows: Sequence[Row],
    simulated: Mapping[str, Any],
    measured: Mapping[str, Any],
    series: Sequence[tuple[float, float]],
) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = []
    fig, ax = plt.subplots(figsize=(6, 3.2))
    latency = [r for r in rows if r.label.startswith("code latency")]
    xs = range(len(latency))
    # A percentile beyond the codes that arrived is infinite: no bar, an "inf" mark at the top.
    finite = [v for r in latency for v in (r.measured, r.simulated) if v is not None and math.isfinite(v)]
    top = max(finite, default=1.0) or 1.0
    for offset, label, values, color in (
        (-0.2, "measured", [r.measured for r in latency], "tab:blue"),
        (0.2, "simulated", [r.simulated for r in latency], "tab:orange"),
    ):
        heights = [v if v is not None and math.isfinite(v) else 0.0 for v in values]
        ax.bar([x + offset for x in xs], heights, 0.4, label=label, color=color)
        for x, v in zip(xs, values, strict=True):
            if v is not None and math.isinf(v):  # drawn, hatched, to the top: not a missing bar
                ax.bar(x + offset, top * 1.1, 0.4, color="none", edgecolor=color, hatch="//")
                ax.text(x + offset, top * 1.1, "inf", ha="center", va="bottom", fontsize=8, color=color)
    ax.set_xticks(list(xs), [r.label.replace("code latency ", "").replace(" (s)", "") for r in latency])
    ax.set_ylabel("code latency (s)")
    ax.set_title(
        "Code latency, measured vs simulated (hatched inf: codes undelivered at the end)", fontsize=9
    )
    ax.legend()
    images.append(_png(fig))
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 3.2))
    if series:
        ax.plot([t for t, _ in series], [v for _, v in series], label="measured")
    ts = simulated.get("timeseries", {})
    if ts.get("t"):
        ax.plot(ts["t"], ts["activations_per_s"], label="simulated")
    ax.set_xlabel("seconds")
    ax.set_ylabel("activations/s")
    ax.set_title("Activations per second over the run, measured vs simulated", fontsize=9)
    ax.legend()
    images.append(_png(fig))
    plt.close(fig)
    rows_per_second = measured.get("arrivals_per_second", [])
    if rows_per_second:
        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.plot([r[0] for r in rows_per_second], [r[1] for r in rows_per_second], label="target rate")
        ax.plot([r[0] for r in rows_per_second], [r[3] for r in rows_per_second], label="journeys started")
        ax.plot([r[0] for r in rows_per_second], [r[4] for r in rows_per_second], label="started on time")
        ax.set_xlabel("seconds")
        ax.set_ylabel("journeys/s")
        ax.set_title("Load generator: journeys per second, target vs started", fontsize=9)
        ax.legend()
        images.append(_png(fig))
        plt.close(fig)
    return images


def write_storm_report(
    path: str | Path,
    name: str,
    rows: Sequence[Row],
    simulated: Mapping[str, Any],
    measured: Mapping[str, Any],
    series: Sequence[tuple[float, float]],
) -> None:
    """One page: comparison table, plots (code latency, activations/s, arrivals), generator, outcomes."""
    table = "".join(
        f"<tr><td>{html.escape(r.label)}</td><td>{'' if r.measured is None else f'{r.measured:.3g}'}</td>"
        f"<td>{html.escape(interval_text(r))}</td>"
        f"<td>{html.escape(_measured_interval_text(r))}</td>"
        f"<td>{_error_text(r)}</td>"
        f"<td>{html.escape(verdict_text(r))}</td></tr>"
        for r in rows
    )
    images = "".join(
        f'<img alt="plot" src="data:image/png;base64,{img}">'
        for img in _plots(rows, simulated, measured, series)
    )
    f = measured.get("figures", {})
    target, scheduled = measured.get("arrivals_target", 0), int(f.get("arrivals_scheduled", 0))
    started, on_time = int(f.get("arrivals_started", 0)), 100 * f.get("arrival_rate_achieved", 0)
    cpu_mean, cpu_max = f.get("generator_cpu_mean", 0), f.get("generator_cpu_max", 0)
    generator = html.escape(
        f"target {target:.0f} journeys, scheduled {scheduled}, started {started}, on time {on_time:.1f} % "
        f"(max lag {f.get('arrival_max_lag_s', 0):.2f} s); generator CPU mean {cpu_mean:.0f} %, "
        f"busiest process max {cpu_max:.0f} % of a core"
    )
    outcomes = html.escape(", ".join(f"{k} {v}" for k, v in sorted(measured.get("outcomes", {}).items())))
    from loadtests.storm_verdict import storm_verdict

    verdict = html.escape(" ".join(storm_verdict(rows, simulated)))
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>storm {html.escape(name)}</title>"
        "<style>body{font-family:sans-serif;max-width:60rem;margin:auto}td,th{padding:.2rem .6rem}"
        "table{border-collapse:collapse}tr:nth-child(even){background:#f3f3f3}</style></head><body>"
        f"<h1>Storm: {html.escape(name)}</h1><p class='verdict' id='verdict'><b>{verdict}</b></p>"
        "<p>Measured on the live stack beside the simulator's prediction "
        "for the same scenario file. Error = (simulated - measured) / measured; agreement within 15 %, "
        "judged on both sides' 95 % intervals: 'few' means too few samples to judge either way.</p>"
        "<table><tr><th>figure</th><th>measured</th><th>simulated mean [95 % interval]</th>"
        "<th>measured 95 % interval (samples)</th><th>error</th><th>verdict</th></tr>"
        f"{table}</table>{images}<h2>Load generator</h2><p>{generator}</p>"
        f"<h2>Measured outcomes</h2><p>{outcomes}</p></body></html>"
    )
    Path(path).write_text(page)
