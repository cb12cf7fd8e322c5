"""Registrations per second through the registration page, beside a bare Starlette route.

One registration is what a new visitor's browser does: ``GET /register`` (new session cookie, form
with a CSRF token) then ``POST /register`` with the token (CSRF check, per-IP and per-handle token
buckets, validation, the port, the "tweet your code" page). The port answers at once, so the figure
is the page's own cost. The ceiling, measured in the same run with the same client, request count
and concurrency, is a bare Starlette app whose GET returns a small fixed page and whose POST parses
the same form body and returns a small page: all of HTTP-in-process, none of the page's logic.

The ``shared-limits`` case counts the rate limits in a SQLite store, as ``twittcom serve`` does so
that N processes give a client the budget once (two counter writes per post, in the page's threads).

Full run: ``.venv/bin/python -m pytest benchmarks/test_web_page.py --benchmark-only -s``
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from reference.runtime.shared_state import StoreHitCounter
from reference.service.database import Connection
from reference.storage.engines import StoreFactory
from reference.web import (
    RateLimit,
    RegistrationRateLimits,
    RequestCodeOutcome,
    RequestCodeResult,
    create_registration_app,
)
from reference.web.ratelimit import LimiterFactory, SharedWindowCounter

SHORT = bool(os.environ.get("TWITTCOM_BENCH_SHORT"))
REGISTRATIONS = 200 if SHORT else 4000
ROUNDS = 1 if SHORT else 5
CONCURRENCY = 8
TOKEN_RE = re.compile(rb'name="csrf_token" value="([^"]*)"')
URL = "http://bench/register"
SENT = RequestCodeResult(RequestCodeOutcome.CODE_SENT, "Code sent.", "98XXXXXX10")


class InstantCore:
    """A port that answers 'code sent' at once and counts calls."""

    def __init__(self) -> None:
        self.calls = 0

    def request_code(self, handle: str, mobile: str, *, client_ip: str) -> RequestCodeResult:
        self.calls += 1
        return SENT


def bare_app() -> Starlette:
    """The ceiling: same routes and form body, no CSRF, limits, validation, templates or port."""
    form_page = b'<form method="post"><input type="hidden" name="csrf_token" value="x"></form>'

    async def get(request: Request) -> HTMLResponse:
        return HTMLResponse(form_page)

    async def post(request: Request) -> HTMLResponse:
        fields = parse_qs((await request.body()).decode("ascii"))
        return HTMLResponse(f"<p>sent to {fields['handle'][0]}</p>")

    return Starlette(
        routes=[Route("/register", get, methods=["GET"]), Route("/register", post, methods=["POST"])]
    )


async def register_many(app: object, count: int, offset: int) -> int:
    """``count`` new visitors, CONCURRENCY at a time, each loading the form and posting it.

    Requests go straight to ``ASGITransport`` (no ``AsyncClient``), with the cookie carried by
    hand, so the client's URL merging and cookie-jar parsing do not swamp the server's own cost.
    Returns how many posts answered 200.
    """
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    ok = 0

    async def call(method: str, headers: dict[str, str], body: bytes = b"") -> httpx.Response:
        request = httpx.Request(method, URL, headers=headers, content=body)
        response = await transport.handle_async_request(request)
        await response.aread()
        return response

    async def visitor_stream(worker: int) -> None:
        nonlocal ok
        for i in range(worker, count, CONCURRENCY):
            form = await call("GET", {})
            token = TOKEN_RE.search(form.content)
            assert token is not None
            cookie = form.headers.get("set-cookie", "").split(";", 1)[0]
            fields = {
                "csrf_token": token.group(1).decode(),
                "handle": f"u{offset + i}",
                "mobile": "98765 43210",
            }
            headers = {"content-type": "application/x-www-form-urlencoded", "cookie": cookie}
            response = await call("POST", headers, urlencode(fields).encode())
            ok += response.status_code == 200

    await asyncio.gather(*(visitor_stream(w) for w in range(CONCURRENCY)))
    return ok


def shared_limiters(path: Path) -> tuple[LimiterFactory, Connection]:
    """Limiters counting in the SQLite store at ``path`` (what the service gives its page)."""
    factory = StoreFactory(str(path))
    connection = factory.connect()
    counter = StoreHitCounter(
        connection.queue, guard=factory.guard, clock=lambda: datetime.now(UTC), keep_s=7200
    )

    def limiters(scope: str, limit: RateLimit) -> SharedWindowCounter:
        return SharedWindowCounter(limit, scope, hit=counter, clock=time.time)

    return limiters, connection


@pytest.mark.parametrize(
    ("offload", "shared"),
    [(True, False), (False, False), (True, True)],
    ids=["port-in-thread", "port-inline", "port-in-thread-shared-limits"],
)
def test_registrations_per_second(benchmark, capsys, tmp_path, offload, shared):
    """Registrations/s through the page (GET form + POST with CSRF) vs a bare Starlette route."""
    core = InstantCore()
    total = REGISTRATIONS * (ROUNDS + 2)
    limits = RegistrationRateLimits(per_ip=RateLimit(total, 3600), per_handle=RateLimit(5, 600))
    limiters, connection = shared_limiters(tmp_path / "limits.db") if shared else (None, None)
    page = create_registration_app(
        core, secret_key="bench-secret-key-0123456789", rate_limit=limits, offload=offload,
        limiters=limiters,
    )  # fmt: skip
    bare = bare_app()
    loop = asyncio.new_event_loop()
    page_times: list[float] = []
    bare_times: list[float] = []
    page_cpu: list[float] = []
    bare_cpu: list[float] = []
    rounds_done = 0

    def run_bare() -> None:
        """Untimed by pytest-benchmark (pedantic setup): one ceiling round before each page round."""
        start, cpu = time.perf_counter(), time.process_time()
        ok = loop.run_until_complete(register_many(bare, REGISTRATIONS, 0))
        bare_times.append(time.perf_counter() - start)
        bare_cpu.append(time.process_time() - cpu)
        assert ok == REGISTRATIONS

    def run_page() -> None:
        nonlocal rounds_done
        start, cpu = time.perf_counter(), time.process_time()
        ok = loop.run_until_complete(register_many(page, REGISTRATIONS, rounds_done * REGISTRATIONS))
        page_times.append(time.perf_counter() - start)
        page_cpu.append(time.process_time() - cpu)
        rounds_done += 1
        assert ok == REGISTRATIONS

    try:
        loop.run_until_complete(register_many(page, min(200, REGISTRATIONS), 10**7))  # warm-up
        benchmark.pedantic(run_page, setup=run_bare, rounds=ROUNDS, iterations=1)
    finally:
        loop.close()
        if connection is not None:
            connection.close()

    page_rate = REGISTRATIONS / min(page_times)
    bare_rate = REGISTRATIONS / min(bare_times)
    # per CPU-second of this process: steadier than wall time when other work shares the 2 cores
    page_cpu_rate = REGISTRATIONS / min(page_cpu)
    bare_cpu_rate = REGISTRATIONS / min(bare_cpu)
    benchmark.extra_info.update(
        {
            "registrations_per_s": round(page_rate, 1),
            "ceiling_bare_route_per_s": round(bare_rate, 1),
            "ratio": round(page_rate / bare_rate, 3),
            "registrations_per_cpu_s": round(page_cpu_rate, 1),
            "ceiling_per_cpu_s": round(bare_cpu_rate, 1),
            "cpu_ratio": round(page_cpu_rate / bare_cpu_rate, 3),
            "page_us_per_registration_wall": round(1e6 / page_rate, 1),
            "bare_us_per_registration_wall": round(1e6 / bare_rate, 1),
            "registrations_per_round": REGISTRATIONS,
            "concurrency": CONCURRENCY,
            "offload": offload,
            "shared_limits": shared,
        }
    )
    assert core.calls == REGISTRATIONS * rounds_done + min(200, REGISTRATIONS)
    label = ("in thread" if offload else "inline") + (", limits in SQLite" if shared else "")
    with capsys.disabled():
        print(
            f"\n[web page, port {label}] {page_rate:,.0f} registrations/s "
            f"(GET+POST) vs bare Starlette route {bare_rate:,.0f}/s -> ratio {page_rate / bare_rate:.2f} "
            f"({REGISTRATIONS} x {len(page_times)} rounds, {CONCURRENCY} concurrent); per CPU-second "
            f"{page_cpu_rate:,.0f} vs {bare_cpu_rate:,.0f} -> {page_cpu_rate / bare_cpu_rate:.2f}"
        )
