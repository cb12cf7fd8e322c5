"""Emoji spans in a text, for twitter-text v3's emoji discounting (each emoji weighs 2 characters).

The set of emoji sequences (ZWJ families, skin tones, keycaps, flags, tag sequences, with and
without variation selectors) comes from the ``emoji`` package's Unicode data; the scan here is a
longest-match over that set at the positions where an emoji can start, found by one regex search.
Bare ``©`` and ``®`` are text, not emoji, unless a variation selector U+FE0F makes them emoji.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from emoji import EMOJI_DATA

__all__ = ["emoji_spans"]

_TEXT_DEFAULT = frozenset({"\u00a9", "\u00ae"})

_SEQUENCES: frozenset[str] = frozenset(key for key in EMOJI_DATA if key not in _TEXT_DEFAULT)


def _lengths_by_first_char(sequences: frozenset[str]) -> dict[str, tuple[int, ...]]:
    lengths: defaultdict[str, set[int]] = defaultdict(set)
    for sequence in sequences:
        lengths[sequence[0]].add(len(sequence))
    return {first: tuple(sorted(found, reverse=True)) for first, found in lengths.items()}


_LENGTHS = _lengths_by_first_char(_SEQUENCES)
# ASCII starters (digits, '#', '*', keycaps) only begin an emoji before U+FE0F or U+20E3.


def _ranges_class(chars: Iterable[str]) -> str:
    """A character-class body covering ``chars`` as collapsed ``a-z`` ranges."""
    ranges: list[list[int]] = []
    for code in sorted(ord(ch) for ch in chars):
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    parts = [re.escape(chr(low)) + (f"-{re.escape(chr(high))}" if high > low else "") for low, high in ranges]
    return "".join(parts)


# ``re`` tests a BMP class with one bitmap lookup but an astral-spanning class range by range, so
# astral characters are matched by one wide range here and checked against the starters in Python.
_ASCII_STARTS = _ranges_class(ch for ch in _LENGTHS if ch.isascii())
_BMP_STARTS = _ranges_class(ch for ch in _LENGTHS if not ch.isascii() and ord(ch) <= 0xFFFF)
_CANDIDATE = re.compile(f"[{_ASCII_STARTS}](?=[\ufe0f\u20e3])|[{_BMP_STARTS}]|[\U00010000-\U0010ffff]")


def emoji_spans(text: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` code-point spans of the emoji in ``text``, left to right, longest first."""
    if text.isascii():
        return []
    spans: list[tuple[int, int]] = []
    position = 0
    search = _CANDIDATE.search
    while True:
        found = search(text, position)
        if found is None:
            return spans
        start = found.start()
        for length in _LENGTHS.get(text[start], ()):
            if text[start:start + length] in _SEQUENCES:
                spans.append((start, start + length))
                position = start + length
                break
        else:
            position = start + 1
