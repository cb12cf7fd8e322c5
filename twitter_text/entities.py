"""The value objects returned by extraction: an entity's text and its position in the tweet.

Indices are Python string indices (Unicode code points), ``start`` inclusive and ``end``
exclusive, so ``text[entity.start:entity.end]`` is the entity including its sigil (``#``, ``@``).
They equal twitter-text's UTF-16 indices for text without astral characters; use
:func:`utf16_offset` to convert where a client counts UTF-16 code units.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Entity", "MentionOrList", "utf16_offset"]


@dataclass(frozen=True, slots=True)
class Entity:
    """One extracted hashtag, mention, cashtag or URL: its value (without sigil) and span."""

    value: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class MentionOrList:
    """A mention, or a list reference ``@owner/slug`` (``list_slug`` keeps the leading ``/``)."""

    screen_name: str
    list_slug: str
    start: int
    end: int


def utf16_offset(text: str, index: int) -> int:
    """Convert a code-point index into ``text`` to the matching UTF-16 code-unit offset."""
    prefix = text[:index]
    if prefix.isascii():
        return index
    return index + sum(1 for ch in prefix if ord(ch) > 0xFFFF)
