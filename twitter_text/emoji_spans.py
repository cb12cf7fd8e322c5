"""Emoji spans in a text, for twitter-text v3's emoji discounting (each emoji weighs 2 characters).

The set of emoji sequences (ZWJ families, skin tones, keycaps, flags, tag sequences, with and
without variation selectors) comes from the ``emoji`` package's Unicode data; the scan here is a
longest-match over that set at the positions where an emoji can start, found by one regex search.
Bare ``©`` and ``®`` are text, not emoji, unless a variation selector U+FE0F makes them emoji.
"""

from __future__ import annotations

import re
from collections import defaultdict

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
_ASCII_STARTS = "".join(sorted(re.escape(ch) for ch in _LENGTHS if ch.isascii()))
_OTHER_STARTS = "".join(sorted(re.escape(ch) for ch in _LENGTHS if not ch.isascii()))
_CANDIDATE = re.compile(f"[{_ASCII_STARTS}](?=[\ufe0f\u20e3])|[{_OTHER_STARTS}]")


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
        for length in _LENGTHS[text[start]]:
            if text[start:start + length] in _SEQUENCES:
                spans.append((start, start + length))
                position = start + length
                break
        else:
            position = start + 1
