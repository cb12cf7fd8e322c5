"""The whole stack on loopback, configured by a scenario, for the length of a load run.

:func:`scenario_stack` starts :class:`~twittcom.stack.LoopbackStack` in a background thread's
event loop with every scenario setting that has a live counterpart
(:func:`twittcom.live_scenario.live_settings`) and yields its URLs; ``twittcom storm`` and
``twittcom loadtest`` (without ``--against``) drive it with locust from another process.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scenario import Scenario
from twittcom.live_scenario import live_settings
from twittcom.stack_base import StackOptions

__all__ = ["StackStartError", "StackUrls", "loopback_stack", "scenario_options", "scenario_stack"]


class StackStartError(RuntimeError):
    """The stack did not come up (the cause is in the message)."""


@dataclass(frozen=True)
class StackUrls:
    """Where the running stack answers."""

    x: str
    sms: str
    processor: str
    admin_token: str
    #: the population file the system imported (a system under test; empty: the processor's admin API)
    population_file: str = ""


def scenario_options(scenario: Scenario, population: int) -> StackOptions:
    """:class:`~twittcom.stack_base.StackOptions` for ``scenario`` (a directory of ``population``
    numbers, SMS carrier time at wall speed); :class:`~twittcom.live_scenario.LiveScenarioError` for
    a value the live stack cannot run.

    Fake X starts without limits and the processor without a write budget of its own: the load run
    sets the scenario's table at fake X at its first scheduled start
    (:attr:`~loadtests.config.LoadtestConfig.x_limits`), so the windows open with the arrivals as in
    the model, and the processor keeps to X's per-user write limit by the rate-limit headers and 429s
    it gets (:class:`reference.runtime.budget.WriteBudget`); a warm-up spends none of it. The app's
    write limit is the processor's own budget (the subscribers' tweets do not count against the
    operator's app at fake X), so a warm-up's replies count against that one."""
    live = live_settings(scenario)
    options = StackOptions(
        population=population, x_rate_limits="off", sms_time_scale=1.0,
        ingestion="poll" if live.ingestion == "poll" else "webhook", poll_interval_s=live.poll_interval_s,
        dm_poll_interval_s=live.dm_poll_interval_s, page_size=live.page_size, workers=live.workers,
        admin_token=secrets.token_urlsafe(18), web_rate_limit=False,
        circles=tuple(code for code, _ in live.circle_shares),
        circle_weights=tuple(share for _, share in live.circle_shares), catalog_all_circles=True,
        sms_config=live.sms_config, sms_from=live.sms_from or "54321", sms_service_sid=live.sms_service_sid,
        sms_validity_s=live.sms_validity_s, tweet_limits=(0, 900.0, *live.tweet_limits[2:]),
        otp_ttl_s=live.otp_ttl_s, webhook_latency=live.webhook_latency,
    )  # fmt: skip
    if live.smpp is not None:  # the processor sends over SMPP to fake SMS's SMSC
        options = dataclasses.replace(options, sms_protocol="smpp", **live.smpp)
    return options


@contextlib.contextmanager
def scenario_stack(
    scenario: Scenario, population: int, ports: tuple[int, int, int] = (0, 0, 0)
) -> Iterator[StackUrls]:
    """The stack as ``scenario`` describes it, with a directory of ``population`` numbers, on
    ``ports`` (fake X, fake SMS, processor; 0: a free port).

    Raises :class:`~twittcom.live_scenario.LiveScenarioError` before starting anything when the
    scenario holds a value the live stack cannot run.
    """
    with loopback_stack(scenario_options(scenario, population), ports) as urls:
        yield urls


@contextlib.contextmanager
def loopback_stack(options: StackOptions, ports: tuple[int, int, int] = (0, 0, 0)) -> Iterator[StackUrls]:
    """:class:`~twittcom.stack.LoopbackStack` with ``options`` in a background thread's event loop."""
    from twittcom.stack import LoopbackStack

    ready = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        stop = asyncio.Event()
        box["stop"] = (asyncio.get_running_loop(), stop)
        try:
            async with LoopbackStack(options, ports=ports) as stack:
                e = stack.endpoints
                box["urls"] = StackUrls(e.x, e.sms, e.processor, e.admin_token)
                ready.set()
                await stop.wait()
        except BaseException as exc:
            box["error"] = exc
            ready.set()

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="twittcom-stack", daemon=True)
    thread.start()
    ready.wait(120)
    if "urls" not in box:
        raise StackStartError(f"the stack did not start: {box.get('error', 'timeout')}")
    try:
        yield box["urls"]
    finally:
        loop, stop = box["stop"]
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
