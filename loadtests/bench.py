"""``twittcom bench`` logic: run the pytest-benchmark suites, normalise figures, compare with a baseline.

Every benchmark of this project measures its figure and a ceiling in the same run and stores them
in ``extra_info`` (keys differ per suite: ``purchases_per_s``/``ceiling_bare_sql_per_s``,
``rps``/``ceiling_rps``, ``journeys_per_s``/``ceiling_bare_simpy_events_per_s`` ...). This module
normalises them to ``(stage, name, figure, ceiling, ratio)`` and judges a run against a baseline on
the **ratio** to the same-run ceiling: a slower or noisier CI machine moves figure and ceiling
together, so only a real regression of the code moves the ratio (plain pytest-benchmark compares
absolute times). Benchmarks without a ceiling are shown but not judged.

A ratio is judged only when both runs look sane (:func:`sanity`): a figure well above its ceiling
(over :data:`CEILING_EXCESS` times) in one run while at most its ceiling in the other, or a
ceiling more than :data:`CEILING_DRIFT` times away from the baseline's own, means the machine
disturbed the figure and its ceiling unevenly; such a benchmark is
"noisy, not judged", and the verdict says so. Only the benchmarks of the selected paths are
compared: a baseline's other benchmarks are not "missing".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CEILING_DRIFT",
    "CEILING_EXCESS",
    "STAGES",
    "BenchFigure",
    "Comparison",
    "compare",
    "format_comparison",
    "format_figures",
    "load_figures",
    "median_figures",
    "normalise",
    "parse_fail_over",
    "run_benchmarks",
    "sanity",
    "save_figures",
    "selected_by",
]

#: a ceiling this many times above or below the baseline's own ceiling marks the run noisy
CEILING_DRIFT = 2.0
#: a figure this many times its ceiling in one run, when the other run's is at most its ceiling,
#: marks the pair noisy (a figure and a ceiling of the same work sit near 1 and may cross it a little)
CEILING_EXCESS = 1.25

#: benchmark file stem -> the stage it measures
STAGES: dict[str, str] = {
    "test_core_purchases": "core purchases",
    "test_fake_twitter": "fake X",
    "test_fake_sms": "fake SMS",
    "test_e2e_activations": "end-to-end activations",
    "test_live_stack": "end-to-end activations",
    "test_simulator": "simulated journeys",
    "test_loadgen_capacity": "load generator",
    "test_journey_cost": "load generator",
    "test_http_ceiling": "HTTP ceiling",
    "test_twitter_text": "twitter-text",
    "test_web_page": "registration page",
    "test_client_transport": "processor clients",
}
#: name tokens that mark a value as something other than the benchmark's own figure
_NOT_FIGURE = frozenset(
    {"ceiling", "target", "best", "cpu", "raw", "ratio", "vs", "null", "paced", "one", "queued"}
)
#: name prefixes of same-run ceilings stored without the word "ceiling"
_CEILING_PREFIXES = ("null_", "raw_")


def _numeric(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_rate(key: str) -> bool:
    return key.endswith(("_per_s", "rps")) or "_per_s_" in key


@dataclass(frozen=True)
class BenchFigure:
    """One benchmark's figure beside its same-run ceiling (``ratio`` None: no ceiling stored)."""

    stage: str
    name: str
    figure_key: str
    figure: float
    ceiling_key: str
    ceiling: float | None
    ratio: float | None


@dataclass(frozen=True)
class Comparison:
    """One benchmark against the baseline; ``status``: ok, regressed, improved, new, missing, unjudged,
    noisy (``note`` says why it was not judged)."""

    name: str
    stage: str
    baseline_ratio: float | None
    ratio: float | None
    change: float | None
    status: str
    note: str = ""


def parse_fail_over(text: str) -> float:
    """``10%`` or ``0.1`` -> 0.1."""
    raw = text.strip()
    value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    if not 0 < value < 1:
        raise ValueError(f"--fail-over must be between 0 and 100 %, got {text!r}")
    return value


def _stage(fullname: str) -> str:
    stem = Path(fullname.split("::", 1)[0]).stem
    return STAGES.get(stem, stem.removeprefix("test_").replace("_", " "))


def _figure_key(extra: Mapping[str, Any]) -> str | None:
    """The first rate that is the benchmark's own figure (``*_per_s`` or ``*rps`` before ``*_per_s_*``)."""
    rates = [
        k for k, v in extra.items() if _numeric(v) and _is_rate(k) and not set(k.split("_")) & _NOT_FIGURE
    ]
    exact = [k for k in rates if k.endswith(("_per_s", "rps"))]
    found = exact or rates
    return found[0] if found else None


