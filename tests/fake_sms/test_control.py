"""The /_fake/ control API, in-process through httpx.ASGITransport."""

from __future__ import annotations

import httpx
import pytest

from fake_sms import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_SHORT_CODE,
    ManualClock,
    SmsBackend,
    create_app,
)

MESSAGES = f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json"
TO = "+919812345678"


@pytest.fixture
async def api():
    app = create_app(
        SmsBackend(clock=ManualClock(), seed=21, config={"carrier": {"default": {"failure_rates": {}}}})
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://sms.test",
        auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN),
    ) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


async def _send(api, body: str = "Your code is 111222", to: str = TO, **extra) -> dict:
    response = await api.post(MESSAGES, data={"To": to, "From": DEFAULT_SHORT_CODE, "Body": body, **extra})
    assert response.status_code == 201, response.text
    return response.json()


async def test_handset_shows_what_the_phone_received(api):
    """The handset inbox lists delivered messages with carrier time, RFC 2822 date and wall time."""
    await _send(api, "Your code is 654321")
    assert (await api.get(f"/_fake/handsets/{TO}/messages")).json()["messages"] == []
    await api.post("/_fake/clock/advance", json={"seconds": 300})
    inbox = (await api.get(f"/_fake/handsets/{TO}/messages")).json()
    assert inbox["number"] == TO
    [received] = inbox["messages"]
    assert received["body"] == "Your code is 654321" and received["from"] == DEFAULT_SHORT_CODE
    assert 0 < received["carrier_time"] < 300
    assert received["date"].endswith("+0000") and received["wall_time"] > 1.7e9


