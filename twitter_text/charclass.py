"""Unicode character classes used by the twitter-text patterns, built from :mod:`unicodedata`.

twitter-text's JavaScript ships its classes as generated code-point ranges (letters and marks,
decimal numerals). Python already knows every code point's general category, so the same classes
are computed once at import and turned into ``re`` character-class bodies here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable

__all__ = [
    "HASHTAG_SPECIAL_CHARS",
    "LATIN_ACCENT_CHARS",
    "LETTERS_AND_MARKS",
    "NUMERALS",
    "class_body",
    "ranges_where",
]

#: Characters allowed inside a hashtag although neither letters, marks nor digits
#: (underscore, ZWNJ, ZWJ, Hebrew gershayim, wave dashes, Japanese iteration and middle dots, ...).
HASHTAG_SPECIAL_CHARS = (
    "_\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c\u309b\u309c\u30a0\u30fb\u3003\u0f0b\u0f0c\u00b7"
)

#: Latin letters with accents: a mention directly followed by one is not a mention.
LATIN_ACCENT_CHARS = (
    "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b"
    "\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)


def ranges_where(predicate: Callable[[str], bool]) -> list[tuple[int, int]]:
    """Return the inclusive code-point ranges of every character satisfying ``predicate``."""
    ranges: list[tuple[int, int]] = []
    start = -1
    for code in range(0x110000):
        if predicate(chr(code)):
            if start < 0:
                start = code
        elif start >= 0:
            ranges.append((start, code - 1))
            start = -1
    if start >= 0:
        ranges.append((start, 0x10FFFF))
    return ranges


def _escape(code: int) -> str:
    return f"\\U{code:08x}"


def class_body(ranges: Iterable[tuple[int, int]]) -> str:
    """Render ranges as the inside of a ``re`` character class (no brackets)."""
    parts = []
    for low, high in ranges:
        parts.append(_escape(low) if low == high else f"{_escape(low)}-{_escape(high)}")
    return "".join(parts)


_category = unicodedata.category

#: Every letter (L*) and mark (M*), BMP and astral: what a hashtag needs at least one of.
LETTERS_AND_MARKS = class_body(ranges_where(lambda ch: _category(ch)[0] in "LM"))
#: Every decimal digit (Nd), in any script.
NUMERALS = class_body(ranges_where(lambda ch: _category(ch) == "Nd"))
