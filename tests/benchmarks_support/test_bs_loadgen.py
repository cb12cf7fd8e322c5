"""The raw load generator: parsing, status counting, unique bodies and surfaced errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from bs_factories import numbered_tweet, tagged_tweet
from bs_raw_server import RawServer, start_raw_server

from benchmarks.support import LoadError, LoadResult, RequestSpec, load_factory, run_load_async
from benchmarks.support.results import percentile


@pytest.fixture
async def raw_server() -> AsyncIterator[RawServer]:
    server = await start_raw_server()
    yield server
    server.server.close()
    await server.server.wait_closed()


async def test_content_length_responses_are_counted(raw_server: RawServer) -> None:
    """Every Content-Length answer is parsed and counted under its status, with no errors."""
    result = await run_load_async(
        raw_server.base_url, requests=300, connections=4, request=RequestSpec("GET", "/length")
    )
    assert (result.requests, result.statuses, result.errors) == (300, {200: 300}, 0)
    assert len(raw_server.received) == 300
    assert result.rps > 0 and result.latency_p50_ms <= result.latency_p99_ms


async def test_chunked_responses_split_across_writes_are_parsed(raw_server: RawServer) -> None:
    """A chunked body arriving in several TCP writes completes exactly one answer per request."""
    result = await run_load_async(
        raw_server.base_url, requests=40, connections=4, request=RequestSpec("GET", "/chunked")
    )
    assert (result.requests, result.statuses, result.errors) == (40, {200: 40}, 0)


async def test_statuses_are_histogrammed(raw_server: RawServer) -> None:
    """Answers with different statuses land in their own buckets of the histogram."""
    result = await run_load_async(
        raw_server.base_url, requests=90, connections=3, request=RequestSpec("GET", "/cycle")
    )
    assert result.statuses == {201: 30, 404: 30, 500: 30}
    assert result.ok() == 30 and result.ok(404, 500) == 60


async def test_factory_sends_unique_serialised_bodies(raw_server: RawServer) -> None:
    """With a factory, request i carries factory(i)'s body, Host and Content-Length headers."""
    result = await run_load_async(
        raw_server.base_url, requests=50, connections=5, factory=lambda i: tagged_tweet(i, tag="act")
    )
    assert result.statuses == {200: 50}
    bodies = sorted(request.body for request in raw_server.received)
    assert bodies == sorted(tagged_tweet(i, tag="act").body for i in range(50))
    first = raw_server.received[0]
    assert first.method == "POST" and first.headers["host"] == raw_server.base_url.removeprefix("http://")
    assert int(first.headers["content-length"]) == len(first.body)


async def test_warmup_requests_are_not_counted(raw_server: RawServer) -> None:
    """Warm-up requests reach the server but not the result."""
    result = await run_load_async(
        raw_server.base_url, requests=20, connections=2, warmup=10, request=RequestSpec("GET", "/length")
    )
    assert result.requests == 20 and len(raw_server.received) == 30


async def test_server_closing_connections_are_replaced(raw_server: RawServer) -> None:
    """A 'Connection: close' answer is counted and the connection replaced until all requests ran."""
    result = await run_load_async(
        raw_server.base_url, requests=30, connections=3, request=RequestSpec("GET", "/close-after")
    )
    assert (result.requests, result.errors) == (30, 0)


async def test_cut_responses_are_errors(raw_server: RawServer) -> None:
    """A response cut short by the server is an error with a readable sample, not an answer."""
    with pytest.raises(LoadError, match="closed before the response ended"):
        await run_load_async(
            raw_server.base_url, requests=10, connections=2, max_errors=5, request=RequestSpec("GET", "/cut")
        )


async def test_garbage_responses_are_errors(raw_server: RawServer) -> None:
    """A response that is not HTTP is reported as unparseable."""
    with pytest.raises(LoadError, match="unparseable response"):
        await run_load_async(
            raw_server.base_url,
            requests=5,
            connections=1,
            max_errors=3,
            request=RequestSpec("GET", "/garbage"),
        )


async def test_errors_beside_answers_are_counted(raw_server: RawServer) -> None:
    """When some exchanges fail and others succeed, both are reported."""
    specs = [RequestSpec("GET", "/length"), RequestSpec("GET", "/cut")]
    result = await run_load_async(
        raw_server.base_url, requests=20, connections=1, max_errors=50, factory=lambda i: specs[i % 2]
    )
    assert result.statuses == {200: 10} and result.errors == 10
    assert "closed before the response ended" in result.error_samples[0]


async def test_nothing_listening_is_a_load_error() -> None:
    """Connecting to a closed port raises LoadError naming the connect failure."""
    with pytest.raises(LoadError, match="connect failed"):
        await run_load_async("http://127.0.0.1:9", requests=5, connections=2, request=RequestSpec())


async def test_bad_url_and_missing_request_are_load_errors() -> None:
    """Non-http URLs and a run without a request are refused before any connection."""
    with pytest.raises(LoadError, match="http://host:port"):
        await run_load_async("https://127.0.0.1:1", requests=1, request=RequestSpec())
    with pytest.raises(LoadError, match="request"):
        await run_load_async("http://127.0.0.1:1", requests=1)


def test_load_factory_resolves_dotted_paths() -> None:
    """'module:callable' resolves to the factory, with keyword arguments bound when given."""
    assert load_factory("bs_factories:numbered_tweet")(3) == numbered_tweet(3)
    bound = load_factory("bs_factories:tagged_tweet", {"tag": "reg"})
    assert bound(1).body == tagged_tweet(1, tag="reg").body
    with pytest.raises(LoadError):
        load_factory("bs_factories.numbered_tweet")


def test_request_spec_serialises_http11() -> None:
    """A RequestSpec becomes an HTTP/1.1 request with Host, headers and Content-Length."""
    raw = RequestSpec("POST", "/bare", (("X-A", "1"),), b"{}").serialise("h:1")
    assert raw == b"POST /bare HTTP/1.1\r\nHost: h:1\r\nX-A: 1\r\nContent-Length: 2\r\n\r\n{}"
    assert RequestSpec().serialise("h") == b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"


def test_percentiles_and_summary() -> None:
    """Nearest-rank percentiles, and a summary line naming rate, statuses and errors."""
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile([], 0.5)) == (50.0, 99.0, 0.0)
    result = LoadResult(10, 2.0, 5.0, {201: 9, 500: 1}, 1, ("x",), 1.0, 2.0, 3.0, 4)
    summary = result.summary()
    assert "5 req/s" in summary and "201x9 500x1" in summary and "errors 1" in summary
