"""The official twilio 9.x client, unmodified, against the fake served by uvicorn on loopback."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from fake_sms import DEFAULT_ACCOUNT_SID, DEFAULT_LONG_CODE, DEFAULT_SERVICE_SID, DEFAULT_SHORT_CODE

TO = "+919812345678"


def test_client_version_is_pinned():
    """The dev extra pins twilio 9.13.0, the version these tests were written against."""
    import twilio

    assert twilio.__version__ == "9.13.0"


def test_create_returns_twilio_fields(twilio_client):
    """Create answers with a queued SM sid, RFC 2822 dates, segments, and no price until sent."""
    message = twilio_client.messages.create(to=TO, from_=DEFAULT_SHORT_CODE, body="Your code is 482913")
    assert message.sid.startswith("SM") and len(message.sid) == 34
    int(message.sid[2:], 16)
    assert message.status == "queued"
    assert message.account_sid == DEFAULT_ACCOUNT_SID
    assert message.to == TO and message.from_ == DEFAULT_SHORT_CODE
    assert message.num_segments == "1"
    assert message.date_created is not None and message.date_created.tzinfo is not None
    assert message.date_sent is None and message.price is None
    assert message.direction == "outbound-api"


def test_fetch_follows_the_lifecycle(twilio_client, served):
    """Fetch shows the message in flight, then delivered with date_sent and price once carrier time
    has passed."""
    served.backend.configure({"carrier": {"default": {"failure_rates": {}}}})
    created = twilio_client.messages.create(to=TO, from_=DEFAULT_SHORT_CODE, body="Ünïcödé ✓ code 1")
    assert twilio_client.messages(created.sid).fetch().status in ("queued", "sending")
    served.backend.advance(120)
    fetched = twilio_client.messages(created.sid).fetch()
    assert fetched.status == "delivered"
    assert fetched.date_sent is not None
    assert fetched.price == "-0.25000" and fetched.price_unit == "INR"
    assert fetched.error_code is None


def test_messaging_service_message_is_accepted(twilio_client, served):
    """A Messaging Service send starts accepted with from null and num_segments "0", as Twilio
    documents ("0 until a sender is assigned"); once queued it shows the pool number and segments,
    and the phone gets it from that number."""
    served.backend.configure({"carrier": {"default": {"failure_rates": {}}}})
    message = twilio_client.messages.create(to=TO, messaging_service_sid=DEFAULT_SERVICE_SID, body="hi")
    assert message.status == "accepted"
    assert message.messaging_service_sid == DEFAULT_SERVICE_SID
    assert message.from_ is None and message.num_segments == "0"
    queued = twilio_client.messages(message.sid).fetch()
    assert queued.status in ("queued", "sending", "sent")
    assert queued.from_.startswith("+1500555") and queued.num_segments == "1"
    served.backend.advance(120)
    received = served.backend.handset_messages(TO)[-1]
    assert received.sid == message.sid and received.from_ == queued.from_


def test_body_redaction_keeps_the_handset_copy(twilio_client, served):
    """messages(sid).update(body="") redacts the stored body (it was a 405); the phone keeps the text
    it received, the record keeps its status and price, and only an empty Body is accepted (30400)."""
    served.backend.configure({"carrier": {"default": {"failure_rates": {}}}})
    created = twilio_client.messages.create(to=TO, from_=DEFAULT_SHORT_CODE, body="Your code is 482913")
    served.backend.advance(120)
    redacted = twilio_client.messages(created.sid).update(body="")
    assert redacted.body == "" and redacted.status == "delivered" and redacted.price == "-0.25000"
    assert twilio_client.messages(created.sid).fetch().body == ""
    assert served.backend.handset_messages(TO)[-1].body == "Your code is 482913"
    in_flight = twilio_client.messages.create(to=TO, from_=DEFAULT_SHORT_CODE, body="code 111222")
    assert twilio_client.messages(in_flight.sid).update(body="").body == ""
    served.backend.advance(120)
    assert served.backend.handset_messages(TO)[-1].body == "code 111222"
    for bad in ({"body": "new text"}, {"status": "canceled"}, {"status": "sent"}):
        with pytest.raises(TwilioRestException) as caught:
            twilio_client.messages(created.sid).update(**bad)
        assert caught.value.status == 400 and caught.value.code == 30400
    with pytest.raises(TwilioRestException) as missing:
        twilio_client.messages("SM" + "0" * 32).update(body="")
    assert missing.value.status == 404


def test_list_pages_through_every_message(twilio_client):
    """Listing with a small page size follows next_page_uri through all messages, newest first."""
    sids = [
        twilio_client.messages.create(to=TO, from_=DEFAULT_SHORT_CODE, body=f"m{i}").sid for i in range(7)
    ]
    listed = [m.sid for m in twilio_client.messages.list(page_size=3)]
    assert listed == list(reversed(sids))
    page = twilio_client.messages.page(page_size=3)
    assert len(list(page)) == 3
    assert page.next_page_url is not None and page.previous_page_url is None
    second = page.next_page()
    assert [m.sid for m in second] == list(reversed(sids))[3:6]


def test_list_filters_by_to_and_from(twilio_client):
    """The To and From filters select matching messages only."""
    twilio_client.messages.create(to=TO, from_=DEFAULT_SHORT_CODE, body="a")
    twilio_client.messages.create(to="+919800000001", from_=DEFAULT_LONG_CODE, body="b")
    assert [m.body for m in twilio_client.messages.list(to="+919800000001")] == ["b"]
    assert [m.body for m in twilio_client.messages.list(from_=DEFAULT_SHORT_CODE)] == ["a"]


def test_list_filters_by_date_sent(twilio_client, served):
    """DateSent matches the sent day; messages not yet sent are left out."""
    sent = twilio_client.messages.create(to=TO, from_=DEFAULT_SHORT_CODE, body="sent")
    served.backend.advance(5)
    twilio_client.messages.create(to=TO, from_=DEFAULT_SHORT_CODE, body="queued")
    day = served.backend.dates.datetime(0)
    assert [m.sid for m in twilio_client.messages.list(date_sent=day)] == [sent.sid]


def test_delete_after_final_status(twilio_client, served):
    """A delivered message can be deleted, after which fetching it is a 20404."""
    served.backend.configure({"carrier": {"default": {"failure_rates": {}}}})
    message = twilio_client.messages.create(to=TO, from_=DEFAULT_SHORT_CODE, body="bye")
    served.backend.advance(300)
    assert twilio_client.messages(message.sid).delete() is True
    with pytest.raises(TwilioRestException) as err:
        twilio_client.messages(message.sid).fetch()
    assert err.value.code == 20404 and err.value.status == 404


def test_delete_before_final_status_is_refused(twilio_client):
    """Deleting a message still in flight fails with 20009."""
    message = twilio_client.messages.create(to=TO, from_=DEFAULT_SHORT_CODE, body="in flight")
    with pytest.raises(TwilioRestException) as err:
        twilio_client.messages(message.sid).delete()
    assert err.value.code == 20009


@pytest.mark.parametrize(
    ("kwargs", "code", "status"),
    [
        ({"to": "98123", "from_": DEFAULT_SHORT_CODE, "body": "x"}, 21211, 400),
        ({"to": "+91 98123 45678", "from_": DEFAULT_SHORT_CODE, "body": "x"}, 21211, 400),
        ({"to": TO, "from_": DEFAULT_SHORT_CODE, "body": ""}, 21602, 400),
        ({"to": TO, "from_": DEFAULT_SHORT_CODE, "body": "x" * 1601}, 21617, 400),
        ({"to": TO, "from_": "+15551234567", "body": "x"}, 21606, 400),
        ({"to": TO, "messaging_service_sid": "MG" + "f" * 32, "body": "x"}, 21701, 400),
        ({"to": TO, "body": "x"}, 21603, 400),
        ({"to": TO, "from_": DEFAULT_SHORT_CODE, "body": "x", "validity_period": 0}, 90007, 400),
    ],
)
def test_bad_requests_raise_twilio_codes(twilio_client, kwargs, code, status):
    """Each invalid create raises TwilioRestException with Twilio's error code and HTTP status."""
    with pytest.raises(TwilioRestException) as err:
        twilio_client.messages.create(**kwargs)
    assert err.value.code == code
    assert err.value.status == status


