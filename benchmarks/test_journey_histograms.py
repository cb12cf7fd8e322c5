"""Journey latencies recorded per second into the load test's HDR histograms, beside the library.

The figure is :meth:`loadtests.hdr.JourneyHistograms.record` calls per second (the metric's
histogram looked up by name, seconds turned into clamped microseconds, then recorded): what each
journey sample costs a locust process, per second of the thread's own CPU time (a neighbour taking
the core stretches wall-clock time, not the CPU the loop used). Its ceiling, measured in the same run, is
``HdrHistogram.record_value`` alone on one histogram, timed in interleaved rounds with the figure
(:mod:`benchmarks.support.paired`: the ratio is the median of the rounds' own ratios, so a burst of
other work during one block cannot move the ratio the bench gate judges). A worker's encode-and-merge of its
histograms (what the master does with each stats report) is reported beside them.

Full run: ``.venv/bin/python -m pytest benchmarks/test_journey_histograms.py --benchmark-only -s``
"""

from __future__ import annotations

import os
import random
import time

from hdrh.histogram import HdrHistogram

from benchmarks.support.paired import paired_rounds
from loadtests.hdr import HIGHEST_US, SIGNIFICANT_DIGITS, JourneyHistograms

SHORT = bool(os.environ.get("TWITTCOM_BENCH_SHORT"))
SAMPLES = 20_000 if SHORT else 100_000
ROUNDS = 7 if SHORT else 9
VALUES = [random.Random(5).lognormvariate(1.4, 0.7) for _ in range(SAMPLES)]
NAMES = ("code_latency", "code_latency_processor", "code_latency_carrier", "activation_latency")


def _ours() -> float:
    histograms = JourneyHistograms()
    record, names = histograms.record, NAMES
    start = time.thread_time()
    for i, value in enumerate(VALUES):
        record(names[i & 3], value)
    return SAMPLES / (time.thread_time() - start)


def _ceiling() -> float:
    histogram = HdrHistogram(1, HIGHEST_US, SIGNIFICANT_DIGITS)
    record = histogram.record_value
    micros = [round(v * 1_000_000) for v in VALUES]
    start = time.thread_time()
    for value in micros:
        record(value)
    return SAMPLES / (time.thread_time() - start)


def _merge_seconds() -> float:
    worker = JourneyHistograms()
    for i, value in enumerate(VALUES[:5_000]):
        worker.record(NAMES[i & 3], value)
    master = JourneyHistograms()
    start = time.perf_counter()
    master.merge(worker.encode())
    return time.perf_counter() - start


def test_journey_samples_recorded_per_second(benchmark, capsys):
    paired = benchmark.pedantic(paired_rounds, args=(_ours, _ceiling, ROUNDS), rounds=1, iterations=1)
    rate, ceiling = paired.figure, paired.ceiling
    merge = _merge_seconds()
    benchmark.extra_info.update(
        {"samples_per_s": rate, "ceiling_per_s": ceiling, "ratio": paired.ratio, "merge_s": merge,
         "paired_rounds": paired.rounds}
    )  # fmt: skip
    with capsys.disabled():
        print(
            f"\nHDR journey samples: {rate:,.0f}/s beside record_value alone {ceiling:,.0f}/s "
            f"(median paired ratio {paired.ratio:.2f} over {paired.rounds} rounds); "
            f"encode+merge of 4 histograms {1000 * merge:.1f} ms"
        )
    assert rate > 10_000 and merge < 1.0
