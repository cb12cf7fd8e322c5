"""Tweet weighted length and validity (twitter-text ``parseTweet``), with the v2 and v3 configurations.

Text is NFC-normalised first. Each URL weighs ``transformed_url_length`` characters, each emoji
(v3 only) one default-weight character, and every other code point the weight of the range it
falls in (Latin, general punctuation: 1; CJK, astral and the rest: 2). A tweet is valid when its
weight is above 0 and at most 280, and it holds none of U+FFFE, U+FEFF, U+FFFF.

The ranges are reported like twitter-text's: inclusive end offsets in UTF-16 code units,
``display_range_end`` over the original text, ``valid_range_end`` the last code unit that still
fits in the limit (shifted by the NFC length change).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from twitter_text.emoji_spans import emoji_spans
from twitter_text.urls import extract_urls_with_indices

__all__ = [
    "CONFIG_V2",
    "CONFIG_V3",
    "ParseResult",
    "TextConfig",
    "WeightRange",
    "is_valid_tweet",
    "parse_tweet",
    "weighted_length",
]

_INVALID_CHARS = frozenset("\ufffe\ufeff\uffff")


@dataclass(frozen=True, slots=True)
class WeightRange:
    """Code points ``start``..``end`` (inclusive) weigh ``weight`` (in 1/scale characters)."""

    start: int
    end: int
    weight: int


@dataclass(frozen=True, slots=True)
class TextConfig:
    """A twitter-text configuration (the ``v2.json``/``v3.json`` of the reference library)."""

    max_weighted_tweet_length: int = 280
    scale: int = 100
    default_weight: int = 200
    transformed_url_length: int = 23
    ranges: tuple[WeightRange, ...] = (
        WeightRange(0, 4351, 100),
        WeightRange(8192, 8205, 100),
        WeightRange(8208, 8223, 100),
        WeightRange(8242, 8247, 100),
    )
    emoji_parsing_enabled: bool = True


#: twitter-text v3: emoji sequences count as one default-weight character.
CONFIG_V3 = TextConfig()
#: twitter-text v2: every code point of an emoji sequence is weighed on its own.
CONFIG_V2 = TextConfig(emoji_parsing_enabled=False)


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What :func:`parse_tweet` reports, field for field as twitter-text's ``parseTweet``."""

    weighted_length: int
    valid: bool
    permillage: int
    display_range_start: int
    display_range_end: int
    valid_range_start: int
    valid_range_end: int


def _utf16_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le", "surrogatepass")) // 2


def _bmp_weight(code: int, ranges: tuple[WeightRange, ...], default_weight: int) -> int:
    """The weight of a BMP code point (astral ones always weigh ``default_weight``, as in twitter-text)."""
    for weight_range in ranges:
        if weight_range.start <= code <= weight_range.end:
            return weight_range.weight
    return default_weight


def parse_tweet(text: str, config: TextConfig = CONFIG_V3) -> ParseResult:
    """Weigh ``text`` as a tweet under ``config`` and say whether (and how much of it) is valid."""
    normalized = text if text.isascii() else unicodedata.normalize("NFC", text)
    url_ends = {url.start: url.end for url in extract_urls_with_indices(normalized)}
    emoji_ends = dict(emoji_spans(normalized)) if config.emoji_parsing_enabled else {}
    limit = config.max_weighted_tweet_length * config.scale
    url_weight = config.transformed_url_length * config.scale
    weight = 0
    valid = True
    valid_display_index = 0
    unit = 0  # UTF-16 code units consumed so far
    index = 0
    length = len(normalized)
    ranges = config.ranges
    default_weight = config.default_weight
    while index < length:
        end = url_ends.get(index)
        if end is not None:
            weight += url_weight
            unit += _utf16_length(normalized[index:end])
        else:
            end = emoji_ends.get(index)
            if end is not None:
                weight += default_weight
                unit += _utf16_length(normalized[index:end])
            else:
                end = index + 1
                char = normalized[index]
                code = ord(char)
                if code > 0xFFFF:
                    weight += default_weight
                    unit += 2
                else:
                    weight += _bmp_weight(code, ranges, default_weight)
                    unit += 1
                    if valid and char in _INVALID_CHARS:
                        valid = False
        if valid and weight <= limit:
            valid_display_index = unit - 1
        index = end
    weighted = weight // config.scale
    original_units = _utf16_length(text)
    return ParseResult(
        weighted_length=weighted,
        valid=valid and 0 < weighted <= config.max_weighted_tweet_length,
        permillage=weight * 1000 // limit,
        display_range_start=0,
        display_range_end=original_units - 1 if original_units else 0,
        valid_range_start=0,
        valid_range_end=valid_display_index + original_units - unit,
    )


def weighted_length(text: str, config: TextConfig = CONFIG_V3) -> int:
    """Return the tweet's weighted length (280 is the limit); plain ASCII without a dot is O(1)."""
    if _is_plain_ascii(text, config):
        return len(text) * config.ranges[0].weight // config.scale
    return parse_tweet(text, config).weighted_length


def is_valid_tweet(text: str, config: TextConfig = CONFIG_V3) -> bool:
    """True when ``text`` is a postable tweet: non-empty weight within the limit, no invalid characters."""
    if _is_plain_ascii(text, config):
        return 0 < len(text) * config.ranges[0].weight <= config.max_weighted_tweet_length * config.scale
    return parse_tweet(text, config).valid


def _is_plain_ascii(text: str, config: TextConfig) -> bool:
    """ASCII text with no dot has no URL, emoji or invalid character: every character weighs the same."""
    first = config.ranges[0] if config.ranges else None
    return first is not None and first.start == 0 and first.end >= 0x7F and text.isascii() and "." not in text
