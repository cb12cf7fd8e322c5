"""``twittcom plan``: search a configuration grid for the cheapest one meeting every SLO.

::

    twittcom plan scenarios/outage-storm.toml --slo "code_p99<30s" --slo "activation_p99<5s" \\
        --vary workers=1..32 --vary sms_mps=1,10,100 --replications 5
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

from simulator.slo import slo_help
from twittcom.commands.helptext import examples
from twittcom.prechecks import EXIT_FAILED, SetupError

__all__ = ["plan"]

_MARKS = {"meets": " ✓", "fails": " ✗", "undecided": " ?"}


def _fmt(mean: float, half: float) -> str:
    if math.isnan(mean):
        return "n/a"
    return f"{mean:.3g} ± {half:.2g}" if math.isfinite(half) else f"{mean:.3g}"


@click.command(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=examples(
        (
            "the fewest workers keeping code p99 under 30 s",
            'twittcom plan scenarios/outage-storm.toml --slo "code_p99<30s" --vary workers=1..32',
        ),
        (
            "two SLOs over workers and the SMS sender's rate",
            'twittcom plan scenarios/launch.toml --slo "code_p95<15s" --slo "P(code_wait > 25s) <= '
            '10%" --vary workers=1,2,4,8 --vary sms_mps=10,30,100',
        ),
        (
            "machine-readable, a fixed report folder",
            'twittcom plan scenarios/outage-storm.toml --slo "activation_p99<5s" --vary workers=2,4,8 '
            "--json --out reports/plan/mine",
        ),
    ),
)
@click.argument("scenario_path", metavar="SCENARIO.toml", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--slo",
    "slo_texts",
    multiple=True,
    required=True,
    metavar="METRIC<VALUE",
    help='Objective, e.g. "code_p99<30s", "code_p80<20s", "code_wait_p90<5s", "abandoned_share<5%", '
    '"P(code_wait > 25s) <= 10%". Valid: ' + slo_help() + ".",
)
@click.option(
    "--vary",
    "vary_texts",
    multiple=True,
    required=True,
    metavar="KEY=VALUES",
    help="Grid axis: workers=1..32, sms_mps=1,10,100, or any scenario key.",
)
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a scenario value.")
@click.option(
    "--replications",
    type=click.IntRange(min=2),
    default=5,
    show_default=True,
    help="Replications to start with.",
)
@click.option(
    "--max-replications",
    type=click.IntRange(min=2),
    default=40,
    show_default=True,
    help="Undecided configurations get more replications (doubling) up to this many.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="First seed; replication k uses seed+k.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Processes [all cores].")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output directory [reports/plan/<scenario>].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan(
    scenario_path: Path,
    slo_texts: tuple[str, ...],
    vary_texts: tuple[str, ...],
    overrides: tuple[str, ...],
    replications: int,
    max_replications: int,
    seed: int,
    jobs: int | None,
    out_dir: Path | None,
    as_json: bool,
) -> None:
    """Run the grid with replications and report the cheapest configuration meeting every SLO.

    Each configuration meets (✓), fails (✗) or is undecided (?) on each SLO: met when the whole
    95 % confidence interval of the metric's mean is on the right side of the threshold, failed when
    it is wholly on the wrong side, undecided when it straddles it. Undecided configurations that
    could be the answer get more replications (doubling, up to --max-replications). Cost comes
    from the scenario's [cost] table. Exit codes: 0 a configuration is proven to meet every SLO
    (the cheapest is named; cheaper ones still undecided are listed); 1 none is proven (failed or
    undecided); 2 a bad SLO, --vary or --set.
    """
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from scenario import ScenarioError
    from simulator.errors import SimulatorError
    from simulator.plan import parse_slo, parse_vary, plan_grid
    from simulator.plan_report import plan_as_json, short_name, write_plan_outputs

    console = Console(stderr=as_json)
    try:
        slos = [parse_slo(t) for t in slo_texts]
        vary = [parse_vary(t) for t in vary_texts]
        total = math.prod(len(v) for _, v in vary)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"{total} configurations x {replications} runs", total=total)
            result = plan_grid(
                scenario_path,
                vary,
                slos,
                replications,
                seed,
                overrides,
                jobs,
                lambda done, _: progress.update(task, completed=done),
                max_replications,
            )
    except (ScenarioError, SimulatorError) as exc:
        raise SetupError(str(exc)) from exc
    target = out_dir or Path("reports") / "plan" / scenario_path.stem
    files = write_plan_outputs(result, target, f"Twittcom plan: {scenario_path.name}")
    if as_json:
        click.echo(json.dumps(plan_as_json(result), indent=2))
    else:
        table = Table(title=f"plan: {scenario_path.name}, mean ± 95 % CI; ✓ meets ✗ fails ? undecided")
        keys = list(result.configs[0].settings)
        for key in keys:
            table.add_column(short_name(key), justify="right")
        table.add_column("cost", justify="right")
        table.add_column("runs", justify="right")
        for slo in slos:
            table.add_column(slo.text, justify="right")
        rank = {"meets": 0, "undecided": 1, "fails": 2}
        ordered = sorted(result.configs, key=lambda c: (rank[c.state], c.cost))
        shown = ordered[:25]
        for c in shown:
            cells = [_fmt(*c.metrics[s.metric]) + _MARKS[c.slo_state[s.text]] for s in slos]
            style = "bold green" if c is result.best else "yellow" if c.state == "undecided" else None
            row = (*(str(v) for v in c.settings.values()), f"{c.cost:g}", str(c.replications), *cells)
            table.add_row(*row, style=style)
        console.print(table)
        if len(ordered) > len(shown):
            console.print(f"({len(ordered) - len(shown)} more configurations in {files[1]})")
        console.print(f"plot: {files[2]}; report: {files[3]}")
        from simulator.plan_html import plan_verdict

        console.print(" ".join(plan_verdict(result)), highlight=False)
    for c in result.undecided:
        settings = ", ".join(f"{short_name(k)}={v}" for k, v in c.settings.items())
        console.print(
            f"[yellow]undecided after {c.replications} replications: {settings} (cost {c.cost:g}); its "
            "interval straddles an SLO or its metric was unbounded in some runs only "
            "(raise --max-replications to try to decide it)[/yellow]"
        )
    if result.best is None:
        why = "some are undecided" if result.undecided else "every one fails an SLO"
        console.print(f"[red]no configuration is proven to meet every SLO: {why}[/red]")
        raise SystemExit(EXIT_FAILED)
    if not as_json:
        settings = ", ".join(f"{short_name(k)}={v}" for k, v in result.best.settings.items())
        console.print(
            f"[bold]cheapest configuration meeting every SLO: {settings} (cost {result.best.cost:g})"
        )
