"""Unicode character classes used by the twitter-text patterns, built from :mod:`unicodedata`.

twitter-text's JavaScript ships its classes as generated code-point ranges (letters and marks,
decimal numerals). Python already knows every code point's general category, so the same classes
are computed once at import (one pass over the code space, ~0.1 s) and rendered as ``re`` patterns.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "HASHTAG_SPECIAL_CHARS",
    "LATIN_ACCENT_CHARS",
    "LETTERS_AND_MARKS",
    "NUMERALS",
    "CharClass",
    "union",
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


def _collapse(codes: Iterable[int]) -> list[tuple[int, int]]:
    """Collapse ascending code points into inclusive ranges."""
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return ranges


def _escape(code: int) -> str:
    return f"\\U{code:08x}"


def _body(ranges: Iterable[tuple[int, int]]) -> str:
    return "".join(_escape(low) if low == high else f"{_escape(low)}-{_escape(high)}" for low, high in ranges)


@dataclass(frozen=True, slots=True)
class CharClass:
    """A Unicode character class split at the BMP boundary.

    ``re`` tests a BMP-only class with one bitmap lookup but scans an astral-spanning class
    range by range (six times slower on a tweet), so the two halves are kept apart and joined
    by :meth:`pattern` / :meth:`negated` as an alternation.
    """

    bmp: str
    astral: str

    def pattern(self, extra: str = "") -> str:
        """A pattern matching one character of the class or of ``extra`` (a class body)."""
        return f"(?:[{self.bmp}{extra}]|[{self.astral}])" if self.astral else f"[{self.bmp}{extra}]"

    def negated(self, extra: str = "") -> str:
        """A pattern matching one character outside the class and ``extra`` (a class body)."""
        if not self.astral:
            return f"[^{self.bmp}{extra}]"
        return f"(?:[^{self.bmp}{extra}\\U00010000-\\U0010ffff]|(?![{self.astral}])[\\U00010000-\\U0010ffff])"


def union(first: CharClass, second: CharClass) -> CharClass:
    """The class of characters in either class."""
    return CharClass(first.bmp + second.bmp, first.astral + second.astral)


def _split(codes: list[int]) -> CharClass:
    bmp = _collapse(code for code in codes if code <= 0xFFFF)
    astral = _collapse(code for code in codes if code > 0xFFFF)
    return CharClass(_body(bmp), _body(astral))


def _letters_marks_and_numerals() -> tuple[CharClass, CharClass]:
    category = unicodedata.category
    letters_and_marks: list[int] = []
    numerals: list[int] = []
    for code in range(0x110000):
        major = category(chr(code))
        if major[0] in "LM":
            letters_and_marks.append(code)
        elif major == "Nd":
            numerals.append(code)
    return _split(letters_and_marks), _split(numerals)


#: Every letter (L*) and mark (M*), BMP and astral: what a hashtag needs at least one of;
#: every decimal digit (Nd), in any script.
LETTERS_AND_MARKS, NUMERALS = _letters_marks_and_numerals()
