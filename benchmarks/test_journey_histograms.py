"""Journey latencies recorded per second into the load test's HDR histograms, beside the library.

The figure is :meth:`loadtests.hdr.JourneyHistograms.record` calls per second (the metric's
histogram looked up by name, seconds turned into clamped microseconds, then recorded): what each
journey sample costs a locust process. Its ceiling, measured in the same run, is
``HdrHistogram.record_value`` alone on one histogram. A worker's encode-and-merge of its
histograms (what the master does with each stats report) is reported beside them.

Full run: ``.venv/bin/python -m pytest benchmarks/test_journey_histograms.py --benchmark-only -s``
"""

from __future__ import annotations

import os
import random
import time

from hdrh.histogram import HdrHistogram

from loadtests.hdr import HIGHEST_US, SIGNIFICANT_DIGITS, JourneyHistograms

SHORT = bool(os.environ.get("TWITTCOM_BENCH_SHORT"))
SAMPLES = 20_000 if SHORT else 500_000
VALUES = [random.Random(5).lognormvariate(1.4, 0.7) for _ in range(SAMPLES)]
NAMES = ("code_latency", "code_latency_processor", "code_latency_carrier", "activation_latency")


def _ours() -> float:
    histograms = JourneyHistograms()
    record, names = histograms.record, NAMES
    start = time.perf_counter()
    for i, value in enumerate(VALUES):
        record(names[i & 3], value)
    return SAMPLES / (time.perf_counter() - start)


def _ceiling() -> float:
    histogram = HdrHistogram(1, HIGHEST_US, SIGNIFICANT_DIGITS)
    record = histogram.record_value
    micros = [round(v * 1_000_000) for v in VALUES]
    start = time.perf_counter()
    for value in micros:
        record(value)
    return SAMPLES / (time.perf_counter() - start)


def _merge_seconds() -> float:
    worker = JourneyHistograms()
    for i, value in enumerate(VALUES[:5_000]):
        worker.record(NAMES[i & 3], value)
    master = JourneyHistograms()
    start = time.perf_counter()
    master.merge(worker.encode())
    return time.perf_counter() - start


def test_journey_samples_recorded_per_second(benchmark, capsys):
    rate = benchmark.pedantic(_ours, rounds=1, iterations=1)
    ceiling = _ceiling()
    merge = _merge_seconds()
    benchmark.extra_info.update(
        {"samples_per_s": rate, "ceiling_per_s": ceiling, "ratio": rate / ceiling, "merge_s": merge}
    )
    with capsys.disabled():
        print(
            f"\nHDR journey samples: {rate:,.0f}/s beside record_value alone {ceiling:,.0f}/s "
            f"(ratio {rate / ceiling:.2f}); encode+merge of 4 histograms {1000 * merge:.1f} ms"
        )
    assert rate > 10_000 and merge < 1.0
