"""Writing a run's outputs: ``summary.json``, CSV files, PNG plots (matplotlib, Agg) and ``report.html``.

``write_report(summary, record, out_dir)`` returns the paths it wrote. The HTML report is one
self-contained file: the plots are embedded as base64 PNGs beside the summary tables.
"""

from __future__ import annotations

import base64
import csv
import html
import json
from pathlib import Path
from typing import Any

from simulator.journey import RunRecord
from simulator.metrics import STAGES
from simulator.verdict import simulate_verdict

__all__ = ["write_csv", "write_plots", "write_report"]


def write_csv(summary: dict[str, Any], record: RunRecord, out_dir: Path) -> list[Path]:
    """Write ``timeseries.csv``, ``queues.csv`` and ``journeys.csv``."""
    ts, samples = summary["timeseries"], summary["samples"]
    paths = [out_dir / "timeseries.csv", out_dir / "queues.csv", out_dir / "journeys.csv"]
    with paths[0].open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["t_s", "registrations_per_s", "activations_per_s"])
        writer.writerows(zip(ts["t"], ts["registrations_per_s"], ts["activations_per_s"], strict=True))
    with paths[1].open("w", newline="") as fh:
        writer = csv.writer(fh)
        names = ["worker_queue", "sms_queue", "unread_mentions", "unread_dms"]
        writer.writerow(["t_s", *names])
        cols = (samples["t"], *(samples[name] for name in names))
        writer.writerows(zip(*cols, strict=True))
    fields = ["t_reg", "circle", "t_ingest", "t_start", "t_done", "t_dispatch", "t_delivered"]
    fields += ["t_code_reply", "t_registered", "t_act", "t_activated", "attempts", "outcome"]
    circles = [name for name, _ in record.scenario.population.circles]
    with paths[2].open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(fields)
        for j in record.journeys:
            row = [getattr(j, f) for f in fields]
            row[1] = circles[j.circle]
            writer.writerow([round(v, 4) if isinstance(v, float) else v for v in row])
    return paths


