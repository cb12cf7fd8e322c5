"""twitter-text for Python: hashtag, mention, cashtag and URL extraction, tweet weighted length.

A pure library (no I/O) following twitter-text v3 and checked against its conformance suite::

    >>> from twitter_text import extract_hashtags, weighted_length, is_valid_tweet
    >>> extract_hashtags("#act #PACK50 please")
    ['act', 'PACK50']
    >>> weighted_length("Hi http://test.co")
    26

Entity indices are Python string (code point) indices; see :mod:`twitter_text.entities`.
"""

from __future__ import annotations

from twitter_text.entities import Entity, MentionOrList, utf16_offset
from twitter_text.extract import (
    extract_cashtags,
    extract_cashtags_with_indices,
    extract_hashtags,
    extract_hashtags_with_indices,
    extract_mentions,
    extract_mentions_or_lists_with_indices,
    extract_mentions_with_indices,
)
from twitter_text.parse import (
    CONFIG_V2,
    CONFIG_V3,
    ParseResult,
    TextConfig,
    WeightRange,
    is_valid_tweet,
    parse_tweet,
    weighted_length,
)
from twitter_text.urls import extract_urls, extract_urls_with_indices

__all__ = [
    "CONFIG_V2",
    "CONFIG_V3",
    "Entity",
    "MentionOrList",
    "ParseResult",
    "TextConfig",
    "WeightRange",
    "extract_cashtags",
    "extract_cashtags_with_indices",
    "extract_hashtags",
    "extract_hashtags_with_indices",
    "extract_mentions",
    "extract_mentions_or_lists_with_indices",
    "extract_mentions_with_indices",
    "extract_urls",
    "extract_urls_with_indices",
    "is_valid_tweet",
    "parse_tweet",
    "utf16_offset",
    "weighted_length",
]
