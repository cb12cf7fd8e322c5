"""``twittcom demo``: run a faker population through the processor and print what happened."""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from reference.bootstrap import open_store, tune_gc_for_throughput
from reference.demo import DemoReport, run_demo
from reference.domain.errors import TwittcomError
from reference.domain.money import rupees
from reference.domain.outcomes import Outcome
from reference.storage.dsn import parse_dsn
from twittcom.prechecks import SetupError, checked_dsn

__all__ = ["demo", "print_timeline"]


def print_timeline(console: Console, handle: str, entries: list[dict[str, object]]) -> None:
    """A customer's timeline as a rich table."""
    table = Table(title=f"Timeline of @{handle}", show_lines=False)
    for column in ("time (UTC)", "what", "text", "amount"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        amount = entry.get("amount_paise")
        table.add_row(
            datetime.fromisoformat(str(entry["at"])).strftime("%H:%M:%S.%f")[:-3],
            str(entry["kind"]),
            str(entry["text"]),
            rupees(int(amount)) if isinstance(amount, int) else "",  # type: ignore[call-overload]
        )
    console.print(table)


def _report(console: Console, report: DemoReport, db: str) -> None:
    table = Table(title=f"Outcomes for {report.users} users")
    table.add_column("phase")
    table.add_column("outcome")
    table.add_column("count", justify="right")
    for phase, counts in report.phases.items():
        for outcome, count in counts.most_common():
            table.add_row(phase, outcome.value, str(count))
    console.print(table)
    seconds = report.purchase_seconds
    activated = report.phases.get("purchase", Counter()).get(Outcome.ACTIVATED, 0)
    kind = parse_dsn(db, strict=False).kind
    engine = {"postgresql": "PostgreSQL", "memory": "in memory"}.get(kind, "SQLite")
    console.print(
        f"Purchase phase: {report.purchase_messages} purchase messages (duplicates, unknown packs and "
        f"low balances included) in {seconds:.3f} s = [bold]{report.purchases_per_second:,.0f} "
        f"messages/s[/bold], of which {activated / seconds if seconds else 0:,.0f} purchases/s activated "
        f"(group commits of 200, {engine}; a small warm-up sample, the sustained rate is "
        "benchmarks/test_core_purchases.py)"
    )
    if report.featured_handle:
        print_timeline(console, report.featured_handle, report.timeline)
        console.print(f"Database: {db}  (try: twittcom crm @{report.featured_handle} --db {db})")


@click.command("demo")
@click.option("--users", default=500, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--seed", default=0, show_default=True, type=int, help="Same seed, same outcomes.")
@click.option(
    "--db",
    default=None,
    help="SQLite file (kept) or postgresql:// DSN; default: a fresh SQLite file in a temp dir.",
)
def demo(users: int, seed: int, db: str | None) -> None:
    """Run USERS faker subscribers through registration, codes and purchases; print the results."""
    console = Console()
    if db is None:
        db = str(Path(tempfile.mkdtemp(prefix="twittcom-demo-")) / "twittcom.db")
    else:
        db = checked_dsn(db)
    try:
        store = open_store(db)
    except TwittcomError as exc:
        raise SetupError(str(exc)) from exc
    tune_gc_for_throughput()
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description:<18}"),
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

        report = run_demo(store, users=users, seed=seed, progress=progress)
    _report(console, report, db)
    store.close()
