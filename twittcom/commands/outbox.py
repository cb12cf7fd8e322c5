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


_url = click.option("--url", envvar="TWITTCOM_PUBLIC_BASE_URL", default="http://127.0.0.1:8080",
                    show_default=True, help="The service's base URL.")  # fmt: skip
_token = click.option("--admin-token", envvar="TWITTCOM_ADMIN_TOKEN", default="", show_default=False,
                      help="The service's admin bearer token.")  # fmt: skip
_status = click.option("--status", "statuses", multiple=True, type=click.Choice(_STATUSES),
                       help="Rows of this status (repeatable; default: failed and expired).")  # fmt: skip


@click.group("outbox")
def outbox() -> None:
    """List and requeue outbox rows that were not sent (failed, expired)."""


@outbox.command("list")
@_url
@_token
@_status
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
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


@outbox.command("requeue")
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
