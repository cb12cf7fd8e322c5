"""twitter-text extract.yml conformance for URLs (what weighted length counts as 23 characters)."""

from __future__ import annotations

from typing import Any

import pytest
from tt_conformance import cases

from twitter_text import extract_urls, extract_urls_with_indices


@pytest.mark.parametrize("case", cases("extract.yml", "urls") + cases("extract.yml", "tco_urls_with_params"))
def test_urls(case: dict[str, Any]) -> None:
    """URLs are extracted exactly as the conformance case says."""
    assert extract_urls(case["text"]) == case["expected"]


@pytest.mark.parametrize(
    "case", cases("extract.yml", "urls_with_indices") + cases("extract.yml", "urls_with_directional_markers")
)
def test_urls_with_indices(case: dict[str, Any]) -> None:
    """URL values and indices match the conformance case."""
    got = [
        {"url": url.value, "indices": [url.start, url.end]} for url in extract_urls_with_indices(case["text"])
    ]
    assert got == case["expected"]
