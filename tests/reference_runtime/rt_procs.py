"""Helpers for tests that run ``twittcom serve`` as a real process on loopback.

* :func:`serve_in_thread`: uvicorn in a thread of the test process (for stub upstream APIs);
* :func:`stub_upstream`: a minimal X + Twilio stand-in answering every send with 201;
* :class:`ServeProcess`: ``twittcom serve`` in a subprocess, with start, SIGTERM and SIGKILL;
* :func:`prepare_linked_users`: a database whose users have already registered and verified;
* :func:`signed_mention`: a signed Account Activity delivery of one mention.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from reference.bootstrap import Settings, build_processor, open_store
from reference.clients.signatures import x_signature
from reference.domain.commands import Inbound
from reference.domain.otp import SeededOtpSource
from reference.domain.outcomes import SendSms
from reference.domain.subscribers import Subscriber
from reference.service.ports import SystemClock

REPO_ROOT = Path(__file__).resolve().parents[2]
OTP_KEY = b"process-test-otp-key-0123456789!"
WEB_SECRET = "process-test-web-secret-0123456789"
SECRET = "consumer-secret-for-process-tests"
OPERATOR_ID = "900000000000000001"
ADMIN = "process-admin-token"
TWILIO_SID = "AC0123456789abcdef0123456789abcdef"  # the SMS fake's default account
TWILIO_TOKEN = "c0ffee00c0ffee00c0ffee00c0ffee00"
_CODE = re.compile(r"code is (\d{6})")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a daemon thread on a free loopback port; yields its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def stub_upstream() -> Starlette:
    """X and Twilio reduced to "201 Created" (counts what it was sent in ``app.state.sent``)."""
    ids = itertools.count(1_900_000_000_000_000_000)
    sent: dict[str, int] = {"tweets": 0, "dms": 0, "sms": 0}

    async def tweet(request: Request) -> JSONResponse:
        body = await request.json()
        sent["tweets"] += 1
        return JSONResponse({"data": {"id": str(next(ids)), "text": body["text"]}}, status_code=201)

    async def dm(request: Request) -> JSONResponse:
        sent["dms"] += 1
        event = str(next(ids))
        return JSONResponse({"data": {"dm_conversation_id": "1-2", "dm_event_id": event}}, status_code=201)

    async def sms(request: Request) -> JSONResponse:
        sent["sms"] += 1
        return JSONResponse({"sid": "SM" + secrets.token_hex(16), "status": "queued", "num_segments": "1"},
                            status_code=201)  # fmt: skip

    app = Starlette(
        routes=[
            Route("/2/tweets", tweet, methods=["POST"]),
            Route("/2/dm_conversations/with/{participant}/messages", dm, methods=["POST"]),
            Route("/2010-04-01/Accounts/{sid}/Messages.json", sms, methods=["POST"]),
        ]
    )
    app.state.sent = sent
    return app


@dataclass
class ServeProcess:
    """``twittcom serve`` as a child process."""

    dsn: str
    upstream: str
    port: int
    log: Path
    workers: int = 1
    process: subprocess.Popen[bytes] | None = None
    twilio: str | None = None  # the SMS fake's URL (default: the stub upstream)
    extra_env: dict[str, str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            PYTHONPATH=str(REPO_ROOT),
            TWITTCOM_DSN=self.dsn,
            TWITTCOM_OPERATOR_HANDLE="tatadocomo",
            TWITTCOM_OPERATOR_USER_ID=OPERATOR_ID,
            TWITTCOM_X_USER_TOKEN="operator-token",
            TWITTCOM_X_BASE_URL=self.upstream,
            TWITTCOM_X_CONSUMER_SECRET=SECRET,
            TWITTCOM_TWILIO_ACCOUNT_SID=TWILIO_SID,
            TWITTCOM_TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
            TWITTCOM_TWILIO_BASE_URL=self.twilio or self.upstream,
            TWITTCOM_TWILIO_FROM="54321",
            TWITTCOM_PUBLIC_BASE_URL=self.url,
            TWITTCOM_ADMIN_TOKEN=ADMIN,
            TWITTCOM_OTP_KEY=OTP_KEY.hex(),
            TWITTCOM_WEB_SECRET=WEB_SECRET,  # shared by every process, as --processes N requires
            TWITTCOM_WORKERS=str(self.workers),
            TWITTCOM_X_USER_TWEET_LIMIT="0",
            TWITTCOM_X_APP_TWEET_LIMIT="0",
            TWITTCOM_IDLE_WAIT_S="0.05",
            TWITTCOM_LEASE_S="2",
        )
        env.update(self.extra_env or {})
        return env

    def start(self, timeout: float = 30.0) -> None:
        command = [sys.executable, "-c", "from twittcom.cli import main; main()", "serve",
                   "--port", str(self.port), "--log-level", "warning"]  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=REPO_ROOT, env=self.env(), stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"serve did not get ready: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def terminate(self) -> int:
        assert self.process is not None
        self.process.terminate()
        return self.process.wait(timeout=30)

    def stats(self) -> dict[str, Any]:
        response = httpx.get(
            self.url + "/admin/stats", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def wait_drained(self, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stats = self.stats()
            if stats["queues"]["inbound_pending"] == 0 and stats["queues"]["outbox_due"] == 0:
                return stats
            time.sleep(0.1)
        raise AssertionError(f"not drained: {self.stats()}")


def prepare_linked_users(dsn: str, count: int, balance_paise: int) -> list[tuple[str, str, str]]:
    """Subscribers ``+9198000000NN`` in Delhi, each registered and verified by its own user.

    Returns (user id, handle, number) per user.
    """
    store = open_store(dsn)
    users = [(str(500 + i), f"user{i}", f"+9198{i:08d}") for i in range(count)]
    store.add_subscribers(Subscriber(number, "DL", balance_paise) for _, _, number in users)
    processor = build_processor(
        store, Settings(operator_handle="tatadocomo", otp_key=OTP_KEY), clock=SystemClock(),
        otp_source=SeededOtpSource(3),
    )  # fmt: skip
    for user_id, handle, number in users:
        now = datetime.now(UTC)
        reg = processor.process(
            Inbound("tweet", f"reg{user_id}", user_id, handle, f"@tatadocomo #reg {number}", now)
        )
        code = next(
            _CODE.search(e.text).group(1)  # type: ignore[union-attr]
            for e in reg.effects
            if isinstance(e, SendSms) and _CODE.search(e.text)
        )
        verify = Inbound("tweet", f"ver{user_id}", user_id, handle, f"@tatadocomo {code}", datetime.now(UTC))
        assert processor.process(verify).outcome.value == "registered"
    store.close()
    return users


def signed_mention(tweet_id: str, user_id: str, handle: str, text: str) -> tuple[bytes, dict[str, str]]:
    """A v1.1 ``tweet_create_events`` delivery of one mention of the operator, signed as X signs it."""
    payload = {
        "for_user_id": OPERATOR_ID,
        "user_has_blocked": "false",
        "tweet_create_events": [
            {
                "id": int(tweet_id),
                "id_str": tweet_id,
                "text": text,
                "truncated": False,
                "user": {"id": int(user_id), "id_str": user_id, "screen_name": handle},
                "entities": {
                    "hashtags": [],
                    "user_mentions": [
                        {"screen_name": "tatadocomo", "id_str": OPERATOR_ID, "indices": [0, 11]}
                    ],
                },
            }
        ],
    }
    body = json.dumps(payload).encode()
    return body, {
        "x-twitter-webhooks-signature": x_signature(body, SECRET),
        "content-type": "application/json",
    }


def sms_copies(twilio_url: str) -> dict[tuple[str, str], int]:
    """How many messages the SMS fake holds per (To, Body), read through Twilio's own list API."""
    copies: dict[tuple[str, str], int] = {}
    url: str | None = f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json?PageSize=1000"
    with httpx.Client(base_url=twilio_url, auth=(TWILIO_SID, TWILIO_TOKEN), timeout=30) as client:
        while url:
            page = client.get(url).raise_for_status().json()
            for m in page["messages"]:
                key = (m["to"], m["body"])
                copies[key] = copies.get(key, 0) + 1
            url = page.get("next_page_uri")
    return copies


def sms_duplicates(
    copies: dict[tuple[str, str], int], rows: list[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """Copies at the gateway beyond what the outbox asked for, per (To, Body).

    ``rows`` are the (recipient, text) of the sent SMS rows; a text the outbox no longer holds
    (a code SMS, stored redacted) was asked for once."""
    wanted: dict[tuple[str, str], int] = {}
    for key in rows:
        wanted[key] = wanted.get(key, 0) + 1
    return {key: n - wanted.get(key, 1) for key, n in copies.items() if n > wanted.get(key, 1)}
