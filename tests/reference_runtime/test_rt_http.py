"""The service's HTTP surface: CRC and signatures, bad input, admin auth, health, metrics, callbacks."""

from __future__ import annotations

import asyncio
import json

import httpx
from rt_stack import ASHA_NO, PUBLIC, Stack

from fake_sms import DEFAULT_AUTH_TOKEN
from reference.clients import twilio_signature, x_crc_response, x_signature
from reference.domain.errors import StorageError


def _signed(stack: Stack, payload: object) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, {"x-twitter-webhooks-signature": x_signature(body, stack.x_backend.app.consumer_secret)}


async def test_crc_answers_with_the_hmac_of_the_token(stack: Stack) -> None:
    """GET /webhooks/x?crc_token= answers X's documented response_token; no token is a 400."""
    assert stack.client is not None
    response = await stack.client.get("/webhooks/x", params={"crc_token": "abc"})
    assert response.json() == x_crc_response("abc", stack.x_backend.app.consumer_secret)
    missing = await stack.client.get("/webhooks/x")
    assert missing.status_code == 400 and missing.json()["error"] == "bad_payload"


async def test_webhook_rejects_bad_signatures_and_garbage(stack: Stack) -> None:
    """A wrong signature is 403; a signed non-JSON or malformed body is 400 JSON, never a 500."""
    assert stack.client is not None
    body = b'{"for_user_id": "1", "tweet_create_events": []}'
    wrong = await stack.client.post(
        "/webhooks/x", content=body, headers={"x-twitter-webhooks-signature": "x"}
    )
    assert wrong.status_code == 403 and wrong.json()["error"] == "bad_signature"
    unsigned = await stack.client.post("/webhooks/x", content=body)
    assert unsigned.status_code == 403
    secret = stack.x_backend.app.consumer_secret
    for garbage in (
        b"not json",
        b"[1, 2]",
        b'{"tweet_create_events": "x"}',
        b'{"tweet_create_events": [{"id": 1}]}',
    ):
        response = await stack.client.post(
            "/webhooks/x",
            content=garbage,
            headers={"x-twitter-webhooks-signature": x_signature(garbage, secret)},
        )
        assert response.status_code == 400, garbage
        assert response.json()["error"] == "bad_payload"


async def test_webhook_keeps_mentions_and_dms_to_the_operator_only(stack: Stack) -> None:
    """Own tweets, retweets, other accounts' activity and DMs sent by the operator are not queued."""
    assert stack.client is not None and stack.operator is not None
    op = stack.operator.id
    mention = {"user_mentions": [{"screen_name": "tatadocomo", "id_str": op}]}
    asha, own = {"id_str": "7", "screen_name": "asha"}, {"id_str": op, "screen_name": "tatadocomo"}
    tweets = [
        {"id_str": "11", "text": "@tatadocomo #reg 9812345678", "user": asha, "entities": mention},
        {"id_str": "12", "text": "@tatadocomo hi", "user": own, "entities": mention},
        {"id_str": "13", "text": "RT @tatadocomo", "retweeted_status": {}, "user": asha, "entities": mention},
        {"id_str": "14", "text": "hello @someone", "user": asha,
         "entities": {"user_mentions": [{"screen_name": "someone", "id_str": "99"}]}},
    ]  # fmt: skip
    body, headers = _signed(stack, {"for_user_id": op, "tweet_create_events": tweets})
    assert (await stack.client.post("/webhooks/x", content=body, headers=headers)).json() == {
        "accepted": 1,
        "new": 1,
    }

    def dm(event_id: str, sender: str, recipient: str, text: str) -> dict[str, object]:
        create = {"target": {"recipient_id": recipient}, "sender_id": sender, "message_data": {"text": text}}
        return {"type": "message_create", "id": event_id, "message_create": create}

    dms = [dm("21", "7", op, "reg 9812345678"), dm("22", op, "7", "our answer")]
    payload = {"for_user_id": op, "direct_message_events": dms, "users": {"7": {"screen_name": "asha"}}}
    body, headers = _signed(stack, payload)
    assert (await stack.client.post("/webhooks/x", content=body, headers=headers)).json()["accepted"] == 1
    body, headers = _signed(stack, {"for_user_id": "123", "tweet_create_events": tweets})
    assert (await stack.client.post("/webhooks/x", content=body, headers=headers)).json()["accepted"] == 0
    body, headers = _signed(stack, {"for_user_id": op, "tweet_create_events": tweets[:1]})
    assert (await stack.client.post("/webhooks/x", content=body, headers=headers)).json() == {
        "accepted": 1,
        "new": 0,
    }


