"""Journey latencies in HDR histograms: 3 significant digits, merged across processes."""

from __future__ import annotations

import math
import multiprocessing
from types import SimpleNamespace

import pytest

from loadtests.hdr import JourneyHistograms
from loadtests.metrics import EventsSink
from loadtests.report import figures_from_stats, format_summary
from loadtests.schedule import ArrivalLedger


def _figures(histograms: JourneyHistograms) -> dict[str, float]:
    stats = SimpleNamespace(entries={})
    figures, _ = figures_from_stats(
        stats, ArrivalLedger(), histograms=histograms, arrivals_end_s=1, measured_s=1, cpu={}
    )
    return figures


def test_a_journey_latency_of_12_345_s_is_reported_as_12_3_s():
    """Not 12 s or 13 s (locust's bucket above 10 s): the HDR histogram keeps 3 significant digits."""
    histograms = JourneyHistograms()
    histograms.record("code_latency", 12.345)
    figures = _figures(histograms)
    for q in ("p50", "p95", "p99"):
        assert figures[f"code_{q}"] == pytest.approx(12.345, rel=1e-3)
    line = next(x for x in format_summary({"figures": figures}).splitlines() if "code latency" in x)
    assert "p50 12.3 s" in line and "p95 12.3 s" in line
    assert "12.00" not in line and "13" not in line


def _worker(values: list[float], queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    histograms = JourneyHistograms()
    for v in values:
        histograms.record("activation_latency", v)
    queue.put(histograms.encode())


def test_histograms_from_several_processes_merge_into_one():
    """Each worker process sends its encoded histograms; the master's merge equals one histogram of all."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    parts = [[0.1 * i for i in range(1, 501)], [50.0 + 0.1 * i for i in range(500)]]
    workers = [ctx.Process(target=_worker, args=(p, queue)) for p in parts]
    for w in workers:
        w.start()
    master = JourneyHistograms()
    for _ in workers:
        master.merge(queue.get(timeout=60))
    for w in workers:
        w.join(30)
    single = JourneyHistograms()
    for v in parts[0] + parts[1]:
        single.record("activation_latency", v)
    assert master.count("activation_latency") == 1000
    for q in (50, 90, 99):
        assert master.percentile("activation_latency", q) == single.percentile("activation_latency", q)
    assert math.isclose(master.mean("activation_latency"), single.mean("activation_latency"))


def test_events_sink_records_every_latency_in_its_histograms():
    fired: list[dict[str, object]] = []
    events = SimpleNamespace(request=SimpleNamespace(fire=lambda **kw: fired.append(kw)))
    sink = EventsSink(events)
    sink.latency("code_latency", 4.321)
    assert sink.histograms.count("code_latency") == 1 and fired[0]["response_time"] == pytest.approx(4321.0)
