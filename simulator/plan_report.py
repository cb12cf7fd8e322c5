"""Outputs of ``plan``: ``plan.json``, ``plan.csv``, ``plan.png`` (one panel per SLO metric) and
``report.html`` (:mod:`simulator.plan_html`: the verdict and why each configuration failed).

The plot puts the first varied key on the x axis and draws one line per combination of the other
varied keys, with 95 % confidence intervals as error bars, the SLO threshold as a dashed line and
the chosen configuration as a star.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from scenario.schema import short_name
from simulator.plan import ConfigResult, PlanResult

__all__ = ["plan_as_json", "short_name", "write_plan_outputs"]


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def plan_as_json(result: PlanResult) -> dict[str, Any]:
    """JSON-ready form of a plan."""

    def config(c: ConfigResult) -> dict[str, Any]:
        return {
            "settings": c.settings,
            "cost": c.cost,
            "meets_all": c.meets_all,
            "state": c.state,
            "replications": c.replications,
            "slo_met": c.slo_met,
            "slo_state": c.slo_state,
            "metrics": {k: {"mean": _finite(m), "ci95": _finite(h)} for k, (m, h) in c.metrics.items()},
        }

    return {
        "replications": result.replications,
        "max_replications": result.max_replications,
        "slos": [s.text for s in result.slos],
        "best": None if result.best is None else config(result.best),
        "undecided": [config(c) for c in result.undecided],
        "configs": [config(c) for c in result.configs],
    }


def write_plan_outputs(result: PlanResult, out_dir: Path, title: str = "plan") -> list[Path]:
    """Write plan.json, plan.csv, plan.png and report.html into ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter, ScalarFormatter

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "plan.json", out_dir / "plan.csv", out_dir / "plan.png"]
    paths[0].write_text(json.dumps(plan_as_json(result), indent=2) + "\n", encoding="utf-8")
    keys = list(result.configs[0].settings)
    metrics = sorted({s.metric for s in result.slos})
    with paths[1].open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [*keys, "cost", "meets_all", *(f"{m}_{x}" for m in metrics for x in ("mean", "ci95"))]
        )
        for c in result.configs:
            values = [v for m in metrics for v in c.metrics[m]]
            writer.writerow([*c.settings.values(), c.cost, c.meets_all, *values])
    panels = [*metrics, "cost"]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False)
    x_key, rest = keys[0], keys[1:]
    groups: dict[tuple[Any, ...], list[ConfigResult]] = {}
    for c in result.configs:
        groups.setdefault(tuple(c.settings[k] for k in rest), []).append(c)
    pending: list[tuple[Any, list[Any], str]] = []
    for ax, metric in zip(axes[0], panels, strict=True):
        for label, configs in groups.items():
            xs = [c.settings[x_key] for c in configs]
            if metric == "cost":
                ax.plot(xs, [c.cost for c in configs], marker=".", label=_label(rest, label))
                continue
            means = [c.metrics[metric][0] for c in configs]
            errs = [c.metrics[metric][1] if math.isfinite(c.metrics[metric][1]) else 0 for c in configs]
            line = ax.errorbar(xs, means, yerr=errs, marker=".", capsize=2, label=_label(rest, label))
            unbounded = [x for x, m in zip(xs, means, strict=True) if math.isinf(m)]
            if unbounded:  # drawn on the top edge once the axis limits are known
                pending.append((ax, unbounded, line.lines[0].get_color()))
        for slo in result.slos:
            if slo.metric == metric:
                ax.axhline(slo.threshold, color="red", linestyle="--", linewidth=1, label=f"SLO {slo.text}")
        if result.best is not None:
            best = result.best
            y = best.cost if metric == "cost" else best.metrics[metric][0]
            ax.plot([best.settings[x_key]], [y], marker="*", markersize=16, color="gold", markeredgecolor="k")
        ax.set(title=metric, xlabel=short_name(x_key))
        if all(isinstance(c.settings[x_key], int) for c in result.configs):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no 1.25 workers
        positive = all(c.metrics[metric][0] > 0 for c in result.configs) if metric != "cost" else False
        if positive and metric.startswith(("code", "registration", "activation", "dm_")):
            ax.set_yscale("log")  # only when every mean is above 0: a log axis would hide the zeros
            # plain seconds (0.5, 1, 2, 30) on the log axis, not 10^x notation; no minor labels,
            # which overlapped the major ones
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))  # labels inside one decade too
            ax.yaxis.set_major_formatter(ScalarFormatter())
            ax.yaxis.set_minor_formatter(NullFormatter())
            ax.set_ylabel("seconds")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    tops = {id(ax): ax.get_ylim() for ax, _, _ in pending}
    for ax, xs_inf, color in pending:
        bottom, top = tops[id(ax)]
        ax.set_ylim(bottom, top)
        ax.plot(xs_inf, [top] * len(xs_inf), linestyle="none", marker="^", color=color, clip_on=False)
        ax.annotate(
            "^ unbounded (unfinished at the end)",
            (0.01, 0.97),
            xycoords="axes fraction",
            fontsize=7,
            va="top",
        )
    fig.suptitle("plan: mean over replications with 95 % CI; star = cheapest configuration meeting every SLO")
    fig.tight_layout()
    fig.savefig(paths[2], dpi=100)
    plt.close(fig)
    from simulator.plan_html import write_plan_html

    return [*paths, write_plan_html(result, paths[2], out_dir / "report.html", title)]


def _label(keys: list[str], values: tuple[Any, ...]) -> str:
    return ", ".join(f"{short_name(k)}={v}" for k, v in zip(keys, values, strict=True)) or "all"
