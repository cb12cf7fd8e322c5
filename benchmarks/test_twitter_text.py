"""Hashtag extractions and weighted lengths per second on typical Twittcom tweets, beside trivial ceilings.

The corpus (seeded) is what the processor reads: ``#reg <mobile>``, bare 6-digit codes, ``#act #PACK``
purchases, chatter with mentions, links, Hindi and emoji. Each figure is measured next to a ceiling
taken in the same run over the same corpus: for extraction a ``str.split`` scan keeping words that
start with ``#`` (no Unicode rules, no URL overlap), for weighted length plain ``len``. The ratio
says what twitter-text's rules cost over the least a scan could do.

Full run: ``.venv/bin/python -m pytest benchmarks/test_twitter_text.py --benchmark-only -s``
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable

from twitter_text import extract_hashtags, weighted_length

SHORT = bool(os.environ.get("TWITTCOM_BENCH_SHORT"))
TWEETS = 500 if SHORT else 20_000
REPEATS = 1 if SHORT else 5

_PACKS = ("PACK50", "NIGHT99", "DATA1GB", "TT150", "SMS100", "ISD249")
_CHATTER = (
    "loving the new plan @TataDocomo",
    "why is my balance low? @TataDocomo",
    "see https://t.co/Ab12Cd34Ef for offers",
    "नमस्ते, रिचार्ज कैसे करें?",
    "great network today 😷🔥",
    "RT @friend: try #Twittcom it works",
)


def typical_tweets(count: int, seed: int = 7) -> list[str]:
    """A seeded corpus: registrations, codes, purchases (half of all traffic) and chatter."""
    rng = random.Random(seed)
    tweets = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.2:
            tweets.append(f"#reg 9{rng.randrange(10**9):09d}")
        elif kind < 0.4:
            tweets.append(f"{rng.randrange(10**6):06d}")
        elif kind < 0.9:
            tweets.append(f"#act #{rng.choice(_PACKS)}" + (" thanks!" if rng.random() < 0.3 else ""))
        else:
            tweets.append(rng.choice(_CHATTER))
    return tweets


def _extract_all(tweets: list[str]) -> int:
    return sum(len(extract_hashtags(tweet)) for tweet in tweets)


def _split_scan(tweets: list[str]) -> int:
    return sum(len([word[1:] for word in tweet.split() if word[:1] == "#"]) for tweet in tweets)


def _weigh_all(tweets: list[str]) -> int:
    return sum(weighted_length(tweet) for tweet in tweets)


def _len_all(tweets: list[str]) -> int:
    return sum(len(tweet) for tweet in tweets)


def _best_rate(work: Callable[[list[str]], int], tweets: list[str]) -> float:
    """Tweets per second of ``work`` over ``tweets``, best of ``REPEATS`` passes."""
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        work(tweets)
        best = min(best, time.perf_counter() - started)
    return len(tweets) / best


def _report(benchmark, capsys, label: str, figure: float, ceiling: float) -> None:
    ratio = figure / ceiling
    benchmark.extra_info.update({"tweets_per_s": round(figure), "ceiling_per_s": round(ceiling),
                                 "ratio": round(ratio, 4), "tweets": TWEETS})
    with capsys.disabled():
        print(f"\n{label}: {figure:,.0f} tweets/s; ceiling {ceiling:,.0f}/s; ratio {ratio:.3f}")


def test_hashtag_extraction_rate(benchmark, capsys):
    """Hashtag extractions per second over typical tweets, beside a str.split scan."""
    tweets = typical_tweets(TWEETS)
    found = benchmark(_extract_all, tweets)
    assert found == _split_scan(tweets)  # on this corpus both find the same tags: same work, fair ceiling
    _report(benchmark, capsys, "twitter_text.extract_hashtags", _best_rate(_extract_all, tweets),
            _best_rate(_split_scan, tweets))


def test_weighted_length_rate(benchmark, capsys):
    """weighted_length per second over typical tweets, beside len()."""
    tweets = typical_tweets(TWEETS)
    total = benchmark(_weigh_all, tweets)
    assert total > 0
    assert weighted_length("see https://t.co/Ab12Cd34Ef for offers") == 4 + 23 + 11  # a URL weighs 23
    assert weighted_length("great network today 😷🔥") == 20 + 2 + 2  # an emoji weighs 2
    _report(benchmark, capsys, "twitter_text.weighted_length", _best_rate(_weigh_all, tweets),
            _best_rate(_len_all, tweets))

