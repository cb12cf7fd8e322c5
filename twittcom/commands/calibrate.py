"""``twittcom calibrate``: fit the model to a storm of your system; write the calibrated scenario.

::

    twittcom calibrate reports/storm/low [--out calibrated.toml] [--fit-workers] [--seeds N]

Reads what the fakes observed in the storm (``observed.json``: every command's post and first
answer, the system's timeline reads), fits the model's stations (ingestion: poll periods and page
size, or webhooks; workers: per-command service time and variability at the configured concurrency,
or the best-fitting one with ``--fit-workers``; which commands get a reply tweet), writes the
storm's scenario with those keys over it, and states the fit's error twice: replaying the run's
jobs (processing latency) and the calibrated model beside the measured storm (the storm's table).
``twittcom plan`` and ``twittcom storm`` then run on the calibrated file.
"""

from __future__ import annotations

from pathlib import Path

import click

from loadtests.compare import format_rows
from scenario import ScenarioError
from twittcom.commands.helptext import examples

__all__ = ["calibrate"]


_EXAMPLES = examples(
    ("the storm in reports/low (run with `twittcom storm ... --against CMD --out reports/low`)",
     "twittcom calibrate reports/low"),
    ("fit the concurrency too, more model seeds", "twittcom calibrate reports/low --fit-workers --seeds 8"),
    ("the calibrated scenario elsewhere", "twittcom calibrate reports/low --out my-system.toml"),
)  # fmt: skip


@click.command(context_settings={"help_option_names": ["-h", "--help"]}, epilog=_EXAMPLES)
@click.argument("storm_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Calibrated scenario file (default: STORM_DIR/calibrated.toml).",
)
@click.option(
    "--fit-workers", is_flag=True, help="Write the concurrency that fits best, not the configured one."
)
@click.option("--seeds", type=click.IntRange(1, 100), default=4, show_default=True, help="Simulator seeds.")
def calibrate(storm_dir: Path, out_path: Path | None, fit_workers: bool, seeds: int) -> None:
    """Fit the model's stations to what the fakes observed in the storm in STORM_DIR."""
    from twittcom.calibrate_run import calibrate_storm

    for name in ("storm.json", "observed.json", "measured.json"):
        if not (storm_dir / name).exists():
            raise click.ClickException(
                f"{storm_dir / name} is missing: run `twittcom storm ... --out {storm_dir}` first"
            )
    out = out_path or storm_dir / "calibrated.toml"
    try:
        result = calibrate_storm(storm_dir, out, fit_workers=fit_workers, seeds=seeds)
    except (ScenarioError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    fit = result.fit
    click.echo(f"fitted {fit.answered} answered of {fit.jobs} jobs ({fit.mode})")
    if fit.poll_interval_s is not None:
        dm = "-" if fit.dm_poll_interval_s is None else f"{fit.dm_poll_interval_s:.3g} s"
        click.echo(f"  ingestion: mentions polled every {fit.poll_interval_s:.3g} s, DMs every {dm}")
    click.echo(f"  workers: {fit.workers}; reply tweets to {fit.reply_to or 'nothing'}")
    click.echo("  command  service mean (ms)  cv     processing latency observed / replayed (ms)")
    for command, mean in fit.service_mean_s.items():
        obs, pred = fit.observed_processing_s.get(command), fit.predicted_processing_s.get(command)
        both = "-" if obs is None or pred is None else f"{1000 * obs:.0f} / {1000 * pred:.0f}"
        click.echo(f"  {command:<8} {1000 * mean:>17.2f}  {fit.service_cv.get(command, 0):.2f}   {both}")
    errors = ", ".join(f"{c}: {1000 * e:.1f}" for c, e in sorted(fit.error_by_workers.items()))
    click.echo(f"  replay error by concurrency (mean |done error|, ms): {errors}")
    click.echo(f"  replay error: {100 * fit.error:.1f} % of the median processing latency")
    click.echo(
        "\nthe calibrated model on the calibration run's arrivals, beside the measured run\n"
        + format_rows(result.rows)
    )
    click.echo(f"\ncalibrated scenario: {result.path}")
