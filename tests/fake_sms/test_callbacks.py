"""Status callbacks: one form POST per transition, signed exactly as twilio-python validates."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import parse_qsl

import httpx
from twilio.request_validator import RequestValidator

from fake_sms import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_SHORT_CODE,
    ManualClock,
    SmsBackend,
    create_app,
    sign,
)

MESSAGES = f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json"
CALLBACK = "https://processor.example:8443/sms/status?tenant=twittcom"


def _no_failures(seed: int = 5, **extra) -> SmsBackend:
    return SmsBackend(
        clock=ManualClock(), seed=seed, config={"carrier": {"default": {"failure_rates": {}}}, **extra}
    )


def _recorder():
    received: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(204)

    return received, httpx.AsyncClient(transport=httpx.MockTransport(handler))


def _api(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://sms.test",
        auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN),
    )


def _params(request: httpx.Request) -> dict[str, str]:
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    return dict(parse_qsl(request.content.decode()))


async def test_each_transition_is_posted_in_order():
    """A delivered message posts sending, sent and delivered, with Twilio's parameter names."""
    received, client = _recorder()
    app = create_app(_no_failures(), callback_client=client)
    async with _api(app) as api:
        body = {
            "To": "+919812345678",
            "From": DEFAULT_SHORT_CODE,
            "Body": "code 1",
            "StatusCallback": CALLBACK,
        }
        sid = (await api.post(MESSAGES, data=body)).json()["sid"]
        await api.post("/_fake/clock/advance", json={"seconds": 120})
        await app.dispatcher.drain()
    posted = [_params(r) for r in received]
    assert [p["MessageStatus"] for p in posted] == ["sending", "sent", "delivered"]
    assert all(str(r.url) == CALLBACK and r.method == "POST" for r in received)
    assert posted[-1] == {
        "AccountSid": DEFAULT_ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "From": DEFAULT_SHORT_CODE,
        "MessageSid": sid,
        "MessageStatus": "delivered",
        "SmsSid": sid,
        "SmsStatus": "delivered",
        "To": "+919812345678",
    }


async def test_request_validator_accepts_and_rejects_tampering():
    """RequestValidator accepts every callback as sent and rejects one with a changed parameter or URL."""
    received, client = _recorder()
    app = create_app(_no_failures(), callback_client=client)
    async with app, _api(app) as api:
        body = {"To": "+919812345678", "From": DEFAULT_SHORT_CODE, "Body": "otp", "StatusCallback": CALLBACK}
        await api.post(MESSAGES, data=body)
        await api.post("/_fake/clock/advance", json={"seconds": 120})
        await app.dispatcher.drain()
    validator = RequestValidator(DEFAULT_AUTH_TOKEN)
    assert len(received) == 3
    for request in received:
        params = _params(request)
        signature = request.headers["X-Twilio-Signature"]
        assert signature == sign(CALLBACK, params, DEFAULT_AUTH_TOKEN)
        assert validator.validate(str(request.url), params, signature)
        assert not validator.validate(str(request.url), {**params, "MessageStatus": "failed"}, signature)
        assert not validator.validate(CALLBACK.replace("twittcom", "other"), params, signature)
    assert not RequestValidator("another-token").validate(CALLBACK, _params(received[0]), signature)


async def test_error_callbacks_carry_error_code():
    """An undelivered message's last callback carries ErrorCode and ErrorMessage."""
    received, client = _recorder()
    backend = SmsBackend(
        clock=ManualClock(), seed=5, config={"carrier": {"default": {"failure_rates": {"30005": 1.0}}}}
    )
    app = create_app(backend, callback_client=client)
    async with _api(app) as api:
        body = {"To": "+919812345678", "From": DEFAULT_SHORT_CODE, "Body": "x", "StatusCallback": CALLBACK}
        await api.post(MESSAGES, data=body)
        await api.post("/_fake/clock/advance", json={"seconds": 120})
        await app.dispatcher.drain()
    last = _params(received[-1])
    assert (last["MessageStatus"], last["ErrorCode"], last["ErrorMessage"]) == (
        "undelivered",
        "30005",
        "Unknown destination handset",
    )


async def test_slow_callback_receiver_does_not_block_requests():
    """Callbacks are posted by background workers: a receiver taking 2 s does not slow the API."""
    started = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        started.set()
        await asyncio.sleep(2.0)
        return httpx.Response(200)

    app = create_app(_no_failures(), callback_client=httpx.AsyncClient(transport=httpx.MockTransport(slow)))
    async with app, _api(app) as api:
        body = {"To": "+919812345678", "From": DEFAULT_SHORT_CODE, "Body": "x", "StatusCallback": CALLBACK}
        await api.post(MESSAGES, data=body)
        await api.post("/_fake/clock/advance", json={"seconds": 120})
        await asyncio.wait_for(started.wait(), 2)
        t0 = time.perf_counter()
        response = await api.post(MESSAGES, data={**body, "Body": "second"})
        assert response.status_code == 201
        assert time.perf_counter() - t0 < 1.0


async def test_real_time_driver_delivers_on_the_scaled_clock():
    """Served with time scale 1000, a message reaches the handset within a fraction of a wall second."""
    app = create_app(time_scale=1000.0, config={"carrier": {"default": {"failure_rates": {}}}})
    async with app, _api(app) as api:
        body = {"To": "+919812345678", "From": DEFAULT_SHORT_CODE, "Body": "fast"}
        assert (await api.post(MESSAGES, data=body)).status_code == 201
        deadline = time.monotonic() + 5
        inbox: list = []
        while not inbox and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            inbox = (await api.get("/_fake/handsets/+919812345678/messages")).json()["messages"]
    assert [m["body"] for m in inbox] == ["fast"]
    assert inbox[0]["carrier_time"] > 0 and inbox[0]["wall_time"] > 0