def write_plots(summary: dict[str, Any], record: RunRecord, out_dir: Path) -> list[Path]:
    """Write ``latency.png``, ``throughput.png`` and ``queues.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = [out_dir / "latency.png", out_dir / "throughput.png", out_dir / "queues.png"]
    warm = record.scenario.run.warmup_s
    end = record.end_s
    codes = sorted(
        j.t_delivered - j.t_reg for j in record.journeys if j.t_reg >= warm and 0 <= j.t_delivered <= end
    )
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    if codes:
        censored = summary["code_latency_s"]["censored"]
        total = len(codes) + censored  # undelivered codes keep the CDF below 1
        ax1.plot(codes, [(k + 1) / total for k in range(len(codes))], color="tab:blue")
        if censored:
            top = len(codes) / total
            ax1.axhline(top, color="tab:red", linestyle=":", linewidth=1)
            ax1.text(
                codes[-1], top, f"{censored / total:.1%} never arrived before the run ended ",
                color="tab:red", ha="right", va="bottom", fontsize=9,
            )  # fmt: skip
        for q in ("p50", "p95", "p99"):
            value = summary["code_latency_s"][q]
            if value is None:
                continue
            ax1.axvline(value, linestyle="--", color="grey", linewidth=0.8)
            ax1.text(value, 0.02, f" {q} {value:.1f}s", rotation=90, fontsize=8)
    ax1.set(title="Code latency (#reg tweet -> SMS on handset), CDF", xlabel="seconds", ylabel="share")
    ax1.grid(alpha=0.3)
    stages = summary["code_latency_stages_s"]
    # the stages the operator's configuration sets, then the carrier; the subscriber's own reply
    # time (think time) would dwarf them, so it is named in the title instead of drawn
    names = [s for s in STAGES if stages[s]["count"] and s != "user_reply"]
    means = [stages[s]["mean"] for s in names]
    p95s = [stages[s]["p95"] or 0.0 for s in names]
    xs = range(len(names))
    ax2.bar([x - 0.2 for x in xs], means, width=0.4, label="mean")
    ax2.bar([x + 0.2 for x in xs], p95s, width=0.4, label="p95")
    ax2.set_xticks(list(xs), [n.replace("_", "\n") for n in names], fontsize=8)
    think = stages["user_reply"]
    thought = (
        f"\n(not drawn: the subscriber's own reply, mean {think['mean']:.1f} s)" if think["count"] else ""
    )
    ax2.set(title="Where a code's time goes: operator's stages and the carrier" + thought, ylabel="seconds")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(paths[0], dpi=100)
    plt.close(fig)

    ts = summary["timeseries"]
    fig, ax = plt.subplots(figsize=(12, 4))
    profile = record.scenario.arrivals
    grid = [i * profile.duration_s / 400 for i in range(401)]
    ax.plot(
        grid,
        [profile.rate_at(t) for t in grid],
        label="offered: scenario arrival rate (all kinds) /s",
        color="tab:blue",
        linewidth=1,
        alpha=0.7,
    )
    ax.plot(ts["t"], ts["registrations_per_s"], label="#reg journeys started /s", color="tab:orange")
    ax.plot(ts["t"], ts["activations_per_s"], label="activations /s", color="tab:green")
    ax.axvline(record.scenario.run.duration_s, color="grey", linestyle=":", label="arrivals stop")
    _shade_outages(ax, record, end)
    ax.set(title="Offered load, registrations and activations per second", xlabel="simulated seconds")
    ax.set(ylabel="per second")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(paths[1], dpi=100)
    plt.close(fig)

    samples = summary["samples"]
    fig, ax = plt.subplots(figsize=(12, 4))
    for key, label in (
        ("worker_queue", "processor queue (time-average over each interval)"),
        ("sms_queue", "SMS sender queue (time-average over each interval)"),
        ("unread_mentions", "unread mentions after the last poll"),
        ("unread_dms", "unread DMs after the last poll"),
    ):
        ax.step(samples["t"], samples[key], where="post", label=label)
    colors = {
        "x_replies_user": "red",
        "x_replies_app": "darkred",
        "mentions_read": "purple",
        "dm_read": "grey",
    }
    for name, budget in summary["budgets"].items():
        for t in budget["exhausted_at"][:30]:
            ax.axvline(t, color=colors.get(name, "black"), alpha=0.4, linewidth=0.8, linestyle="--")
        if budget["exhausted_at"]:
            ax.plot([], [], color=colors.get(name, "black"), linestyle="--", label=f"{name} budget ran out")
    _shade_outages(ax, record, end)
    ax.set(title="Queue depths over time", xlabel="simulated seconds", ylabel="items")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(paths[2], dpi=100)
    plt.close(fig)
    return paths


def _shade_outages(ax: Any, record: RunRecord, end: float) -> None:
    """Shade each SMS outage window (clipped to the run) and name its circles in the legend."""
    for outage in record.scenario.system.carrier.outages:
        start, stop = max(0.0, outage.start_s), min(outage.end_s, end)
        if stop > start:
            circles = ", ".join(outage.circles)
            ax.axvspan(start, stop, color="red", alpha=0.07, label=f"SMS outage: {circles}")


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


def _pairs(mapping: dict[str, Any], skip_zero: bool = False) -> str:
    """``{"noise": 3, "reg": 0}`` -> ``noise 3, reg 0`` (``skip_zero`` leaves zeros out)."""
    shown = [f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in mapping.items()]
    if skip_zero:
        shown = [text for text, v in zip(shown, mapping.values(), strict=True) if v]
    return ", ".join(shown) or "none"


def _outages(record: RunRecord) -> str:
    windows = record.scenario.system.carrier.outages
    return (
        "; ".join(f"{', '.join(o.circles)} from {o.start_s:g} s to {o.end_s:g} s" for o in windows) or "none"
    )


def _table(rows: list[tuple[str, Any]]) -> str:
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def _cell(stats: dict[str, Any], key: str) -> str:
    value = stats[key]
    if value is None:
        return "&gt; end of run" if stats["censored"] and key != "mean" else "-"
    return str(value)


def _stats_table(summary: dict[str, Any]) -> str:
    columns = ("count", "unfinished", "mean", "p50", "p95", "p99", "max")
    head = "<tr><th>latency (s)</th>" + "".join(f"<th>{q}</th>" for q in columns) + "</tr>"
    rows = [("code, end to end", summary["code_latency_s"])]
    if summary["code_latency_outside_outages_s"]["count"] != summary["code_latency_s"]["count"]:
        rows.append(("code, circles without outage", summary["code_latency_outside_outages_s"]))
    rows += [(f"&nbsp;&nbsp;{s}", summary["code_latency_stages_s"][s]) for s in STAGES]
    rows += [
        ("registration", summary["registration_latency_s"]),
        ("activation (#act)", summary["activation_latency_s"]),
        ("activation (DM)", summary["dm_activation_latency_s"]),
    ]
    keys = ("count", "censored", "mean", "p50", "p95", "p99", "max")
    body = "".join(
        f"<tr><th>{name}</th>" + "".join(f"<td>{_cell(st, q)}</td>" for q in keys) + "</tr>"
        for name, st in rows
    )
    return f"<table>{head}{body}</table>"


def _utilisation_table(summary: dict[str, Any]) -> str:
    """One row per resource: capacity, mean busy share, peak offered load and when, what holds it to 80 %."""
    head = (
        "<tr><th>resource</th><th>capacity</th><th>busy, arrival window</th><th>peak</th><th>when</th></tr>"
    )
    rows = []
    for name, f in summary.get("utilisation", {}).items():
        if "peak_offered" in f:
            peak, when = f"{f['peak_offered']:.0%} offered", f"{f['peak_from_s']:g}-{f['peak_to_s']:g} s"
            mean = f"{f['mean']:.0%}"
        else:
            ran_out = f["ran_out_at_s"]
            peak = f"{f['peak']:.0%} of the limit"
            when = "never ran out" if ran_out is None else f"ran out at {ran_out:g} s"
            mean = f"{f['used']} used"
        cells = (name, f["capacity"], mean, peak, when)
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def write_report(summary: dict[str, Any], record: RunRecord, out_dir: Path, plots: bool = True) -> list[Path]:
    """Write every output of a run into ``out_dir``; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary_path = out_dir / "summary.json"
    summary_path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    paths = [summary_path, *write_csv(summary, record, out_dir)]
    images = write_plots(summary, record, out_dir) if plots else []
    paths += images
    sc = record.scenario
    j = summary["journeys"]
    overview = _table(
        [
            ("scenario", f"{sc.name}: {sc.description}"),
            ("seed", summary["seed"]),
            ("arrivals for / drain", f"{summary['duration_s']} s / {summary['drain_s']} s"),
            ("arrivals by kind", _pairs(summary["arrivals"])),
            (
                "journeys started / registered / activated",
                f"{j['started']} / {j['registered']} / {j['activated']}",
            ),
            ("abandoned registrations", f"{j['abandoned_total']} ({_pairs(j['abandoned'], skip_zero=True)})"),
            (
                "activations/s (mean, peak)",
                f"{summary['activations']['per_s_mean']:.1f} / {summary['activations']['per_s_peak']:g}",
            ),
            ("worker utilization (arrival window)", f"{summary['worker_utilization']:.1%}"),
            ("queue depths: highest interval time-average", _pairs(summary["queues_max"])),
            ("SMS outages", _outages(record)),
            ("replies posted / dropped", f"{summary['replies']['posted']} / {summary['replies']['dropped']}"),
            ("cost (scenario cost model)", summary["cost"]),
        ]
    )
    budgets = _table(
        [
            (
                name,
                f"used {b['used']}, denied {b['denied']}, ran out at "
                + (", ".join(f"{t:g} s" for t in b["exhausted_at"][:10]) or "never"),
            )
            for name, b in summary["budgets"].items()
        ]
    )
    figures = "".join(
        f'<figure><img alt="{p.stem}" src="data:image/png;base64,{_b64(p)}"></figure>' for p in images
    )
    title = f"Twittcom simulation: {html.escape(sc.name)}"
    verdict = " ".join(simulate_verdict(summary))
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:1250px;margin:auto}}
table{{border-collapse:collapse;margin:1em 0}} img{{max-width:100%}}
th,td{{border:1px solid #ccc;padding:3px 8px;text-align:left}}</style></head><body>
<h1>{title}</h1><p class="verdict" id="verdict"><b>{html.escape(verdict)}</b></p>
<h2>Utilisation over the arrival window</h2>{_utilisation_table(summary)}
<h2>Run</h2>{overview}<h2>Latency</h2>{_stats_table(summary)}
<h2>Budgets (X rate limits)</h2>{budgets}<h2>Plots</h2>{figures}</body></html>
"""
    report = out_dir / "report.html"
    report.write_text(page, encoding="utf-8")
    return [*paths, report]