def _ceiling_key(extra: Mapping[str, Any]) -> str | None:
    """The same-run ceiling: a ``ceiling`` rate, else a ``null_``/``raw_`` rate (not CPU, not best-of)."""
    numeric = [k for k, v in extra.items() if _numeric(v) and "cpu" not in k.split("_")]
    named = [k for k in numeric if "ceiling" in k.split("_") and not k.startswith("best")]
    named = named or [k for k in numeric if "ceiling" in k.split("_")]
    aliased = [k for k in numeric if k.startswith(_CEILING_PREFIXES) and _is_rate(k)]
    found = named or aliased
    return found[0] if found else None


def _ratio(extra: Mapping[str, Any], figure: float, ceiling: float | None) -> float | None:
    """The stored ``ratio`` (or ``ratio_*``), else figure / ceiling."""
    if _numeric(extra.get("ratio")):
        return float(extra["ratio"])
    for key, value in extra.items():
        if key.startswith("ratio_") and _numeric(value):
            return float(value)
    return figure / ceiling if ceiling else None


def normalise(document: Mapping[str, Any]) -> list[BenchFigure]:
    """pytest-benchmark JSON (``--benchmark-json``) -> one :class:`BenchFigure` per benchmark."""
    out = []
    for bench in document.get("benchmarks", []):
        extra = bench.get("extra_info", {}) or {}
        fullname = str(bench.get("fullname", bench.get("name", "?")))
        figure_key = _figure_key(extra)
        ceiling_key = _ceiling_key(extra)
        if figure_key is not None:
            figure = float(extra[figure_key])
        else:
            mean = float(bench.get("stats", {}).get("mean", 0.0))
            figure_key, figure = "rounds_per_s", (1.0 / mean if mean > 0 else 0.0)
        ceiling = float(extra[ceiling_key]) if ceiling_key is not None else None
        ratio = _ratio(extra, figure, ceiling)
        out.append(
            BenchFigure(
                _stage(fullname),
                fullname,
                figure_key,
                figure,
                ceiling_key or "",
                ceiling,
                None if ratio is None else float(ratio),
            )
        )
    return out


