"""Test doubles and helpers for the registration page tests (imported by conftest and tests)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from reference.web import RequestCodeOutcome, RequestCodeResult

SECRET = "test-secret-key-0123456789abcdef"
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]*)"')


class ManualClock:
    """Wall-clock seconds that move only when a test says so."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Call:
    handle: str
    mobile: str
    client_ip: str


@dataclass
class RecordingPort:
    """A CodeRequests double: answers ``result`` (or raises ``error``) and records every call."""

    result: RequestCodeResult = field(
        default_factory=lambda: RequestCodeResult(RequestCodeOutcome.CODE_SENT, "Code sent.", "98XXXXXX10")
    )
    error: Exception | None = None
    calls: list[Call] = field(default_factory=list)

    def request_code(self, handle: str, mobile: str, *, client_ip: str) -> RequestCodeResult:
        self.calls.append(Call(handle, mobile, client_ip))
        if self.error is not None:
            raise self.error
        return self.result


def token_of(page: str) -> str:
    """The CSRF token embedded in a rendered form."""
    match = TOKEN_RE.search(page)
    assert match is not None, "no csrf_token field in the page"
    return match.group(1)


def client_for(app: Any, client_ip: str = "203.0.113.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(client_ip, 50_000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def submit(
    client: httpx.AsyncClient, handle: str = "@priya_k", mobile: str = "98765 43210", **extra: str
) -> httpx.Response:
    """Load the form (getting cookie and token) and post it, as a browser would."""
    form = await client.get("/register")
    data = {"csrf_token": token_of(form.text), "handle": handle, "mobile": mobile, **extra}
    return await client.post("/register", data=data)
