"""``twittcom demo``: N faker subscribers through the whole live stack in this process, then the figures.

Registration by tweet, web page and DM (some mistype the code), purchases (some short of balance,
some in the wrong circle), a live progress bar, then: code latency p50/p95/p99 from the ``#reg``
tweet to the code on the handset with the carrier's delay apart from the processor's own,
activations per second and their latency, counts per outcome and one customer's timeline.
``twittcom demo --core`` runs the earlier core-only demo (no HTTP) instead.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from twittcom.commands.demo import demo as core_demo
from twittcom.commands.demo import print_timeline
from twittcom.commands.helptext import examples
from twittcom.prechecks import checked_dsn
from twittcom.qa.client import StackNotReady
from twittcom.stack_demo import StackDemoReport, percentile, run_stack_demo

__all__ = ["print_stack_report", "stack_demo"]


def _row(name: str, values: list[float], unit: str, scale: float = 1.0, digits: int = 1) -> list[str]:
    return [name] + [f"{percentile(values, q) * scale:,.{digits}f} {unit}" for q in (0.5, 0.95, 0.99)]


def print_stack_report(console: Console, report: StackDemoReport) -> None:
    """The figures of a full-stack demo run."""
    channels = ", ".join(f"{n} by {c}" for c, n in sorted(report.channels.items()))
    console.print(f"[bold]{report.users} subscribers[/bold] in {report.seconds:.1f} s ({channels})")
    table = Table(
        title=f"Code latency: #reg tweet -> code on the handset ({len(report.total_s)} codes by tweet)"
    )
    for column in ("", "p50", "p95", "p99"):
        table.add_column(column, justify="right" if column else "left")
    table.add_row(*_row("processor's own share (wall, incl. X's webhook hop)", report.processor_ms, "ms"))
    table.add_row(*_row("carrier delay (carrier time)", report.carrier_s, "s"))
    table.add_row(*_row("total as the user sees it", report.total_s, "s", digits=2))
    console.print(table)
    console.print(
        f"The fake SMS gateway's clock runs x{report.sms_time_scale:g}: a carrier second passes in "
        f"{1000 / report.sms_time_scale:.1f} ms of wall time, so carrier delays are shown in carrier seconds "
        f"(what a real network would take) and the processor's share in wall milliseconds."
        + (f" #reg arrivals paced at {report.arrival_rate:g}/s." if report.arrival_rate else "")
        + (
            f" {report.codes_undelivered} code SMS were not delivered (carrier failures)."
            if report.codes_undelivered
            else ""
        )
    )
    latency = ", ".join(
        f"p{q * 100:.0f} {percentile(report.activation_ms, q):,.0f} ms" for q in (0.5, 0.95, 0.99)
    )
    console.print(
        f"Activations: [bold]{report.activations}[/bold] in {report.activation_window_s:.2f} s = "
        f"[bold]{report.activations_per_second:,.0f} activations/s[/bold] "
        f"(purchases/s through the live stack; all purchase tweets sent at once); "
        f"#act tweet -> confirmation SMS accepted {latency}"
    )
    if report.replies_skipped_budget:
        console.print(
            f"{report.replies_skipped_budget} reply tweets skipped for the X write budget (SMS alone)"
        )
    outcomes = Table(title="Outcomes (processor metrics)")
    outcomes.add_column("outcome")
    outcomes.add_column("count", justify="right")
    for name, count in sorted(report.outcomes.items(), key=lambda kv: -kv[1]):
        outcomes.add_row(name, str(count))
    console.print(outcomes)
    if report.featured_handle:
        print_timeline(console, report.featured_handle, report.timeline)


@click.command(
    "demo",
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=examples(
        ("500 subscribers through the live stack in-process (about 15 s)", "twittcom demo"),
        (
            "a smaller, reproducible run kept in a file for `twittcom crm`",
            "twittcom demo --users 100 --seed 7 --db demo.db",
        ),
        ("the processor's core alone, no HTTP", "twittcom demo --core"),
    ),
)
@click.option(
    "--users",
    default=500,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Faker subscribers taken through registration and purchases.",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Same seed, same journeys.")
@click.option("--db", default=None, help="SQLite file or postgresql:// DSN (default: a fresh SQLite file).")
@click.option(
    "--rate",
    default=100.0,
    show_default=True,
    type=click.FloatRange(0, 100_000),
    help="#reg arrivals per second (0: all at once).",
)
@click.option(
    "--sms-time-scale",
    default=600.0,
    show_default=True,
    type=click.FloatRange(1, 100_000),
    help="Carrier seconds per wall second at the fake SMS gateway.",
)
@click.option(
    "--x-limits",
    default="off",
    show_default=True,
    type=click.Choice(["off", "real"]),
    help="X rate limits and the processor's write budget (real: most replies go by SMS alone).",
)
@click.option("--core", is_flag=True, help="Run the core-only demo (no HTTP; the processor in-process).")
@click.pass_context
def stack_demo(
    ctx: click.Context,
    users: int,
    seed: int,
    db: str | None,
    rate: float,
    sms_time_scale: float,
    x_limits: str,
    core: bool,
) -> None:
    """Run USERS faker subscribers through the whole stack (fake X, fake SMS, processor) in-process."""
    if core:
        ctx.invoke(core_demo, users=users, seed=seed, db=db)
        return
    console = Console()
    if db is None:
        db = str(Path(tempfile.mkdtemp(prefix="twittcom-demo-")) / "twittcom.db")
    else:
        db = checked_dsn(db)
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:

        def progress(phase: str, total: int, done: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done)

        try:
            report = asyncio.run(
                run_stack_demo(
                    users,
                    seed=seed,
                    dsn=db,
                    sms_time_scale=sms_time_scale,
                    x_limits="real" if x_limits == "real" else "off",
                    arrival_rate=rate or None,
                    progress=progress,
                )
            )
        except (StackNotReady, OSError) as exc:
            raise click.ClickException(f"the demo stack failed: {exc}") from exc
    print_stack_report(console, report)
    console.print(f"Database: {db}  (try: twittcom crm @{report.featured_handle} --db {db})")
