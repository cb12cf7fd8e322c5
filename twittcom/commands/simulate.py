"""``twittcom simulate``: run a scenario through the simpy model, or a plain M/M/c queue.

Two forms share the command name::

    twittcom simulate SCENARIO.toml [--set key=value ...] [--seed S] [--out DIR] [--json]
    twittcom simulate mmc --arrival-rate L --service-time H --servers C --customers N --seed S --json

The first word after ``simulate`` selects the form: ``mmc`` is the validation queue, anything
else is a scenario file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from twittcom.commands.helptext import examples

__all__ = ["simulate"]


class _ScenarioOrSubcommand(click.Group):
    """A group whose default subcommand (``run``) takes the scenario path as first argument.

    ``run`` is never typed: the help shows its options as the group's own and its usage line as
    ``twittcom simulate [OPTIONS] SCENARIO.toml``.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "[OPTIONS] SCENARIO.toml")
        formatter.write_usage(ctx.command_path, "mmc [OPTIONS]", prefix="       ")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        run = self.commands["run"]
        rows = [
            r for p in run.get_params(ctx) if isinstance(p, click.Option) and (r := p.get_help_record(ctx))
        ]
        with formatter.section("Options (simulate SCENARIO.toml)"):
            formatter.write_dl(rows)
        with formatter.section("Commands"):
            formatter.write_dl([("mmc", self.commands["mmc"].get_short_help_str())])


class _ScenarioRun(click.Command):
    """``simulate SCENARIO.toml``: its usage line names the form a person types, not ``run``."""

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        path = ctx.parent.command_path if ctx.parent is not None else "simulate"
        formatter.write_usage(path, " ".join(self.collect_usage_pieces(ctx)))


_EXAMPLES = examples(
    (
        "the outage storm's model: table, then report.html (a few seconds)",
        "twittcom simulate scenarios/outage-storm.toml",
    ),
    (
        "eight workers, another seed, a report folder",
        "twittcom simulate scenarios/outage-storm.toml --set workers=8 --seed 3 --out reports/sim8",
    ),
    (
        "M/M/c beside Erlang C",
        "twittcom simulate mmc --arrival-rate 0.2 --service-time 10 --servers 3 --customers 100000 --json",
    ),
)


def _seconds(value: float) -> str:
    """A duration with a unit that keeps its digits: ``4.94s``, ``12.0ms``, ``85us``."""
    if value >= 0.1 or value == 0:
        return f"{value:.2f}s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f}ms"
    return f"{value * 1e6:.0f}us"


@click.group(
    cls=_ScenarioOrSubcommand, context_settings={"help_option_names": ["-h", "--help"]}, epilog=_EXAMPLES
)
def simulate() -> None:
    """Run the discrete-event model of a scenario (SCENARIO.toml), or `simulate mmc` for M/M/c.

    The scenario form writes summary.json, CSVs, PNG plots and report.html (which opens with the
    verdict: the binding resource and its utilisation over the arrival window).
    """


