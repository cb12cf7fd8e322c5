"""SMS fake benchmarks: message creations/s through the real server, and carrier-schedule events/s.

1. ``test_message_creations_per_second``: ``POST .../Messages.json`` (Basic auth, form body with a
   unique ``To`` per request, short-code sender) against ``uvicorn --factory fake_sms.app:create_app``
   (one worker, uvloop + httptools, loopback, real-time carrier clock running), driven by the shared
   raw keep-alive load generator in its own process. Ceiling, in the same run with the same
   generator, connections and request count: the shared bare Starlette endpoint
   (``benchmarks.support.bare``). Each round first resets the fake (``POST /_fake/reset``) and
   measures the ceiling, then the fake. Targets: >= 5,000 creations/s and >= 0.5 of the ceiling.
2. ``test_carrier_events_per_second``: the pure model, no HTTP: create N messages on the manual
   clock, then ``advance`` until all are final (queued -> sending -> sent -> delivered/undelivered,
   3 events each). Ceiling: pushing and popping the same number of heap entries with nothing else.

Full run: ``.venv/bin/python -m pytest benchmarks/test_fake_sms.py --benchmark-only -s``
"""

from __future__ import annotations

import base64
import heapq
import itertools
import os
import statistics
import time

import httpx

from benchmarks.support import RequestSpec, run_load_in_subprocess, serve
from fake_sms import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_SHORT_CODE, ManualClock, SmsBackend

SHORT = bool(os.environ.get("TWITTCOM_BENCH_SHORT"))
REQUESTS = 500 if SHORT else 10_000
WARMUP = 100 if SHORT else 1_000
ROUNDS = 1 if SHORT else 5
CONNECTIONS = 32
TARGET_RPS = 5_000
TARGET_RATIO = 0.5
MODEL_MESSAGES = 2_000 if SHORT else 100_000
# server on core 0, load generator on core 1 (no pinning on a single-core machine)
SERVER_CPU, LOAD_CPU = (0, 1) if (os.cpu_count() or 1) >= 2 else (None, None)

MESSAGES_PATH = f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json"
_AUTH = "Basic " + base64.b64encode(f"{DEFAULT_ACCOUNT_SID}:{DEFAULT_AUTH_TOKEN}".encode()).decode()
_FORM = (("Authorization", _AUTH), ("Content-Type", "application/x-www-form-urlencoded"))
BARE = RequestSpec(
    "POST",
    "/bare",
    (("Content-Type", "application/json"),),
    b'{"To": "+919800000000", "Body": "Your code is 123456"}',
)


def create_message_request(index: int) -> RequestSpec:
    """Request ``index`` of the load: one OTP SMS to a distinct Indian mobile number."""
    body = (
        f"To=%2B9198{index:08d}&From={DEFAULT_SHORT_CODE}&Body=Your+Twittcom+code+is+{index % 1_000_000:06d}"
    )
    return RequestSpec("POST", MESSAGES_PATH, _FORM, body.encode())


def _load(url: str, **options):
    return run_load_in_subprocess(
        url, requests=REQUESTS, connections=CONNECTIONS, warmup=WARMUP, cpu=LOAD_CPU, **options
    )


def test_message_creations_per_second(benchmark, capsys):
    ceilings, results = [], []
    with (
        serve("benchmarks.support.bare:create_bare_app", cpu=SERVER_CPU) as bare_url,
        serve("fake_sms.app:create_app", cpu=SERVER_CPU) as url,
    ):

        def setup():
            httpx.post(f"{url}/_fake/reset", trust_env=False).raise_for_status()
            ceilings.append(_load(bare_url, request=BARE))

        def measure():
            results.append(_load(url, factory="benchmarks.test_fake_sms:create_message_request"))

        benchmark.pedantic(measure, setup=setup, rounds=ROUNDS, iterations=1)
        counters = httpx.get(f"{url}/_fake/counters", trust_env=False).json()
    for run in (*ceilings, *results):
        assert run.errors == 0, run.error_samples
        assert run.ok(201) == run.requests, run.statuses
    assert counters["counters"]["created"] == REQUESTS + WARMUP
    rps = statistics.median(r.rps for r in results)
    ceiling = statistics.median(c.rps for c in ceilings)
    best, best_ceiling = max(r.rps for r in results), max(c.rps for c in ceilings)
    ratio = rps / ceiling
    benchmark.extra_info.update(
        rps=rps,
        ceiling_rps=ceiling,
        ratio=ratio,
        best_rps=best,
        best_ceiling_rps=best_ceiling,
        best_ratio=best / best_ceiling,
        rounds=[{"rps": r.rps, "ceiling_rps": c.rps} for r, c in zip(results, ceilings, strict=True)],
        p99_ms=statistics.median(r.latency_p99_ms for r in results),
        target_rps=TARGET_RPS,
        target_ratio=TARGET_RATIO,
    )
    with capsys.disabled():
        print(
            f"\nfake_sms creations (median of {ROUNDS} rounds x {REQUESTS} req, {CONNECTIONS} conns): "
            f"{rps:,.0f} msg/s vs bare {ceiling:,.0f} req/s -> ratio {ratio:.2f}; best {best:,.0f} vs "
            f"{best_ceiling:,.0f} -> {best / best_ceiling:.2f} "
            f"(targets >= {TARGET_RPS:,}/s, >= {TARGET_RATIO}); "
            f"rounds {[round(r.rps) for r in results]} vs {[round(c.rps) for c in ceilings]}"
        )


def _run_model(n: int) -> SmsBackend:
    backend = SmsBackend(clock=ManualClock(), seed=1)
    account = backend.accounts[DEFAULT_ACCOUNT_SID]
    backend.configure(
        {"accounts": [{"sid": DEFAULT_ACCOUNT_SID, "senders": [{"number": DEFAULT_SHORT_CODE, "rate": 1e6}]}]}
    )
    for i in range(n):
        backend.create_message(
            account, {"To": f"+9198{i:08d}", "From": DEFAULT_SHORT_CODE, "Body": "code 123456"}
        )
    backend.advance(7200)
    return backend


def _bare_heap(events: int) -> None:
    heap: list[tuple[int, int, int]] = []
    seq = itertools.count()
    for i in range(events):
        heapq.heappush(heap, (i * 7919 % 1_000_003, next(seq), i))
    while heap:
        heapq.heappop(heap)


def test_carrier_events_per_second(benchmark, capsys):
    events = 3 * MODEL_MESSAGES
    t0 = time.perf_counter()
    _bare_heap(events)
    ceiling = events / (time.perf_counter() - t0)
    holder: list[SmsBackend] = []
    t0 = time.perf_counter()
    benchmark.pedantic(lambda: holder.append(_run_model(MODEL_MESSAGES)), rounds=1, iterations=1)
    seconds = time.perf_counter() - t0
    backend = holder[-1]
    final = sum(backend.counters[s] for s in ("delivered", "undelivered", "failed"))
    assert final == MODEL_MESSAGES
    rate = events / seconds
    benchmark.extra_info.update(
        events_per_s=rate, ceiling_events_per_s=ceiling, ratio=rate / ceiling, messages=MODEL_MESSAGES
    )
    with capsys.disabled():
        print(
            f"\nfake_sms model: {MODEL_MESSAGES:,} messages (create + 3 transitions each) "
            f"in {seconds:.2f} s = "
            f"{rate:,.0f} events/s vs bare heap push+pop {ceiling:,.0f}/s -> ratio {rate / ceiling:.3f}"
        )
