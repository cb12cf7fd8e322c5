"""Webhook delivery over real sockets: the served fake POSTs to a receiver served on loopback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from typing import Any
from urllib.parse import parse_qs

import httpx
import uvicorn
from ft_support import ServedFake

from fake_twitter import DEFAULT_CONSUMER_SECRET


class ReceiverApp:
    """A raw ASGI webhook endpoint: answers CRCs with the documented HMAC and records POSTed bodies."""

    def __init__(self) -> None:
        self.bodies: list[tuple[bytes, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["method"] == "GET":
            token = parse_qs(scope["query_string"].decode())["crc_token"][0]
            digest = hmac.new(DEFAULT_CONSUMER_SECRET.encode(), token.encode(), hashlib.sha256).digest()
            payload = json.dumps({"response_token": "sha256=" + base64.b64encode(digest).decode()}).encode()
        else:
            headers = dict(scope["headers"])
            self.bodies.append((body, headers[b"x-twitter-webhooks-signature"].decode()))
            payload = b"{}"
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def test_mentions_reach_a_receiver_over_loopback():
    """Register, subscribe, mention: the receiver on a loopback port gets a correctly signed payload."""
    receiver = ReceiverApp()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(receiver, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.01)
        with ServedFake() as fake:
            operator = fake.control("POST", "/_fake/users", json={"username": "docomo"})
            alice = fake.control("POST", "/_fake/users", json={"username": "alice"})
            app_token = fake.control("GET", "/_fake/app")["bearer_token"]
            created = httpx.post(
                f"{fake.base_url}/2/webhooks",
                json={"url": f"http://127.0.0.1:{port}/twitter/webhook"},
                headers={"Authorization": f"Bearer {app_token}"},
            ).json()
            httpx.post(
                f"{fake.base_url}/2/account_activity/webhooks/{created['id']}/subscriptions/all",
                json={},
                headers={"Authorization": f"Bearer {operator['bearer_token']}"},
            ).raise_for_status()
            httpx.post(
                f"{fake.base_url}/2/tweets",
                json={"text": "@docomo #reg 9876543210"},
                headers={"Authorization": f"Bearer {alice['bearer_token']}"},
            ).raise_for_status()
            drained = fake.control("POST", "/_fake/webhooks/drain", params={"timeout": "5"})
        assert drained["drained"] and drained["webhook_delivered"] == 1
        ((body, signature),) = receiver.bodies
        expected = hmac.new(DEFAULT_CONSUMER_SECRET.encode(), body, hashlib.sha256).digest()
        assert signature == "sha256=" + base64.b64encode(expected).decode()
        assert json.loads(body)["tweet_create_events"][0]["text"] == "@docomo #reg 9876543210"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