def _summary_table(summary: dict[str, Any]) -> Any:
    from rich.table import Table

    table = Table(title=f"Simulated: {summary['scenario']} (seed {summary['seed']})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    j = summary["journeys"]
    rows = [
        (
            "journeys started / registered / activated",
            f"{j['started']} / {j['registered']} / {j['activated']}",
        ),
        ("abandoned registrations", f"{j['abandoned_total']}  {_nonzero(j['abandoned'])}"),
        ("codes still undelivered at the end", str(j["code_undelivered_at_end"])),
    ]
    for label, key in (
        ("code latency (s)", "code_latency_s"),
        ("  outside outage circles (s)", "code_latency_outside_outages_s"),
        ("registration latency (s)", "registration_latency_s"),
        ("activation latency, #act (s)", "activation_latency_s"),
        ("activation latency, DM (s)", "dm_activation_latency_s"),
    ):
        st = summary[key]
        value = "n/a" if st["count"] == 0 else "  ".join(f"{q} {_secs(st[q])}" for q in ("p50", "p95", "p99"))
        rows.append((label, value))
    stages = summary["code_latency_stages_s"]
    rows.append(
        (
            "code latency by stage (mean)",
            "  ".join(f"{k} {_seconds(v['mean'])}" for k, v in stages.items() if v["count"]),
        )
    )
    act = summary["activations"]
    rows.append(("activations/s mean / peak", f"{act['per_s_mean']:.1f} / {act['per_s_peak']:.1f}"))
    for name, f in summary["utilisation"].items():
        if "peak_offered" in f:
            rows.append(
                (
                    f"{name} ({f['capacity']}) busy / peak offered",
                    f"{f['mean']:.0%} / {f['peak_offered']:.0%} at {f['peak_from_s']:g}-{f['peak_to_s']:g} s",
                )
            )
        else:
            ran_out = "" if f["ran_out_at_s"] is None else f", ran out at {f['ran_out_at_s']:g} s"
            rows.append((f"{name} ({f['capacity']}) peak", f"{f['peak']:.0%} of the limit{ran_out}"))
    rows.append(("queues, highest interval average", _nonzero(summary["queues_max"]) or "all empty"))
    rows.append(
        ("replies posted / dropped", f"{summary['replies']['posted']} / {summary['replies']['dropped']}")
    )
    for name, budget in summary["budgets"].items():
        if budget["exhausted_at"]:
            rows.append(
                (f"{name} ran out", f"{len(budget['exhausted_at'])}x, first at {budget['exhausted_at'][0]} s")
            )
    rows.append(("wall time", f"{summary['wall_s']:.2f} s"))
    if any(summary[key]["censored"] for key in ("code_latency_s", "activation_latency_s")):
        rows.append((">end", "unbounded: still unfinished when the run ended"))
    for label, value in rows:
        table.add_row(label, value)
    return table


def _secs(value: float | None) -> str:
    return ">end" if value is None else f"{value:.2f}"


def _nonzero(counts: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in counts.items() if v)


@simulate.command("run", cls=_ScenarioRun, hidden=True, epilog=_EXAMPLES)
@click.argument("scenario_path", metavar="SCENARIO.toml", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a scenario value (repeatable; keys in scenarios/README.md).",
)
@click.option("--seed", type=int, default=None, help="Random seed (default: the scenario's run.seed).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Report directory (default: reports/simulate/<scenario name>).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary JSON (without time series).")
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots (faster).")
def run_command(
    scenario_path: Path,
    overrides: tuple[str, ...],
    seed: int | None,
    out_dir: Path | None,
    as_json: bool,
    no_plots: bool,
) -> None:
    """Simulate SCENARIO.toml and write summary.json, CSVs, PNG plots and report.html."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from scenario import ScenarioError, load_scenario
    from simulator.errors import SimulatorError
    from simulator.runner import run_scenario

    console = Console(stderr=as_json)
    try:
        scenario = load_scenario(scenario_path, overrides)
        target = out_dir or Path("reports") / "simulate" / scenario.name
        columns = (
            TextColumn("simulating {task.description}"),
            BarColumn(),
            TextColumn("{task.fields[now]}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            end = scenario.run.duration_s + scenario.run.drain_s
            task = progress.add_task(scenario.name, total=end, now="")

            def tick(now: float, total: float) -> None:
                progress.update(task, completed=now, now=f"{now:.0f}/{total:.0f} simulated s")

            outcome = run_scenario(scenario, seed, target, tick, plots=not no_plots)
    except (ScenarioError, SimulatorError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        slim = {k: v for k, v in outcome.summary.items() if k not in ("timeseries", "samples")}
        click.echo(json.dumps(slim, indent=2, sort_keys=True))
        return
    from simulator.verdict import simulate_verdict

    console.print(" ".join(simulate_verdict(outcome.summary)), highlight=False)
    console.print(_summary_table(outcome.summary))
    console.print(f"report: {target / 'report.html'}")


@simulate.command("mmc", epilog=_EXAMPLES)
@click.option(
    "--arrival-rate", type=click.FloatRange(min=0, min_open=True), required=True, help="lambda, per s."
)
@click.option("--service-time", type=click.FloatRange(min=0, min_open=True), required=True, help="Mean h, s.")
@click.option("--servers", type=click.IntRange(min=1), required=True, help="c, the number of servers.")
@click.option(
    "--customers",
    type=click.IntRange(min=100),
    default=100_000,
    show_default=True,
    help="Measured customers.",
)
@click.option("--warmup", type=click.IntRange(min=0), default=None, help="Unmeasured customers first [N/10].")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def mmc_command(
    arrival_rate: float,
    service_time: float,
    servers: int,
    customers: int,
    warmup: int | None,
    seed: int,
    as_json: bool,
) -> None:
    """A plain M/M/c queue; prints p_wait and mean_wait beside Erlang C."""
    from simulator.mmc import simulate_mmc

    if arrival_rate * service_time >= servers:
        raise click.BadParameter(
            f"offered load {arrival_rate * service_time:.3f} >= {servers} servers: the queue is unstable",
            param_hint="--arrival-rate/--service-time/--servers",
        )
    result = simulate_mmc(arrival_rate, service_time, servers, customers, seed, warmup)
    data = result.as_json()
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for key in (
        "p_wait",
        "analytic_p_wait",
        "mean_wait",
        "analytic_mean_wait",
        "utilization",
        "customers_per_s",
    ):
        click.echo(f"{key:20} {data[key]:.6g}")
