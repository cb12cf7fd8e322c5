"""``report.html`` of ``plan``: the verdict first, then every configuration with why it failed.

The verdict names the cheapest configuration proven to meet every SLO, its cost and the figure
nearest its threshold; and the *binding* resource: the varied key that the cheaper configurations
which fail have less of (``sms_mps=10`` failing ``code_p95<30s`` while ``sms_mps=30`` meets it says
the SMS sender's rate binds). Each failed or undecided configuration's row says which SLO, by how
much, and an unbounded metric (unfinished work at the end of a run) is shown as ``inf``.
"""

from __future__ import annotations

import base64
import html
import math
from collections import Counter
from pathlib import Path

from simulator.plan import ConfigResult, PlanResult
from simulator.slo import FAILS, MEETS, Slo

__all__ = ["binding_key", "plan_verdict", "why", "write_plan_html"]

_RESOURCE = {
    "system.workers.count": "the number of workers",
    "system.sms.mps": "the SMS sender's rate",
    "system.ingestion.poll_interval_s": "the polling interval",
    "system.ingestion.page_size": "the polling page size",
}


def _name(key: str) -> str:
    from scenario.schema import short_name

    return short_name(key)


def _settings(c: ConfigResult) -> str:
    return ", ".join(f"{_name(k)}={v}" for k, v in c.settings.items())


def _figure(mean: float, half: float) -> str:
    if math.isnan(mean):
        return "n/a"
    if math.isinf(mean):
        return "inf (unfinished at the end of a run)"
    return f"{mean:.3g} ± {half:.2g}" if math.isfinite(half) and half else f"{mean:.3g}"


def why(c: ConfigResult, slos: list[Slo]) -> str:
    """Which SLOs a configuration fails or leaves undecided, with the figure against the threshold."""
    reasons = []
    for slo in slos:
        state = c.slo_state[slo.text]
        if state == MEETS:
            continue
        mean, half = c.metrics[slo.metric]
        verb = "fails" if state == FAILS else "undecided on"
        reasons.append(f"{verb} {slo.text}: {_figure(mean, half)}")
    return "; ".join(reasons) or "meets every SLO"


def binding_key(result: PlanResult) -> str | None:
    """The varied key that cheaper failing configurations have less of than the answer (or None)."""
    best = result.best
    if best is None:
        return None
    cheaper = [c for c in result.configs if c.cost < best.cost and c.state == FAILS]
    less: Counter[str] = Counter()
    for c in cheaper:
        for key, value in c.settings.items():
            if isinstance(value, int | float) and value < best.settings[key]:
                less[key] += 1
    return less.most_common(1)[0][0] if less else None


def _closest(c: ConfigResult, slos: list[Slo]) -> str:
    """The SLO figure of ``c`` nearest its threshold (relative), as 'metric mean vs threshold'."""

    def margin(slo: Slo) -> float:
        mean = c.metrics[slo.metric][0]
        return (
            abs(mean - slo.threshold) / abs(slo.threshold)
            if math.isfinite(mean) and slo.threshold
            else math.inf
        )

    slo = min(slos, key=margin)
    return f"{slo.metric} {_figure(*c.metrics[slo.metric])} against {slo.text}"


def plan_verdict(result: PlanResult) -> list[str]:
    """The sentences the report opens with, all from the plan's figures."""
    slos, best = list(result.slos), result.best
    failing = Counter(slo.text for c in result.configs for slo in slos if c.slo_state[slo.text] == FAILS)
    if best is None:
        text = f"No configuration of the {len(result.configs)} is proven to meet every SLO"
        if failing:
            slo, count = failing.most_common(1)[0]
            text += f"; {slo} binds: {count} of them fail it"
        undecided = sorted((c for c in result.configs if c.state != FAILS), key=lambda c: c.cost)
        if undecided:
            cheapest = undecided[0]
            text += (
                f"; {len(undecided)} {'is' if len(undecided) == 1 else 'are'} undecided (more replications "
                f"may decide them), the cheapest {_settings(cheapest)} with {_closest(cheapest, slos)}"
            )
        return [text + "."]
    sentences = [
        f"The cheapest configuration proven to meet every SLO is {_settings(best)} (cost {best.cost:g}), "
        f"after {best.replications} replications; its closest figure is {_closest(best, slos)}."
    ]
    key = binding_key(result)
    if key is not None:
        cheaper = [c for c in result.configs if c.cost < best.cost and c.state == FAILS]
        held = [c for c in cheaper if c.settings[key] < best.settings[key]]
        worst = Counter(s.text for c in held for s in slos if c.slo_state[s.text] == FAILS).most_common(1)[0][
            0
        ]
        resource = _RESOURCE.get(key, _name(key))
        sentences.append(
            f"The binding resource is {resource}: {len(held)} cheaper configuration"
            f"{'s' if len(held) != 1 else ''} with less than {_name(key)}={best.settings[key]} "
            f"{'fail' if len(held) != 1 else 'fails'} {worst}."
        )
    if result.undecided:
        sentences.append(f"{len(result.undecided)} cheaper configurations are still undecided.")
    return sentences


def write_plan_html(result: PlanResult, png: Path, out: Path, title: str) -> Path:
    """Write ``out`` (report.html): the verdict, the table with why each configuration failed, the plot."""
    slos = list(result.slos)
    rank = {MEETS: 0, "undecided": 1, FAILS: 2}
    ordered = sorted(result.configs, key=lambda c: (rank[c.state], c.cost))
    keys = list(result.configs[0].settings)
    head = "".join(f"<th>{html.escape(_name(k))}</th>" for k in keys)
    head += "<th>cost</th><th>runs</th>" + "".join(f"<th>{html.escape(s.text)}</th>" for s in slos)
    head += "<th>verdict</th><th>why</th>"
    rows = []
    for c in ordered:
        cells = [str(v) for v in c.settings.values()] + [f"{c.cost:g}", str(c.replications)]
        cells += [f"{_figure(*c.metrics[s.metric])} ({c.slo_state[s.text]})" for s in slos]
        cells += ["best" if c is result.best else c.state, why(c, slos)]
        style = ' class="best"' if c is result.best else ""
        rows.append(f"<tr{style}>" + "".join(f"<td>{html.escape(x)}</td>" for x in cells) + "</tr>")
    image = base64.b64encode(png.read_bytes()).decode("ascii") if png.exists() else ""
    verdict = " ".join(plan_verdict(result))
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:1250px;margin:auto}} table{{border-collapse:collapse}}
th,td{{border:1px solid #ccc;padding:3px 8px;text-align:left}} tr.best{{background:#e6ffe6}}
img{{max-width:100%}}</style></head><body><h1>{html.escape(title)}</h1>
<p class="verdict" id="verdict"><b>{html.escape(verdict)}</b></p>
<p>Each configuration's figures are the mean over its replications with a 95 % confidence interval;
an SLO is met when the whole interval is on the right side of its threshold, failed when it is wholly
on the wrong side, undecided otherwise. <code>inf</code>: the metric was unbounded (work unfinished
when a run ended).</p>
<h2>Configurations, cheapest meeting first</h2><table><tr>{head}</tr>{"".join(rows)}</table>
<h2>Plot</h2><figure><img alt="plan" src="data:image/png;base64,{image}"></figure></body></html>
"""
    out.write_text(page, encoding="utf-8")
    return out
