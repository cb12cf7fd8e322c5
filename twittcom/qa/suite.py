"""The whole QA suite: every scenario module registered, run against a stack, reported.

Importing this module registers the scenarios (registration, commerce, resilience) in the order
they run; :func:`run_suite` runs a selection against ``endpoints`` and writes JUnit XML.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

from twittcom.qa.client import Endpoints, StackClient, StackNotReady
from twittcom.qa.scenario import SCENARIOS, Result, Scenario, run_scenarios, select, write_junit

__all__ = ["MODULES", "SCENARIOS", "preflight", "run_suite", "select"]

#: the modules whose scenarios make up the suite (imported for their registrations)
MODULES = tuple(
    importlib.import_module(f"twittcom.qa.scenarios_{group}")
    for group in ("registration", "commerce", "resilience")
)


async def preflight(client: StackClient) -> dict[str, Any]:
    """Check the three services answer and the processor offers the harness's ``/_stack/`` fixtures.

    Raises :class:`StackNotReady` with what to do when they do not.
    """
    try:
        await client.operator()
        await client.sms_clock()
        ready = await client.processor.get("/readyz")
    except httpx.HTTPError as exc:
        raise StackNotReady(f"the stack does not answer: {exc!r}") from exc
    if ready.status_code != 200:
        raise StackNotReady(f"the processor is not ready: {ready.status_code} {ready.text[:200]}")
    response = await client.processor.get(
        "/_stack/info", headers={"Authorization": f"Bearer {client.endpoints.admin_token}"}
    )
    if response.status_code == 401:
        raise StackNotReady("the processor refused the admin token")
    if response.status_code != 200:
        raise StackNotReady(
            "the processor has no /_stack/ fixture routes: run the suite against `twittcom up` "
            "(or without --against, to start a stack)"
        )
    return dict(response.json())


async def _carrier_failures_off(client: StackClient) -> dict[str, Any]:
    """Zero the fake carrier's random delivery failures for the run; returns the patch restoring them.

    Every story controls the carrier itself (an outage where it needs one): a code lost to a
    random 30003 would fail an unrelated story.
    """
    response = await client.sms.get("/_fake/config")
    if response.status_code != 200:
        raise StackNotReady(f"cannot read the fake SMS configuration: {response.status_code}")
    carrier = response.json().get("carrier", {})
    restore: dict[str, Any] = {"carrier": {"default": {"failure_rates": carrier["default"]["failure_rates"]}}}
    off: dict[str, Any] = {"carrier": {"default": {"failure_rates": {}}}}
    off["carrier"]["default"]["failure_rates"] = {code: 0.0 for code in carrier["default"]["failure_rates"]}
    circles = carrier.get("circles", {})
    for circle, profile in circles.items():
        rates = profile.get("failure_rates")
        if rates:
            restore["carrier"].setdefault("circles", {})[circle] = {"failure_rates": rates}
            off["carrier"].setdefault("circles", {})[circle] = {"failure_rates": {c: 0.0 for c in rates}}
    patched = await client.sms.patch("/_fake/config", json=off)
    if patched.status_code != 200:
        raise StackNotReady(f"cannot configure the fake carrier: {patched.status_code} {patched.text[:200]}")
    return restore


async def _x_state(client: StackClient) -> tuple[dict[str, Any], float]:
    """Fake X's fault rules and how far its clock runs ahead of this machine's."""
    response = await client.x.get("/_fake/faults")
    if response.status_code != 200:
        raise StackNotReady(f"cannot read fake X's fault rules: {response.status_code}")
    before = time.time()
    now = await client.x_clock()
    return dict(response.json()), now - (before + time.time()) / 2


async def _restore_x(client: StackClient, faults: dict[str, Any], offset_s: float) -> list[str]:
    """Put fake X's fault rules back; return what the suite changed and could not undo (its clock)."""
    await client.x_faults(None)
    for route, rule in faults.items():
        await client.x_faults({"route": route, **rule})
    _, after = await _x_state(client)
    moved = after - offset_s
    if moved < 1.0:
        return []
    return [
        f"fake X's clock moved forward {moved:.0f} s and stays {after:.0f} s ahead of the wall clock "
        "(it only moves forward; `twittcom loadtest` takes the offset out, restart the stack to reset it)"
    ]


async def run_suite(
    endpoints: Endpoints,
    scenarios: Iterable[Scenario] | None = None,
    *,
    junit: Path | None = None,
    seed: int | None = None,
    on_result: Callable[[Result], None] | None = None,
    on_change: Callable[[str], None] | None = None,
) -> list[Result]:
    """Run ``scenarios`` (all by default) against ``endpoints``; write JUnit XML to ``junit``.

    Raises :class:`StackNotReady` (before running anything) when the stack cannot play them. The
    stack is left as found: the fake carrier's failure rates and fake X's fault rules are restored;
    what cannot be undone (fake X's clock, which only moves forward) goes to ``on_change``.
    """
    chosen = list(scenarios) if scenarios is not None else select()
    async with StackClient(endpoints) as client:
        await preflight(client)
        faults, offset = await _x_state(client)
        restore = await _carrier_failures_off(client)
        try:
            results = await run_scenarios(client, chosen, seed=seed, on_result=on_result)
        finally:
            await client.sms.patch("/_fake/config", json=restore)
            changes = await _restore_x(client, faults, offset)
        for change in changes:
            if on_change is not None:
                on_change(change)
    if junit is not None:
        write_junit(results, junit)
    return results
