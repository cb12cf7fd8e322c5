"""The sweep's report: a headline, the acceptance verdict, and one self-contained HTML page of two charts.

Charts are inline SVG (no plotting library, no network): offered vs accepted and processed rates,
and p95/p99 latency vs offered rate on a log scale, measured points (with their 95 % intervals)
and the model's medians (with the range over replications) on the same axes, the SLO line and the
knee of each marked.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from loadtests.sweep_intervals import bracket_said
from twittcom.prechecks import EXIT_PASS, EXIT_UNJUDGED
from twittcom.sweep_verdict import KNEE_TOLERANCE, P95_TOLERANCE, judge_sweep, predicted_rows

__all__ = ["KNEE_TOLERANCE", "P95_TOLERANCE", "headline", "verdict", "write_report"]

_W, _H, _L, _B, _T, _R = 640, 360, 70, 50, 20, 20
_MEASURED, _PREDICTED = "#1f77b4", "#d62728"


def headline(doc: dict[str, Any]) -> str:
    """One sentence a capacity planner can act on."""
    knee = doc["knee"]
    slo_ms = doc["slo_p99_s"] * 1000
    where = f"{doc['processes']} processes on {doc['cores']:.0f} cores ({doc['store']})"
    measured, predicted = knee["measured_per_s"], knee["predicted_per_s"]
    # a knee at the top step kept up there: a lower bound (the steps reached no higher)
    top = max((m["offered_rate"] for m in doc["measured"]), default=0.0)
    top_predicted = max((p["offered_rate"]["median"] for p in predicted_rows(doc)), default=0.0)
    said = f"{predicted:,.0f}/s" if predicted else "that it never keeps up"
    if predicted and predicted >= top_predicted:
        said = f"at least {said} (it kept up at every step)"
    if not measured:
        return (
            f"This processor did not keep p99 under {slo_ms:.0f} ms at any step on {where}; "
            f"the model says {said}."
        )
    upto = f"{'at least ' if measured >= top else ''}{measured:,.0f}"
    return (
        f"This processor keeps p99 under {slo_ms:.0f} ms up to {upto} activations/s on {where}; "
        f"the model says {said}."
    )


def verdict(doc: dict[str, Any]) -> tuple[int, list[str]]:
    """(the exit code of ``--check``, one line per judged figure): the knee within 15 % and p95 at
    50 % / 80 % of it within 20 %, each judged on both sides' intervals (:mod:`twittcom.sweep_verdict`:
    0 all agree, 1 one disagrees or nothing was measured, 3 too few runs to judge)."""
    judged = doc.get("verdicts") or judge_sweep(doc)
    lines = list(judged["lines"])
    load = doc.get("other_load_cores")
    if load:
        lines.append(
            f"other load on the machine (CPU of other processes and the driver): {load['mean']:.2f} cores "
            f"on average, {load['min']:.2f}-{load['max']:.2f} over the steps"
        )
    speeds = doc.get("calibration", {}).get("speed_probes", [])
    if len(speeds) > 1:
        said = ", ".join(f"{p['cpu_per_event_s'] * 1e3:.2f} ({p['at_s']:.0f} s)" for p in speeds)
        lines.append(
            f"the machine's speed over the run, CPU ms per event in the saturating probe (at): {said}; "
            "the model runs each step at the speed interpolated to its time"
        )
    if doc.get("refinement"):
        lines.append(bracket_said(doc["refinement"]))
    return int(judged["exit_code"]), lines


class _Axes:
    def __init__(self, x_max: float, y_min: float, y_max: float, log_y: bool) -> None:
        self.x_max, self.log_y = x_max, log_y
        self.y_min, self.y_max = (math.log10(y_min), math.log10(y_max)) if log_y else (y_min, y_max)

    def x(self, v: float) -> float:
        return _L + (_W - _L - _R) * v / self.x_max

    def y(self, v: float) -> float:
        value = math.log10(max(v, 1e-9)) if self.log_y else v
        share = (value - self.y_min) / (self.y_max - self.y_min or 1)
        return float(_H - _B - (_H - _B - _T) * min(1.05, max(-0.05, share)))


def _polyline(axes: _Axes, points: Sequence[tuple[float, float]], colour: str, dash: str = "") -> str:
    path = " ".join(f"{axes.x(x):.1f},{axes.y(y):.1f}" for x, y in points if math.isfinite(y))
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<polyline fill="none" stroke="{colour}" stroke-width="2"{extra} points="{path}"/>'


def _bars(axes: _Axes, rows: Sequence[tuple[float, float, float]], colour: str) -> str:
    return "".join(
        f'<line x1="{axes.x(x):.1f}" x2="{axes.x(x):.1f}" y1="{axes.y(lo):.1f}" y2="{axes.y(hi):.1f}" '
        f'stroke="{colour}" stroke-width="1.5" opacity="0.6"/>'
        for x, lo, hi in rows
        if math.isfinite(lo) and math.isfinite(hi)
    )


def _frame(
    axes: _Axes, x_label: str, y_label: str, y_ticks: Sequence[float], fmt: Callable[[float], str]
) -> str:
    parts = [
        f'<line x1="{_L}" y1="{_H - _B}" x2="{_W - _R}" y2="{_H - _B}" stroke="#333"/>',
        f'<line x1="{_L}" y1="{_T}" x2="{_L}" y2="{_H - _B}" stroke="#333"/>',
        f'<text x="{(_W + _L) / 2}" y="{_H - 10}" text-anchor="middle">{x_label}</text>',
        f'<text x="14" y="{_H / 2}" transform="rotate(-90 14 {_H / 2})" '
        f'text-anchor="middle">{y_label}</text>',
    ]
    for i in range(6):
        v = axes.x_max * i / 5
        parts.append(
            f'<text x="{axes.x(v):.1f}" y="{_H - _B + 16}" text-anchor="middle" '
            f'font-size="11">{v:,.0f}</text>'
        )
    for v in y_ticks:
        parts.append(
            f'<text x="{_L - 6}" y="{axes.y(v) + 4:.1f}" text-anchor="end" font-size="11">{fmt(v)}</text>'
        )
    return "".join(parts)


def _knee_lines(axes: _Axes, doc: dict[str, Any]) -> str:
    out = []
    for key, colour, label in (
        ("measured_per_s", _MEASURED, "measured knee"),
        ("predicted_per_s", _PREDICTED, "predicted knee"),
    ):
        value = doc["knee"][key]
        if value:
            out.append(
                f'<line x1="{axes.x(value):.1f}" x2="{axes.x(value):.1f}" y1="{_T}" y2="{_H - _B}" '
                f'stroke="{colour}" stroke-dasharray="6 3"/><text x="{axes.x(value) + 3:.1f}" '
                f'y="{_T + 12 + (14 if colour == _PREDICTED else 0)}" font-size="11" fill="{colour}">'
                f"{label} {value:,.0f}/s</text>"
            )
    return "".join(out)


def _rate_chart(doc: dict[str, Any]) -> str:
    measured, predicted = doc["measured"], predicted_rows(doc)
    top = max([m["offered_rate"] for m in measured] + [p["offered_rate"]["median"] for p in predicted]) * 1.05
    axes = _Axes(top, 0, top, False)
    ticks = [top * i / 5 for i in range(6)]
    body = [
        _frame(axes, "offered (events/s)", "events/s", ticks, lambda v: f"{v:,.0f}"),
        _polyline(axes, [(0, 0), (top, top)], "#999", "2 4"),
        _polyline(axes, [(m["offered_rate"], m["accepted_rate"]) for m in measured], _MEASURED, "4 2"),
        _polyline(axes, [(m["offered_rate"], m["processed_rate"]) for m in measured], _MEASURED),
        _polyline(
            axes,
            [(p["offered_rate"]["median"], p["processed_rate"]["median"]) for p in predicted],
            _PREDICTED,
        ),
        _bars(
            axes,
            [(p["offered_rate"]["median"], *p["processed_rate"]["interval"]) for p in predicted],
            _PREDICTED,
        ),
        _knee_lines(axes, doc),
    ]
    return f'<svg width="{_W}" height="{_H}" font-family="sans-serif">{"".join(body)}</svg>'


def _latency_chart(doc: dict[str, Any]) -> str:
    measured, predicted = doc["measured"], predicted_rows(doc)
    values = [v for m in measured for v in (m["p95_s"], m["p99_s"])] + [doc["slo_p99_s"]]
    values += [p[k]["median"] for p in predicted for k in ("p95_s", "p99_s")]
    finite = [v for v in values if v and math.isfinite(v)]
    lo, hi = min(finite) / 1.5, max(finite) * 1.5
    top = max([m["offered_rate"] for m in measured] + [p["offered_rate"]["median"] for p in predicted]) * 1.05
    axes = _Axes(top, lo, hi, True)
    ticks = [
        10.0**e
        for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
        if lo <= 10.0**e <= hi
    ]
    body = [
        _frame(
            axes,
            "offered (events/s)",
            "latency (log)",
            ticks,
            lambda v: f"{v * 1e3:g} ms" if v < 1 else f"{v:g} s",
        ),
        _polyline(axes, [(0, doc["slo_p99_s"]), (top, doc["slo_p99_s"])], "#2ca02c", "3 3"),
    ]
    for key, dash in (("p99_s", ""), ("p95_s", "4 2")):
        body.append(_polyline(axes, [(m["offered_rate"], m[key]) for m in measured], _MEASURED, dash))
        body.append(
            _bars(axes, [(m["offered_rate"], *m[f"{key[:3]}_interval_s"]) for m in measured], _MEASURED)
        )
        body.append(
            _polyline(
                axes, [(p["offered_rate"]["median"], p[key]["median"]) for p in predicted], _PREDICTED, dash
            )
        )
        body.append(
            _bars(axes, [(p["offered_rate"]["median"], *p[key]["interval"]) for p in predicted], _PREDICTED)
        )
    body.append(_knee_lines(axes, doc))
    return f'<svg width="{_W}" height="{_H}" font-family="sans-serif">{"".join(body)}</svg>'


_COLUMNS = (
    "offered/s",
    "accepted/s",
    "processed/s",
    "p50 ms",
    "p95 ms (95% CI)",
    "p99 ms (95% CI)",
    "model processed/s",
    "model p95 ms (range)",
    "model p99 ms (range)",
    "inbound max",
    "outbox max",
    "service cores",
    "busiest process",
    "db cores",
    "sink cores",
    "driver cores",
    "other load (cores)",
    "other runnable threads",
)


_CORE_KEYS = ("service_cores", "busiest_process_cores", "database_cores", "sink_cores", "driver_cores",
              "background_cores", "background_threads")  # fmt: skip


def _ms(value: float, interval: Sequence[float] | None = None) -> str:
    text = f"{value * 1e3:.1f}"
    return text if interval is None else f"{text} ({interval[0] * 1e3:.1f}-{interval[1] * 1e3:.1f})"


def _table(doc: dict[str, Any]) -> str:
    head = "<tr>" + "".join(f"<th>{c}</th>" for c in _COLUMNS) + "</tr>"
    rows = []
    for m, p in zip(doc["measured"], doc["predicted"], strict=True):
        cells = [
            f"{m['offered_rate']:.0f}{' (refining)' if m.get('refined') else ''}",
            f"{m['accepted_rate']:.0f}", f"{m['processed_rate']:.0f}",
            _ms(m["p50_s"]), _ms(m["p95_s"], m["p95_interval_s"]), _ms(m["p99_s"], m["p99_interval_s"]),
            f"{p['processed_rate']['median']:.0f}", _ms(p["p95_s"]["median"], p["p95_s"]["interval"]),
            _ms(p["p99_s"]["median"], p["p99_s"]["interval"]), f"{m['inbound_pending_max']:.0f}",
            f"{m['outbox_due_max']:.0f}",
            *(f"{m[k]:.2f}" for k in _CORE_KEYS),
        ]  # fmt: skip
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


_VERDICT_SAID = {
    EXIT_PASS: "every checked figure agrees within its tolerance, on both sides' intervals",
    EXIT_UNJUDGED: "too few runs to judge a figure either way (see what would tell)",
}


def write_report(doc: dict[str, Any], path: Path) -> None:
    """The HTML page of ``doc`` (the output of :func:`twittcom.sweep_run.run_sweep`)."""
    code, lines = verdict(doc)
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in doc["notes"])
    store = html.escape(doc["store"])
    title = f"Offered-load sweep: {store}, {doc['processes']} processes, {doc['cores']:.0f} cores"
    capacity = doc["calibration"]["capacity_per_s"]
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Twittcom sweep</title>
<style>body{{font-family:sans-serif;max-width:1400px;margin:2em auto}}
table{{border-collapse:collapse;font-size:12px}}
td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}</style></head><body>
<h1>{title}</h1>
<p><b>{html.escape(headline(doc))}</b></p>
<ul>{"".join(f"<li>{html.escape(line)}</li>" for line in lines)}</ul>
<p><span style="color:{_MEASURED}">measured</span> (bars: 95 % interval of the percentile) and
<span style="color:{_PREDICTED}">predicted</span> (median of {doc["replications"]} model runs;
bars: their range).
Solid: processed / p99; dashed: accepted / p95; green: the SLO. Knee: highest offered rate with accepted
&gt;= 99 % and p99 &lt; SLO, interpolated to the SLO crossing; after the first failing step the grid's
bracket around it is bisected ("refining" steps). Each verdict is judged on both sides' 95 % intervals:
the knee's bracket (or its SLO crossing on the steps' p99 bounds) and the model's replications'
knees; the check runs' p95 (spread between runs) and the model's replications. Capacity (probe):
{capacity:,.0f}/s.
Verdict: {_VERDICT_SAID.get(code, "a figure disagrees, or nothing was measured")}.</p>
{_rate_chart(doc)} {_latency_chart(doc)}
{_table(doc)}
<h2>Notes</h2><ul>{notes}<li>Figures measured on a shared machine; the other load is
measured per step (CPU it took; runnable threads from /proc/stat) and given to the model as threads.</li></ul>
<h2>Calibration</h2><pre>{html.escape(json.dumps(doc["calibration"]["params"], indent=1))}</pre>
</body></html>"""
    path.write_text(page, encoding="utf-8")
