"""``twittcom bench``: the benchmark suites as a CI gate judged on ratios to same-run ceilings.

::

    twittcom bench [PATHS...] [--save NAME] [--compare BASELINE] [--fail-over 10%] [--short]

Runs pytest-benchmark on ``benchmarks/`` (or PATHS), prints per stage the figure per second beside
the ceiling measured in the same run, saves the normalised figures as ``.benchmarks/twittcom/NAME.json``
and compares with a baseline (a NAME saved before, or a path; a raw ``--benchmark-json`` file works
too). Exit 1 when a ratio dropped more than ``--fail-over``; exit 2 when the benchmarks failed.

Quiet on noise, loud on regressions: a pair that does not look sane is "noisy, not judged"
(:func:`loadtests.bench.sanity`); a ratio that dropped past the gate is measured ``--confirm``
more times (that benchmark alone) and judged on the median, so one disturbed run cannot fail the
gate while a real slowdown fails every time; ``--save`` on a busy machine (load average above
:data:`BUSY_LOAD` per core) says so and keeps the median of at least 3 runs; benchmarks of the
baseline outside PATHS are not compared.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import click

from loadtests.bench import (
    BenchFigure,
    Comparison,
    compare,
    format_comparison,
    format_figures,
    load_figures,
    median_figures,
    normalise,
    parse_fail_over,
    run_benchmarks,
    save_figures,
    selected_by,
)
from twittcom.commands.helptext import examples
from twittcom.prechecks import SetupError

__all__ = ["BASELINE_DIR", "baseline_path", "bench"]

BASELINE_DIR = Path(".benchmarks") / "twittcom"
#: 1-minute load average per core above which the machine counts as busy for --save
BUSY_LOAD = 0.75
#: repeated runs whose ratios spread wider than this (max / min) are reported noisy at --save
SAVE_SPREAD = 1.25


def _load_per_core() -> float:
    try:
        return os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:
        return 0.0


def _run(paths: list[str], tmp: str, tag: str, short: bool, keep: Path | None = None) -> list[BenchFigure]:
    raw = keep or Path(tmp) / f"bench-{tag}.json"
    code = run_benchmarks(paths, raw, short=short)
    if code != 0 or not raw.exists():
        raise SetupError(f"the benchmarks failed (pytest exit code {code})")
    return normalise(json.loads(raw.read_text()))


def _spread_warnings(runs: list[list[BenchFigure]]) -> list[str]:
    by_name: dict[str, list[float]] = {}
    for run in runs:
        for fig in run:
            if fig.ratio:
                by_name.setdefault(fig.name, []).append(fig.ratio)
    return [
        name.split("::")[-1]
        for name, ratios in by_name.items()
        if len(ratios) > 1 and max(ratios) / min(ratios) > SAVE_SPREAD
    ]


def baseline_path(name_or_path: str) -> Path:
    """A saved NAME under ``.benchmarks/twittcom/``, or a path as given."""
    given = Path(name_or_path)
    if given.suffix == ".json" or given.exists():
        return given
    return BASELINE_DIR / f"{name_or_path}.json"


@click.command(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=examples(
        (
            "every benchmark, each figure beside its same-run ceiling, saved as a baseline",
            "twittcom bench --save main",
        ),
        (
            "judge a later run against it (exit 1 on a ratio dropping more than 10 %)",
            "twittcom bench --compare main",
        ),
        ("one suite, small workloads", "twittcom bench benchmarks/test_core_purchases.py --short"),
    ),
)
@click.argument("paths", nargs=-1)
@click.option("--save", default="", help="Store this run's figures as .benchmarks/twittcom/NAME.json.")
@click.option("--compare", "baseline", default="", help="Baseline NAME or path to judge this run against.")
@click.option("--fail-over", default="10%", show_default=True, help="Largest tolerated drop of a ratio.")
@click.option("--short", is_flag=True, help="Smaller workloads (TWITTCOM_BENCH_SHORT=1), for CI.")
@click.option("--json-out", default="", help="Keep pytest-benchmark's raw JSON here.")
@click.option(
    "--repeat",
    type=click.IntRange(1, 20),
    default=1,
    show_default=True,
    help="Run the suites N times; keep each benchmark's median ratio (noisy machines).",
)
@click.option(
    "--confirm",
    type=click.IntRange(0, 10),
    default=2,
    show_default=True,
    help="Re-measure a regressed benchmark N times and judge its median ratio (0: judge one run).",
)
def bench(
    paths: tuple[str, ...], save: str, baseline: str, fail_over: str, short: bool, json_out: str, repeat: int,
    confirm: int,
) -> None:  # fmt: skip
    """Run the benchmarks; print rates beside same-run ceilings; fail on a ratio regression."""
    try:
        threshold = parse_fail_over(fail_over)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fail-over") from exc
    base_file = baseline_path(baseline) if baseline else None
    if base_file is not None and not base_file.exists():
        raise SetupError(f"baseline {base_file} does not exist (save one with --save NAME)")
    load = _load_per_core()
    if save and load > BUSY_LOAD:
        repeat = max(repeat, 3)
        click.echo(
            f"warning: the machine is busy (load {load:.2f} per core): saving the median of {repeat} runs;"
            " a baseline saved on a quiet machine judges better",
            err=True,
        )
    targets = list(paths) or ["benchmarks"]
    runs = []
    with tempfile.TemporaryDirectory(prefix="twittcom-bench-") as tmp:
        for attempt in range(repeat):
            keep = Path(json_out) if json_out and attempt == repeat - 1 else None
            runs.append(_run(targets, tmp, str(attempt), short, keep))
        figures = median_figures(runs)
        click.echo(format_figures(figures))
        if save:
            noisy = _spread_warnings(runs)
            if noisy:
                click.echo(
                    f"warning: ratios spread over {SAVE_SPREAD:g}x between runs: {', '.join(noisy)}", err=True
                )
            target = baseline_path(save)
            save_figures(target, figures)
            click.echo(f"saved {len(figures)} figures to {target}")
        if base_file is None:
            return
        base = load_figures(base_file)
        selected = selected_by(list(paths))
        comparisons = compare(figures, base, threshold, selected)
        regressed = [c.name for c in comparisons if c.status == "regressed"]
        if regressed and confirm:
            click.echo(
                f"{len(regressed)} ratio(s) dropped past the gate: measuring them {confirm} more time(s)"
            )
            again = [runs[-1], *(_run(regressed, tmp, f"confirm{i}", short) for i in range(confirm))]
            confirmed = {
                f.name: f for f in median_figures([[f for f in r if f.name in regressed] for r in again])
            }
            figures = [confirmed.get(f.name, f) for f in figures]
            comparisons = compare(figures, base, threshold, selected)
    _verdict(comparisons, threshold)


def _verdict(comparisons: list[Comparison], threshold: float) -> None:
    click.echo(format_comparison(comparisons, threshold))
    if any(c.status == "regressed" for c in comparisons):
        raise SystemExit(1)