async def test_admin_api_needs_the_bearer_token(stack: Stack) -> None:
    """Admin routes answer 401 without the token, and 400/404 JSON for bad or unknown lookups."""
    assert stack.client is not None
    assert (await stack.client.get("/admin/catalog")).status_code == 401
    bad = await stack.client.get("/admin/catalog", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["error"] == "unauthorized"
    catalog = (await stack.admin_get("/admin/catalog?circle=DL")).json()["packs"]
    assert catalog and all(p["circle"] == "DL" for p in catalog)
    assert (await stack.admin_get(f"/admin/subscribers/{ASHA_NO}")).json()["balance_paise"] == 10_000
    assert (await stack.admin_get("/admin/subscribers/12")).status_code == 400
    assert (await stack.admin_get("/admin/subscribers/9999999999")).status_code == 404
    assert (await stack.admin_get("/admin/handles/nobody")).status_code == 404


async def test_health_readiness_and_metrics(stack: Stack) -> None:
    """healthz is 200; readyz reports migrations and clients; /metrics exposes the service's figures."""
    assert stack.client is not None
    assert (await stack.client.get("/healthz")).json() == {"status": "ok"}
    ready = await stack.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["migrations"] is True
    text = (await stack.client.get("/metrics")).text
    for name in ("twittcom_queue_depth", "twittcom_x_write_budget_left", "twittcom_code_send_latency_seconds",
                 "twittcom_replies_skipped_budget_total", "twittcom_activations_total"):  # fmt: skip
        assert name in text, name


async def test_readiness_fails_before_start_and_with_missing_credentials() -> None:
    """A service not started, or started without X/Twilio credentials, is not ready (503)."""
    stack = Stack("memory://")
    await stack.sms_app.start()
    stack.operator = await stack.user("tatadocomo")
    service = stack.build_service(x_user_token="", twilio_auth_token="")
    client = stack.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=service.app), base_url=PUBLIC)
    try:
        assert (await client.get("/readyz")).status_code == 503
        await service.start()
        stack.service = service
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and "x_user_token" in ready.json()["checks"]["clients"]
    finally:
        await stack.stop()


async def test_sms_callbacks_are_verified_and_land_in_the_timeline(stack: Stack) -> None:
    """A forged status callback is 403; real ones from the gateway put sms_status entries on the timeline
    and the code's delivery time in the histogram."""
    assert stack.client is not None
    form = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"}
    url = PUBLIC + "/callbacks/twilio/status"
    forged = await stack.client.post(url, data=form, headers={"X-Twilio-Signature": "bm9wZQ=="})
    assert forged.status_code == 403
    signed = await stack.client.post(
        url, data=form, headers={"X-Twilio-Signature": twilio_signature(url, form, DEFAULT_AUTH_TOKEN)}
    )
    assert signed.status_code == 204  # an unknown sid is acknowledged and ignored
    asha = await stack.user("asha")
    await stack.tweet(asha, "@tatadocomo #reg 9812345678")
    await stack.settle()
    for _ in range(200):
        timeline = (await stack.admin_get("/admin/handles/asha/timeline")).json()["entries"]
        if any(e["kind"] == "sms_status" and "delivered" in e["text"] for e in timeline):
            break
        await asyncio.sleep(0.02)
    kinds = [e["kind"] for e in timeline]
    assert kinds[:3] == ["tweet_in", "tweet_out", "sms_out"] and "sms_status" in kinds
    code = await stack.code_for(ASHA_NO)
    assert code not in json.dumps(timeline), "the code must not appear in the timeline"
    text = (await stack.client.get("/metrics")).text
    assert "twittcom_code_delivery_seconds_count 1.0" in text
    assert 'twittcom_sms_callbacks_total{status="delivered"}' in text


async def test_a_store_failure_is_a_503_so_x_delivers_again(stack: Stack, monkeypatch) -> None:
    """When the event cannot be committed the webhook answers 503 JSON (not acknowledged), never a 500."""
    assert stack.client is not None and stack.service is not None and stack.operator is not None

    async def broken(events: object, source: str) -> int:
        raise StorageError("disk I/O error")

    monkeypatch.setattr(stack.service, "enqueue", broken)
    mention = {"user_mentions": [{"screen_name": "tatadocomo", "id_str": stack.operator.id}]}
    tweet = {
        "id_str": "31",
        "text": "@tatadocomo #reg 9812345678",
        "user": {"id_str": "7"},
        "entities": mention,
    }
    body, headers = _signed(stack, {"for_user_id": stack.operator.id, "tweet_create_events": [tweet]})
    response = await stack.client.post("/webhooks/x", content=body, headers=headers)
    assert response.status_code == 503 and response.json()["error"] == "store_unavailable"
