"""HTTP ceilings on this machine: the bare Starlette endpoint under uvicorn, read by three clients.

The figure is the bare ``POST /bare`` (small JSON in, 201 + small JSON out) through uvicorn (one
worker, uvloop, httptools) driven by the raw load generator in its own process. Its ceiling, in the
same run, is the same generator against :mod:`benchmarks.support.rawhttp` (no ASGI at all): what
client and loopback carry, so the ratio is Starlette + uvicorn's share. Cross-checks in the same
run drive the bare endpoint through aiohttp and httpx (default transport) at concurrency 16, each in
its own process too: they show why the other benchmarks measure servers with the raw generator.

Full run: ``.venv/bin/python -m pytest benchmarks/test_http_ceiling.py --benchmark-only -s``
"""

from __future__ import annotations

import json
import os

from benchmarks.support import LoadResult, RequestSpec, run_load_in_subprocess, serve, serve_raw
from benchmarks.support.clients import run_aiohttp_load, run_httpx_load

SHORT = bool(os.environ.get("TWITTCOM_BENCH_SHORT"))
REQUESTS = 2_000 if SHORT else 30_000
WARMUP = 200 if SHORT else 2_000
AIOHTTP_REQUESTS = 300 if SHORT else 5_000
HTTPX_REQUESTS = 200 if SHORT else 2_000
CONNECTIONS = 32
CROSS_CHECK_CONCURRENCY = 16
# Pin server and client to cores 0 and 1 only on request: on an idle machine the scheduler already
# keeps the two busy processes apart, on a shared one pinning stops them fleeing a busy core.
PIN = bool(os.environ.get("TWITTCOM_BENCH_PIN")) and (os.cpu_count() or 1) >= 2
SERVER_CPU, CLIENT_CPU = (0, 1) if PIN else (None, None)

BARE_POST = RequestSpec("POST", "/bare", (("Content-Type", "application/json"),),
                        json.dumps({"text": "#act #PACK50", "author_id": "1001"}).encode())


def _checked(result: LoadResult, expected: int) -> LoadResult:
    assert result.errors == 0, result.error_samples
    assert result.statuses == {201: expected}, result.summary()
    return result


def test_bare_endpoint_ceiling(benchmark, capsys):
    """Bare Starlette POSTs/s via the raw generator, beside the no-ASGI raw server and two Python clients."""
    load = {"requests": REQUESTS, "connections": CONNECTIONS, "request": BARE_POST, "warmup": WARMUP,
            "cpu": CLIENT_CPU, "max_seconds": 60.0}
    with serve_raw(cpu=SERVER_CPU) as raw_url:
        raw = _checked(run_load_in_subprocess(raw_url, **load), REQUESTS)
    with serve("benchmarks.support.bare:create_bare_app", cpu=SERVER_CPU) as url:
        bare = _checked(benchmark.pedantic(run_load_in_subprocess, args=(url,), kwargs=load,
                                           rounds=1, iterations=1), REQUESTS)
        cross = {"request": BARE_POST, "connections": CROSS_CHECK_CONCURRENCY, "cpu": CLIENT_CPU,
                 "max_seconds": 60.0}
        aiohttp = _checked(run_load_in_subprocess(url, runner=run_aiohttp_load, requests=AIOHTTP_REQUESTS,
                                                  **cross), AIOHTTP_REQUESTS)
        httpx = _checked(run_load_in_subprocess(url, runner=run_httpx_load, requests=HTTPX_REQUESTS, **cross),
                         HTTPX_REQUESTS)
    benchmark.extra_info.update({
        "bare_rps": round(bare.rps), "raw_ceiling_rps": round(raw.rps), "ratio": round(bare.rps / raw.rps, 3),
        "bare_p50_ms": round(bare.latency_p50_ms, 2), "bare_p99_ms": round(bare.latency_p99_ms, 2),
        "loadgen_cpu_us_per_request": raw.notes.get("client_cpu_us_per_request"),
        "aiohttp_rps": round(aiohttp.rps), "aiohttp_vs_loadgen": round(aiohttp.rps / bare.rps, 3),
        "httpx_rps": round(httpx.rps), "httpx_vs_loadgen": round(httpx.rps / bare.rps, 3),
    })
    with capsys.disabled():
        print(f"\nbare Starlette via loadgen: {bare.rps:,.0f} req/s; raw no-ASGI ceiling "
              f"{raw.rps:,.0f} req/s; ratio {bare.rps / raw.rps:.3f}; same endpoint via aiohttp "
              f"{aiohttp.rps:,.0f} req/s, via httpx {httpx.rps:,.0f} req/s")
        for result in (raw, bare, aiohttp, httpx):
            print("  " + result.summary())
