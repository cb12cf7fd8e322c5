"""tweepy ``create_tweet`` round trips: in-process under ``mock_x()`` beside the loopback-served fake.

The same unmodified ``tweepy.Client`` (OAuth 2.0 user token, ``create_tweet`` with a unique text)
posts ``CALLS`` tweets per round two ways, alternating round by round in the same run:

* **in-process**: inside a fresh ``mock_x(rate_limits="off")`` per round: requests' adapter hands
  the request to the fake's ASGI app on the fakes' loop thread (no socket, no HTTP parsing);
* **loopback**: the same fake app served by uvicorn (``uvicorn --factory``, its own process, one
  worker) on 127.0.0.1, reached through a transport adapter mounted on tweepy's session (the glue
  ``mock_x`` replaces), keep-alive connection.

The benchmark's timing is the in-process round; ``extra_info`` holds both medians (ms per call) and
the speed-up, the median over rounds of (loopback round / the in-process round right after it), so
a change of the machine's load between rounds cancels out. The verdict is fixed: the in-process
call is not slower than the loopback one (``speedup >= 1``; measured 1.4-1.8x on the shared
2-core machine); the short CI mode (2 rounds of 50 calls) only checks that both paths run. Full run:
``.venv/bin/python -m pytest benchmarks/test_mock_interception.py --benchmark-only -s``.
"""

from __future__ import annotations

import itertools
import os
import statistics
import time
from typing import Any

import httpx
import requests
import tweepy
from requests.adapters import HTTPAdapter

from benchmarks.support import serve
from fake_twitter import TwitterBackend, create_app
from fake_twitter.app import FakeTwitterApp
from twittcom.testing import mock_x

SHORT = bool(os.environ.get("TWITTCOM_BENCH_SHORT"))
CALLS = 50 if SHORT else 400
ROUNDS = 2 if SHORT else 5
WARMUP = 10 if SHORT else 50
TWEEPY_HOST = "https://api.twitter.com"


def create_bench_app() -> FakeTwitterApp:
    """The served fake: seeded, rate-limit preset ``off`` (the limiter and its headers still run)."""
    return create_app(TwitterBackend(seed=7, rate_limits="off"))


class RedirectAdapter(HTTPAdapter):
    """What a test needs without ``mock_x``: send tweepy's hard-coded host to the served fake."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        assert request.url is not None
        request.url = self.base_url + request.url[len(TWEEPY_HOST) :]
        return super().send(request, *args, **kwargs)


def _round(client: tweepy.Client, texts: itertools.count[int], calls: int) -> float:
    """Milliseconds per ``create_tweet`` over ``calls`` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        response = client.create_tweet(text=f"@docomo #reg 98{next(texts):08d}", user_auth=False)
        assert response.data["id"]
    return (time.perf_counter() - start) * 1000.0 / calls


def _mocked_round(texts: itertools.count[int], calls: int) -> float:
    """A round inside a fresh ``mock_x()`` (the mock is off between rounds, so the loopback round
    reaches its server); only the calls are timed."""
    with mock_x(rate_limits="off") as x:
        client = tweepy.Client(bearer_token=x.create_user("bench")["bearer_token"])
        ms = _round(client, texts, calls)
        assert x.counters()["tweets_created"] == calls
    return ms


def test_tweepy_create_tweet_in_process_vs_loopback(benchmark, capsys):
    texts = itertools.count()
    in_process: list[float] = []
    loopback: list[float] = []
    with serve("benchmarks.test_mock_interception:create_bench_app") as url:
        served_user = httpx.post(f"{url}/_fake/users", json={"username": "bench"}).json()
        served = tweepy.Client(bearer_token=served_user["bearer_token"])
        served.session.mount(TWEEPY_HOST, RedirectAdapter(url))
        _round(served, texts, WARMUP)
        _mocked_round(texts, WARMUP)

        def setup() -> None:
            loopback.append(_round(served, texts, CALLS))

        def measure() -> None:
            in_process.append(_mocked_round(texts, CALLS))

        benchmark.pedantic(measure, setup=setup, rounds=ROUNDS, iterations=1)
    assert len(in_process) == len(loopback) >= 1  # one round under --benchmark-disable
    mocked_ms, served_ms = statistics.median(in_process), statistics.median(loopback)
    # each round's loopback figure over the in-process one measured right after it (same load)
    speedup = statistics.median(s / m for m, s in zip(in_process, loopback, strict=True))
    benchmark.extra_info.update(
        in_process_ms=mocked_ms,
        loopback_ms=served_ms,
        speedup=speedup,
        rounds=[{"in_process_ms": m, "loopback_ms": s} for m, s in zip(in_process, loopback, strict=True)],
        calls_per_round=CALLS,
    )
    with capsys.disabled():
        print(
            f"\ntweepy create_tweet: in-process (mock_x) {mocked_ms:.3f} ms/call vs loopback-served "
            f"{served_ms:.3f} ms/call -> {speedup:.1f}x; {CALLS} calls x {ROUNDS} rounds; rounds "
            f"{[round(m, 3) for m in in_process]} vs {[round(s, 3) for s in loopback]}"
        )
    if not SHORT:  # the CI smoke (2 short rounds) only checks that both paths run
        assert speedup >= 1.0, f"in-process {mocked_ms:.3f} ms is slower than loopback {served_ms:.3f} ms"
