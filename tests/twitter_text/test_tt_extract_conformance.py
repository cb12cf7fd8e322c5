"""twitter-text extract.yml conformance: hashtags, mentions, lists, cashtags and URLs."""

from __future__ import annotations

from typing import Any

import pytest
from tt_conformance import cases

from twitter_text import (
    extract_cashtags,
    extract_cashtags_with_indices,
    extract_hashtags,
    extract_hashtags_with_indices,
    extract_mentions,
    extract_mentions_or_lists_with_indices,
    extract_mentions_with_indices,
)


@pytest.mark.parametrize(
    "case", cases("extract.yml", "hashtags") + cases("extract.yml", "hashtags_from_astral")
)
def test_hashtags(case: dict[str, Any]) -> None:
    """Hashtags are extracted exactly as twitter-text's conformance case says."""
    assert extract_hashtags(case["text"]) == case["expected"]


@pytest.mark.parametrize("case", cases("extract.yml", "hashtags_with_indices"))
def test_hashtags_with_indices(case: dict[str, Any]) -> None:
    """Hashtag values and [start, end) indices match the conformance case."""
    got = [
        {"hashtag": tag.value, "indices": [tag.start, tag.end]}
        for tag in extract_hashtags_with_indices(case["text"])
    ]
    assert got == case["expected"]


@pytest.mark.parametrize("case", cases("extract.yml", "mentions"))
def test_mentions(case: dict[str, Any]) -> None:
    """Mentioned screen names are extracted exactly as the conformance case says."""
    assert extract_mentions(case["text"]) == case["expected"]


@pytest.mark.parametrize("case", cases("extract.yml", "mentions_with_indices"))
def test_mentions_with_indices(case: dict[str, Any]) -> None:
    """Mention values and indices match the conformance case."""
    got = [
        {"screen_name": item.value, "indices": [item.start, item.end]}
        for item in extract_mentions_with_indices(case["text"])
    ]
    assert got == case["expected"]


@pytest.mark.parametrize("case", cases("extract.yml", "mentions_or_lists_with_indices"))
def test_mentions_or_lists_with_indices(case: dict[str, Any]) -> None:
    """Mentions and @owner/list references carry the slug and indices the conformance case gives."""
    got = [
        {"screen_name": item.screen_name, "list_slug": item.list_slug, "indices": [item.start, item.end]}
        for item in extract_mentions_or_lists_with_indices(case["text"])
    ]
    assert got == case["expected"]


@pytest.mark.parametrize("case", cases("extract.yml", "cashtags"))
def test_cashtags(case: dict[str, Any]) -> None:
    """Cashtags are extracted exactly as the conformance case says."""
    assert extract_cashtags(case["text"]) == case["expected"]


@pytest.mark.parametrize("case", cases("extract.yml", "cashtags_with_indices"))
def test_cashtags_with_indices(case: dict[str, Any]) -> None:
    """Cashtag values and indices match the conformance case."""
    got = [
        {"cashtag": tag.value, "indices": [tag.start, tag.end]}
        for tag in extract_cashtags_with_indices(case["text"])
    ]
    assert got == case["expected"]
