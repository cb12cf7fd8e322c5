"""``twittcom up``: fake X, fake SMS gateway and the processor on loopback, until Ctrl-C.

SQLite store, webhook registered (CRC checked) and mentions polled too, a faker population seeded
in the processor and at the fake SMS gateway, a few sample users created on fake X; prints the
URLs, the admin token, sample subscribers and handles, and curl lines to try.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from reference.domain.money import rupees
from twittcom.prechecks import check_ports_free, checked_dsn
from twittcom.qa.client import Endpoints, StackClient, XUser
from twittcom.stack import LoopbackStack, Stack, StackOptions

__all__ = ["up", "what_to_try"]


def what_to_try(endpoints: Endpoints, user: XUser, msisdn: str, pack: str) -> list[tuple[str, str]]:
    """(what, shell line) pairs a newcomer can paste, for one sample user and number."""
    x, sms, proc, token = endpoints.x, endpoints.sms, endpoints.processor, endpoints.admin_token
    op = endpoints.operator_handle
    auth = f"-H 'Authorization: Bearer {user.token}' -H 'content-type: application/json'"
    local = msisdn[-10:]

    def tweet(text: str) -> str:
        return f"curl -s {auth} -d '{json.dumps({'text': text})}' {x}/2/tweets"

    return [
        (f"1. @{user.username} tweets #reg", tweet(f"@{op} #reg {local[:5]} {local[5:]}")),
        ("2. read the code on the handset", f"curl -s '{sms}/_fake/handsets/{msisdn}/messages'"),
        ("3. tweet the code back (put it in)", tweet(f"@{op} #code 123456")),
        (f"4. buy a pack (#act #{pack})", tweet(f"@{op} #act #{pack}")),
        ("5. the operator's replies", f"curl -s '{x}/_fake/tweets?username={op}&limit=5'"),
        (
            "6. the customer timeline",
            f"curl -s -H 'Authorization: Bearer {token}' {proc}/admin/handles/{user.username}/timeline",
        ),
        ("7. the registration page", f"open {proc}/register  (handle + mobile -> code by SMS)"),
        ("8. metrics / readiness", f"curl -s {proc}/metrics ; curl -s {proc}/readyz"),
        (
            "9. the QA suite against this stack",
            f"twittcom scenarios --against x={x},sms={sms},processor={proc} --admin-token {token}",
        ),
    ]


async def _samples(stack: Stack, count: int) -> list[tuple[XUser, Any, str]]:
    """``count`` (X user, subscriber, pack hashtag) for active prepaid numbers with money and packs."""
    out: list[tuple[XUser, Any, str]] = []
    customers = {c.msisdn: c for c in stack.population.customers}
    async with StackClient(stack.endpoints) as client:
        for sub in stack.population.subscribers:
            if len(out) >= count:
                break
            if not (sub.active and sub.prepaid and sub.balance_paise >= 5_000):
                continue
            packs = (await client.admin("/admin/catalog", circle=sub.circle))["packs"]
            if not packs:
                continue
            user = await client.create_user(customers[sub.msisdn].handle)
            out.append((user, sub, min(packs, key=lambda p: p["price_paise"])["hashtag"]))
    return out


async def _serve(
    options: StackOptions, ports: tuple[int, int, int], samples: int, console: Console, smpp_port: int = 0
) -> None:
    from reference.runtime.config import redact_dsn

    async with LoopbackStack(options, ports=ports, smpp_port=smpp_port) as stack:
        endpoints = stack.endpoints
        chosen = await _samples(stack, samples)
        console.print("[bold]Twittcom stack on loopback[/bold] (Ctrl-C stops it)")
        console.print(f"  fake X        {endpoints.x}   (operator @{options.operator_handle})")
        console.print(f"  fake SMS      {endpoints.sms}   (carrier time x{options.sms_time_scale:g})")
        if stack.sms_app is not None and stack.sms_app.smpp is not None:
            smsc = f"smpp://127.0.0.1:{stack.sms_app.smpp.port}"
            console.print(f"  fake SMSC     {smsc}   (the processor sends over SMPP)")
        console.print(f"  processor     {endpoints.processor}   (store {redact_dsn(options.dsn)})")
        console.print(f"  admin token   {endpoints.admin_token}")
        console.print(
            f"  ingestion     {options.ingestion} (poll every {options.poll_interval_s:g} s), "
            f"X rate limits {options.x_rate_limits}, {len(stack.population.subscribers)} subscribers seeded"
        )
        table = Table(title="Sample subscribers and their X users")
        for column in ("handle", "X user token", "mobile", "circle", "balance", "a pack"):
            table.add_column(column, overflow="fold")
        for user, sub, pack in chosen:
            table.add_row(
                "@" + user.username, user.token, sub.msisdn, sub.circle, rupees(sub.balance_paise), pack
            )
        console.print(table)
        if chosen:
            user, sub, pack = chosen[0]
            console.print("[bold]What to try[/bold]")
            for what, line in what_to_try(endpoints, user, sub.msisdn, pack):
                console.print(f"  [cyan]{what}[/cyan]")
                console.print(f"    {line}", soft_wrap=True, highlight=False)
        await asyncio.Event().wait()


@click.command("up")
@click.option("--db", default=None, help="SQLite file or postgresql:// DSN (default: a fresh SQLite file).")
@click.option("--population", default=1000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--x-port", default=8081, show_default=True, type=click.IntRange(0, 65535), help="0: any free port."
)
@click.option("--sms-port", default=8082, show_default=True, type=click.IntRange(0, 65535))
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="The processor.")
@click.option(
    "--ingestion", default="both", show_default=True, type=click.Choice(["webhook", "poll", "both"])
)
@click.option("--poll-interval", default=5.0, show_default=True, type=click.FloatRange(0.1, 3600))
@click.option(
    "--sms-time-scale",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.01, 100_000),
    help="Carrier seconds per wall second at the fake SMS gateway.",
)
@click.option("--x-rate-limits", default="real", show_default=True, type=click.Choice(["real", "off"]))
@click.option("--admin-token", default="", help="Default: a random token (printed).")
@click.option("--samples", default=3, show_default=True, type=click.IntRange(0, 50))
@click.option(
    "--sms", "sms_protocol", default="twilio", show_default=True, type=click.Choice(["twilio", "smpp"]),
    help="How the processor sends SMS: Twilio's REST API, or SMPP 3.4 to fake SMS's SMSC.",
)
@click.option("--smpp-port", default=2775, show_default=True, type=click.IntRange(0, 65535),
              help="The fake SMSC's port (with --sms smpp).")  # fmt: skip
def up(
    db: str | None,
    population: int,
    seed: int,
    x_port: int,
    sms_port: int,
    port: int,
    ingestion: str,
    poll_interval: float,
    sms_time_scale: float,
    x_rate_limits: str,
    admin_token: str,
    samples: int,
    sms_protocol: str,
    smpp_port: int,
) -> None:
    """Serve fake X, fake SMS and the processor on 127.0.0.1 until Ctrl-C."""
    console = Console()
    ports = {"--x-port": x_port, "--sms-port": sms_port, "--port": port}
    if sms_protocol == "smpp":
        ports["--smpp-port"] = smpp_port
    check_ports_free(ports)
    if db is None:
        db = str(Path(tempfile.mkdtemp(prefix="twittcom-up-")) / "twittcom.db")
    else:
        db = checked_dsn(db)
    options = StackOptions(
        dsn=db,
        seed=seed,
        population=population,
        sms_time_scale=sms_time_scale,
        x_rate_limits=x_rate_limits,
        ingestion=ingestion,  # type: ignore[arg-type]
        poll_interval_s=poll_interval,
        admin_token=admin_token,
        sms_protocol=sms_protocol,  # type: ignore[arg-type]
    )
    try:
        asyncio.run(_serve(options, (x_port, sms_port, port), samples, console, smpp_port))
    except OSError as exc:
        raise click.ClickException(f"cannot start the stack: {exc}") from exc
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            console.print("stopped")
