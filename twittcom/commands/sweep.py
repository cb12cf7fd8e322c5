"""``twittcom sweep``: where does the processor break? Offered load in steps to saturation, beside the model.

::

    twittcom sweep [SCENARIO.toml] [--store sqlite|PATH|postgresql://...] [--processes N]
                   [--steps 0.1,0.3,...] [--capacity R] [--step-seconds S] [--slo-p99 250ms]
                   [--refine-steps 3] [--check-repeats 5] [--reprobe-every 3] [--out DIR] [--check]
    twittcom sweep --replay DIR [--out DIR2] [--check]

Deploys ``twittcom serve --processes N`` on loopback between a bare sink (X and Twilio answering
201) and a fresh store, calibrates the model on this machine (a low-rate and a saturating probe),
offers open-loop Poisson steps of signed webhook deliveries at the given fractions of the capacity
(probed, or ``--capacity``), measures offered, accepted and processed rates, processor-share
latency from each event's scheduled time, CPU per process and queue depths, then predicts the same
steps with :mod:`simulator.saturation`. The knee is the highest offered rate with accepted >= 99 %
of offered and p99 under ``--slo-p99``. Writes ``DIR/sweep.json`` and ``DIR/sweep.html``.

With a SCENARIO, the mix of ``#act`` and ``#reg`` is the scenario's (its noise and DM buys are left
out: neither ends in a reply the sweep can time) and so is the number of workers per process.
After the first failing step, up to ``--refine-steps`` more steps bisect the knee's bracket (the
last passing .. the first failing step) until its ends are 1.10x apart. ``--check`` judges the
predicted knee against the measured one (15 %) and the predicted p95 at 50 % / 80 % of the knee
against the measured one (20 %; ``--check-repeats`` runs at each share, alternating, right after
the refinement) on both sides' 95 % intervals (:mod:`twittcom.sweep_verdict`): exit 1 when one
disagrees by more than its noise or nothing was measured, 3 when too few runs (or too coarse a
bracket) to judge it, each line saying what would tell.

``--replay DIR`` measures nothing: it fits the model again to the probes saved in ``DIR/sweep.json``
and predicts its measured steps again (after a change to the model), writing to ``--out`` (``DIR``
itself by default).

``--against CMD`` (or ``x=URL,sms=URL`` with ``--population``) sweeps a system under test instead
(:mod:`twittcom.sweep_against`; SCENARIO is its calibrated scenario, ``--slo-p99`` defaults to 2 s).
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Any

import click

from twittcom.commands.helptext import examples
from twittcom.commands.loadtest import parse_duration
from twittcom.prechecks import EXIT_PASS, SetupError, checked_dsn

__all__ = ["sweep"]


def _fractions(text: str) -> tuple[float, ...]:
    try:
        values = tuple(sorted(float(v) for v in text.split(",") if v.strip()))
    except ValueError as error:
        raise click.BadParameter(
            f"{text!r}: comma-separated fractions of capacity, e.g. 0.1,0.5,1.0"
        ) from error
    if not values or any(v <= 0 for v in values):
        raise click.BadParameter(f"{text!r}: every fraction must be > 0", param_hint="--steps")
    return values


def _slo(text: str) -> float:
    try:
        value = parse_duration(text)
    except click.BadParameter as error:
        raise click.BadParameter(
            f"{text!r}: a duration such as 250ms or 1s", param_hint="--slo-p99"
        ) from error
    if value <= 0:
        raise click.BadParameter(f"{text!r}: must be > 0", param_hint="--slo-p99")
    return value


_EXAMPLES = examples(
    ("SQLite, two processes, the outage-storm mix", "twittcom sweep scenarios/outage-storm.toml"),
    ("PostgreSQL, a p99 SLO of 100 ms",
     "twittcom sweep --store postgresql://postgres@127.0.0.1:5432/test --slo-p99 100ms"),
    ("known capacity, chosen steps, fail when the model misses",
     "twittcom sweep --capacity 800 --steps 0.2,0.5,0.8,1.1 --check"),
)  # fmt: skip


@click.command(context_settings={"help_option_names": ["-h", "--help"]}, epilog=_EXAMPLES)
@click.argument("scenario", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--store",
    default="sqlite",
    show_default=True,
    help="sqlite (a temporary file), a new SQLite path, or a PostgreSQL DSN (a schema of its own).",
)
@click.option(
    "--processes", default=2, show_default=True, type=click.IntRange(1, 16),
    help="Service processes (twittcom serve --processes) sharing the port and the store.",
)  # fmt: skip
@click.option("--workers", type=click.IntRange(1, 64), help="Workers per process [scenario's, else 1].")
@click.option(
    "--batch-size", default=256, show_default=True, type=click.IntRange(1, 4096),
    help="Inbound rows per group commit in each worker.",
)  # fmt: skip
@click.option("--steps", default="", help="Fractions of capacity [0.1,0.3,0.5,...,1.3].")
@click.option("--capacity", type=click.FloatRange(min=1), help="Events/s the fractions refer to [probed].")
@click.option(
    "--step-seconds", default=8.0, show_default=True, type=click.FloatRange(min=1),
    help="Seconds of offered load per step.",
)  # fmt: skip
@click.option("--slo-p99", default=None, help="p99 the knee must stay under [250ms; with --against 2s].")
@click.option(
    "--replications", default=5, show_default=True, type=click.IntRange(1, 50), help="Model runs per step."
)
@click.option("--seed", default=1, show_default=True, type=int, help="Seed of the arrivals and of the model.")
@click.option(
    "--probe-seconds",
    default=None,
    type=click.FloatRange(min=1),
    help="Each calibration probe [4; with --against the step's length: a polling system's answers come "
    "a round at a time, and a few rounds blur its rate].",
)
@click.option(
    "--check-repeats", default=5, show_default=True, type=click.IntRange(0, 20),
    help="Steps at 50 % and 80 % of the measured knee, each, alternating; their p95 is pooled.",
)  # fmt: skip
@click.option(
    "--refine-steps", default=3, show_default=True, type=click.IntRange(0, 10),
    help="Extra steps bisecting the knee's bracket (last passing .. first failing step) until its ends "
    "are 1.10x apart.",
)  # fmt: skip
@click.option(
    "--reprobe-every", default=3, show_default=True, type=click.IntRange(0, 100),
    help="The saturating probe again after every N measured steps and at the end: the machine's "
    "speed over the run, which the model follows (0: calibrate once).",
)  # fmt: skip
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path),
    help="Folder for sweep.json and sweep.html [sweep-report; with --replay, its DIR].",
)  # fmt: skip
@click.option(
    "--check", is_flag=True,
    help="Judge the knee and p95 at 50/80 % of it on both sides' intervals: exit 1 on a disagreement, "
    "3 when too few runs to judge.",
)  # fmt: skip
@click.option(
    "--replay", type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Predict a saved sweep (DIR/sweep.json) again, measuring nothing.",
)  # fmt: skip
@click.option(
    "--against", "against_spec", default="",
    help="A system under test: a command template ('CMD {x_url} {sms_url} {population} ...') or "
    "x=URL,sms=URL; SCENARIO is then its calibrated scenario (docs/plan-your-own-processor.md).",
)  # fmt: skip
@click.option(
    "--population", default="", help="With --against x=URL,sms=URL: the population file it imported."
)
@click.option(
    "--population-size", default=0, type=click.IntRange(min=0), help="With --against: numbers [enough]."
)
def sweep(
    scenario: Path | None,
    store: str,
    processes: int,
    workers: int | None,
    batch_size: int,
    steps: str,
    capacity: float | None,
    step_seconds: float,
    slo_p99: str,
    replications: int,
    seed: int,
    probe_seconds: float | None,
    check_repeats: int,
    refine_steps: int,
    reprobe_every: int,
    out_dir: Path | None,
    check: bool,
    replay: Path | None,
    against_spec: str,
    population: str,
    population_size: int,
) -> None:
    """Offered-load sweep through the live processor to saturation (the knee), beside the model."""
    if against_spec:
        from twittcom.sweep_against_cli import run_against

        fractions = _fractions(steps) if steps else ()
        run_against(scenario, against_spec, population, population_size, workers=workers, steps=fractions,
                    capacity=capacity, step_seconds=step_seconds, slo_p99=_slo(slo_p99 or "2s"),
                    replications=replications, seed=seed, probe_seconds=probe_seconds or step_seconds,
                    refine_steps=refine_steps, out_dir=out_dir or Path("sweep-report"),
                    check=check)  # fmt: skip
        return
    slo_p99 = slo_p99 or "250ms"
    from twittcom.sweep_run import DEFAULT_STEPS, SweepSpec, run_sweep
    from twittcom.sweep_stack import StackSpec

    if replay is not None:
        _finish(_replayed(replay), out_dir or replay, check)
        return
    try:
        if store != "sqlite":
            store = checked_dsn(store, "--store")
    except SetupError as error:
        raise click.UsageError(str(error)) from error
    reg_share, notes, name = 0.0, [], ""
    if scenario is not None:
        from scenario import ScenarioError, load_scenario
        from twittcom.live_scenario import live_settings

        try:
            loaded = load_scenario(scenario)
        except ScenarioError as error:
            raise click.UsageError(str(error)) from error
        name = loaded.name
        mix = loaded.arrivals.mix
        act, reg = mix.share("act"), mix.share("reg")
        reg_share = reg / (act + reg) if act + reg > 0 else 0.0
        left_out = 1 - act - reg
        notes.append(
            f"mix from {scenario.name}: #act {act:.0%}, #reg {reg:.0%}; noise and DM buys "
            f"({left_out:.0%}) left out, the rest renormalised"
        )
        workers = workers or live_settings(loaded).workers
    spec = SweepSpec(
        stack=StackSpec(store=store, processes=processes, workers=workers or 1, batch_size=batch_size),
        steps=_fractions(steps) if steps else DEFAULT_STEPS,
        capacity=capacity,
        step_seconds=step_seconds,
        slo_p99_s=_slo(slo_p99),
        reg_share=reg_share,
        seed=seed,
        replications=replications,
        scenario=name,
        notes=tuple(notes),
        probe_seconds=probe_seconds or 4.0,
        check_repeats=check_repeats,
        refine_steps=refine_steps,
        reprobe_every=reprobe_every,
    )
    # SIGTERM unwinds like Ctrl-C, so the service, the sink and a PostgreSQL schema are cleaned up
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    document = run_sweep(spec, log=lambda line: click.echo(line, err=True))
    _finish(document, out_dir or Path("sweep-report"), check)


def _replayed(folder: Path) -> dict[str, Any]:
    from twittcom.sweep_model import predict

    path = folder / "sweep.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return predict(document)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise click.UsageError(f"--replay {folder}: not a saved sweep with its probes ({error!r})") from error


def _finish(document: dict[str, Any], out_dir: Path, check: bool) -> None:
    from twittcom.sweep_report import headline, verdict, write_report

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "sweep.json").write_text(json.dumps(document, indent=2, allow_nan=True), encoding="utf-8")
    write_report(document, out_dir / "sweep.html")
    click.echo(headline(document))
    click.echo(f"report: {out_dir / 'sweep.html'}  data: {out_dir / 'sweep.json'}")
    code, lines = verdict(document)
    for line in lines:
        click.echo(line)
    if check and code != EXIT_PASS:
        sys.exit(code)
