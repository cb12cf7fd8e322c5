"""``twittcom crm @handle``: one customer's timeline (inbound and outbound messages, debits)."""

from __future__ import annotations

import click
from rich.console import Console

from reference.bootstrap import open_store
from reference.crm import timeline_json
from twittcom.commands.demo import print_timeline

__all__ = ["crm"]


@click.command("crm")
@click.argument("handle")
@click.option("--db", required=True, help="SQLite file or postgresql:// DSN of the processor's store.")
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON (the export format).")
def crm(handle: str, db: str, as_json: bool) -> None:
    """Print the timeline of HANDLE (with or without @), oldest first."""
    store = open_store(db)
    try:
        if as_json:
            click.echo(timeline_json(store, handle))
            return
        entries = store.timeline(handle=handle)
    finally:
        store.close()
    if not entries:
        raise click.ClickException(f"no timeline for @{handle.lstrip('@')} in {db}")
    print_timeline(Console(), handle.lstrip("@"), entries)
