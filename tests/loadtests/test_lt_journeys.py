"""A new subscriber's journey over a scripted HTTP transport: code latency and the codes it awaits."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from loadtests.config import LoadtestConfig
from loadtests.journeys import JourneyKit
from loadtests.metrics import RecordingSink
from loadtests.population import Subscriber, SubscriberPool
from loadtests.run_fakes import count_hopeless
from scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

BEHAVIOUR = load_scenario(SCENARIOS / "ci-smoke.toml", ["user.typo_rate=0", "user.buy_share=0"]).user
SNOWFLAKE_AT_1000 = str((1_000_000 - 1288834974657) << 22)  # X's epoch: created at t = 1000 s


class _Fakes:
    """Answers the calls a stand-in new-subscriber journey makes; the code reaches the handset at 1004 s."""

    def __init__(self, clock: list[float], delivered: bool) -> None:
        self.clock, self.delivered = clock, delivered

    def __call__(self, method: str, url: str, *, name: str, json: Any = None, **_: Any) -> Any:
        if url.endswith("/_fake/users"):
            if "users" in json:  # the batch form: accounts created ahead
                return {"data": [{"id": str(7 + i), "username": u["username"], "bearer_token": "t"}
                                 for i, u in enumerate(json["users"])]}  # fmt: skip
            return {"id": "7", "bearer_token": "t"}
        if url.endswith("/2/tweets"):
            return {"data": {"id": SNOWFLAKE_AT_1000}}
        if "/handsets/" in url:
            text = {
                "sid": "SM1",
                "body": "Your Twittcom code is 123456.",
                "wall_time": 1004.0,
                "carrier_time": 3,
            }
            return {"messages": [text] if self.delivered and self.clock[0] >= 1004.0 else []}
        if "/_fake/messages/" in url:
            return {"carrier": {"created": 0.5}}
        if "/_fake/outbox" in url:
            return {"messages": [] if self.delivered else [{"sid": "SM1", "status": "undelivered"}]}
        return {}


def _kit(
    circle: str, delivered: bool, outages: tuple[tuple[str, float, float], ...]
) -> tuple[JourneyKit, Any]:
    clock = [1000.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    kit = JourneyKit(
        config=LoadtestConfig(scenario_path="", x_url="http://x", sms_url="http://sms", outages=outages),
        behaviour=BEHAVIOUR,
        population=SubscriberPool([Subscriber("+919800000001", circle, 10_000)], []),
        sink=RecordingSink(),
        now=lambda: clock[0],
        sleep=sleep,
        rng=random.Random(1),
        operator_id="1",
    )
    return kit, _Fakes(clock, delivered)


def test_a_code_outside_the_outage_circles_is_also_an_outside_outages_sample():
    """The code latency (#reg created -> handset) is recorded, and again as outside outages for Delhi."""
    kit, fakes = _kit("DL", True, (("KO", 0.0, 3600.0),))
    assert kit.new_subscriber(fakes) == "registered"
    sink = kit.sink
    assert isinstance(sink, RecordingSink)
    assert sink.latencies["code_latency"] == [4.0] and sink.latencies["code_latency_outside_outages"] == [4.0]
    assert kit.waiting_codes == {}


def test_a_code_to_an_outage_circle_is_no_outside_sample_and_an_abandoned_wait_leaves_no_entry():
    """Kolkata's code is not an outside-outages sample; a user who gave up no longer awaits a code."""
    kit, fakes = _kit("KO", True, (("KO", 0.0, 3600.0),))
    kit.new_subscriber(fakes)
    assert isinstance(kit.sink, RecordingSink) and "code_latency_outside_outages" not in kit.sink.latencies
    kit, fakes = _kit("KO", False, (("KO", 0.0, 3600.0),))
    assert kit.new_subscriber(fakes) == "code_lost" and kit.waiting_codes == {}


def test_a_user_who_gives_up_on_a_lost_code_is_counted_apart_from_late_codes():
    """An abandoned wait whose SMS the carrier lost is 'code_lost' (left out of the percentiles)."""
    kit, fakes = _kit("DL", False, ())
    assert kit.new_subscriber(fakes) == "code_lost"
    assert isinstance(kit.sink, RecordingSink) and kit.sink.outcomes["new_subscriber:code_lost"] == 1


def test_without_outages_no_outside_outages_samples_are_recorded():
    """The outside-outages metric exists only when the run has carrier outages."""
    kit, fakes = _kit("DL", True, ())
    kit.new_subscriber(fakes)
    assert isinstance(kit.sink, RecordingSink) and set(kit.sink.latencies) == {
        "code_latency",
        "code_latency_carrier",
        "code_latency_processor",
    }


def test_code_latency_counts_from_the_scheduled_start():
    """A journey that starts 2 s late (the generator fell behind) reports the 2 s: no coordinated omission."""
    kit, fakes = _kit("DL", True, ())
    kit.new_subscriber(fakes, scheduled_at=998.0)  # the #reg tweet is created at 1000 s
    assert isinstance(kit.sink, RecordingSink) and kit.sink.latencies["code_latency"] == [6.0]


class _LongPollFakes(_Fakes):
    """Answers a handset long-poll as the SMS fake does: parks (the clock moves) until the code is
    delivered at 1004 s, answers 0.7 s later (a slow answer), with the gateway's creation time."""

    def __init__(self, clock: list[float]) -> None:
        super().__init__(clock, True)
        self.calls: list[str] = []

    def __call__(self, method: str, url: str, *, name: str, **kwargs: Any) -> Any:
        self.calls.append(name)
        if "/handsets/" in url:
            after = float(url.split("after=")[1].split("&")[0])
            wait = float(url.split("wait=")[1]) if "wait=" in url else 0.0
            if after < 1004.0 and self.clock[0] + wait >= 1004.0:
                self.clock[0] = max(self.clock[0], 1004.7)
                code = {
                    "sid": "SM1",
                    "body": "Your Twittcom code is 123456.",
                    "wall_time": 1004.0,
                    "carrier_time": 3,
                    "created": 0.5,
                }
                return {"messages": [code]}
            self.clock[0] += wait
            return {"messages": []}
        return super().__call__(method, url, name=name, **kwargs)


def test_a_long_polled_code_counts_to_its_delivery_not_to_the_answer():
    """Code latency ends at the SMS fake's delivery time (1004 s), not when the long-poll answered
    (1004.7 s); one long-poll replaces the polls, and its creation time replaces the detail read."""
    kit, _ = _kit("DL", True, ())
    fakes = _LongPollFakes([1000.0])
    kit.sleep = lambda s: fakes.clock.__setitem__(0, fakes.clock[0] + s)
    kit.now = lambda: fakes.clock[0]
    kit.__post_init__()
    assert kit.new_subscriber(fakes) == "registered"
    sink = kit.sink
    assert isinstance(sink, RecordingSink)
    assert sink.latencies["code_latency"] == [4.0]
    assert sink.latencies["code_latency_carrier"] == [3.0 - 0.5] and sink.latencies[
        "code_latency_processor"
    ] == [1.5]
    assert fakes.calls.count("GET handset messages (long-poll)") == 1
    assert "GET message detail" not in fakes.calls


def test_the_drain_asks_the_outbox_through_the_transport_and_remembers_lost_codes():
    """count_hopeless: a code whose SMS the gateway reports undelivered is hopeless (asked once, then
    remembered); one on its way, or a question that failed (None), keeps the drain waiting."""
    kit, _ = _kit("DL", True, ())
    kit.waiting_codes.update({1: ("+919800000001", "DL", 2000.0), 2: ("+919800000002", "DL", 2000.0),
                              3: ("+919800000003", "DL", 2000.0)})  # fmt: skip
    answers = {"%2B919800000001": [{"status": "undelivered"}], "%2B919800000002": [{"status": "sent"}]}
    asked: list[str] = []

    def http(method: str, url: str, *, name: str, **_: Any) -> Any:
        asked.append(url)
        number = url.split("to=")[1].split("&")[0]
        return {"messages": answers[number]} if number in answers else None

    lost: set[int] = set()
    args = {"t0": 1000.0, "now": 1070.0, "run_end": 1120.0}
    assert count_hopeless(http, kit, lost, kit.config, **args) == 1 and lost == {1}
    assert count_hopeless(http, kit, lost, kit.config, **args) == 1
    assert len(asked) == 5 and all(url.startswith("http://sms/_fake/outbox?to=%2B91") for url in asked)
