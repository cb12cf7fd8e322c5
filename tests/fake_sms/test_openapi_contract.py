"""Contract tests: every Messages operation the SMS fake serves (create by From and by Messaging
Service, list with filters and paging, fetch, redact, delete), requests and responses validated
against Twilio's own OpenAPI (twilio_api_v2010.json), the way the X fake is checked against X's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sms_contract import ContractRecorder, twilio_spec

from fake_sms import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_LONG_CODE,
    DEFAULT_SERVICE_SID,
    ManualClock,
    SmsBackend,
    create_app,
)

BASE = f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}"
TO = "+919812345678"


@pytest.fixture
def backend() -> SmsBackend:
    backend = SmsBackend(clock=ManualClock(), seed=3)
    backend.configure({"carrier": {"default": {"failure_rates": {}}}})
    return backend


@pytest.fixture
async def checked(backend: SmsBackend) -> AsyncIterator[tuple[httpx.AsyncClient, ContractRecorder]]:
    recorder = ContractRecorder()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(backend)),
        base_url="https://api.twilio.com",
        auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN),
        event_hooks={"response": [recorder]},
    ) as client:
        yield client, recorder


async def test_every_messages_operation_matches_twilios_spec(checked, backend):
    """Create (From; Messaging Service with from null and num_segments "0"), fetch in each state,
    list with To/From/DateSent filters and paging, redact, delete: all valid against the spec."""
    client, recorder = checked
    direct = await client.post(
        f"{BASE}/Messages.json",
        data={"To": TO, "From": DEFAULT_LONG_CODE, "Body": "Your code is 482913", "ValidityPeriod": "600"},
    )
    assert direct.status_code == 201
    service = await client.post(
        f"{BASE}/Messages.json",
        data={"To": TO, "MessagingServiceSid": DEFAULT_SERVICE_SID, "Body": "नमस्ते " * 20},
    )
    assert service.status_code == 201
    assert service.json()["from"] is None and service.json()["num_segments"] == "0"
    sid = direct.json()["sid"]
    assert (await client.get(f"{BASE}/Messages/{sid}.json")).json()["status"] in ("queued", "sending")
    backend.advance(120)
    delivered = await client.get(f"{BASE}/Messages/{sid}.json")
    assert delivered.json()["status"] == "delivered"
    service_after = await client.get(f"{BASE}/Messages/{service.json()['sid']}.json")
    assert service_after.json()["from"].startswith("+1500555") and service_after.json()["num_segments"] == "3"
    day = backend.dates.datetime(backend.clock.now_us()).strftime("%Y-%m-%dT00:00:00Z")
    listing = await client.get(
        f"{BASE}/Messages.json", params={"To": TO, "From": DEFAULT_LONG_CODE, "DateSent>": day, "PageSize": 1}
    )
    assert [m["sid"] for m in listing.json()["messages"]] == [sid]
    everything = await client.get(f"{BASE}/Messages.json", params={"PageSize": 1})
    assert everything.json()["next_page_uri"] is not None
    second = await client.get(f"{BASE}/Messages.json", params={"PageSize": 1, "Page": 1})
    assert len(second.json()["messages"]) == 1
    redacted = await client.post(f"{BASE}/Messages/{sid}.json", data={"Body": ""})
    assert redacted.status_code == 200 and redacted.json()["body"] == ""
    assert (await client.delete(f"{BASE}/Messages/{sid}.json")).status_code == 204
    seen = {(method, status) for method, _, status in recorder.seen}
    assert seen == {("POST", 201), ("GET", 200), ("POST", 200), ("DELETE", 204)}
    assert len(recorder.seen) == 10


async def test_error_answers_are_twilios_error_body(checked, backend):
    """Bad creates, a bad redaction, an unknown sid and a premature delete: requests valid against the
    spec, answers in Twilio's {code, message, more_info, status} (checked by the recorder)."""
    client, recorder = checked
    cases = [
        (
            "POST",
            f"{BASE}/Messages.json",
            {"To": "12345", "From": DEFAULT_LONG_CODE, "Body": "x"},
            400,
            21211,
        ),
        ("POST", f"{BASE}/Messages.json", {"To": TO, "Body": "x"}, 400, 21603),
        ("POST", f"{BASE}/Messages.json", {"To": TO, "From": DEFAULT_LONG_CODE}, 400, 21602),
        ("GET", f"{BASE}/Messages/SM{'0' * 32}.json", None, 404, 20404),
    ]
    for method, path, data, status, code in cases:
        response = await client.request(method, path, data=data)
        assert (response.status_code, response.json()["code"]) == (status, code)
    queued = await client.post(
        f"{BASE}/Messages.json", data={"To": TO, "From": DEFAULT_LONG_CODE, "Body": "x"}
    )
    sid = queued.json()["sid"]
    early = await client.delete(f"{BASE}/Messages/{sid}.json")
    assert (early.status_code, early.json()["code"]) == (409, 20009)
    rewrite = await client.post(f"{BASE}/Messages/{sid}.json", data={"Body": "other text"})
    assert (rewrite.status_code, rewrite.json()["code"]) == (400, 30400)
    assert len(recorder.seen) == 7


def test_the_spec_lists_exactly_the_fakes_message_operations():
    """The operations checked above are all of Twilio's Message operations (no Media or Feedback)."""
    paths = twilio_spec().spec / "paths"
    message_ops = {
        (method.upper(), path)
        for path in (
            "/2010-04-01/Accounts/{AccountSid}/Messages.json",
            "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json",
        )
        for method in (paths / path).keys()
        if method in ("get", "post", "delete")
    }
    assert message_ops == {
        ("POST", "/2010-04-01/Accounts/{AccountSid}/Messages.json"),
        ("GET", "/2010-04-01/Accounts/{AccountSid}/Messages.json"),
        ("GET", "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json"),
        ("POST", "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json"),
        ("DELETE", "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json"),
    }
