"""``twittcom bench``: the benchmark suites as a CI gate judged on ratios to same-run ceilings.

::

    twittcom bench [PATHS...] [--save NAME] [--compare BASELINE] [--fail-over 10%] [--short]

Runs pytest-benchmark on ``benchmarks/`` (or PATHS), prints per stage the figure per second beside
the ceiling measured in the same run, saves the normalised figures as ``.benchmarks/twittcom/NAME.json``
and compares with a baseline (a NAME saved before, or a path; a raw ``--benchmark-json`` file works
too). Exit 1 when a ratio dropped more than ``--fail-over``; exit 2 when the benchmarks failed.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click

from loadtests.bench import (
    compare,
    format_comparison,
    format_figures,
    load_figures,
    median_figures,
    normalise,
    parse_fail_over,
    run_benchmarks,
    save_figures,
)

__all__ = ["BASELINE_DIR", "baseline_path", "bench"]

BASELINE_DIR = Path(".benchmarks") / "twittcom"


def baseline_path(name_or_path: str) -> Path:
    """A saved NAME under ``.benchmarks/twittcom/``, or a path as given."""
    given = Path(name_or_path)
    if given.suffix == ".json" or given.exists():
        return given
    return BASELINE_DIR / f"{name_or_path}.json"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
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
def bench(
    paths: tuple[str, ...], save: str, baseline: str, fail_over: str, short: bool, json_out: str, repeat: int
) -> None:
    """Run the benchmarks; print rates beside same-run ceilings; fail on a ratio regression."""
    try:
        threshold = parse_fail_over(fail_over)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fail-over") from exc
    base_file = baseline_path(baseline) if baseline else None
    if base_file is not None and not base_file.exists():
        raise click.ClickException(f"baseline {base_file} does not exist (save one with --save NAME)")
    runs = []
    with tempfile.TemporaryDirectory(prefix="twittcom-bench-") as tmp:
        for attempt in range(repeat):
            raw = Path(json_out) if json_out and attempt == repeat - 1 else Path(tmp) / f"bench{attempt}.json"
            code = run_benchmarks(list(paths) or ["benchmarks"], raw, short=short)
            if code != 0 or not raw.exists():
                raise click.ClickException(f"the benchmarks failed (pytest exit code {code})")
            runs.append(normalise(json.loads(raw.read_text())))
    figures = median_figures(runs)
    click.echo(format_figures(figures))
    if save:
        target = baseline_path(save)
        save_figures(target, figures)
        click.echo(f"saved {len(figures)} figures to {target}")
    if base_file is not None:
        comparisons = compare(figures, load_figures(base_file), threshold)
        click.echo(format_comparison(comparisons, threshold))
        if any(c.status == "regressed" for c in comparisons):
            raise SystemExit(1)
