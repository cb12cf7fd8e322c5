"""The public surface of twitter_text: a sorted, complete ``__all__`` and the promised signatures."""

from __future__ import annotations

import dataclasses
import time

import pytest

import twitter_text


def test_all_is_sorted_and_resolves() -> None:
    """__all__ is sorted and every name in it exists on the package."""
    assert twitter_text.__all__ == sorted(twitter_text.__all__)
    for name in twitter_text.__all__:
        assert hasattr(twitter_text, name), name


def test_entity_is_frozen_value_start_end() -> None:
    """Entity is a frozen dataclass with exactly value, start and end."""
    assert [field.name for field in dataclasses.fields(twitter_text.Entity)] == ["value", "start", "end"]
    entity = twitter_text.Entity("act", 0, 4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        entity.value = "other"  # type: ignore[misc]


def test_long_dotted_text_stays_fast() -> None:
    """A 6,000-character dotted word with no TLD is weighed in well under seconds (no quadratic scan)."""
    started = time.perf_counter()
    assert twitter_text.weighted_length("a." * 3000 + " x.com") == 6000 + 1 + 23
    assert time.perf_counter() - started < 5.0
