"""X API fake benchmarks: POST /2/tweets/s and 100-tweet mentions pages/s through the real server.

Both run ``uvicorn --factory benchmarks.test_fake_twitter:create_bench_app`` (one worker, uvloop +
httptools, loopback; rate-limit preset ``off`` so the documented 100/15 min user cap does not stop a
throughput test, yet every request still goes through the limiter and gets its headers), driven by
the shared raw keep-alive load generator in its own process. The ceiling, in the same run with the
same generator, connections and request count, is the shared bare Starlette endpoint
(``benchmarks.support.bare``): ``POST /bare`` for tweets, ``GET /bare`` for mention pages. Each round
resets the fake first, then measures the ceiling, then the fake.

1. ``test_tweets_per_second``: unique ``@docomo #reg <mobile>`` tweets from 64 users (user-context
   bearer tokens), each a full create: auth, limiter, weighted length, duplicate check, mention
   extraction, snowflake id, timelines, retention. Targets: >= 5,000 tweets/s and >= 0.5 of bare.
2. ``test_mention_pages_per_second``: ``GET /2/users/:id/mentions?max_results=100`` with
   ``tweet.fields=author_id,created_at,entities&expansions=author_id`` (what a polling processor
   asks for) over a timeline of 2,000 mentions; each answer carries 100 tweets and includes.users.
3. ``test_search_pages_per_second``: ``GET /2/tweets/search/recent?max_results=100`` for
   ``@docomo #reg -from:<operator> -is:retweet`` with the same fields over the same 2,000 posts: a
   query no index narrows, so each page parses the query and scans the newest posts until 100 match.

Full run: ``.venv/bin/python -m pytest benchmarks/test_fake_twitter.py --benchmark-only -s``
"""

from __future__ import annotations

import os
import statistics
from typing import Any

import httpx

from benchmarks.support import LoadResult, RequestSpec, run_load_in_subprocess, serve
from fake_twitter import TwitterBackend, create_app
from fake_twitter.app import FakeTwitterApp

SHORT = bool(os.environ.get("TWITTCOM_BENCH_SHORT"))
REQUESTS = 500 if SHORT else 20_000
PAGE_REQUESTS = 200 if SHORT else 5_000
WARMUP = 100 if SHORT else 2_000
ROUNDS = 1 if SHORT else 3
CONNECTIONS = 32
USERS = 64
TIMELINE = 2_000
TARGET_RPS = 5_000
TARGET_RATIO = 0.5
SERVER_CPU, LOAD_CPU = (0, 1) if (os.cpu_count() or 1) >= 2 else (None, None)
BARE_POST = RequestSpec(
    "POST", "/bare", (("Content-Type", "application/json"),), b'{"text": "@docomo #reg 9800000000"}'
)
BARE_GET = RequestSpec("GET", "/bare")


def create_bench_app() -> FakeTwitterApp:
    """The served fake: seeded, rate-limit preset ``off`` (limiter and headers still run)."""
    return create_app(TwitterBackend(seed=7, rate_limits="off"))


def tweet_request(index: int, tokens: list[str]) -> RequestSpec:
    """Request ``index``: a unique registration tweet mentioning the operator, by user ``index % 64``."""
    headers = (
        ("Authorization", f"Bearer {tokens[index % len(tokens)]}"),
        ("Content-Type", "application/json"),
    )
    body = f'{{"text": "@docomo #reg 98{index:08d}"}}'.encode()
    return RequestSpec("POST", "/2/tweets", headers, body)


def mentions_request(index: int, token: str, operator_id: str) -> RequestSpec:
    """A 100-tweet mentions page of the operator, with author expansion."""
    path = (
        f"/2/users/{operator_id}/mentions?max_results=100"
        "&tweet.fields=author_id,created_at,entities&expansions=author_id"
    )
    return RequestSpec("GET", path, (("Authorization", f"Bearer {token}"),))


def search_request(index: int, token: str, operator_id: str) -> RequestSpec:
    """A 100-post recent-search page: registrations sent to the operator (not by it), with authors."""
    path = (
        f"/2/tweets/search/recent?query=%40docomo%20%23reg%20-from%3A{operator_id}%20-is%3Aretweet"
        "&max_results=100&tweet.fields=author_id,created_at,entities&expansions=author_id"
    )
    return RequestSpec("GET", path, (("Authorization", f"Bearer {token}"),))


def _prepare(url: str, users: int) -> tuple[dict[str, Any], list[str]]:
    httpx.post(f"{url}/_fake/reset").raise_for_status()
    httpx.post(f"{url}/_fake/rate-limits", json={"preset": "off"}).raise_for_status()
    operator = httpx.post(f"{url}/_fake/users", json={"username": "docomo"}).json()
    tokens = [
        httpx.post(f"{url}/_fake/users", json={"username": f"sub{n}"}).json()["bearer_token"]
        for n in range(users)
    ]
    return operator, tokens


def _check(runs: list[LoadResult], status: int) -> None:
    for run in runs:
        assert run.errors == 0, run.error_samples
        assert run.ok(status) == run.requests, run.statuses


