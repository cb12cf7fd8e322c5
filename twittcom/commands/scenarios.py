"""``twittcom scenarios``: the QA suite of end-to-end stories, against a live stack.

Without ``--against`` it starts its own stack on loopback (SQLite in a temp dir, webhook and
mentions polling both on, X's real rate limits, the processor's X write budget on; ``--in-process``:
the same stack over ``httpx.ASGITransport``) and stops it afterwards. With
``--against x=URL,sms=URL,processor=URL --admin-token TOKEN`` it runs against a stack started
elsewhere (``twittcom up`` prints that line) and leaves it as it found it: the fake carrier's
failure rates and fake X's fault rules are restored; fake X's clock, which the stories move forward
(about 16 minutes per expiry story) and which only moves forward, is reported ("left changed: ...").
Exit code 1 when any scenario fails, 2 when the stack cannot play them (nothing run).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from twittcom.prechecks import SetupError
from twittcom.qa.client import Endpoints, StackNotReady
from twittcom.qa.scenario import Result, Scenario
from twittcom.qa.suite import run_suite, select

__all__ = ["parse_against", "scenarios"]

#: ingestion and polling of the self-started stack (both paths, so a mention is seen twice)
SELF_STARTED_POLL_S = 1.0


def parse_against(value: str, admin_token: str, operator: str) -> Endpoints:
    """``x=URL,sms=URL,processor=URL`` -> :class:`Endpoints`."""
    parts: dict[str, str] = {}
    for item in value.split(","):
        name, sep, url = item.strip().partition("=")
        if not sep or name not in ("x", "sms", "processor") or not url.startswith(("http://", "https://")):
            raise click.BadParameter("expected x=URL,sms=URL,processor=URL", param_hint="--against")
        parts[name] = url.rstrip("/")
    missing = {"x", "sms", "processor"} - parts.keys()
    if missing:
        raise click.BadParameter(f"missing {', '.join(sorted(missing))}", param_hint="--against")
    if not admin_token:
        raise click.BadParameter("the processor's admin token is required", param_hint="--admin-token")
    return Endpoints(parts["x"], parts["sms"], parts["processor"], admin_token, operator)


def _print_result(console: Console, result: Result) -> None:
    if result.skipped:
        mark = "[yellow]SKIP[/yellow]"
    else:
        mark = "[green]PASS[/green]" if result.passed else "[red]FAIL[/red]"
    why = (
        ""
        if result.passed and not result.skipped
        else result.error.splitlines()[0][:160]
        if result.error
        else ""
    )
    console.print(f"{mark} {result.name:<40} {result.seconds:6.2f} s  {why}", highlight=False, soft_wrap=True)


async def _self_started(
    chosen: list[Scenario],
    junit: Path | None,
    seed: int | None,
    console: Console,
    in_process: bool,
    sms_protocol: str = "twilio",
) -> list[Result]:
    from twittcom.stack import InProcessStack, LoopbackStack, StackOptions

    folder = Path(tempfile.mkdtemp(prefix="twittcom-scenarios-"))
    options = StackOptions(
        dsn=str(folder / "twittcom.db"),
        population=50,
        ingestion="both",
        poll_interval_s=SELF_STARTED_POLL_S,
        sms_protocol=sms_protocol,  # type: ignore[arg-type]
    )
    stack = InProcessStack(options) if in_process else LoopbackStack(options)
    async with stack:
        urls = stack.endpoints
        smsc = f" (over SMPP: {stack.smpp_url().split('@')[-1]})" if sms_protocol == "smpp" else ""
        console.print(f"stack {stack.mode}: X {urls.x}, SMS {urls.sms}{smsc}, processor {urls.processor}")
        return await run_suite(
            urls, chosen, junit=junit, seed=seed, on_result=lambda r: _print_result(console, r)
        )


@click.command("scenarios")
@click.option(
    "--against",
    default=None,
    metavar="x=URL,sms=URL,processor=URL",
    help="A running stack (else one is started).",
)
@click.option(
    "--admin-token",
    default=lambda: os.environ.get("TWITTCOM_ADMIN_TOKEN", ""),
    help="The processor's admin token (env TWITTCOM_ADMIN_TOKEN).",
)
@click.option("--operator", default="tatadocomo", show_default=True, help="The operator's X handle.")
@click.option(
    "--junit", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write JUnit XML here."
)
@click.option("-k", "keyword", default=None, help="Only scenarios whose name contains this.")
@click.option("--list", "list_only", is_flag=True, help="List the scenarios and their stories, run nothing.")
@click.option("--seed", default=None, type=int, help="Seed of the fixture numbers and handles.")
@click.option("--in-process", is_flag=True, help="Self-start the stack in-process (ASGI, no sockets).")
@click.option(
    "--sms", "sms_protocol", default="twilio", show_default=True, type=click.Choice(["twilio", "smpp"]),
    help="Self-started stack: the processor sends SMS over Twilio's API or over SMPP to fake SMS's SMSC.",
)
def scenarios(
    against: str | None,
    admin_token: str,
    operator: str,
    junit: Path | None,
    keyword: str | None,
    list_only: bool,
    seed: int | None,
    in_process: bool,
    sms_protocol: str,
) -> None:
    """Run the QA suite of end-to-end stories (each scenario's docstring is its story)."""
    console = Console()
    chosen = select(keyword=keyword)
    if not chosen:
        raise click.UsageError(f"no scenario matches -k {keyword!r}")
    if list_only:
        table = Table(title=f"{len(chosen)} scenarios", show_lines=True)
        table.add_column("name", no_wrap=True)
        table.add_column("story")
        for item in chosen:
            table.add_row(item.name, item.story)
        console.print(table)
        return
    try:
        if against is not None:
            endpoints = parse_against(against, admin_token, operator)
            results = asyncio.run(
                run_suite(
                    endpoints,
                    chosen,
                    junit=junit,
                    seed=seed,
                    on_result=lambda r: _print_result(console, r),
                    on_change=lambda note: console.print(
                        f"[yellow]left changed:[/yellow] {note}", highlight=False
                    ),
                )  # fmt: skip
            )
        else:
            results = asyncio.run(_self_started(chosen, junit, seed, console, in_process, sms_protocol))
    except StackNotReady as exc:
        raise SetupError(str(exc)) from exc
    failed = [r for r in results if not r.passed]
    skipped = sum(1 for r in results if r.skipped)
    console.print(
        f"{len(results) - len(failed) - skipped} passed, {len(failed)} failed, {skipped} skipped"
        + (f"; JUnit XML in {junit}" if junit else "")
    )
    if failed:
        raise SystemExit(1)
