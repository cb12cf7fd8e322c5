"""``mock_x()``: the X API v2 fake answering for api.x.com and api.twitter.com in-process.

Example::

    with mock_x() as x:
        alice = x.create_user("alice")
        client = tweepy.Client(bearer_token=alice["bearer_token"])   # default host, unmodified
        client.create_tweet(text="hello", user_auth=False)
        assert x.tweets()[0]["text"] == "hello"

The fake starts on a manual clock (2026-01-01T00:00:00Z; :meth:`FakeX.advance` moves it, rate
limit windows included), seeded (``seed=0``: the same ids and tokens every run), with X's real rate
limits (``rate_limits="off"`` to lift them). Webhook deliveries go to apps mounted with
:meth:`~twittcom.testing.base.FakeMock.mount`, or are recorded in :attr:`FakeX.sent`.
"""

from __future__ import annotations

from typing import Any

import httpx

from fake_twitter import ManualClock, SystemClock, TwitterBackend, create_app
from fake_twitter.app import FakeTwitterApp
from twittcom.testing.base import FakeMock
from twittcom.testing.intercept import INTERCEPTOR, OtherHosts
from twittcom.testing.outbound import OutboundRequest, OutboundTransport

__all__ = ["X_HOSTS", "FakeX", "mock_x"]

X_HOSTS = ("api.x.com", "api.twitter.com")
MANUAL_START = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class FakeX(FakeMock):
    """A fresh fake X for the duration of a ``with`` block or decorated call.

    Options: ``seed`` (0), ``rate_limits`` (``"real"``, ``"off"`` or a preset file), ``clock``
    (``"manual"``, the default, or ``"system"``: wall time, e.g. for tweepy's
    ``wait_on_rate_limit``), ``start`` (the manual clock's start), ``problem_host``
    (``"api.twitter.com"`` or ``"api.x.com"``), ``consumer_secret``.
    """

    name = "fake X"
    hosts = X_HOSTS
    control_base = "https://api.x.com"

    def __init__(
        self,
        *,
        seed: int = 0,
        rate_limits: str = "real",
        clock: str = "manual",
        start: float = MANUAL_START,
        problem_host: str = "api.twitter.com",
        consumer_secret: str | None = None,
        other_hosts: OtherHosts = "fail",
    ) -> None:
        if clock not in ("manual", "system"):
            raise ValueError("clock must be 'manual' or 'system'")
        options: dict[str, Any] = {
            "seed": seed,
            "rate_limits": rate_limits,
            "clock": clock,
            "start": start,
            "problem_host": problem_host,
            "consumer_secret": consumer_secret,
        }
        super().__init__(other_hosts=other_hosts, **options)
        self.backend: TwitterBackend | None = None
        self._outbound: OutboundTransport | None = None
        self._client: httpx.AsyncClient | None = None

    def _build(self) -> FakeTwitterApp:
        opts = self.options
        clock = ManualClock(opts["start"]) if opts["clock"] == "manual" else SystemClock()
        extra: dict[str, Any] = {}
        if opts["consumer_secret"] is not None:
            extra["consumer_secret"] = opts["consumer_secret"]
        self.backend = TwitterBackend(clock, seed=opts["seed"], rate_limits=opts["rate_limits"], **extra)
        self._outbound = OutboundTransport(INTERCEPTOR, self.name)
        self._client = httpx.AsyncClient(transport=self._outbound, timeout=30.0)
        return create_app(
            self.backend,
            webhook_client=self._client,
            retry_delays=(0.05, 0.1, 0.2),
            problem_host=opts["problem_host"],
        )

    async def _start(self) -> None:
        self.app.dispatcher.ensure_started()

    async def _stop(self) -> None:
        await self.app.dispatcher.aclose()
        if self._client is not None:
            await self._client.aclose()

    # state and control, as Python calls ----------------------------------------------------------
    def create_user(self, username: str, **fields: Any) -> dict[str, Any]:
        """A new user with its tokens: ``id``, ``bearer_token`` (OAuth 2.0 user context),
        ``access_token`` and ``access_token_secret`` (OAuth 1.0a)."""
        user: dict[str, Any] = self.control("POST", "/_fake/users", {"username": username, **fields})
        return user

    def app_credentials(self) -> dict[str, Any]:
        """``consumer_key``, ``consumer_secret`` and the app-only ``bearer_token``."""
        app: dict[str, Any] = self.control("GET", "/_fake/app")
        return app

    def tweets(self, username: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The newest tweets (of ``username``), all fields."""
        query = f"?limit={limit}" + (f"&username={username}" if username else "")
        data: dict[str, Any] = self.control("GET", "/_fake/tweets" + query)
        tweets: list[dict[str, Any]] = data.get("data", [])
        return tweets

    def timeline(self, user_id: str, kind: str = "tweets", limit: int = 100) -> list[dict[str, Any]]:
        """Any user's ``tweets``, ``mentions`` or ``dms``, newest first."""
        data: dict[str, Any] = self.control("GET", f"/_fake/timelines/{user_id}?kind={kind}&limit={limit}")
        items: list[dict[str, Any]] = data.get("data", [])
        return items

    def advance(self, seconds: float) -> float:
        """Move the fake's clock (manual clock only); the new time."""
        data: dict[str, Any] = self.control("POST", "/_fake/clock/advance", {"seconds": seconds})
        now: float = data["now"]
        return now

    def now(self) -> float:
        data: dict[str, Any] = self.control("GET", "/_fake/clock")
        now: float = data["now"]
        return now

    def set_rate_limits(
        self, preset: str | None = None, limits: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Switch the preset (``"real"``, ``"off"``) or override routes, e.g.
        ``{"POST /2/tweets": {"user": [[1, 900]]}}`` (one per 15 minutes)."""
        body: dict[str, Any] = {"preset": preset} if preset is not None else {}
        if limits is not None:
            body["limits"] = limits
        result: dict[str, Any] = self.control("POST", "/_fake/rate-limits", body)
        return result

    def add_fault(self, route: str = "*", **rule: Any) -> Any:
        """A fault rule (``error_rate``, ``error_status``, ``latency``, ``outages``) on ``route``."""
        return self.control("POST", "/_fake/faults", {"route": route, **rule})

    def clear_faults(self) -> None:
        self.control("DELETE", "/_fake/faults")

    def counters(self) -> dict[str, Any]:
        counters: dict[str, Any] = self.control("GET", "/_fake/counters")
        return counters

    def drain_webhooks(self, timeout: float = 10.0) -> bool:
        """Wait until every pending webhook delivery is done."""
        data: dict[str, Any] = self.control("POST", f"/_fake/webhooks/drain?timeout={timeout}")
        return bool(data.get("drained"))

    @property
    def sent(self) -> list[OutboundRequest]:
        """The requests this fake sent (webhook CRCs and deliveries), in order."""
        return list(self._outbound.sent) if self._outbound is not None else []


def mock_x(**options: Any) -> FakeX:
    """A fresh :class:`FakeX` for api.x.com and api.twitter.com: ``with mock_x() as x:``,
    ``async with mock_x() as x:`` or ``@mock_x()`` on a sync or async function. Other hosts are
    refused (``other_hosts="pass"`` lets them through)."""
    return FakeX(**options)
