"""An in-process live stack for the runtime's tests: fake X, fake SMS gateway and the service.

Every hop is HTTP through ``httpx.ASGITransport`` in both directions: the service calls the
fakes' APIs, the X fake POSTs webhooks to the service and the SMS fake POSTs status callbacks.
Users tweet and DM with their own tokens on the X fake; codes are read from the SMS fake's outbox.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

from fake_sms import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_SHORT_CODE, ScaledClock, SmsBackend
from fake_sms import create_app as create_sms_app
from fake_twitter import TwitterBackend
from fake_twitter import create_app as create_x_app
from reference.bootstrap import Settings, build_service
from reference.domain.otp import SeededOtpSource
from reference.domain.subscribers import Subscriber
from reference.runtime import Service, ServiceConfig

OTP_KEY = b"runtime-test-otp-key-0123456789!"
ADMIN = "admin-token-for-tests"
PUBLIC = "https://processor.test"
_CODE = re.compile(r"code is (\d{6})")

ASHA_NO = "+919812345678"  # DL, Rs 100
RAVI_NO = "+919876543210"  # DL, Rs 1
MEERA_NO = "+916300000003"  # KA, Rs 1000


def directory() -> list[Subscriber]:
    return [
        Subscriber(ASHA_NO, "DL", 10_000),
        Subscriber(RAVI_NO, "DL", 100),
        Subscriber(MEERA_NO, "KA", 100_000),
    ]


class Forward:
    """An ASGI app that forwards to ``target`` (set later: breaks the fakes <-> service cycle)."""

    def __init__(self) -> None:
        self.target: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.target(scope, receive, send)


@dataclass
class XUser:
    id: str
    username: str
    token: str


class Stack:
    """The three apps wired together; ``await stack.start()`` / ``await stack.stop()``."""

    def __init__(self, dsn: str = "memory://", *, sms_time_scale: float = 2_000.0, **overrides: Any) -> None:
        self.dsn = dsn
        self.overrides = overrides
        self.to_service = Forward()
        self.x_backend = TwitterBackend(seed=11, rate_limits="off")
        self.x_app = create_x_app(
            self.x_backend,
            webhook_client=httpx.AsyncClient(transport=httpx.ASGITransport(app=self.to_service)),
            retry_delays=(0.05, 0.1),
        )
        self.sms_app = create_sms_app(
            SmsBackend(clock=ScaledClock(sms_time_scale), seed=7),
            callback_client=httpx.AsyncClient(transport=httpx.ASGITransport(app=self.to_service)),
        )
        self.x = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.x_app), base_url="https://api.x.com"
        )
        self.sms = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.sms_app), base_url="https://api.twilio.com"
        )
        self.service: Service | None = None
        self.client: httpx.AsyncClient | None = None
        self.operator: XUser | None = None
        self._tweet_ids = 0

    async def user(self, username: str) -> XUser:
        response = await self.x.post("/_fake/users", json={"username": username})
        assert response.status_code == 201, response.text
        data = response.json()
        return XUser(str(data["id"]), username, data["bearer_token"])

    def config(self, **extra: Any) -> ServiceConfig:
        assert self.operator is not None
        values: dict[str, Any] = dict(
            dsn=self.dsn,
            operator_handle="tatadocomo",
            operator_user_id=self.operator.id,
            x_user_token=self.operator.token,
            x_app_token=self.x_backend.app.bearer_token,
            x_base_url="https://api.x.com",
            x_consumer_secret=self.x_backend.app.consumer_secret,
            twilio_account_sid=DEFAULT_ACCOUNT_SID,
            twilio_auth_token=DEFAULT_AUTH_TOKEN,
            twilio_base_url="https://api.twilio.com",
            twilio_from=DEFAULT_SHORT_CODE,
            public_base_url=PUBLIC,
            admin_token=ADMIN,
            web_secret="web-secret-for-tests-0123456789",
            idle_wait_s=0.02,
            web_rate_limit=False,
        )
        values.update(self.overrides)
        values.update(extra)
        return ServiceConfig(**values)

    def build_service(self, **extra: Any) -> Service:
        return build_service(
            self.config(**extra),
            x_http=self.x,
            sms_http=self.sms,
            settings=Settings(operator_handle="tatadocomo", otp_key=OTP_KEY),
            otp_source=SeededOtpSource(5),
            subscribers=directory(),
        )

    async def start(self, *, register_webhook: bool = True) -> Service:
        await self.sms_app.start()
        self.operator = await self.user("tatadocomo")
        self.service = self.build_service()
        self.to_service.target = self.service.app
        await self.service.start()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.service.app), base_url=PUBLIC)
        if register_webhook:
            assert self.service.x is not None
            hook = await self.service.x.create_webhook(self.service.config.webhook_url)
            assert hook.valid, "the CRC check failed"
            assert await self.service.x.subscribe(hook.id)
        return self.service

    async def stop(self) -> None:
        if self.service is not None:
            await self.service.stop()
        await self.x_app.dispatcher.aclose()
        await self.sms_app.stop()
        for client in (self.client, self.x, self.sms):
            if client is not None:
                await client.aclose()

    # acting as users --------------------------------------------------------------------------
    async def tweet(self, user: XUser, text: str) -> str:
        response = await self.x.post(
            "/2/tweets", json={"text": text}, headers={"Authorization": f"Bearer {user.token}"}
        )
        assert response.status_code == 201, response.text
        return str(response.json()["data"]["id"])

    async def dm(self, user: XUser, text: str) -> str:
        assert self.operator is not None
        response = await self.x.post(
            f"/2/dm_conversations/with/{self.operator.id}/messages",
            json={"text": text},
            headers={"Authorization": f"Bearer {user.token}"},
        )
        assert response.status_code == 201, response.text
        return str(response.json()["data"]["dm_event_id"])

    async def settle(self, timeout: float = 20.0) -> None:
        """Until X delivered every webhook and the service drained its queue and outbox."""
        assert self.service is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await self.x.post("/_fake/webhooks/drain", params={"timeout": "5"})
            if await self.service.drain(timeout=max(0.1, deadline - time.monotonic())):
                counters = (await self.x.get("/_fake/counters")).json()
                if counters.get("webhook_pending", 0) == 0:
                    return
            await asyncio.sleep(0.01)
        raise AssertionError("the stack did not settle")

    async def sms_to(self, number: str) -> list[dict[str, Any]]:
        response = await self.sms.get("/_fake/outbox", params={"to": number, "limit": "100"})
        assert response.status_code == 200, response.text
        body = response.json()
        return list(body.get("messages", body) if isinstance(body, dict) else body)

    async def code_for(self, number: str) -> str:
        for message in await self.sms_to(number):
            found = _CODE.search(str(message.get("body", "")))
            if found:
                return found.group(1)
        raise AssertionError(f"no code SMS to {number}")

    async def replies_to(self, tweet_id: str) -> list[dict[str, Any]]:
        assert self.operator is not None
        response = await self.x.get("/_fake/tweets", params={"username": "tatadocomo", "limit": "500"})
        tweets = response.json()
        tweets = tweets.get("data", tweets) if isinstance(tweets, dict) else tweets
        return [
            t
            for t in tweets
            if any(
                r.get("type") == "replied_to" and str(r.get("id")) == tweet_id
                for r in t.get("referenced_tweets", [])
            )
        ]

    async def admin_get(self, path: str) -> httpx.Response:
        assert self.client is not None
        return await self.client.get(path, headers={"Authorization": f"Bearer {ADMIN}"})
