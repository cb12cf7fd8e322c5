"""The same load through general-purpose Python clients (httpx, aiohttp), as a cross-check.

Each runner has :func:`benchmarks.support.loadgen.run_load_in_subprocess`'s ``runner`` signature,
so it runs in its own process like the raw generator and their figures compare one to one. They
show why the raw generator exists: a client that costs more per request than the server measures
the client.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import httpx

from benchmarks.support.results import LoadResult, RequestSpec, summarise

__all__ = ["run_aiohttp_load", "run_httpx_load"]

_Send = Callable[[], Awaitable[int]]


async def _drive(send: _Send, requests: int, connections: int, max_seconds: float
                 ) -> tuple[float, Counter[int], list[int], int, list[str]]:
    statuses: Counter[int] = Counter()
    latencies: list[int] = []
    errors: list[str] = []
    issued = 0
    deadline = time.perf_counter() + max_seconds

    async def worker() -> None:
        nonlocal issued
        while issued < requests and time.perf_counter() < deadline and len(errors) < 100:
            issued += 1
            started = time.perf_counter_ns()
            try:
                status = await send()
            except Exception as error:  # a client failure is counted, not raised
                errors.append(f"{type(error).__name__}: {error}")
                continue
            latencies.append(time.perf_counter_ns() - started)
            statuses[status] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return time.perf_counter() - started, statuses, latencies, len(errors), errors[:5]


def _pin(cpu: int | None) -> None:
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


def run_httpx_load(base_url: str, *, requests: int, connections: int = 16, request: RequestSpec,
                   cpu: int | None = None, max_seconds: float = 60.0, **_: Any) -> LoadResult:
    """``requests`` requests through ``httpx.AsyncClient`` (default transport), ``connections`` at once."""
    _pin(cpu)

    async def main() -> LoadResult:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(base_url=base_url, limits=limits) as client:
            async def send() -> int:
                response = await client.request(request.method, request.path, headers=dict(request.headers),
                                                content=request.body or None)
                return response.status_code

            seconds, statuses, latencies, errors, samples = await _drive(send, requests, connections,
                                                                         max_seconds)
        return summarise("httpx", connections, seconds, statuses, latencies, errors, samples)

    return asyncio.run(main())


def run_aiohttp_load(base_url: str, *, requests: int, connections: int = 16, request: RequestSpec,
                     cpu: int | None = None, max_seconds: float = 60.0, **_: Any) -> LoadResult:
    """``requests`` requests through ``aiohttp.ClientSession``, ``connections`` at once."""
    _pin(cpu)

    async def main() -> LoadResult:
        connector = aiohttp.TCPConnector(limit=connections)
        async with aiohttp.ClientSession(base_url=base_url, connector=connector) as session:
            async def send() -> int:
                async with session.request(request.method, request.path, headers=dict(request.headers),
                                           data=request.body or None) as response:
                    await response.read()
                    return response.status

            seconds, statuses, latencies, errors, samples = await _drive(send, requests, connections,
                                                                         max_seconds)
        return summarise("aiohttp", connections, seconds, statuses, latencies, errors, samples)

    return asyncio.run(main())
