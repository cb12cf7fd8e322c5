"""``twittcom storm``: a scenario end to end, measured on the live stack beside the simulator's prediction.

::

    twittcom storm SCENARIO.toml [--set key=value ...] [--duration D] [--out DIR]

Starts the stack on loopback (in-process fakes and processor, SQLite in memory), runs the simulator
on the same scenario, drives the load with locust (open model) while showing progress, then prints
measured vs simulated code latency percentiles, the processor's and carrier's shares, activation
latency and throughput, with the prediction error, and writes ``DIR/report.html`` (plots) plus the
locust CSV files and the load run's summary. The drain after the arrivals is adaptive: the scenario's
``drain_s`` (at most 60 s) is only its bound, the run ends once no started journey can still finish
(:mod:`loadtests.drain`); the progress bar's length is that bound.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from pathlib import Path

import click

from loadtests.compare import activation_series, comparison_rows, format_rows, write_storm_report
from loadtests.config import LoadtestConfig
from loadtests.report import format_summary
from loadtests.runner import RunResult, run_locust
from simulator.errors import ScenarioError
from simulator.scenario import load_scenario
from twittcom.commands.loadtest import _loopback_stack, parse_duration, scenario_outages

__all__ = ["storm"]


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--set", "overrides", multiple=True, help="Scenario override key=value (repeatable).")
@click.option("--duration", default="", help="Arrivals for this long (both runs), e.g. 60s.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Report directory (default: reports/storm/<scenario name>).",
)
@click.option(
    "--preregister",
    type=int,
    default=-1,
    help="Users registered in an unmeasured warm-up (default: min(200, expected buys in 30 s)).",
)
def storm(
    scenario: Path, overrides: tuple[str, ...], duration: str, out_dir: Path | None, preregister: int
) -> None:
    """Run SCENARIO on the live stack and in the simulator; print and plot them side by side."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from simulator.runner import run_scenario

    settings = list(overrides) + ([f"duration={parse_duration(duration)}"] if duration else [])
    try:
        loaded = load_scenario(scenario, settings)
    except ScenarioError as exc:
        raise click.ClickException(str(exc)) from exc
    out = out_dir or Path("reports") / "storm" / loaded.name
    out.mkdir(parents=True, exist_ok=True)
    arrivals_s = loaded.run.duration_s or loaded.arrivals.duration_s
    drain_s = min(loaded.run.drain_s, 60.0)
    click.echo(f"simulating {loaded.name} ...")
    simulated = run_scenario(loaded, plots=False).summary
    regs = loaded.arrivals.expected_count(0, arrivals_s, "reg")
    if preregister < 0:
        buys = sum(loaded.arrivals.expected_count(0, min(30.0, arrivals_s), k) for k in ("act", "dm"))
        preregister = int(min(200, buys)) if loaded.population.registered_share > 0 else 0
    ing = loaded.system.ingestion
    size = min(20_000, max(200, int(regs * 4) + preregister + 100))
    with _loopback_stack(size, ing.mode, ing.poll_interval_s) as urls:
        click.echo(f"stack on loopback: X {urls.x}, SMS {urls.sms}, processor {urls.processor}")
        config = LoadtestConfig(
            scenario_path=str(scenario),
            x_url=urls.x,
            sms_url=urls.sms,
            processor_url=urls.processor,
            overrides=tuple(settings),
            admin_token=urls.admin_token,
            duration_s=arrivals_s,
            drain_s=drain_s,
            thresholds=("error_rate<1%", "arrival_rate_achieved>95%"),
            run_tag=secrets.token_hex(2),
            preregister=preregister,
            outages=scenario_outages(loaded),
        )
        box: dict[str, RunResult] = {}
        worker = threading.Thread(
            target=lambda: box.update(result=run_locust(config, csv_prefix=str(out / "locust"), quiet=True))
        )
        total = arrivals_s + drain_s + 10 + (config.preregister_s if preregister else 0)
        with Progress(TextColumn("load"), BarColumn(), TimeElapsedColumn()) as progress:
            task = progress.add_task("load", total=total)
            start = time.monotonic()
            worker.start()
            while worker.is_alive():
                progress.update(task, completed=min(total, time.monotonic() - start))
                worker.join(0.5)
    result = box.get("result")
    if result is None or not result.summary:
        raise click.ClickException("the load run wrote no summary")
    measured = result.summary
    series = activation_series(out / "locust_stats_history.csv", float(measured.get("t0", 0)))
    rows = comparison_rows(simulated, measured, series)
    (out / "simulated.json").write_text(json.dumps(simulated, indent=1, default=str))
    (out / "measured.json").write_text(json.dumps(measured, indent=1))
    write_storm_report(out / "report.html", loaded.name, rows, simulated, measured, series)
    click.echo("\n" + format_summary(measured))
    click.echo("\nmeasured vs simulated\n" + format_rows(rows))
    click.echo(f"\nreport: {out / 'report.html'}")
    if result.exit_code != 0:
        raise SystemExit(result.exit_code)
