"""``twittcom storm``: a scenario end to end, measured on the live stack beside the simulator's prediction.

::

    twittcom storm SCENARIO.toml [--set key=value ...] [--duration D] [--out DIR] [--seeds N] [--check]

Starts the stack on loopback configured by the scenario (senders, carrier, circles, workers,
polling, X limits: :mod:`twittcom.live_scenario`; a value it cannot run is refused before the
start with the key and the limit), runs the simulator on ``--seeds`` seeds in parallel, drives
the load with locust (open model) while showing progress, then prints measured vs simulated (mean
and 95 % interval) code latency percentiles, the processor's and carrier's shares, activation
latency and throughput, with the prediction error, and the messages per kind on both sides; it
writes ``DIR/report.html`` (plots), ``DIR/comparison.json`` (:mod:`loadtests.verdict`), the
locust CSV files and the load run's summary. ``--check`` judges the acceptance figures (code
p50 and p95, outside outages where the run has them, and activations/s) on both sides' 95 %
intervals (:mod:`loadtests.judge`): exit 1 when one is not finite on both sides or is outside the
15 % tolerance by more than its noise, 3 when one has too few samples (or seeds) to judge.
``--locust-workers N`` splits the load over N locust workers, ``--netns`` runs each in a network
namespace of its own, bridged to the loopback
(:mod:`twittcom.storm_workers`, ``docs/distributed-storm.md``). ``--against`` runs your system
instead of the bundled stack
(:mod:`twittcom.against`, ``docs/plan-your-own-processor.md``), with the same outputs. The drain
after the arrivals is adaptive: the scenario's ``drain_s`` (at most 60 s) is only its bound, the
run ends once no started journey can still finish (:mod:`loadtests.drain`); the progress bar's
length is that bound.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import click

from loadtests.compare import format_rows
from loadtests.report import format_summary
from scenario import ScenarioError, load_scenario
from simulator.seeds import DEFAULT_SEEDS
from twittcom.commands.helptext import examples, stack_port_options
from twittcom.commands.loadtest import parse_duration
from twittcom.live_scenario import LiveScenarioError
from twittcom.live_stack import StackStartError, StackUrls
from twittcom.prechecks import EXIT_FAILED, EXIT_UNJUDGED, SetupError, check_ports_free

__all__ = ["storm"]

#: exit code of ``--check`` when an acceptance figure disagrees (the README's "verdict failed")
CHECK_FAILED = EXIT_FAILED


def _progress(worker: threading.Thread, total: float) -> None:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("load"), BarColumn(), TimeElapsedColumn()) as progress:
        task = progress.add_task("load", total=total)
        start = time.monotonic()
        while worker.is_alive():
            progress.update(task, completed=min(total, time.monotonic() - start))
            worker.join(0.5)


def remote_instructions(workers: int, out: Path, ports: tuple[int, ...]) -> str:
    """What to run on each worker host for ``--remote-workers`` (docs/distributed-storm.md)."""
    tunnels = " ".join(f"-L {p}:127.0.0.1:{p}" for p in ports)
    config = out / "locust_worker_config.json"
    return (
        f"waiting up to 10 min for {workers} locust workers; on each worker host, in a checkout of this "
        f"harness, with {config} copied there:\n  ssh -N -f {tunnels} THIS_HOST\n"
        '  TWITTCOM_LOADTEST_CONFIG="$(cat locust_worker_config.json)" python -m locust '
        f"-f loadtests/locustfile.py --worker --master-host 127.0.0.1 --master-port {ports[0]}"
    )


@click.command(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=examples(
        (
            "the outage storm live and simulated (about 2 minutes)",
            "twittcom storm scenarios/outage-storm.toml",
        ),
        (
            "a check: exit 1 on a disagreement beyond 15 %, 3 when the run is too short to judge",
            "twittcom storm scenarios/launch.toml --duration 60s --check",
        ),
        (
            "two locust workers, each in a network namespace of its own (as root; docs/distributed-storm.md)",
            "twittcom storm scenarios/30mps-registration-wave.toml --locust-workers 2 --netns --check",
        ),
        (
            "fixed ports and a report folder",
            "twittcom storm scenarios/outage-storm.toml --port 8180 --x-port 8181 --sms-port 8182 "
            "--out reports/mine",
        ),
    ),
)
@click.argument(
    "scenario", metavar="SCENARIO.toml", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
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
    help="Users registered in an unmeasured warm-up (default, -1: min(200, expected buys in 30 s)).",
)
@click.option(
    "--seeds",
    type=click.IntRange(1, 200),
    default=DEFAULT_SEEDS,
    show_default=True,
    help="Simulator seeds (run in parallel); figures are their mean with a 95 % interval.",
)
@stack_port_options
@click.option(
    "--check",
    is_flag=True,
    help="Judge the acceptance figures: exit 1 on a disagreement beyond 15 %, 3 on too few samples to judge.",
)
@click.option(
    "--against",
    "against_text",
    default="",
    help="Your system instead of the bundled stack: a command template the harness starts once the fakes "
    "are up ('python my.py --x {x_url} --sms {sms_url} --population {population}'), or x=URL,sms=URL of "
    "fakes a running system uses (with --population). See docs/plan-your-own-processor.md.",
)
@click.option(
    "--population", "population_file", default="", help="With --against x=URL,...: the population file."
)
@click.option(
    "--sms", "sms_protocol", type=click.Choice(["twilio", "smpp"]), default=None,
    help="Send SMS over Twilio's API or SMPP (sets system.sms.protocol; default: the scenario's).",
)  # fmt: skip
@click.option(
    "--locust-workers", type=click.IntRange(1, 32), default=1, show_default=True,
    envvar="TWITTCOM_STORM_LOCUST_WORKERS", show_envvar=True,
    help="Locust workers sharing the arrivals (a master merges their figures); 1: one process.",
)  # fmt: skip
@click.option(
    "--netns", is_flag=True, default=False, show_default=True,
    envvar="TWITTCOM_STORM_NETNS", show_envvar=True,
    help="Each locust worker in a network namespace of its own, bridged to this loopback (root, Linux).",
)  # fmt: skip
@click.option(
    "--master-port", type=click.IntRange(0, 65535), default=0, show_default=True,
    envvar="TWITTCOM_STORM_MASTER_PORT", show_envvar=True,
    help="With --netns or --remote-workers: the locust master's port on 127.0.0.1 (0: any free port).",
)  # fmt: skip
@click.option(
    "--remote-workers", is_flag=True, default=False, show_default=True,
    envvar="TWITTCOM_STORM_REMOTE_WORKERS", show_envvar=True,
    help="Start no worker here: wait up to 10 min for --locust-workers workers from other hosts, "
    "through SSH tunnels to this loopback (fixed ports needed; docs/distributed-storm.md).",
)  # fmt: skip
def storm(
    scenario: Path, overrides: tuple[str, ...], duration: str, out_dir: Path | None, preregister: int,
    seeds: int, port: int, x_port: int, sms_port: int, check: bool, against_text: str, population_file: str,
    sms_protocol: str | None, locust_workers: int, netns: bool, master_port: int, remote_workers: bool,
) -> None:  # fmt: skip
    """Run SCENARIO.toml on the live stack (or your system, --against) and in the simulator; print
    and plot them side by side."""
    from twittcom.against import parse_against_spec
    from twittcom.netns import NetnsError, check_netns_support
    from twittcom.storm_run import run_storm
    from twittcom.storm_workers import LoadGenerators

    if master_port and not (netns or remote_workers):
        raise click.BadParameter("--master-port needs --netns or --remote-workers (forked workers need none)")
    if remote_workers and (netns or not all((master_port, port, x_port, sms_port))):
        raise click.UsageError(
            "--remote-workers needs fixed --master-port, --port, --x-port and --sms-port (the workers' "
            "tunnels forward them) and no --netns"
        )
    if netns:
        try:
            check_netns_support()
        except NetnsError as exc:
            raise SetupError(str(exc)) from exc
    generators = LoadGenerators(locust_workers, netns, master_port, remote_workers)

    try:
        against = parse_against_spec(against_text, population_file) if against_text else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--against") from exc

    settings = tuple(overrides) + ((f"duration={parse_duration(duration)}",) if duration else ())
    if sms_protocol is not None:
        settings += (f"system.sms.protocol={sms_protocol}",)
    try:
        loaded = load_scenario(scenario, settings)
    except ScenarioError as exc:
        raise click.ClickException(str(exc)) from exc
    out = out_dir or Path("reports") / "storm" / loaded.name
    stack_ports = {"--x-port": x_port, "--sms-port": sms_port, "--port": port}
    check_ports_free({**stack_ports, "--master-port": master_port})

    def on_stack(urls: StackUrls) -> None:
        if against is not None:
            click.echo(
                f"fakes: X {urls.x}, SMS {urls.sms}; system under test: population {urls.population_file}"
            )
        else:
            click.echo(f"stack on loopback: X {urls.x}, SMS {urls.sms}, processor {urls.processor}")
        if remote_workers:
            click.echo(remote_instructions(locust_workers, out, (master_port, port, x_port, sms_port)))

    click.echo(f"simulating {loaded.name} on {seeds} seeds ...")
    try:
        outcome = run_storm(
            loaded, scenario, out, overrides=settings, preregister=preregister, seeds=seeds,
            on_stack=on_stack, on_load=_progress, against=against, ports=(x_port, sms_port, port),
            generators=generators,
        )  # fmt: skip
    except (LiveScenarioError, StackStartError) as exc:  # refused before any arrival
        raise SetupError(str(exc)) from exc
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("\n" + format_summary(outcome.measured))
    if outcome.measured.get("per_worker"):
        shares = ", ".join(
            f"worker {w['index']}: {w.get('started', 0)} of {w.get('scheduled', 0)}"
            for w in outcome.measured["per_worker"]
        )
        click.echo(f"journeys started per locust worker (of scheduled): {shares}")
    click.echo("\nmeasured vs simulated\n" + format_rows(outcome.rows))
    click.echo("\nmessages the processor sent: live (fakes), model on the same arrivals, error, model mean")
    for kind, entry in outcome.messages.items():
        error = entry["error"]
        shown = "-" if error is None else f"{100 * error:+.1f} %"
        mean = entry["simulated"]["mean"] or 0
        click.echo(f"  {kind:<18} {entry['measured']:>7} {entry['same_seed']:>7} {shown:>8} {mean:>9.1f}")
    click.echo(f"\nreport: {out / 'report.html'}; verdict: {out / 'comparison.json'}")
    if check and not outcome.comparison["passed"]:
        for line in outcome.comparison["failures"]:
            click.echo(f"CHECK FAILED {line}", err=True)
        for line in outcome.comparison["unjudged"]:
            click.echo(f"CHECK NOT JUDGED {line}", err=True)
        raise SystemExit(CHECK_FAILED if outcome.comparison["failures"] else EXIT_UNJUDGED)
    if outcome.exit_code != 0:
        raise SystemExit(outcome.exit_code)
