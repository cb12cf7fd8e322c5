"""``twittcom sweep SCENARIO --against ...`` from the command line: checks, the run, the report.

The bundled sweep's options keep their meaning: ``--steps`` fractions of the capacity
(``--capacity`` or the probe's), ``--step-seconds``, ``--slo-p99``, ``--replications``,
``--seed``, ``--probe-seconds``; ``--workers`` sets the scenario's ``workers`` (the system's
``{workers}`` and the model's). Writes ``DIR/sweep.json`` and ``DIR/sweep.html`` (the bundled
sweep's report); ``--refine-steps`` bisect the knee's bracket after the first failing step;
``--check`` judges the knee on both sides' intervals (:mod:`twittcom.sweep_verdict`: exit 1 on a
disagreement beyond 15 %, 3 when too coarse a bracket or too few replications to judge).
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import click

from twittcom.prechecks import EXIT_PASS

__all__ = ["run_against"]

#: the fractions of capacity of a sweep against a system under test
AGAINST_STEPS = (0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.3)


def run_against(
    scenario: Path | None,
    against_text: str,
    population: str,
    population_size: int,
    *,
    workers: int | None,
    steps: tuple[float, ...],
    capacity: float | None,
    step_seconds: float,
    slo_p99: float,
    replications: int,
    seed: int,
    probe_seconds: float,
    refine_steps: int,
    out_dir: Path,
    check: bool,
) -> None:
    from scenario import ScenarioError, load_scenario
    from twittcom.against import parse_against_spec
    from twittcom.live_stack import StackStartError
    from twittcom.sweep_against import AgainstSweepSpec, run_against_sweep
    from twittcom.sweep_report import headline, verdict, write_report

    if scenario is None:
        raise click.UsageError(
            "--against needs SCENARIO: the system's calibrated scenario (twittcom calibrate)"
        )
    overrides = (f"workers={workers}",) if workers else ()
    try:
        against = parse_against_spec(against_text, population)
        load_scenario(scenario, list(overrides))
    except (ValueError, ScenarioError) as error:
        raise click.UsageError(str(error)) from error
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = AgainstSweepSpec(
        scenario=str(scenario), against=against, overrides=overrides,
        steps=steps or AGAINST_STEPS, capacity=capacity, step_seconds=step_seconds,
        slo_p99_s=slo_p99, seed=seed, replications=replications, probe_seconds=probe_seconds,
        refine_steps=refine_steps, workdir=str((out_dir / "system").resolve()),
    )  # fmt: skip
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        document = run_against_sweep(spec, population_size, log=lambda line: click.echo(line, err=True))
    except StackStartError as error:
        raise click.ClickException(str(error)) from error
    (out_dir / "sweep.json").write_text(json.dumps(document, indent=2, allow_nan=True), encoding="utf-8")
    write_report(document, out_dir / "sweep.html")
    click.echo(headline(document))
    click.echo(f"report: {out_dir / 'sweep.html'}  data: {out_dir / 'sweep.json'}")
    code, lines = verdict(document)
    for line in lines:
        click.echo(line)
    if check and code != EXIT_PASS:
        sys.exit(code)
