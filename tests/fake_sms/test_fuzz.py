"""Bad input never gets a 500: arbitrary forms, queries and control bodies get Twilio-shaped answers."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_sms import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, ManualClock, SmsBackend, create_app

MESSAGES = f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json"
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TEXT = st.text(max_size=40) | st.sampled_from(
    [
        "+919812345678",
        "+15005550006",
        "54321",
        "MG0123456789abcdef0123456789abcdef",
        "0",
        "-1",
        "36001",
        "nan",
        "inf",
        "1e309",
        "%ff",
        "Mon, 01 Jan 2024 00:00:00 +0000",
        "2024-01-01",
        "x" * 1601,
    ]
)
FORM = st.dictionaries(
    st.sampled_from(["To", "From", "Body", "StatusCallback", "ValidityPeriod", "MessagingServiceSid", "Zz"]),
    TEXT,
    max_size=6,
)
QUERY = st.dictionaries(
    st.sampled_from(["To", "From", "DateSent", "DateSent<", "DateSent>", "PageSize", "Page", "PageToken"]),
    TEXT,
    max_size=4,
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=10,
)
CONTROL_KEYS = st.sampled_from(
    [
        "seed",
        "seconds",
        "time_scale",
        "circle",
        "start",
        "end",
        "duration",
        "numbers",
        "senders",
        "services",
        "account_sid",
        "carrier",
        "retention",
        "faults",
        "accounts",
        "api_latency_ms",
        "api_error_rate",
        "price_per_segment_paise",
        "callback_statuses",
        "max_concurrent",
    ]
)
CONTROL = [
    ("POST", "/_fake/seed"),
    ("POST", "/_fake/clock/advance"),
    ("PUT", "/_fake/clock"),
    ("POST", "/_fake/outages"),
    ("POST", "/_fake/handsets"),
    ("POST", "/_fake/senders"),
    ("PATCH", "/_fake/config"),
    ("PUT", "/_fake/faults"),
]


def _is_twilio_error(response: httpx.Response) -> bool:
    body = response.json()
    return set(body) >= {"code", "message", "more_info", "status"} and body["status"] == response.status_code


async def _session(steps: list[tuple[str, str, dict[str, Any]]]) -> list[httpx.Response]:
    app = create_app(SmsBackend(clock=ManualClock(), seed=3))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    out = []
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sms.test", auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
    ) as client:
        for method, path, kwargs in steps:
            out.append(await client.request(method, path, **kwargs))
    return out


@FUZZ
@given(form=FORM)
def test_any_create_form_gets_201_or_a_twilio_error(form):
    """Any form to POST Messages.json answers 201 or a 4xx in Twilio's error shape; the clock then runs."""
    steps = [
        ("POST", MESSAGES, {"data": form}),
        ("POST", "/_fake/clock/advance", {"json": {"seconds": 40000}}),
    ]
    created, advanced = asyncio.run(_session(steps))
    assert created.status_code == 201 or (400 <= created.status_code < 500 and _is_twilio_error(created))
    assert advanced.status_code == 200, advanced.text


@FUZZ
@given(query=QUERY)
def test_any_list_query_gets_a_page_or_a_twilio_error(query):
    """Any query on GET Messages.json answers a page (200) or a 400 in Twilio's error shape."""
    steps = [("POST", MESSAGES, {"data": {"To": "+919812345678", "From": "54321", "Body": "hi"}})]
    steps.append(("GET", MESSAGES, {"params": query}))
    _, listed = asyncio.run(_session(steps))
    assert listed.status_code == 200 or (listed.status_code == 400 and _is_twilio_error(listed)), listed.text
    if listed.status_code == 200:
        assert {"messages", "page", "page_size", "uri"} <= set(listed.json())


UPDATE = st.dictionaries(st.sampled_from(["Body", "Status", "Zz"]), TEXT | st.just(""), max_size=3)


@FUZZ
@given(update=UPDATE, service=st.booleans(), advance=st.sampled_from([0, 120]))
def test_any_update_form_gets_a_message_or_a_twilio_error(update, service, advance):
    """Any form to POST Messages/{Sid}.json answers 200 (only Body="" redacts) or 400 30400 in
    Twilio's shape; the status never changes and a refused update leaves the body alone."""
    sender = {"MessagingServiceSid": "MG0123456789abcdef0123456789abcdef"} if service else {"From": "54321"}

    async def run() -> tuple[dict[str, Any], httpx.Response, dict[str, Any]]:
        app = create_app(SmsBackend(clock=ManualClock(), seed=3))
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://sms.test", auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
        ) as client:
            made = await client.post(MESSAGES, data={"To": "+919812345678", "Body": "code 123456", **sender})
            one = MESSAGES.replace(".json", f"/{made.json()['sid']}.json")
            await client.post("/_fake/clock/advance", json={"seconds": advance})
            before = (await client.get(one)).json()
            answer = await client.post(one, data=update)
            return before, answer, (await client.get(one)).json()

    before, answer, after = asyncio.run(run())
    assert after["status"] == before["status"]
    if answer.status_code == 200:
        assert update.get("Body") == "" and "Status" not in update and after["body"] == ""
    else:
        assert answer.status_code == 400 and answer.json()["code"] == 30400 and _is_twilio_error(answer)
        assert after["body"] == "code 123456"


