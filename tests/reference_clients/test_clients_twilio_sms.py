"""TwilioSmsClient against a respx-mocked Twilio Messages API: form, auth, parsing, typed errors."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from clients_support import ACCOUNT_SID, AUTH_TOKEN

from reference.clients import (
    TwilioError,
    TwilioInvalidNumber,
    TwilioQueueFull,
    TwilioServiceUnavailable,
    TwilioSmsClient,
    TwilioThrottled,
)

MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
CREATED = {
    "sid": "SM" + "a" * 32,
    "status": "queued",
    "num_segments": "2",
    "to": "+919812345678",
    "from": "+15005550006",
    "error_code": None,
    "account_sid": ACCOUNT_SID,
}


def twilio_error(status: int, code: int, message: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


async def test_send_posts_form_with_basic_auth(
    sms_client: TwilioSmsClient, twilio_router: respx.MockRouter
) -> None:
    """A message is form-encoded to the account's Messages.json with Basic AccountSid:AuthToken."""
    route = twilio_router.post(MESSAGES).respond(201, json=CREATED)
    sent = await sms_client.send_sms(
        "+919812345678", "Code 123456", status_callback="https://op.example/sms/status", validity_period=600
    )
    request = route.calls.last.request
    expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
    assert form == {
        "To": "+919812345678",
        "Body": "Code 123456",
        "From": "+15005550006",
        "StatusCallback": "https://op.example/sms/status",
        "ValidityPeriod": "600",
    }
    assert (sent.sid, sent.status, sent.num_segments, sent.to) == (
        CREATED["sid"],
        "queued",
        2,
        "+919812345678",
    )


async def test_messaging_service_replaces_from(twilio_router: respx.MockRouter) -> None:
    """With only a MessagingServiceSid configured, it is sent and no From is."""
    route = twilio_router.post(MESSAGES).respond(201, json=CREATED)
    async with httpx.AsyncClient(
        base_url="https://api.twilio.test", transport=httpx.MockTransport(twilio_router.async_handler)
    ) as http:
        client = TwilioSmsClient(http, account_sid=ACCOUNT_SID, auth_token="t", messaging_service_sid="MG1")
        await client.send_sms("+919812345678", "hi")
    form = parse_qs(route.calls.last.request.content.decode())
    assert form["MessagingServiceSid"] == ["MG1"] and "From" not in form


async def test_sender_and_validity_are_checked_locally(twilio_router: respx.MockRouter) -> None:
    """No sender at all, or a ValidityPeriod outside 1..36000 s, is refused before sending."""
    route = twilio_router.post(MESSAGES).respond(201, json=CREATED)
    async with httpx.AsyncClient(
        base_url="https://api.twilio.test", transport=httpx.MockTransport(twilio_router.async_handler)
    ) as http:
        client = TwilioSmsClient(http, account_sid=ACCOUNT_SID, auth_token="t")
        with pytest.raises(ValueError):
            await client.send_sms("+919812345678", "hi")
        with pytest.raises(ValueError):
            await client.send_sms("+919812345678", "hi", from_number="+1500", validity_period=36_001)
    assert route.call_count == 0


@pytest.mark.parametrize(
    ("status", "code", "expected", "retryable"),
    [
        (429, 20429, TwilioThrottled, True),
        (400, 21611, TwilioQueueFull, False),
        (400, 21211, TwilioInvalidNumber, False),
        (400, 21602, TwilioError, False),
        (503, 20503, TwilioServiceUnavailable, True),
    ],
)
async def test_error_codes_map_to_typed_exceptions(
    sms_client: TwilioSmsClient,
    twilio_router: respx.MockRouter,
    status: int,
    code: int,
    expected: type[TwilioError],
    retryable: bool,
) -> None:
    """Twilio's error code picks the exception class; code, message and status are carried."""
    twilio_router.post(MESSAGES).mock(return_value=twilio_error(status, code, "nope"))
    with pytest.raises(expected) as caught:
        await sms_client.send_sms("+919812345678", "hi")
    assert type(caught.value) is expected
    assert (caught.value.code, caught.value.message, caught.value.status) == (code, "nope", status)
    assert caught.value.more_info == f"https://www.twilio.com/docs/errors/{code}"
    assert caught.value.retryable is retryable


async def test_bare_429_is_throttled_with_retry_after(
    sms_client: TwilioSmsClient, twilio_router: respx.MockRouter
) -> None:
    """A 429 without Twilio's JSON still means 20429, and Retry-After is kept for the retrier."""
    twilio_router.post(MESSAGES).respond(429, text="slow down", headers={"retry-after": "2"})
    with pytest.raises(TwilioThrottled) as caught:
        await sms_client.send_sms("+919812345678", "hi")
    assert caught.value.code == 20429 and caught.value.retry_after == 2.0


async def test_success_without_sid_is_an_error(
    sms_client: TwilioSmsClient, twilio_router: respx.MockRouter
) -> None:
    """A 2xx that does not describe a message raises TwilioError rather than returning junk."""
    twilio_router.post(MESSAGES).respond(201, json={"status": "queued"})
    with pytest.raises(TwilioError):
        await sms_client.send_sms("+919812345678", "hi")


async def test_missing_segments_default_to_one(
    sms_client: TwilioSmsClient, twilio_router: respx.MockRouter
) -> None:
    """num_segments may be absent right after creation; it then counts as one segment."""
    twilio_router.post(MESSAGES).respond(201, json={"sid": "SM1", "status": "accepted"})
    sent = await sms_client.send_sms("+919812345678", "hi")
    assert (sent.num_segments, sent.status, sent.error_code) == (1, "accepted", None)
