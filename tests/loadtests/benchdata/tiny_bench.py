"""A tiny benchmark run through ``twittcom bench`` by the tests: a loop beside the same loop as ceiling.

``TWITTCOM_BENCH_PLANTED_SLOWDOWN=F`` plants a regression: after each measured loop the figure's
side sleeps F times the loop's own duration (so its rate drops to 1/(1+F) of the ceiling's).
"""

from __future__ import annotations

import os
import time

LOOPS = 20_000
ROUNDS = 15


def _loop() -> int:
    total = 0
    for i in range(LOOPS):
        total += i * i
    return total


def _rate(slowdown: float) -> float:
    start = time.perf_counter()
    _loop()
    spent = time.perf_counter() - start
    if slowdown:
        time.sleep(spent * slowdown)
    return LOOPS / (time.perf_counter() - start)


def test_tiny_loop_rate(benchmark):
    """Loop iterations per second (best of interleaved rounds) beside the same loop unslowed."""
    slowdown = float(os.environ.get("TWITTCOM_BENCH_PLANTED_SLOWDOWN", "0"))

    def measure() -> tuple[float, float]:
        figures, ceilings = [], []
        for _ in range(ROUNDS):
            figures.append(_rate(slowdown))
            ceilings.append(_rate(0.0))
        return max(figures), max(ceilings)

    figure, ceiling = benchmark.pedantic(measure, rounds=1, iterations=1)
    benchmark.extra_info.update(
        loops_per_s=round(figure), ceiling_loops_per_s=round(ceiling), ratio=figure / ceiling
    )
