"""The generator's own HTTP client at full speed against a trivial endpoint: requests per CPU-second.

The ceiling of :mod:`benchmarks.test_journey_cost`. It makes the calls a journey makes the way
``loadtests/locustfile.py`` makes them (locust's ``FastHttpSession`` with ``catch_response``, the
request event feeding locust's request statistics, the JSON body parsed), from ``concurrency``
greenlets in one process, and divides the requests by the CPU time this process spent on them.
Run it in its own process (locust monkey-patches the standard library on import)::

    python -m benchmarks.support.locust_client http://127.0.0.1:PORT --seconds 3 --concurrency 32

It prints one JSON line: ``requests``, ``seconds``, ``cpu_s``, ``errors``, ``requests_per_cpu_s``.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any
from urllib.parse import urlsplit

from gevent.pool import Pool
from geventhttpclient import HTTPClient
from locust.contrib.fasthttp import FastHttpSession
from locust.env import Environment

from loadtests.lean_http import LeanHttp

__all__ = ["measure"]

BODY = {"text": "@tatadocomo #act #PACK50 17", "author_id": "1001"}


def _log_to_stats(environment: Environment) -> None:
    """Feed the request event into locust's statistics, as locust's runner does."""

    def on_request(request_type: str, name: str, response_time: float, response_length: int,
                   exception: Any = None, **_: Any) -> None:  # fmt: skip
        environment.stats.log_request(request_type, name, response_time, response_length)
        if exception is not None:
            environment.stats.log_error(request_type, name, exception)

    environment.events.request.add_listener(on_request)


def measure(
    base_url: str, *, seconds: float, concurrency: int, client: str = "lean", warmup: int = 200
) -> dict[str, Any]:
    """Alternate POST and GET of ``/bare`` for ``seconds`` from ``concurrency`` greenlets, through
    the journeys' transport (``lean``: :class:`loadtests.lean_http.LeanHttp`, one per greenlet as
    one per locust user), locust's ``FastHttpSession`` with ``catch_response`` (``locust``) or
    geventhttpclient's bare ``HTTPClient`` (``geventhttpclient``, the journeys' former transport)."""
    environment = Environment()
    _log_to_stats(environment)
    counts = {"requests": 0, "errors": 0}
    stop_at = [0.0]

    def lean_caller() -> Any:
        http = LeanHttp(environment.events.request.fire)

        def call(i: int) -> None:
            method, json_body = ("POST", BODY) if i % 2 == 0 else ("GET", None)
            if http(method, f"{base_url}/bare", name=f"{method} /bare", json=json_body) is None:
                counts["errors"] += 1
            counts["requests"] += 1

        return call

    def locust_caller() -> Any:
        session = FastHttpSession(
            base_url=base_url, request_event=environment.events.request, user=None, concurrency=4
        )

        def call(i: int) -> None:
            method, json_body = ("POST", BODY) if i % 2 == 0 else ("GET", None)
            with session.request(method, "/bare", name=f"{method} /bare", json=json_body,
                                 catch_response=True) as response:  # fmt: skip
                if response.status_code in (200, 201):
                    response.json()
                else:
                    response.failure(f"HTTP {response.status_code}")
                    counts["errors"] += 1
            counts["requests"] += 1

        return call

    def geventhttpclient_caller() -> Any:
        """The journeys' former transport: geventhttpclient's bare client, JSON and the same event."""
        parts = urlsplit(base_url)
        pool = HTTPClient(parts.hostname or "127.0.0.1", parts.port or 80, concurrency=2,
                          network_timeout=75.0, connection_timeout=10.0)  # fmt: skip

        def call(i: int) -> None:
            method, json_body = ("POST", BODY) if i % 2 == 0 else ("GET", None)
            started, failure = time.perf_counter(), None
            body, headers = b"", {}
            if json_body is not None:
                body, headers = json.dumps(json_body).encode(), {"Content-Type": "application/json"}
            with pool.request(method, "/bare", body=body, headers=headers) as response:
                raw, status = response.read(), response.status_code
            if status in (200, 201):
                json.loads(raw)
            else:
                failure = RuntimeError(f"HTTP {status}")
                counts["errors"] += 1
            elapsed_ms = (time.perf_counter() - started) * 1e3
            environment.events.request.fire(
                request_type=method, name=f"{method} /bare", response_time=elapsed_ms,
                response_length=len(raw), exception=failure, context={}, url=base_url, response=None,
            )  # fmt: skip
            counts["requests"] += 1

        return call

    callers = {"lean": lean_caller, "locust": locust_caller, "geventhttpclient": geventhttpclient_caller}
    caller = callers[client]

    def worker(call: Any) -> None:
        i = 0
        while time.monotonic() < stop_at[0]:
            call(i)
            i += 1

    warm = caller()
    for i in range(warmup):
        warm(i)
    counts["requests"] = counts["errors"] = 0
    callers = [caller() for _ in range(concurrency)]
    pool = Pool(concurrency)
    wall, cpu = time.monotonic(), time.process_time()
    stop_at[0] = wall + seconds
    for call in callers:
        pool.spawn(worker, call)
    pool.join()
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    return {
        "client": client,
        "concurrency": concurrency,
        "requests": counts["requests"],
        "errors": counts["errors"],
        "seconds": wall,
        "cpu_s": cpu,
        "requests_per_cpu_s": counts["requests"] / max(cpu, 1e-9),
        "requests_per_s": counts["requests"] / max(wall, 1e-9),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--client", choices=("lean", "locust", "geventhttpclient"), default="lean")
    args = parser.parse_args()
    result = measure(args.base_url, seconds=args.seconds, concurrency=args.concurrency, client=args.client)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
