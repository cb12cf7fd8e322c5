"""``twittcom outbox list|requeue``: the outbox rows that did not go, through a running service's admin API.

``list`` prints failed and expired rows (or any statuses given) without their texts; ``requeue``
puts failed/expired rows back to pending (by id, or all rows of the given statuses), re-dated so
their validity counts from now. Code SMS are never requeued (their code is void; the customer
asks for a new one). The service's URL and admin token come from options or from
``TWITTCOM_PUBLIC_BASE_URL`` / ``TWITTCOM_ADMIN_TOKEN``.
"""

from __future__ import annotations

import json
from typing import Any

import click
import httpx

from twittcom.commands.helptext import examples

__all__ = ["outbox"]

_STATUSES = ("pending", "sent", "failed", "skipped_budget", "expired")


def _client(url: str, token: str) -> httpx.Client:
    if not token:
        raise click.ClickException("an admin token is required: --admin-token or TWITTCOM_ADMIN_TOKEN")
    return httpx.Client(base_url=url.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _answer(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400:
        detail = body.get("detail") if isinstance(body, dict) else response.text[:200]
        raise click.ClickException(f"the service answered {response.status_code}: {detail}")
    return body


def _request(url: str, token: str, method: str, path: str, **kwargs: Any) -> Any:
    try:
        with _client(url, token) as client:
            return _answer(client.request(method, path, **kwargs))
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach the service at {url}: {exc}") from exc


_url = click.option("--url", envvar="TWITTCOM_PUBLIC_BASE_URL", show_envvar=True, default="http://127.0.0.1:8080",
                    show_default=True, help="The service's base URL.")  # fmt: skip
_token = click.option("--admin-token", envvar="TWITTCOM_ADMIN_TOKEN", show_envvar=True, default="",
                      show_default=False, help="The service's admin bearer token (required).")  # fmt: skip
_LIST_EXAMPLES = examples(
    (
        "failed and expired rows of the service on 127.0.0.1:8080",
        "twittcom outbox list --admin-token demo-token",
    ),
    (
        "the last 20 failed rows as JSON",
        "twittcom outbox list --status failed --limit 20 --json --admin-token demo-token",
    ),
)
_REQUEUE_EXAMPLES = examples(
    ("send rows 12 and 15 again", "twittcom outbox requeue 12 15 --admin-token demo-token"),
    ("every expired row again", "twittcom outbox requeue --status expired --admin-token demo-token"),
)
_status = click.option("--status", "statuses", multiple=True, type=click.Choice(_STATUSES),
                       help="Rows of this status (repeatable; default: failed and expired).")  # fmt: skip


@click.group(
    "outbox",
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=_LIST_EXAMPLES + "\n" + _REQUEUE_EXAMPLES[len("\b\nExamples:\n") :],
)
def outbox() -> None:
    """List and requeue outbox rows that were not sent (failed, expired)."""


@outbox.command("list", epilog=_LIST_EXAMPLES)
@_url
@_token
@_status
@click.option(
    "--limit", default=100, show_default=True, type=click.IntRange(1, 1000), help="At most this many rows."
)
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
def list_rows(url: str, admin_token: str, statuses: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Print outbox rows, newest first (no message texts)."""
    wanted = ",".join(statuses or ("failed", "expired"))
    body = _request(url, admin_token, "GET", "/admin/outbox", params={"status": wanted, "limit": str(limit)})
    rows = body.get("rows", []) if isinstance(body, dict) else []
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"no {wanted.replace(',', ' or ')} rows")
        return
    for row in rows:
        error = row.get("last_error") or ""
        click.echo(f"{row['id']:>8}  {row['status']:<14} {row['kind']:<5} @{row['handle']:<16} "
                   f"attempts {row['attempts']:<3} {row['created_at']}  {error}")  # fmt: skip


@outbox.command("requeue", epilog=_REQUEUE_EXAMPLES)
@_url
@_token
@_status
@click.argument("ids", nargs=-1, type=int)
def requeue(url: str, admin_token: str, statuses: tuple[str, ...], ids: tuple[int, ...]) -> None:
    """Put rows IDS (or every row of --status failed/expired) back to pending."""
    if ids and statuses:
        raise click.UsageError("give row ids or --status, not both")
    if not ids and not statuses:
        raise click.UsageError("give row ids, or --status failed / --status expired")
    if any(s not in ("failed", "expired") for s in statuses):
        raise click.UsageError("only failed and expired rows can be requeued")
    payload: dict[str, Any] = {"ids": list(ids)} if ids else {"status": list(statuses)}
    body = _request(url, admin_token, "POST", "/admin/outbox/requeue", json=payload)
    click.echo(f"requeued {body.get('requeued', 0)} of {body.get('asked', 0)} rows")
