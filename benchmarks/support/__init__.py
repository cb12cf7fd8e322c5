"""Shared harness for socket-level HTTP benchmarks: a server in one process, a lean client in another.

Usage, in a ``benchmarks/test_<part>.py``::

    from benchmarks.support import RequestSpec, run_load_in_subprocess, serve

    TWEET = RequestSpec("POST", "/2/tweets", (("Content-Type", "application/json"),), b'{"text": "hi"}')

    def test_tweets_per_second(benchmark):
        with serve("benchmarks.support.bare:create_bare_app") as ceiling_url, \\
             serve("fake_twitter.app:create_app", TWITTCOM_SEED="7") as url:
            ceiling = run_load_in_subprocess(ceiling_url, requests=20_000, connections=32,
                                             request=RequestSpec("POST", "/bare", TWEET.headers, TWEET.body))
            result = benchmark.pedantic(run_load_in_subprocess, args=(url,), rounds=1, iterations=1,
                                        kwargs={"requests": 20_000, "connections": 32,
                                                "factory": "benchmarks.test_x:tweet_request"})
        benchmark.extra_info.update(rps=result.rps, ceiling_rps=ceiling.rps, ratio=result.rps / ceiling.rps)
        print(result.summary()); print(ceiling.summary())

- :func:`serve` runs ``uvicorn --factory`` (uvloop, httptools, one worker, no access log) on
  127.0.0.1 and a free port, waits until it accepts, yields the base URL and stops it at exit;
  keyword arguments become the server's environment variables.
- :func:`run_load_in_subprocess` runs the raw keep-alive load generator in a spawned process:
  ``request=`` sends one pre-serialised request every time, ``factory="module:callable"`` builds
  request ``i`` as ``callable(i)`` (unique bodies; built before the clock starts). Returns a
  :class:`LoadResult` (requests, seconds, rps, statuses, errors, latency p50/p95/p99); check
  ``result.errors`` and ``result.statuses`` before trusting ``rps``.
- :func:`run_load` runs it in this process (for tests); :mod:`benchmarks.support.clients` has
  httpx and aiohttp runners with the same signature, for cross-checks (pass ``runner=``).
- :func:`create_bare_app` is the ceiling: ``POST /bare`` parses a small JSON body, answers 201.
- :func:`serve_raw` runs :mod:`benchmarks.support.rawhttp`, a no-ASGI uvloop + httptools server
  answering 201 to anything: what the client and loopback carry, under any Python app.

Bounded: every run stops after its request count or ``max_seconds`` (default 60), whichever first.
"""

from __future__ import annotations

from benchmarks.support.bare import create_bare_app
from benchmarks.support.loadgen import load_factory, run_load, run_load_async, run_load_in_subprocess
from benchmarks.support.results import LoadError, LoadResult, RequestSpec
from benchmarks.support.servers import ServerError, free_port, serve, serve_raw

__all__ = [
    "LoadError",
    "LoadResult",
    "RequestSpec",
    "ServerError",
    "create_bare_app",
    "free_port",
    "load_factory",
    "run_load",
    "run_load_async",
    "run_load_in_subprocess",
    "serve",
    "serve_raw",
]