async def test_reset_forgets_messages_and_outages(api):
    """Reset drops messages, handsets and outages."""
    sid = (await _send(api))["sid"]
    await api.post("/_fake/outages", json={"circle": "DL"})
    assert (await api.post("/_fake/reset")).json() == {"reset": True}
    assert (
        await api.get(f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages/{sid}.json")
    ).status_code == 404
    assert (await api.get("/_fake/outages")).json() == {"outages": []}


async def test_seed_makes_sids_repeatable(api):
    """Re-seeding with the same value repeats the same message sids."""
    await api.post("/_fake/seed", json={"seed": 42})
    first = (await _send(api))["sid"]
    await api.post("/_fake/seed", json={"seed": 42})
    assert (await _send(api))["sid"] == first


async def test_outage_via_api_holds_then_releases(api):
    """A circle outage created through the API holds delivery; deleting it releases the message."""
    assert (await api.post("/_fake/handsets", json={"numbers": {TO: "DL"}})).json() == {"registered": 1}
    outage = (await api.post("/_fake/outages", json={"circle": "DL"})).json()
    assert outage["circle"] == "DL" and outage["end"] is None
    sid = (await _send(api))["sid"]
    await api.post("/_fake/clock/advance", json={"seconds": 600})
    detail = (await api.get(f"/_fake/messages/{sid}")).json()
    assert detail["status"] == "sent" and detail["carrier"]["held_in_outage"] is True
    assert (await api.get("/_fake/counters")).json()["held_in_outage"] == 1
    assert (await api.delete(f"/_fake/outages/{outage['id']}")).status_code == 200
    await api.post("/_fake/clock/advance", json={"seconds": 600})
    assert (await api.get(f"/_fake/messages/{sid}")).json()["status"] == "delivered"


async def test_outage_with_duration(api):
    """An outage given a duration ends start + duration later."""
    outage = (await api.post("/_fake/outages", json={"circle": "MU", "start": 10, "duration": 50})).json()
    assert (outage["start"], outage["end"]) == (10.0, 60.0)


async def test_configure_senders_at_run_time(api):
    """A sender's rate can be raised at run time and new senders added."""
    response = await api.post(
        "/_fake/senders", json={"senders": [{"number": "+919000000001", "kind": "long_code", "rate": 5}]}
    )
    [account] = response.json()
    assert {"number": "+919000000001", "rate": 5.0}.items() <= next(
        s for s in account["senders"] if s["number"] == "+919000000001"
    ).items()
    ok = await api.post(MESSAGES, data={"To": TO, "From": "+919000000001", "Body": "x"})
    assert ok.status_code == 201


async def test_config_patch_changes_latency(api):
    """PATCH /_fake/config refits the default latency model."""
    config = (
        await api.patch("/_fake/config", json={"carrier": {"default": {"latency": {"p50": 2, "p95": 6}}}})
    ).json()
    assert config["carrier"]["default"]["latency"]["p50"] == pytest.approx(2.0)
    assert config["carrier"]["default"]["latency"]["p95"] == pytest.approx(6.0)


async def test_faults_round_trip(api):
    """PUT /_fake/faults sets latency and error rate; GET reads them back."""
    await api.put("/_fake/faults", json={"api_latency_ms": 5, "api_error_rate": 0.25})
    assert (await api.get("/_fake/faults")).json() == {"api_latency_ms": 5.0, "api_error_rate": 0.25}


async def test_counters_count_transitions(api):
    """Live counters count created messages and each status reached."""
    await _send(api)
    await api.post("/_fake/clock/advance", json={"seconds": 300})
    counters = (await api.get("/_fake/counters")).json()
    assert counters["counters"]["created"] == 1
    assert counters["counters"]["delivered"] == 1
    assert counters["carrier_time"] == 300.0


async def test_clock_reports_manual_mode(api):
    """GET /_fake/clock tells the mode; a time scale cannot be set on the manual clock."""
    clock = (await api.get("/_fake/clock")).json()
    assert clock["manual"] is True and clock["carrier_time"] == 0.0
    response = await api.put("/_fake/clock", json={"time_scale": 10})
    assert response.status_code == 400 and response.json()["code"] == 20001


async def test_advance_is_refused_on_the_real_time_clock():
    """Advancing the clock by hand is an error when the fake runs in real time."""
    app = create_app(time_scale=10)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sms.test"
    ) as client:
        response = await client.post("/_fake/clock/advance", json={"seconds": 5})
        assert response.status_code == 400
        assert "manual" in response.json()["message"]
        scaled = await client.put("/_fake/clock", json={"time_scale": 50})
        assert scaled.json()["time_scale"] == 50.0


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("POST", "/_fake/seed", {"content": b"not json"}, 400),
        ("POST", "/_fake/outages", {"json": {"start": 1}}, 400),
        ("POST", "/_fake/handsets", {"json": {"numbers": {"12345": "DL"}}}, 400),
        ("DELETE", "/_fake/outages/99", {}, 400),
        ("PATCH", "/_fake/config", {"json": {"carrier": {"default": {"failure_rates": {"999": 0.1}}}}}, 400),
        ("PATCH", "/_fake/config", {"json": {"retention": {"max_messages": "lots"}}}, 400),
        ("POST", "/_fake/senders", {"json": {"max_concurrent": "many"}}, 400),
        ("POST", "/_fake/senders", {"json": {"senders": [{"rate": 5}]}}, 400),
        ("PUT", "/_fake/faults", {"json": {"api_latency_ms": "slow"}}, 400),
        ("GET", "/_fake/nothing-here", {}, 404),
        ("DELETE", "/_fake/counters", {}, 405),
        ("GET", "/elsewhere", {}, 404),
    ],
)
async def test_bad_control_requests_get_twilio_shaped_errors(api, method, path, kwargs, status):
    """Bad control requests and unknown routes answer with Twilio's JSON error shape, never a 500."""
    response = await api.request(method, path, **kwargs)
    assert response.status_code == status
    assert set(response.json()) == {"code", "message", "more_info", "status"}


