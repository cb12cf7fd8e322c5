"""Texts redacted per second (numbers and codes masked before the inbox and queue keep them), beside
a trivial ceiling over the same seeded corpus of typical tweets (``str.isdigit`` scan of each text:
the least any redaction must do to know whether there is anything to mask). Every processed message
goes through ``redact_text`` once for the inbox and once for its finished queue row.

Full run: ``.venv/bin/python -m pytest benchmarks/test_redaction.py --benchmark-only -s``
Short (CI): ``TWITTCOM_BENCH_SHORT=1 .venv/bin/python -m pytest benchmarks/test_redaction.py``
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from benchmarks.test_twitter_text import typical_tweets
from reference.domain.redaction import redact_text

SHORT = bool(os.environ.get("TWITTCOM_BENCH_SHORT"))
TWEETS = 500 if SHORT else 20_000
REPEATS = 1 if SHORT else 5


def _redact_all(tweets: list[str]) -> int:
    return sum(redact_text(t) != t for t in tweets)


def _digit_scan(tweets: list[str]) -> int:
    return sum(any(ch.isdigit() for ch in t) for t in tweets)


def _best_rate(work: Callable[[list[str]], int], tweets: list[str]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        work(tweets)
        best = min(best, time.perf_counter() - started)
    return len(tweets) / best


def test_redaction_rate(benchmark, capsys):
    """redact_text per second over typical tweets, beside a digit scan."""
    tweets = typical_tweets(TWEETS)
    masked = benchmark(_redact_all, tweets)
    registrations_and_codes = sum(t.startswith("#reg") or t.isdigit() for t in tweets)
    assert masked == registrations_and_codes  # every #reg number and bare code, nothing else
    figure, ceiling = _best_rate(_redact_all, tweets), _best_rate(_digit_scan, tweets)
    benchmark.extra_info.update({"texts_per_s": round(figure), "ceiling_per_s": round(ceiling),
                                 "ratio": round(figure / ceiling, 4), "texts": TWEETS})  # fmt: skip
    with capsys.disabled():
        print(f"\nredact_text: {figure:,.0f} texts/s; ceiling {ceiling:,.0f}/s; ratio {figure / ceiling:.3f}")
