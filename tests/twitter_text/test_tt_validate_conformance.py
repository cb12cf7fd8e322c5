"""twitter-text validate.yml conformance: weighted length, validity and ranges (v2 and v3 configs)."""

from __future__ import annotations

from typing import Any

import pytest
from tt_conformance import cases

from twitter_text import CONFIG_V2, CONFIG_V3, TextConfig, is_valid_tweet, parse_tweet, weighted_length


def _reported(text: str, config: TextConfig) -> dict[str, Any]:
    result = parse_tweet(text, config)
    return {
        "weightedLength": result.weighted_length,
        "valid": result.valid,
        "permillage": result.permillage,
        "displayRangeStart": result.display_range_start,
        "displayRangeEnd": result.display_range_end,
        "validRangeStart": result.valid_range_start,
        "validRangeEnd": result.valid_range_end,
    }


@pytest.mark.parametrize("case", cases("validate.yml", "WeightedTweetsCounterTest"))
def test_weighted_tweets_counter_v2(case: dict[str, Any]) -> None:
    """Under the v2 config (no emoji discount) every reported field matches the conformance case."""
    assert _reported(case["text"], CONFIG_V2) == case["expected"]


@pytest.mark.parametrize(
    "case",
    cases("validate.yml", "WeightedTweetsWithDiscountedEmojiCounterTest")
    + cases("validate.yml", "UnicodeDirectionalMarkerCounterTest"),
)
def test_weighted_tweets_counter_v3(case: dict[str, Any]) -> None:
    """Under the v3 config (emoji count 2) every reported field matches the conformance case."""
    assert _reported(case["text"], CONFIG_V3) == case["expected"]


@pytest.mark.parametrize("case", cases("validate.yml", "WeightedTweetsWithDiscountedEmojiCounterTest"))
def test_shortcuts_agree_with_parse_tweet(case: dict[str, Any]) -> None:
    """weighted_length and is_valid_tweet give the same answers as parse_tweet."""
    assert weighted_length(case["text"]) == case["expected"]["weightedLength"]
    assert is_valid_tweet(case["text"]) is case["expected"]["valid"]