async def test_api_404_for_unknown_message(api):
    """Fetching an unknown sid is Twilio's 20404."""
    response = await api.get(f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages/SM{'0' * 32}.json")
    assert response.status_code == 404 and response.json()["code"] == 20404


async def test_other_account_is_not_authorised(api):
    """Credentials of one account do not open another account's URL."""
    other = "AC" + "1" * 32
    response = await api.get(f"/2010-04-01/Accounts/{other}/Messages.json")
    assert response.status_code == 401 and response.json()["code"] == 20003


def test_form_parser_decodes_like_urllib():
    """The hot-path form parser agrees with urllib.parse.parse_qsl on encoded and blank values."""
    from urllib.parse import parse_qsl, urlencode

    from fake_sms.api import form

    raw = urlencode({"To": "+919812345678", "Body": "a+b & c=d % ü 😀", "Empty": "", "From": "54321"})
    assert form(raw.encode()) == dict(parse_qsl(raw, keep_blank_values=True))
    assert form(b"") == {}
    assert form(b"A=1&&B") == {"A": "1", "B": ""}


async def test_outbox_lists_newest_first_with_carrier_details(api):
    """The outbox shows every created message, newest first, filterable by recipient."""
    first = (await _send(api, "one"))["sid"]
    await _send(api, "two", to="+919800000077")
    third = (await _send(api, "three"))["sid"]
    outbox = (await api.get("/_fake/outbox", params={"to": TO})).json()["messages"]
    assert [m["sid"] for m in outbox] == [third, first]
    assert outbox[0]["carrier"]["circle"] == "default"
    assert len((await api.get("/_fake/outbox", params={"limit": 1})).json()["messages"]) == 1


def test_config_file_toml(tmp_path):
    """A TOML --config file sets circles, prefixes and senders of the backend."""
    from fake_sms.config import load_config_file

    path = tmp_path / "sms.toml"
    path.write_text(
        """
[carrier.prefixes]
"+9198" = "DL"
[carrier.circles.DL.latency]
p50 = 6.0
p95 = 18.0
[[accounts]]
sid = "AC0123456789abcdef0123456789abcdef"
senders = [{ number = "TWTCOM", kind = "alphanumeric", rate = 50 }]
""",
        encoding="utf-8",
    )
    backend = SmsBackend(clock=ManualClock(), config=load_config_file(path))
    assert backend.circles.circle_of("+919812345678") == "DL"
    assert backend.profiles["DL"].latency.quantile(0.5) == pytest.approx(6.0)
    assert backend.accounts[DEFAULT_ACCOUNT_SID].senders["TWTCOM"].rate == 50.0
    assert DEFAULT_SHORT_CODE in backend.accounts[DEFAULT_ACCOUNT_SID].senders


async def test_handset_long_poll_answers_when_the_sms_arrives(api):
    """``wait`` parks the request until a message to that number is delivered; the answer carries
    the delivery's wall time and the gateway's creation time (carrier seconds)."""
    import asyncio

    sid = (await _send(api, "Your code is 777888"))["sid"]
    poll = asyncio.create_task(api.get(f"/_fake/handsets/{TO}/messages", params={"after": 0, "wait": 30}))
    await asyncio.sleep(0.05)
    assert not poll.done()  # nothing delivered yet: parked
    await api.post("/_fake/clock/advance", json={"seconds": 300})
    response = await asyncio.wait_for(poll, 5)
    [received] = response.json()["messages"]
    assert received["sid"] == sid and received["body"] == "Your code is 777888"
    detail = (await api.get(f"/_fake/messages/{sid}")).json()
    assert received["created"] == detail["carrier"]["created"]
    # ``after`` the delivery's wall time: nothing new, and a short wait ends empty
    later = await api.get(
        f"/_fake/handsets/{TO}/messages", params={"after": received["wall_time"], "wait": 0.05}
    )
    assert later.json()["messages"] == []


async def test_handset_long_poll_ignores_other_numbers_and_times_out(api):
    """A delivery to another number does not answer the wait; after ``wait`` seconds it ends empty."""
    import asyncio

    await _send(api, "Your code is 123123", to="+919812345679")
    poll = asyncio.create_task(api.get(f"/_fake/handsets/{TO}/messages", params={"wait": 0.3}))
    await asyncio.sleep(0.05)
    await api.post("/_fake/clock/advance", json={"seconds": 300})
    response = await asyncio.wait_for(poll, 5)
    assert response.status_code == 200 and response.json()["messages"] == []


@pytest.mark.parametrize("query", ["wait=61", "wait=-1", "wait=nan", "wait=soon", "after=x"])
async def test_handset_long_poll_refuses_bad_parameters(api, query):
    """A wait outside 0-60 s or a non-number is a Twilio-shaped 400, not a 500."""
    response = await api.get(f"/_fake/handsets/{TO}/messages?{query}")
    assert response.status_code == 400 and "code" in response.json()


def test_a_client_that_leaves_frees_its_parked_long_poll(served):
    """Served by uvicorn: a long-poll whose client disconnects is dropped at once, not held to ``wait``."""
    import time

    url = f"{served.base_url}/_fake/handsets/+919800000077/messages"
    with httpx.Client() as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get(url, params={"wait": 30}, timeout=httpx.Timeout(0.3))
    deadline = time.monotonic() + 5
    while (
        httpx.get(f"{served.base_url}/_fake/counters").json()["handset_waits"] and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert httpx.get(f"{served.base_url}/_fake/counters").json()["handset_waits"] == 0