def median_figures(runs: Sequence[Sequence[BenchFigure]]) -> list[BenchFigure]:
    """Per benchmark, the run with the median ratio (figure and ceiling from that same run).

    Repeating the suites and keeping the median ratio damps a noisy machine's bursts, which can
    hit a figure and its ceiling unevenly when workloads are short.
    """
    by_name: dict[str, list[BenchFigure]] = {}
    for run in runs:
        for fig in run:
            by_name.setdefault(fig.name, []).append(fig)
    out = []
    for figs in by_name.values():
        ranked = sorted(figs, key=lambda f: (f.ratio is None, f.ratio or 0.0))
        judged = [f for f in ranked if f.ratio is not None]
        pool = judged or ranked
        out.append(pool[(len(pool) - 1) // 2])
    return out


def save_figures(path: str | Path, figures: Sequence[BenchFigure]) -> None:
    """Store normalised figures as a baseline."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"twittcom_bench": 1, "figures": [asdict(f) for f in figures]}, indent=1))


def load_figures(path: str | Path) -> list[BenchFigure]:
    """Read a baseline saved by :func:`save_figures`, or a raw pytest-benchmark JSON file."""
    document = json.loads(Path(path).read_text())
    if "figures" in document:
        return [BenchFigure(**f) for f in document["figures"]]
    return normalise(document)


def sanity(current: BenchFigure, base: BenchFigure) -> str:
    """Why the pair cannot be judged ("" when it can): a figure above its ceiling, a drifted ceiling."""
    if current.ceiling is None or base.ceiling is None or current.ratio is None or base.ratio is None:
        return ""
    if current.ceiling <= 0 or base.ceiling <= 0:
        return "a ceiling of 0"
    above = current.ratio > CEILING_EXCESS, base.ratio > CEILING_EXCESS
    if above[0] != above[1] and min(current.ratio, base.ratio) <= 1.0:
        run = "this run" if above[0] else "the baseline"
        return f"figure {max(current.ratio, base.ratio):.3g}x its ceiling in {run} only"
    drift = current.ceiling / base.ceiling
    if not 1 / CEILING_DRIFT <= drift <= CEILING_DRIFT:
        return f"ceiling {drift:.2g}x the baseline's"
    return ""


def selected_by(paths: Sequence[str]) -> Callable[[str], bool]:
    """Whether a benchmark (``file::name``) lies under one of ``paths`` (files, folders or node ids)."""
    wanted = [p.rstrip("/") for p in paths]

    def under(name: str) -> bool:
        if not wanted:
            return True
        file = name.split("::", 1)[0]
        return any(
            name == w or file == w or file.startswith(w + "/") or Path(file).resolve() == Path(w).resolve()
            for w in wanted
        )

    return under


def compare(
    current: Sequence[BenchFigure],
    baseline: Sequence[BenchFigure],
    fail_over: float,
    selected: Callable[[str], bool] | None = None,
) -> list[Comparison]:
    """Judge each benchmark's ratio against the baseline's; a drop beyond ``fail_over`` regresses.

    A pair that fails :func:`sanity` is ``noisy`` (not judged); baseline entries outside
    ``selected`` are left out rather than reported missing.
    """
    before = {b.name: b for b in baseline if selected is None or selected(b.name)}
    out = []
    for fig in current:
        base = before.pop(fig.name, None)
        if base is None:
            out.append(Comparison(fig.name, fig.stage, None, fig.ratio, None, "new"))
            continue
        if fig.ratio is None or base.ratio is None or base.ratio <= 0:
            out.append(Comparison(fig.name, fig.stage, base.ratio, fig.ratio, None, "unjudged"))
            continue
        change = fig.ratio / base.ratio - 1.0
        why = sanity(fig, base)
        if why:
            out.append(Comparison(fig.name, fig.stage, base.ratio, fig.ratio, change, "noisy", why))
            continue
        status = "regressed" if change < -fail_over else "improved" if change > fail_over else "ok"
        out.append(Comparison(fig.name, fig.stage, base.ratio, fig.ratio, change, status))
    out.extend(Comparison(b.name, b.stage, b.ratio, None, None, "missing") for b in before.values())
    return out


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def format_figures(figures: Sequence[BenchFigure]) -> str:
    """Per stage: figure per second beside the same-run ceiling and their ratio."""
    rows = [("stage", "benchmark", "figure", "ceiling", "ratio")]
    for f in sorted(figures, key=lambda f: (f.stage, f.name)):
        short = f.name.split("::")[-1]
        rows.append(
            (
                f.stage,
                short,
                f"{_num(f.figure)} {f.figure_key}",
                f"{_num(f.ceiling)} {f.ceiling_key}".strip(),
                _num(f.ratio),
            )
        )
    return _table(rows)


def format_comparison(comparisons: Sequence[Comparison], fail_over: float) -> str:
    """The comparison table and a verdict line."""
    rows = [("stage", "benchmark", "baseline ratio", "ratio", "change", "status")]
    for c in comparisons:
        change = "-" if c.change is None else f"{100 * c.change:+.1f} %"
        status = f"noisy, not judged ({c.note})" if c.status == "noisy" else c.status
        rows.append((c.stage, c.name.split("::")[-1], _num(c.baseline_ratio), _num(c.ratio), change, status))
    bad = [c for c in comparisons if c.status == "regressed"]
    noisy = [c for c in comparisons if c.status == "noisy"]
    verdict = (
        f"FAIL: {len(bad)} regression(s) beyond {100 * fail_over:.0f} % of the ratio to the same-run ceiling"
        if bad
        else f"PASS: no judged ratio dropped more than {100 * fail_over:.0f} %"
    )
    if noisy:
        verdict += f"; {len(noisy)} noisy, not judged (re-run them on a quieter machine or with --repeat)"
    return _table(rows) + "\n" + verdict


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def run_benchmarks(
    paths: Sequence[str],
    json_out: Path,
    *,
    short: bool,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
) -> int:
    """Run pytest-benchmark on ``paths`` writing ``json_out``; returns pytest's exit code."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        *paths,
        "--benchmark-only",
        f"--benchmark-json={json_out}",
        "-q",
        "-p",
        "no:cacheprovider",
        *extra_args,
    ]
    # a pytest-xdist worker calling this (a test of `twittcom bench`) must not hand its worker id on:
    # pytest-benchmark would take the run for a parallel one and refuse to measure
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_")}
    environment = {**inherited, **(env or {})}
    if short:
        environment["TWITTCOM_BENCH_SHORT"] = "1"
    return subprocess.run(command, env=environment, cwd=cwd, check=False).returncode
