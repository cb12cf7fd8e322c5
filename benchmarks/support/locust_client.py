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

from gevent.pool import Pool
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
    one per locust user) or locust's ``FastHttpSession`` with ``catch_response`` (``locust``)."""
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

    caller = lean_caller if client == "lean" else locust_caller

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
    parser.add_argument("--client", choices=("lean", "locust"), default="lean")
    args = parser.parse_args()
    result = measure(args.base_url, seconds=args.seconds, concurrency=args.concurrency, client=args.client)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
