"""What the sweep's open-loop driver costs per delivery, beside the bare HTTP client ceiling.

``twittcom sweep`` must saturate the processor from the same machine, so its driver's CPU per
delivery is what decides whether it can: here it offers signed Account Activity deliveries at
Poisson times (open loop, 64 keep-alive connections, ``loadtests.sweep_driver``) to the raw
HTTP/1.1 server of ``benchmarks.support`` (fixed 201 answer, no ASGI, so the server is not the
limit), and deliveries per driver CPU-second are reported. The ceiling, in the same run: the
closed-loop raw load generator (``benchmarks.support.loadgen``, pre-serialised requests, the
leanest client this project has) against the same server, requests per client CPU-second. The
driver does more per request (a schedule, a due queue, an answer time each), so the ratio says what
that costs; the processor takes 0.8-2.2 ms of CPU per event, so a driver at tens of microseconds
per delivery stays a few per cent of the machine at the knee.

Full run: ``.venv/bin/python -m pytest benchmarks/test_sweep_driver.py --benchmark-only -s``
"""

from __future__ import annotations

import os

from benchmarks.support import RequestSpec, run_load_in_subprocess, serve_raw
from loadtests.sweep_driver import DriverJob, DriverResult, drive_in_subprocess

SHORT = bool(os.environ.get("TWITTCOM_BENCH_SHORT"))
RATE = 4_000.0  # deliveries/s offered: above any knee measured here
SECONDS = 1.0 if SHORT else 5.0
CEILING_REQUESTS = 4_000 if SHORT else 20_000
BODY = b'{"for_user_id":"1"}' * 40  # about the size of a signed delivery
POST = RequestSpec("POST", "/webhooks/x", (("Content-Type", "application/json"),), BODY)


def test_sweep_driver_deliveries_per_cpu_second(benchmark) -> None:
    """Open-loop signed deliveries per driver CPU-second beside the raw generator's per CPU-second."""
    results: list[DriverResult] = []
    with serve_raw() as url:
        job = DriverJob(url, RATE, SECONDS, "secret", "900", "@tatadocomo #act #TD49DEL", 200, 10**18)

        def run() -> None:
            results.append(drive_in_subprocess(job))

        benchmark.pedantic(run, rounds=1, iterations=1)
        ceiling = run_load_in_subprocess(url, request=POST, requests=CEILING_REQUESTS, connections=64)
    driven = results[0]
    assert driven.offered > 0 and driven.accepted == driven.offered, "every delivery must be answered"
    per_cpu_s = driven.offered / driven.cpu_s
    ceiling_per_cpu_s = 1e6 / ceiling.notes["client_cpu_us_per_request"]
    ratio = per_cpu_s / ceiling_per_cpu_s
    benchmark.extra_info.update(
        deliveries=driven.offered,
        offered_per_s=RATE,
        driver_cpu_s=round(driven.cpu_s, 3),
        deliveries_per_cpu_s=round(per_cpu_s),
        driver_max_lateness_ms=round(driven.max_lateness_s * 1e3, 2),
        ceiling_requests_per_cpu_s=round(ceiling_per_cpu_s),
        ratio=round(ratio, 3),
    )
    print(
        f"\nsweep driver: {driven.offered:,} deliveries at {RATE:,.0f}/s offered, {per_cpu_s:,.0f} per "
        f"CPU-second (max lateness {driven.max_lateness_s * 1e3:.1f} ms) beside the raw generator's "
        f"{ceiling_per_cpu_s:,.0f} requests per CPU-second (ratio {ratio:.2f})"
    )