def _report(
    benchmark: Any,
    capsys: Any,
    label: str,
    unit: str,
    results: list[LoadResult],
    ceilings: list[LoadResult],
    requests: int,
) -> None:
    rps = statistics.median(r.rps for r in results)
    ceiling = statistics.median(c.rps for c in ceilings)
    ratio = rps / ceiling
    benchmark.extra_info.update(
        rps=rps,
        ceiling_rps=ceiling,
        ratio=ratio,
        rounds=[{"rps": r.rps, "ceiling_rps": c.rps} for r, c in zip(results, ceilings, strict=True)],
        p99_ms=statistics.median(r.latency_p99_ms for r in results),
        target_rps=TARGET_RPS,
        target_ratio=TARGET_RATIO,
    )
    with capsys.disabled():
        print(
            f"\nfake_twitter {label}: {rps:,.0f} {unit} vs bare {ceiling:,.0f} req/s -> ratio {ratio:.2f}; "
            f"{requests} req x {ROUNDS} rounds, {CONNECTIONS} conns; "
            f"rounds {[round(r.rps) for r in results]} vs {[round(c.rps) for c in ceilings]}"
        )


def test_tweets_per_second(benchmark, capsys):
    ceilings: list[LoadResult] = []
    results: list[LoadResult] = []
    with (
        serve("benchmarks.support.bare:create_bare_app", cpu=SERVER_CPU) as bare_url,
        serve("benchmarks.test_fake_twitter:create_bench_app", cpu=SERVER_CPU) as url,
    ):
        tokens: list[str] = []

        def setup():
            tokens[:] = _prepare(url, USERS)[1]
            ceilings.append(
                run_load_in_subprocess(
                    bare_url,
                    request=BARE_POST,
                    requests=REQUESTS,
                    connections=CONNECTIONS,
                    warmup=WARMUP,
                    cpu=LOAD_CPU,
                )
            )

        def measure():
            results.append(
                run_load_in_subprocess(
                    url,
                    factory="benchmarks.test_fake_twitter:tweet_request",
                    factory_kwargs={"tokens": list(tokens)},
                    requests=REQUESTS,
                    connections=CONNECTIONS,
                    warmup=WARMUP,
                    cpu=LOAD_CPU,
                )
            )

        benchmark.pedantic(measure, setup=setup, rounds=ROUNDS, iterations=1)
        counters = httpx.get(f"{url}/_fake/counters").json()
    _check(ceilings, 201)
    _check(results, 201)
    assert counters["tweets_created"] == REQUESTS + WARMUP
    _report(benchmark, capsys, "POST /2/tweets", "tweets/s", results, ceilings, REQUESTS)


def _page_benchmark(benchmark: Any, capsys: Any, factory: str, path: str, label: str) -> None:
    ceilings: list[LoadResult] = []
    results: list[LoadResult] = []
    with (
        serve("benchmarks.support.bare:create_bare_app", cpu=SERVER_CPU) as bare_url,
        serve("benchmarks.test_fake_twitter:create_bench_app", cpu=SERVER_CPU) as url,
    ):
        context: dict[str, Any] = {}

        def setup():
            operator, tokens = _prepare(url, 8)
            fill = run_load_in_subprocess(
                url,
                factory="benchmarks.test_fake_twitter:tweet_request",
                factory_kwargs={"tokens": tokens},
                requests=TIMELINE,
                connections=8,
            )
            assert fill.ok(201) == TIMELINE, fill.statuses
            context.update(token=operator["bearer_token"], operator_id=operator["id"])
            ceilings.append(
                run_load_in_subprocess(
                    bare_url, request=BARE_GET, requests=PAGE_REQUESTS, connections=CONNECTIONS, cpu=LOAD_CPU
                )
            )

        def measure():
            results.append(
                run_load_in_subprocess(
                    url,
                    factory=f"benchmarks.test_fake_twitter:{factory}",
                    factory_kwargs=dict(context),
                    requests=PAGE_REQUESTS,
                    connections=CONNECTIONS,
                    cpu=LOAD_CPU,
                )
            )

        benchmark.pedantic(measure, setup=setup, rounds=ROUNDS, iterations=1)
        page = httpx.get(
            url + path.format(**context), headers={"Authorization": f"Bearer {context['token']}"}
        ).json()
    assert page["meta"]["result_count"] == 100 and "next_token" in page["meta"]
    _check(ceilings, 200)
    _check(results, 200)
    _report(benchmark, capsys, label, "pages/s", results, ceilings, PAGE_REQUESTS)


def test_mention_pages_per_second(benchmark, capsys):
    path = "/2/users/{operator_id}/mentions?max_results=100&expansions=author_id"
    _page_benchmark(benchmark, capsys, "mentions_request", path, "100-tweet mentions pages")


def test_search_pages_per_second(benchmark, capsys):
    path = "/2/tweets/search/recent?query=%40docomo%20%23reg&max_results=100&expansions=author_id"
    _page_benchmark(benchmark, capsys, "search_request", path, "100-post recent-search pages")
