"""``twittcom loadtest``: drive a stack with locust on a scenario's open-model schedule, headless.

Three set-ups:

* ``--against x=URL,sms=URL,processor=URL``: a running stack (``twittcom up``); the processor's
  admin token from ``--admin-token`` or ``TWITTCOM_ADMIN_TOKEN``;
* ``--fakes-only``: serve fake X and fake SMS here and let the generator stand in for the processor
  (it sends each code SMS itself): measures the generator and the fakes alone;
* neither: start the whole stack on loopback here (:func:`twittcom.live_stack.scenario_stack`, SQLite
  in memory), configured by the scenario (senders, carrier, circles, workers, polling, X limits), for
  the duration of the run; a value it cannot run is refused before the start.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import click

from loadtests.config import LoadtestConfig, parse_against
from loadtests.fakes import serve_fakes
from loadtests.preflight import PreflightError, check_population_file, preflight
from loadtests.report import format_summary
from loadtests.runner import run_locust
from loadtests.schedule import split_stream
from loadtests.thresholds import ThresholdError, default_thresholds, metric_names, parse_threshold
from scenario import KINDS, Scenario, ScenarioError, load_scenario
from twittcom.commands.helptext import examples, stack_port_options
from twittcom.live_scenario import LiveScenarioError, live_settings, scenario_outages
from twittcom.live_stack import StackStartError, StackUrls, loopback_stack, scenario_stack
from twittcom.prechecks import EXIT_FAILED, EXIT_INTERRUPTED, SetupError, check_ports_free

__all__ = ["loadtest", "parse_duration", "scenario_outages", "scheduled_arrivals"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``2m``, ``1h``, ``500ms`` -> seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise click.BadParameter(f"{text!r} is not a duration (e.g. 90s, 2m)")
    return float(match[1]) * {None: 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[match[2]]


def scheduled_arrivals(scenario: Scenario, arrivals_s: float) -> dict[str, int]:
    """Journey starts the run's seeded schedule holds per traffic kind (as the locustfile builds it)."""
    span = arrivals_s or scenario.run.duration_s or scenario.arrivals.duration_s
    counts = dict.fromkeys(KINDS, 0)
    for start in split_stream(scenario.arrivals, scenario.run.seed, duration_s=span):
        counts[start.kind] += 1
    return counts


@contextlib.contextmanager
def _loopback_stack(population: int, ingestion: str, poll_interval_s: float) -> Iterator[StackUrls]:
    """A plain stack on loopback (X rate limits and the write budget off), not set by a scenario."""
    from twittcom.stack import StackOptions

    options = StackOptions(
        population=population, x_rate_limits="off", tweet_budget=False, sms_time_scale=1.0,
        ingestion="poll" if ingestion == "polling" else "webhook", poll_interval_s=poll_interval_s,
        admin_token=secrets.token_urlsafe(18), web_rate_limit=False,
    )  # fmt: skip
    with loopback_stack(options) as urls:
        yield urls


