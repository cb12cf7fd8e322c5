"""What a load run checks before its first arrival, in a few seconds: one line per fault, no run.

:func:`preflight` asks each ``--against`` URL one cheap question (fake X and fake SMS their
``/_fake/clock``, the processor its ``/healthz``), that the operator's handle exists on fake X, and
where the population comes from: the ``--population`` file parses, or the processor lets the admin
token list its subscribers and catalog. Anything wrong raises :class:`PreflightError` whose message
is the one line to print; ``twittcom loadtest`` (and ``twittcom storm``, which drives the same
generator) call it before starting locust, so a typo never idles for the whole duration.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from loadtests.population import (
    STACK_SUBSCRIBERS_ROUTE,
    SUBSCRIBERS_ROUTE,
    PopulationError,
    fetch_population,
    load_population_file,
)

__all__ = ["PreflightError", "StackFacts", "check_population_file", "preflight", "x_clock_offset"]

#: seconds each preflight request may take (the whole preflight stays well under 5 s on loopback)
REQUEST_TIMEOUT_S = 1.5


class PreflightError(ValueError):
    """A setup fault found before the run; ``str()`` is one line naming it."""


@dataclass(frozen=True)
class StackFacts:
    """What the preflight learnt: how far fake X's clock is ahead of the wall clock, and the checks' time."""

    x_clock_offset_s: float
    seconds: float


def check_population_file(path: str) -> None:
    """The ``--population`` file exists and parses; else :class:`PreflightError`."""
    try:
        load_population_file(path)
    except PopulationError as exc:
        raise PreflightError(str(exc).splitlines()[0]) from None


def _reach(client: httpx.Client, label: str, base: str, path: str, what: str) -> httpx.Response:
    try:
        response = client.get(f"{base}{path}")
    except httpx.TimeoutException:
        raise PreflightError(f"--against {label}={base}: no answer within {REQUEST_TIMEOUT_S:g} s") from None
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise PreflightError(f"--against {label}={base}: nothing answers ({reason})") from None
    if response.status_code != 200:
        raise PreflightError(
            f"--against {label}={base} is not {what}: GET {path} answered {response.status_code}"
        )
    return response


def x_clock_offset(client: httpx.Client, x_url: str) -> float:
    """Seconds fake X's clock runs ahead of this machine's (``twittcom scenarios`` moves it forward)."""
    before = time.time()
    body = _reach(client, "x", x_url, "/_fake/clock", "a fake X (twittcom fake-twitter / up)").json()
    return float(body["now"]) - (before + time.time()) / 2


def _operator(client: httpx.Client, x_url: str, handle: str) -> None:
    app = client.get(f"{x_url}/_fake/app").json()
    found = client.get(
        f"{x_url}/2/users/by/username/{handle}", headers={"authorization": f"Bearer {app['bearer_token']}"}
    )
    if found.status_code != 200 or "data" not in found.json():
        raise PreflightError(f"@{handle} does not exist on the fake X at {x_url} (--operator)")


def _processor_population(client: httpx.Client, url: str, token: str) -> None:
    if not token:
        raise PreflightError(
            "the processor's admin token is missing (--admin-token or TWITTCOM_ADMIN_TOKEN), "
            "or give --population FILE"
        )
    headers = {"authorization": f"Bearer {token}"}
    for route in (SUBSCRIBERS_ROUTE, STACK_SUBSCRIBERS_ROUTE):
        response = client.get(f"{url}{route}", params={"limit": 1}, headers=headers)
        if response.status_code in (401, 403):
            raise PreflightError(
                f"the processor at {url} refused the admin token ({response.status_code} on GET {route})"
            )
        if response.status_code not in (404, 405):
            break
    try:
        fetch_population(client, url, token, limit=1)
    except (PopulationError, ValueError, KeyError, TypeError) as exc:
        raise PreflightError(str(exc).splitlines()[0]) from None


def preflight(
    *, x_url: str, sms_url: str, processor_url: str = "", admin_token: str = "", population_file: str = "",
    operator: str = "", stand_in: bool = False,
) -> StackFacts:  # fmt: skip
    """Check what the run needs; raises :class:`PreflightError` naming the first fault found."""
    started = time.monotonic()
    if population_file:
        check_population_file(population_file)
    with httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
        offset = x_clock_offset(client, x_url)
        _reach(client, "sms", sms_url, "/_fake/clock", "a fake SMS gateway (twittcom fake-sms / up)")
        if processor_url:
            _reach(client, "processor", processor_url, "/healthz", "a Twittcom processor")
        try:
            if operator and not stand_in:
                _operator(client, x_url, operator)
            if processor_url and not population_file:
                _processor_population(client, processor_url, admin_token)
        except httpx.HTTPError as exc:
            raise PreflightError(f"the stack stopped answering during the checks: {exc}") from None
    return StackFacts(offset, time.monotonic() - started)
