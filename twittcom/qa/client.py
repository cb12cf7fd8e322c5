"""The QA suite's only way into a stack: HTTP clients for fake X, fake SMS and the processor.

:class:`Endpoints` names the three base URLs, the admin token and the operator's handle;
:class:`StackClient` acts as X users (tweet, DM, the registration page), reads what they got back
(reply tweets, DMs, handset SMS), reads the processor's admin API and metrics, and drives the fakes'
control APIs (clock, faults, outages). Nothing here imports the processor or the fakes, so the same
scenarios run against a stack in another process (``twittcom up``) or in this one (pass
``transports`` built on ``httpx.ASGITransport``).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

__all__ = [
    "CODE_PATTERN",
    "Endpoints",
    "StackClient",
    "StackNotReady",
    "XUser",
    "eventually",
    "metric_samples",
    "metric_value",
]

T = TypeVar("T")
CODE_PATTERN = re.compile(r"code is (\d{6})")
_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
_METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")


class StackNotReady(RuntimeError):
    """The stack did not reach the expected state in time (or answered something unexpected)."""


@dataclass(frozen=True)
class Endpoints:
    """Where a stack listens and how to administer it.

    ``x``, ``sms`` and ``processor`` are base URLs (``http://127.0.0.1:PORT`` on loopback; any
    base URL when ``transports`` route them in-process).
    """

    x: str
    sms: str
    processor: str
    admin_token: str
    operator_handle: str = "tatadocomo"
    transports: Mapping[str, httpx.AsyncBaseTransport] = field(
        default_factory=dict, compare=False, repr=False
    )

    def as_json(self) -> dict[str, str]:
        """The URLs and token (what ``twittcom up`` prints and ``--against`` takes)."""
        return {
            "x": self.x,
            "sms": self.sms,
            "processor": self.processor,
            "admin_token": self.admin_token,
            "operator_handle": self.operator_handle,
        }


@dataclass(frozen=True)
class XUser:
    """A user of the fake X: numeric id, handle and OAuth 2.0 user bearer token."""

    id: str
    username: str
    token: str


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, timeout: float = 10.0, interval: float = 0.02, what: str = ""
) -> T:
    """Call ``probe`` until it returns something truthy (a non-empty list, True, ...); raise on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise StackNotReady(f"timed out after {timeout:.0f} s waiting for {what or 'a condition'}")
        await asyncio.sleep(interval)