@FUZZ
@given(
    calls=st.lists(
        st.tuples(st.sampled_from(CONTROL), st.dictionaries(CONTROL_KEYS, JSON_VALUES, max_size=4)),
        min_size=1,
        max_size=3,
    )
)
def test_any_control_body_gets_an_answer_and_the_api_keeps_working(calls):
    """Any JSON (NaN and Infinity included) to the control API answers 2xx or a Twilio-shaped 4xx, and
    creating, fetching and listing messages afterwards still never fails with a 500."""
    steps: list[tuple[str, str, dict[str, Any]]] = []
    for (method, path), body in calls:
        steps.append((method, path, {"content": json.dumps(body).encode()}))
    form = {"To": "+919812345678", "From": "54321", "Body": "Your code is 123456"}
    steps += [
        ("POST", MESSAGES, {"data": form}),
        ("POST", "/_fake/clock/advance", {"json": {"seconds": 100}}),
        ("GET", MESSAGES, {}),
        ("GET", "/_fake/counters", {}),
        ("GET", "/_fake/config", {}),
    ]
    responses = asyncio.run(_session(steps))
    for response in responses[: len(calls)]:
        assert response.status_code < 300 or (
            400 <= response.status_code < 500 and _is_twilio_error(response)
        ), response.text
    for response in responses[len(calls) :]:
        assert response.status_code < 500 or _is_twilio_error(response), response.text


def test_non_finite_numbers_are_refused_by_the_control_api():
    """NaN and Infinity (which Python's json accepts), an endless latency and a clock step past 100
    years of carrier time get a 400, not a stuck clock or a 500."""
    steps = [
        ("POST", "/_fake/clock/advance", {"content": b'{"seconds": NaN}'}),
        ("POST", "/_fake/outages", {"content": b'{"circle": "DL", "duration": Infinity}'}),
        ("POST", "/_fake/seed", {"content": b'{"seed": NaN}'}),
        ("PUT", "/_fake/faults", {"content": b'{"api_latency_ms": NaN}'}),
        ("PUT", "/_fake/faults", {"content": b'{"api_latency_ms": 1e300}'}),
        ("POST", "/_fake/clock/advance", {"content": b'{"seconds": 251635075198.0}'}),
    ]
    for response in asyncio.run(_session(steps)):
        assert response.status_code == 400 and _is_twilio_error(response), response.text


def test_bad_basic_credentials_are_401_not_500():
    """Undecodable or non-UTF-8 Basic credentials answer 401 20003."""
    steps = [
        ("GET", MESSAGES, {"headers": {"Authorization": "Basic !!!"}, "auth": None}),
        ("GET", MESSAGES, {"headers": {"Authorization": "Basic //79"}, "auth": None}),
    ]
    for response in asyncio.run(_session(steps)):
        assert response.status_code == 401 and response.json()["code"] == 20003


BAD_PATCHES = [
    ("PATCH", "/_fake/config", {"retention": {"max_messages": 0}}),
    ("PATCH", "/_fake/config", {"retention": {"max_per_handset": -1}}),
    ("PATCH", "/_fake/config", {"retention": {"max_handsets": "many"}}),
    ("PATCH", "/_fake/config", {"price_per_segment_paise": -5}),
    ("PATCH", "/_fake/config", {"callback_statuses": 5}),
    ("POST", "/_fake/senders", {"max_concurrent": 0}),
    ("POST", "/_fake/senders", {"senders": [{"number": "+919000000004", "queue_window": -5}]}),
    ("POST", "/_fake/senders", {"senders": [{"number": "+919000000005", "rate": 0}]}),
]


def test_unworkable_configuration_is_refused_and_changes_nothing():
    """Retention bounds below 1, negative prices, a 0 concurrency cap or a non-positive sender rate or
    queue window get a 400, and messages then still flow to the handset."""
    form = {"To": "+919812345678", "From": "54321", "Body": "Your code is 123456"}
    for method, path, body in BAD_PATCHES:
        steps = [
            (method, path, {"json": body}),
            ("POST", MESSAGES, {"data": form}),
            ("POST", "/_fake/clock/advance", {"json": {"seconds": 100}}),
            ("GET", "/_fake/handsets/+919812345678/messages", {}),
        ]
        refused, created, advanced, inbox = asyncio.run(_session(steps))
        assert refused.status_code == 400 and _is_twilio_error(refused), (body, refused.text)
        assert created.status_code == 201 and advanced.status_code == 200, body
        assert [m["body"] for m in inbox.json()["messages"]] == [form["Body"]], body