@click.command(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=examples(
        (
            "the scenario's traffic on a stack started here for the run",
            "twittcom loadtest scenarios/launch.toml --duration 30s",
        ),
        (
            "against `twittcom up`, with a threshold and locust's HTML",
            "twittcom loadtest scenarios/launch.toml --against "
            "x=http://127.0.0.1:8081,sms=http://127.0.0.1:8082,processor=http://127.0.0.1:8080 "
            "--admin-token demo-token --threshold 'code_p95<15s' --html reports/load.html",
        ),
        (
            "the generator and the fakes alone (no processor)",
            "twittcom loadtest scenarios/launch.toml --fakes-only --duration 20s",
        ),
    ),
)
@click.argument(
    "scenario", metavar="SCENARIO.toml", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--against",
    default="",
    metavar="x=URL,sms=URL,processor=URL",
    help="A running stack (else one is started).",
)
@click.option(
    "--fakes-only", is_flag=True, help="Serve the two fakes here; the generator stands in for the processor."
)
@click.option(
    "--duration", default="", help="Arrivals for this long (default: the scenario's profile), e.g. 60s."
)
@click.option(
    "--drain", default="", help="Keep running this long after the last arrival (default: min(drain_s, 60s))."
)
@click.option(
    "--workers", type=int, default=1, show_default=True, help="Locust worker processes (>1: distributed)."
)
@click.option(
    "--threshold",
    "thresholds",
    multiple=True,
    help="k6-style, e.g. 'code_p99<30s' (repeatable). Metrics: "
    + ", ".join(metric_names())
    + ". Default: error_rate<1%, arrival_rate_achieved>95%, journeys_done_<kind>>0 per scheduled kind,"
    " codes_delivered>0.",
)
@click.option(
    "--csv", "csv_prefix", default="", help="Locust CSV prefix (plus _summary.json, _summary_arrivals.csv)."
)
@click.option("--html", default="", help="Locust HTML report path.")
@click.option("--set", "overrides", multiple=True, help="Scenario override key=value (repeatable).")
@click.option(
    "--admin-token",
    envvar="TWITTCOM_ADMIN_TOKEN",
    show_envvar=True,
    default="",
    help="The processor's admin token, required with --against.",
)
@click.option(
    "--population", "population_file", default="", help="JSON {subscribers, packs} instead of the admin API."
)
@click.option("--operator", default="tatadocomo", show_default=True, help="The operator's X handle.")
@stack_port_options
@click.option(
    "--preregister", type=int, default=0, show_default=True, help="Register N users in an unmeasured warm-up."
)
def loadtest(
    scenario: Path, against: str, fakes_only: bool, duration: str, drain: str, workers: int,
    thresholds: tuple[str, ...], csv_prefix: str, html: str, overrides: tuple[str, ...], admin_token: str,
    population_file: str, operator: str, port: int, x_port: int, sms_port: int, preregister: int,
) -> None:  # fmt: skip
    """Drive a stack with the scenario's traffic (open model) and check thresholds.

    Exit codes: 0 thresholds passed, 1 a threshold failed, 2 usage or setup error (checked before
    the first arrival), 130 interrupted (Ctrl-C; the summary so far is printed).
    """
    try:
        loaded = load_scenario(scenario, overrides)
        for expression in thresholds:
            parse_threshold(expression)
    except (ScenarioError, ThresholdError) as exc:
        raise SetupError(str(exc)) from exc
    if workers < 1:
        raise click.BadParameter("--workers must be >= 1")
    if (against or fakes_only) and (port or x_port or sms_port):
        raise click.UsageError(
            "--port, --x-port and --sms-port are for the stack started here, not --against/--fakes-only"
        )
    check_ports_free({"--x-port": x_port, "--sms-port": sms_port, "--port": port})
    arrivals_s = parse_duration(duration) if duration else 0.0
    checks = thresholds or default_thresholds(scheduled_arrivals(loaded, arrivals_s))
    base = LoadtestConfig(
        scenario_path=str(scenario), x_url="", sms_url="", overrides=overrides, operator_handle=operator,
        duration_s=arrivals_s, drain_s=parse_duration(drain) if drain else -1.0, workers=workers,
        thresholds=tuple(checks),
        preregister=max(0, preregister),
        outages=scenario_outages(loaded), population_file=population_file, run_tag=secrets.token_hex(2),
    )  # fmt: skip
    if population_file and not against:
        _preflight(None, population_file, operator)
    with contextlib.ExitStack() as stack:
        if against:
            try:
                urls = parse_against(against)
            except ValueError as exc:
                raise click.BadParameter(str(exc), param_hint="--against") from exc
            target = StackUrls(urls["x"], urls["sms"], urls.get("processor", ""), admin_token)
            _preflight(target, population_file, operator)
        elif fakes_only:
            fakes = stack.enter_context(serve_fakes())
            target = StackUrls(fakes.x, fakes.sms, "", "")
        else:
            span = arrivals_s or loaded.arrivals.duration_s
            regs = loaded.arrivals.expected_count(0, span, "reg")
            size = min(20_000, max(200, int(regs * 4) + 100))
            try:
                target = stack.enter_context(scenario_stack(loaded, size, (x_port, sms_port, port)))
            except (LiveScenarioError, StackStartError) as exc:
                raise SetupError(str(exc)) from exc
            base = replace(base, x_limits=live_settings(loaded).x_limits)
            click.echo(f"stack on loopback: X {target.x}, SMS {target.sms}, processor {target.processor}")
        config = LoadtestConfig(**{
            **base.__dict__, "x_url": target.x, "sms_url": target.sms, "processor_url": target.processor,
            "admin_token": target.admin_token,
        })  # fmt: skip
        result = run_locust(config, csv_prefix=csv_prefix, html=html)
    if result.summary:
        click.echo("\n" + format_summary(result.summary))
    else:
        click.echo("the run wrote no summary (see locust's output above)", err=True)
    if result.interrupted:
        click.echo("interrupted (Ctrl-C): the figures above cover the run until then", err=True)
        raise SystemExit(EXIT_INTERRUPTED)
    if result.exit_code != 0 or not result.summary.get("passed", False):
        raise SystemExit(result.exit_code or EXIT_FAILED)


def _preflight(target: StackUrls | None, population_file: str, operator: str) -> None:
    """Everything checkable before the first arrival; a fault stops the command with exit code 2."""
    try:
        if target is None:
            check_population_file(population_file)
            return
        facts = preflight(
            x_url=target.x, sms_url=target.sms, processor_url=target.processor,
            admin_token=target.admin_token, population_file=population_file, operator=operator,
        )  # fmt: skip
    except PreflightError as exc:
        raise SetupError(str(exc)) from None
    if abs(facts.x_clock_offset_s) > 1.0:
        click.echo(
            f"note: fake X's clock runs {facts.x_clock_offset_s:.0f} s ahead of the wall clock "
            "(moved by `twittcom scenarios`?); the journeys take the offset out"
        )
