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

from reference.domain.money import rupees
from twittcom.commands.helptext import examples
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


def up_document(options: StackOptions, stack: Stack, chosen: list[tuple[XUser, Any, str]]) -> dict[str, Any]:
    """What a script needs of a running ``twittcom up``: URLs, tokens, the store and the samples."""
    from reference.runtime.config import redact_dsn

    endpoints = stack.endpoints
    return {
        "x": endpoints.x,
        "sms": endpoints.sms,
        "processor": endpoints.processor,
        "against": f"x={endpoints.x},sms={endpoints.sms},processor={endpoints.processor}",
        "admin_token": endpoints.admin_token,
        "operator": options.operator_handle,
        "store": redact_dsn(options.dsn),
        "store_kept": not options.dsn.startswith("memory:"),
        "smsc": (f"smpp://127.0.0.1:{stack.sms_app.smpp.port}"
                 if stack.sms_app is not None and stack.sms_app.smpp is not None else None),
        "users": len(stack.population.customers),
        "subscribers_seeded": len(stack.population.subscribers),
        "samples": [
            {"handle": user.username, "x_token": user.token, "msisdn": sub.msisdn, "circle": sub.circle,
             "balance_paise": sub.balance_paise, "pack": pack}
            for user, sub, pack in chosen
        ],
    }  # fmt: skip


def _print_human(
    options: StackOptions, doc: dict[str, Any], stack: Stack, chosen: list[tuple[XUser, Any, str]],
    console: Console,
) -> None:  # fmt: skip
    endpoints = stack.endpoints
    kept = "kept after Ctrl-C" if doc["store_kept"] else "in memory, gone at Ctrl-C"
    console.print("[bold]Twittcom stack on loopback[/bold] (Ctrl-C stops it)")
    console.print(f"  fake X        {endpoints.x}   (operator @{options.operator_handle})")
    console.print(f"  fake SMS      {endpoints.sms}   (carrier time x{options.sms_time_scale:g})")
    if doc["smsc"]:
        console.print(f"  fake SMSC     {doc['smsc']}   (the processor sends over SMPP)")
    console.print(f"  processor     {endpoints.processor}")
    console.print(f"  store         {doc['store']}   ({kept})", soft_wrap=True, highlight=False)
    console.print(f"  admin token   {endpoints.admin_token}")
    console.print(
        f"  ingestion     {options.ingestion} (poll every {options.poll_interval_s:g} s), "
        f"X rate limits {options.x_rate_limits}"
    )
    console.print(
        f"  population    {doc['users']} X users: {doc['subscribers_seeded']} subscribers seeded (on the "
        f"network), {doc['users'] - doc['subscribers_seeded']} off it"
    )
    if doc["samples"]:
        # one line each, the token last: an 80-column terminal folds nothing but the token
        console.print(
            "[bold]Sample subscribers[/bold] (handle, mobile, circle, balance, a pack; X user token)"
        )
        for sample in doc["samples"]:
            console.print(
                f"  @{sample['handle']:<15} {sample['msisdn']}  {sample['circle']:<3} "
                f"{rupees(sample['balance_paise']):>10}  {sample['pack']}",
                highlight=False,
            )
            console.print(f"    token {sample['x_token']}", soft_wrap=True, highlight=False)
    if chosen:
        user, sub, pack = chosen[0]
        console.print("[bold]What to try[/bold]")
        for what, line in what_to_try(endpoints, user, sub.msisdn, pack):
            console.print(f"  [cyan]{what}[/cyan]")
            console.print(f"    {line}", soft_wrap=True, highlight=False)


async def _serve(
    options: StackOptions, ports: tuple[int, int, int], samples: int, as_json: bool, console: Console,
    smpp_port: int = 0,
) -> None:  # fmt: skip
    async with LoopbackStack(options, ports=ports, smpp_port=smpp_port) as stack:
        chosen = await _samples(stack, samples)
        doc = up_document(options, stack, chosen)
        if as_json:
            print(json.dumps(doc), flush=True)  # one line, written once the stack answers
        else:
            _print_human(options, doc, stack, chosen, console)
        await asyncio.Event().wait()


@click.command(
    "up",
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=examples(
        ("the stack on ports 8080-8082 until Ctrl-C, with the curl lines to try", "twittcom up"),
        (
            "in the background for a script: URLs, tokens and the store as JSON once it is ready",
            "twittcom up --admin-token demo-token --json > up.json &",
        ),
        (
            "on PostgreSQL, any free ports",
            "twittcom up --db postgresql://postgres@127.0.0.1:5432/test --port 0 --x-port 0 --sms-port 0",
        ),
    ),
)
@click.option(
    "--db",
    default=None,
    help="SQLite file or postgresql:// DSN; kept after Ctrl-C (default: a fresh SQLite file in a temp dir).",
)
@click.option(
    "--population",
    default=1000,
    show_default=True,
    type=click.IntRange(1, 1_000_000),
    help="Faker mobile numbers seeded at the processor and the SMS gateway (some inactive or postpaid).",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Same seed, same population and tokens.")
@click.option(
    "--x-port",
    default=8081,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Fake X (0: any free port).",
)
@click.option(
    "--sms-port",
    default=8082,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Fake SMS gateway (0: any free port).",
)
@click.option(
    "--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="The processor (0: any)."
)
@click.option(
    "--ingestion",
    default="both",
    show_default=True,
    type=click.Choice(["webhook", "poll", "both"]),
    help="How the processor hears of tweets and DMs: X's webhook, polling, or both.",
)
@click.option(
    "--poll-interval",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0.1, 3600),
    help="Seconds between polling rounds (with --ingestion poll or both).",
)
@click.option(
    "--sms-time-scale",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.01, 100_000),
    help="Carrier seconds per wall second at the fake SMS gateway.",
)
@click.option(
    "--x-rate-limits",
    default="real",
    show_default=True,
    type=click.Choice(["real", "off"]),
    help="Fake X enforces X's documented rate limits (real) or none (off).",
)
@click.option(
    "--admin-token",
    default="",
    help="Bearer token of the processor's /admin/ API (default: random, printed).",
)
@click.option(
    "--samples",
    default=3,
    show_default=True,
    type=click.IntRange(0, 50),
    help="Sample subscribers given an X user (handle and token) to try by hand.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON line (URLs, tokens, store, samples) when ready."
)
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
    as_json: bool,
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
        asyncio.run(_serve(options, (x_port, sms_port, port), samples, as_json, console, smpp_port))
    except OSError as exc:
        raise click.ClickException(f"cannot start the stack: {exc}") from exc
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            console.print("stopped")