async def test_callback_backlog_is_bounded():
    """Worker queues are bounded (the rest waits in the engine) and the engine's backlog drops the
    oldest callbacks past retention.max_pending_callbacks, counting them."""
    from fake_sms.callbacks import CallbackDispatcher

    backend = _no_failures(retention={"max_pending_callbacks": 12})
    account = backend.accounts[DEFAULT_ACCOUNT_SID]
    for i in range(5):
        backend.create_message(
            account,
            {"To": "+919812345678", "From": DEFAULT_SHORT_CODE, "Body": f"{i}", "StatusCallback": CALLBACK},
        )
    backend.advance(300)  # 5 messages x 3 transitions = 15 callbacks, 12 kept
    assert backend.counters["callbacks_dropped"] == 3 and len(backend.engine.callbacks) == 12
    received, client = _recorder()
    dispatcher = CallbackDispatcher(backend, client, workers=1, queue_per_worker=4)
    assert dispatcher.pump() == 4
    assert len(backend.engine.callbacks) == 8
    await dispatcher.drain()
    assert len(received) == 12 and not backend.engine.callbacks


def test_callback_statuses_can_be_narrowed():
    """callback_statuses limits which transitions are posted (here Twilio's usual four)."""
    backend = _no_failures(callback_statuses=["sent", "delivered", "undelivered", "failed"])
    account = backend.accounts[DEFAULT_ACCOUNT_SID]
    params = {"To": "+919812345678", "From": DEFAULT_SHORT_CODE, "Body": "x", "StatusCallback": CALLBACK}
    backend.create_message(account, params)
    backend.advance(300)
    assert [job.params["MessageStatus"] for job in backend.engine.callbacks] == ["sent", "delivered"]
    backend.configure({"callback_statuses": []})
    backend.create_message(account, params)
    backend.advance(300)
    assert len(backend.engine.callbacks) == 2


async def test_driver_works_through_a_storm_in_batches():
    """With a very fast clock, the driver drains 60,000 due transitions in bounded batches while
    the API keeps answering."""
    from fake_sms import ScaledClock

    backend = SmsBackend(
        clock=ScaledClock(1e5), seed=4, config={"carrier": {"default": {"failure_rates": {}}}}
    )
    backend.configure(
        {"accounts": [{"sid": DEFAULT_ACCOUNT_SID, "senders": [{"number": "BULK", "rate": 1e7}]}]}
    )
    account = backend.accounts[DEFAULT_ACCOUNT_SID]
    for i in range(20_000):
        backend.create_message(account, {"To": f"+9198{i:08d}", "From": "BULK", "Body": "storm"})
    app = create_app(backend)
    async with app, _api(app) as api:
        deadline = time.monotonic() + 30
        while backend.counters["delivered"] < 20_000 and time.monotonic() < deadline:
            assert (await api.get("/_fake/clock")).status_code == 200
            await asyncio.sleep(0.01)
    assert backend.counters["delivered"] == 20_000
    assert backend.engine.pending() == 0


def _flaky(outcomes: list):
    """A callback receiver answering each POST with the next outcome: a status code, or an exception."""
    received: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        received.append(request)
        outcome = outcomes.pop(0) if outcomes else 204
        if isinstance(outcome, Exception):
            raise outcome
        return httpx.Response(outcome)

    return received, httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def _one_callback(client: httpx.AsyncClient, url: str):
    backend = _no_failures()
    backend.configure({"callback_statuses": ["delivered"]})
    app = create_app(backend, callback_client=client)
    async with _api(app) as api:
        body = {"To": "+919812345678", "From": DEFAULT_SHORT_CODE, "Body": "otp", "StatusCallback": url}
        await api.post(MESSAGES, data=body)
        await api.post("/_fake/clock/advance", json={"seconds": 120})
        await app.dispatcher.drain()
    return backend.counters, app.dispatcher.log


async def test_a_refused_connection_is_retried_once_as_twilio_does():
    """As Twilio's default (rc=1, rp=ct): a failed connection is retried once; the retry's answer counts."""
    refused = httpx.ConnectError("connection refused")
    received, client = _flaky([refused])
    counters, log = await _one_callback(client, CALLBACK)
    assert len(received) == 2 and counters["callbacks_retried"] == 1
    assert counters["callbacks_posted"] == 1 and counters["callbacks_failed"] == 0
    assert log[-1].http_status == 204
    received, client = _flaky([refused, refused, refused])
    counters, log = await _one_callback(client, CALLBACK)
    assert len(received) == 2 and counters["callbacks_failed"] == 1 and log[-1].http_status is None


async def test_an_http_error_answer_is_not_retried_by_default():
    """A 500 from the receiver is an answer, not a connection failure: posted once, an HTTP error."""
    received, client = _flaky([500])
    counters, log = await _one_callback(client, CALLBACK)
    assert len(received) == 1 and counters["callbacks_http_errors"] == 1
    assert counters.get("callbacks_retried", 0) == 0 and log[-1].http_status == 500


async def test_connection_override_fragment_sets_retries_and_is_neither_sent_nor_signed():
    """'#rc=3&rp=5xx' retries up to 3 times on 5xx; the fragment is neither posted nor signed."""
    received, client = _flaky([503, 502, 500, 200])
    counters, _ = await _one_callback(client, CALLBACK + "#rc=3&rp=5xx")
    assert len(received) == 4 and counters["callbacks_retried"] == 3
    validator = RequestValidator(DEFAULT_AUTH_TOKEN)
    for request in received:
        assert str(request.url) == CALLBACK
        assert validator.validate(str(request.url), _params(request), request.headers["X-Twilio-Signature"])