def test_bad_auth_is_20003(served, monkeypatch):
    """A wrong auth token is a 401 with code 20003."""
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    client = Client(DEFAULT_ACCOUNT_SID, "wrong-token")
    client.api.base_url = served.base_url
    with pytest.raises(TwilioRestException) as err:
        client.messages.create(to=TO, from_=DEFAULT_SHORT_CODE, body="x")
    assert (err.value.code, err.value.status) == (20003, 401)


def test_full_sender_queue_is_21611(twilio_client, served):
    """When a From number's queue holds more than its window can drain, create fails with 21611."""
    served.backend.configure(
        {
            "accounts": [
                {"sid": DEFAULT_ACCOUNT_SID, "senders": [{"number": DEFAULT_LONG_CODE, "queue_window": 3}]}
            ]
        }
    )
    for i in range(4):  # 1 msg/s: the 5th finds 4 s of backlog, more than the 3 s window
        twilio_client.messages.create(to=TO, from_=DEFAULT_LONG_CODE, body=f"otp {i}")
    with pytest.raises(TwilioRestException) as err:
        twilio_client.messages.create(to=TO, from_=DEFAULT_LONG_CODE, body="one too many")
    assert (err.value.code, err.value.status) == (21611, 400)


def test_concurrency_cap_is_20429(served, monkeypatch):
    """With added API latency, requests beyond the account's concurrent cap get 429 code 20429."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from fake_sms import DEFAULT_AUTH_TOKEN

    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    served.backend.reset()
    served.backend.configure(
        {"faults": {"api_latency_ms": 1500}, "accounts": [{"sid": DEFAULT_ACCOUNT_SID, "max_concurrent": 2}]}
    )
    start = threading.Barrier(6)

    def send(i: int) -> int | None:
        client = Client(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
        client.api.base_url = served.base_url
        start.wait()
        try:
            client.messages.create(to=TO, from_=DEFAULT_SHORT_CODE, body=f"burst {i}")
        except TwilioRestException as exc:
            return int(exc.code)
        return None

    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(send, range(6)))
    assert codes.count(None) == 2
    assert codes.count(20429) == 4


def test_injected_api_errors_are_20500(twilio_client, served):
    """An API error rate of 1 makes every request fail with Twilio's 500 shape."""
    served.backend.configure({"faults": {"api_error_rate": 1.0}})
    with pytest.raises(TwilioRestException) as err:
        twilio_client.messages.create(to=TO, from_=DEFAULT_SHORT_CODE, body="x")
    assert (err.value.code, err.value.status) == (20500, 500)


def test_served_fake_posts_signed_callbacks_over_loopback(twilio_client, served, receiver):
    """Served by uvicorn, the fake POSTs each transition to a real receiver, and RequestValidator
    accepts what arrived there (the dispatcher's default client, over sockets)."""
    import time
    from urllib.parse import parse_qsl

    from twilio.request_validator import RequestValidator

    from fake_sms import DEFAULT_AUTH_TOKEN

    recorder, base_url = receiver
    recorder.requests.clear()
    served.backend.configure({"carrier": {"default": {"failure_rates": {}}}})
    callback = f"{base_url}/twilio/status?shard=3"
    message = twilio_client.messages.create(
        to=TO, from_=DEFAULT_SHORT_CODE, body="otp 9", status_callback=callback
    )
    served.backend.advance(120)
    deadline = time.monotonic() + 10
    while len(recorder.requests) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    validator = RequestValidator(DEFAULT_AUTH_TOKEN)
    statuses = []
    for url, body, headers in recorder.requests:
        params = dict(parse_qsl(body.decode()))
        assert url == callback and params["MessageSid"] == message.sid
        assert validator.validate(url, params, headers["x-twilio-signature"])
        statuses.append(params["MessageStatus"])
    assert statuses == ["sending", "sent", "delivered"]
