"""``twittcom crm @handle``: one customer's timeline (inbound and outbound messages, debits)."""

from __future__ import annotations

import json

import click
from rich.console import Console

from reference.bootstrap import open_store
from reference.crm import export_timeline
from reference.domain.errors import TwittcomError
from twittcom.commands.demo import print_timeline
from twittcom.commands.helptext import examples
from twittcom.prechecks import SetupError, checked_dsn

__all__ = ["crm"]


@click.command(
    "crm",
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=examples(
        ("the timeline of @asha in the demo's store", "twittcom crm @asha --db demo.db"),
        ("the same as JSON (the export format)", "twittcom crm asha --db demo.db --json"),
        ("from PostgreSQL", "twittcom crm @asha --db postgresql://postgres@127.0.0.1:5432/test"),
    ),
)
@click.argument("handle")
@click.option("--db", required=True, help="SQLite file or postgresql:// DSN of the processor's store.")
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON (the export format).")
def crm(handle: str, db: str, as_json: bool) -> None:
    """Print the timeline of HANDLE (with or without @), oldest first.

    Exits 2 with a one-line message (no traceback) when the database does not exist or cannot be
    opened, 1 when nobody tweeted or DMed as HANDLE (in both output forms)."""
    db = checked_dsn(db, must_exist=True)
    try:
        store = open_store(db)
    except TwittcomError as exc:
        raise SetupError(str(exc)) from exc
    try:
        document = export_timeline(store, handle)
    finally:
        store.close()
    if not document["entries"]:
        raise click.ClickException(f"no timeline for @{handle.lstrip('@')} in {db}")
    if as_json:
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    print_timeline(Console(), handle.lstrip("@"), document["entries"])