def metric_value(exposition: str, name: str, labels: Mapping[str, str] | None = None) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels`` (0 when absent)."""
    total = 0.0
    wanted = {f'{k}="{v}"' for k, v in (labels or {}).items()}
    for line in exposition.splitlines():
        match = _METRIC_LINE.match(line)
        if match is None or match.group(1) != name:
            continue
        given = set((match.group(2) or "{}")[1:-1].split(",")) if match.group(2) else set()
        if wanted <= given:
            total += float(match.group(3))
    return total


def metric_samples(exposition: str, name: str, label: str) -> dict[str, float]:
    """The samples of ``name`` summed by the value of ``label`` (key ``""`` when it is absent)."""
    found: dict[str, float] = {}
    for line in exposition.splitlines():
        match = _METRIC_LINE.match(line)
        if match is None or match.group(1) != name:
            continue
        key = ""
        for pair in (match.group(2) or "{}")[1:-1].split(","):
            k, _, v = pair.partition("=")
            if k == label:
                key = v.strip('"')
        found[key] = found.get(key, 0.0) + float(match.group(3))
    return found


class StackClient:
    """HTTP access to a running stack, as users, as QA and as the operator's admin."""

    def __init__(self, endpoints: Endpoints, *, timeout: float = 30.0) -> None:
        self.endpoints = endpoints

        def client(name: str, base: str) -> httpx.AsyncClient:
            transport = endpoints.transports.get(name)
            return httpx.AsyncClient(base_url=base, transport=transport, timeout=timeout)

        self.x = client("x", endpoints.x)
        self.sms = client("sms", endpoints.sms)
        self.processor = client("processor", endpoints.processor)
        self._operator: XUser | None = None

    async def aclose(self) -> None:
        for c in (self.x, self.sms, self.processor):
            await c.aclose()

    async def __aenter__(self) -> StackClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    # helpers --------------------------------------------------------------------------------
    @staticmethod
    def _ok(response: httpx.Response, *expected: int) -> Any:
        if response.status_code not in (expected or (200,)):
            raise StackNotReady(
                f"{response.request.method} {response.request.url} -> {response.status_code}: "
                f"{response.text[:300]}"
            )
        if not response.content or "json" not in response.headers.get("content-type", ""):
            return None
        return response.json()

    def _admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.endpoints.admin_token}"}

    # fake X: users and what they see ---------------------------------------------------------
    async def create_user(self, username: str) -> XUser:
        data = self._ok(await self.x.post("/_fake/users", json={"username": username}), 201)
        return XUser(str(data["id"]), str(data["username"]), str(data["bearer_token"]))

    async def operator(self) -> XUser:
        """The operator's account on fake X (looked up once)."""
        if self._operator is None:
            data = self._ok(await self.x.get("/_fake/users"))
            handle = self.endpoints.operator_handle.casefold()
            for user in data["data"]:
                if str(user["username"]).casefold() == handle:
                    self._operator = XUser(str(user["id"]), str(user["username"]), str(user["bearer_token"]))
                    break
            else:
                raise StackNotReady(f"fake X has no operator account @{self.endpoints.operator_handle}")
        return self._operator

    async def consumer_secret(self) -> str:
        return str(self._ok(await self.x.get("/_fake/app"))["consumer_secret"])

    async def app_token(self) -> str:
        """The fake app's app-only bearer token (X's webhook management takes it, not a user token)."""
        return str(self._ok(await self.x.get("/_fake/app"))["bearer_token"])

    async def tweet(self, user: XUser, text: str) -> str:
        response = await self.x.post(
            "/2/tweets", json={"text": text}, headers={"Authorization": f"Bearer {user.token}"}
        )
        return str(self._ok(response, 201)["data"]["id"])

    async def dm(self, user: XUser, text: str) -> str:
        operator = await self.operator()
        response = await self.x.post(
            f"/2/dm_conversations/with/{operator.id}/messages",
            json={"text": text},
            headers={"Authorization": f"Bearer {user.token}"},
        )
        return str(self._ok(response, 201)["data"]["dm_event_id"])

    async def operator_tweets(self, limit: int = 1000) -> list[dict[str, Any]]:
        params = {"username": self.endpoints.operator_handle, "limit": str(limit)}
        return list(self._ok(await self.x.get("/_fake/tweets", params=params)).get("data", []))

    async def replies_to(self, tweet_id: str, limit: int = 1000) -> list[dict[str, Any]]:
        """The operator's tweets in reply to ``tweet_id`` (oldest first)."""
        found = [
            t
            for t in await self.operator_tweets(limit)
            if any(
                r.get("type") == "replied_to" and str(r.get("id")) == tweet_id
                for r in t.get("referenced_tweets", [])
            )
        ]
        return found[::-1]

    async def dms_to(self, user: XUser) -> list[str]:
        """Texts of the DMs the operator sent to ``user`` (oldest first)."""
        operator = await self.operator()
        params = {"kind": "dms", "limit": "500"}
        data = self._ok(await self.x.get(f"/_fake/timelines/{user.id}", params=params)).get("data", [])
        return [str(e.get("text", "")) for e in data if str(e.get("sender_id")) == operator.id][::-1]

    async def x_clock(self) -> float:
        """Fake X's clock (Unix seconds)."""
        return float(self._ok(await self.x.get("/_fake/clock"))["now"])

    async def advance_x_clock(self, seconds: float) -> float:
        """Move fake X's clock (the processor's clock follows it in harness stacks)."""
        data = self._ok(await self.x.post("/_fake/clock/advance", json={"seconds": seconds}))
        return float(data["now"])

    async def x_faults(self, rule: Mapping[str, Any] | None) -> None:
        """Install a fake X fault rule, or clear all rules with ``None``."""
        if rule is None:
            self._ok(await self.x.delete("/_fake/faults"))
        else:
            self._ok(await self.x.post("/_fake/faults", json=dict(rule)))

    async def x_counters(self) -> dict[str, Any]:
        return dict(self._ok(await self.x.get("/_fake/counters")))

    # fake SMS ---------------------------------------------------------------------------------
    async def handset(self, number: str) -> list[dict[str, Any]]:
        """What the phone ``number`` received, oldest first."""
        return list(self._ok(await self.sms.get(f"/_fake/handsets/{number}/messages"))["messages"])

    async def sms_outbox(self, *, to: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        params = {"limit": str(limit), **({"to": to} if to else {})}
        return list(self._ok(await self.sms.get("/_fake/outbox", params=params))["messages"])

    async def register_handsets(self, numbers: Mapping[str, str]) -> None:
        self._ok(await self.sms.post("/_fake/handsets", json={"numbers": dict(numbers)}))

    async def sms_outage(self, circle: str) -> int:
        return int(self._ok(await self.sms.post("/_fake/outages", json={"circle": circle}), 201)["id"])

    async def end_sms_outage(self, outage_id: int) -> None:
        self._ok(await self.sms.delete(f"/_fake/outages/{outage_id}"))

    async def sms_clock(self) -> dict[str, Any]:
        return dict(self._ok(await self.sms.get("/_fake/clock")))

    async def code_for(self, number: str, *, after: int = 0, timeout: float = 10.0) -> str:
        """The newest code in an SMS the handset received beyond its first ``after`` messages."""

        async def probe() -> str | None:
            for message in reversed((await self.handset(number))[after:]):
                found = CODE_PATTERN.search(str(message.get("body", "")))
                if found:
                    return found.group(1)
            return None

        return await eventually(probe, timeout=timeout, what=f"a code SMS on {number}")

    # processor --------------------------------------------------------------------------------
    async def admin(self, path: str, **params: str) -> Any:
        return self._ok(await self.processor.get(path, params=params, headers=self._admin_headers()))

    async def admin_maybe(self, path: str) -> Any | None:
        response = await self.processor.get(path, headers=self._admin_headers())
        return None if response.status_code == 404 else self._ok(response)

    async def metrics(self) -> str:
        response = await self.processor.get("/metrics")
        self._ok(response)
        return response.text

    async def metric(self, name: str, **labels: str) -> float:
        return metric_value(await self.metrics(), name, labels)

    async def stack_info(self) -> dict[str, Any]:
        """The harness stack's ``/_stack/info`` (fixture support; absent on a bare ``twittcom serve``)."""
        return dict(self._ok(await self.processor.get("/_stack/info", headers=self._admin_headers())))

    async def add_subscribers(self, entries: list[dict[str, Any]]) -> None:
        """Add directory entries (and their handsets at fake SMS) through the harness's ``/_stack/``."""
        response = await self.processor.post(
            "/_stack/subscribers", json={"subscribers": entries}, headers=self._admin_headers()
        )
        self._ok(response, 201)

    async def webhook(self, body: bytes, signature: str) -> httpx.Response:
        """POST an Account Activity body to the processor's webhook, as X does."""
        return await self.processor.post(
            "/webhooks/x",
            content=body,
            headers={"content-type": "application/json", "x-twitter-webhooks-signature": signature},
        )

    async def register_on_page(self, handle: str, mobile: str) -> httpx.Response:
        """The registration page as a phone's browser uses it: GET the form, POST it with its CSRF token."""
        page = await self.processor.get("/register")
        self._ok(page)
        token = _CSRF.search(page.text)
        if token is None:
            raise StackNotReady("the registration page has no csrf_token field")
        return await self.processor.post(
            "/register",
            data={"csrf_token": token.group(1), "handle": handle, "mobile": mobile},
            headers={"origin": str(self.processor.base_url).rstrip("/")},
        )

    # settling ---------------------------------------------------------------------------------
    async def settle(self, timeout: float = 20.0) -> None:
        """Until fake X delivered every webhook and the processor's queue and due outbox are empty."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            drained = self._ok(await self.x.post("/_fake/webhooks/drain", params={"timeout": "5"}))
            stats = await self.admin("/admin/stats")
            queues = stats["queues"]
            busy = queues.get("inbound_pending", 0) + queues.get("outbox_due", 0)
            if busy == 0 and drained.get("drained", True):
                quiet += 1
                if quiet >= 2:  # twice in a row: nothing in flight between the two reads
                    return
            else:
                quiet = 0
            await asyncio.sleep(0.02)
        raise StackNotReady(f"the stack did not settle within {timeout:.0f} s")
