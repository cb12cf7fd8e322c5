"""Hashtag, mention and cashtag extraction following twitter-text v3's rules.

Hashtags: a ``#`` or full-width ``＃`` at the start of the text or after a character that is not a
letter, mark, digit, hashtag special character or ``&`` (variation selectors count as a boundary);
then a run of letters, marks, decimal digits and special characters holding at least one letter
or mark. A hashtag directly followed by another hash sign or by ``://`` is dropped, and so is one
that starts inside a URL. Mentions: ``@``/``＠`` plus 1-20 ASCII word characters, optionally a
``/list-slug``, not preceded by ASCII word characters or ``!#$%&*@`` (``RT:`` is fine) and not
followed by another at sign, an accented Latin letter or ``://``.

Every function is pure and cheap on text without its sigil (one ``in`` test and return).
"""

from __future__ import annotations

import re

from twitter_text.charclass import (
    HASHTAG_SPECIAL_CHARS,
    LATIN_ACCENT_CHARS,
    LETTERS_AND_MARKS,
    NUMERALS,
    union,
)
from twitter_text.entities import Entity, MentionOrList
from twitter_text.urls import extract_urls_with_indices

__all__ = [
    "extract_cashtags",
    "extract_cashtags_with_indices",
    "extract_hashtags",
    "extract_hashtags_with_indices",
    "extract_mentions",
    "extract_mentions_or_lists_with_indices",
    "extract_mentions_with_indices",
]

_SPECIALS = re.escape(HASHTAG_SPECIAL_CHARS)
_HASHTAG_ALNUM = union(LETTERS_AND_MARKS, NUMERALS)

# A hash sign, then: not a keycap or emoji presentation sequence, and the maximal run of hashtag
# characters holding at least one letter or mark.
_HASHTAG_CANDIDATE = re.compile(
    "[#\uff03](?![\ufe0f\u20e3])"
    f"((?:{NUMERALS.pattern(_SPECIALS)})*{LETTERS_AND_MARKS.pattern()}(?:{_HASHTAG_ALNUM.pattern(_SPECIALS)})*)"
)
# A character that may not stand right before the hash sign (it would continue a word).
_NOT_A_BOUNDARY = re.compile(f"(?![\ufe0e\ufe0f])(?:{_HASHTAG_ALNUM.pattern(_SPECIALS + '&')})")
# Characters that certainly may (checked first, without the regex).
_PLAIN_BOUNDARIES = frozenset(" \t\n\r(),.:;!?'\"#\uff03")
_HASHTAG_INVALID_END = ("#", "\uff03", "://")

_Span = tuple[str, int, int]

_MENTION = re.compile(
    r"(?:^|[^a-zA-Z0-9_!#$%&*@\uff20]|(?:^|[^a-zA-Z0-9_+~.\-])(?:rt|RT|rT|Rt):?)"
    r"[@\uff20]"
    r"([a-zA-Z0-9_]{1,20})"
    r"(/[a-zA-Z][a-zA-Z0-9_\-]{0,24})?"
)
_MENTION_INVALID_END = re.compile(f"[@\uff20{LATIN_ACCENT_CHARS}]|://")

_CASHTAG = re.compile(r"(?:^|[ \t\n\x0b\x0c\r\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])"
                      r"\$([a-z]{1,6}(?:[._][a-z]{1,2})?)(?=$|\s|[!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])",
                      re.IGNORECASE)


def _hashtag_spans(text: str, check_url_overlap: bool) -> list[_Span]:
    """``(tag, start, end)`` of every hashtag; plain tuples keep the hot path cheap."""
    if "#" not in text and "\uff03" not in text:
        return []
    tags: list[_Span] = []
    for candidate in _HASHTAG_CANDIDATE.finditer(text):
        sign = candidate.start()
        if sign and text[sign - 1] not in _PLAIN_BOUNDARIES and _NOT_A_BOUNDARY.match(text, sign - 1):
            continue
        end = candidate.end()
        if text.startswith(_HASHTAG_INVALID_END, end):
            continue
        tags.append((candidate.group(1), sign, end))
    if tags and check_url_overlap and "." in text:
        urls = extract_urls_with_indices(text)
        if urls:
            tags = _drop_overlapping_urls(tags, urls)
    return tags


def _drop_overlapping_urls(tags: list[_Span], urls: list[Entity]) -> list[_Span]:
    """Keep the hashtags that survive twitter-text's overlap removal against the URLs."""
    merged = sorted([(start, end, True, (tag, start, end)) for tag, start, end in tags]
                    + [(url.start, url.end, False, (url.value, url.start, url.end)) for url in urls],
                    key=lambda item: item[0])
    kept: list[_Span] = []
    previous_end = -1
    for start, end, is_tag, span in merged:
        if start < previous_end:
            continue
        previous_end = end
        if is_tag:
            kept.append(span)
    return kept


def extract_hashtags_with_indices(text: str, *, check_url_overlap: bool = True) -> list[Entity]:
    """Return every hashtag in ``text`` with its span (``start`` at the hash sign)."""
    return [Entity(tag, start, end) for tag, start, end in _hashtag_spans(text, check_url_overlap)]


def extract_hashtags(text: str) -> list[str]:
    """Return the hashtags in ``text`` (without the hash sign), in order, duplicates kept."""
    return [tag for tag, _, _ in _hashtag_spans(text, True)]


def extract_mentions_or_lists_with_indices(text: str) -> list[MentionOrList]:
    """Return every ``@screen_name`` and ``@owner/list`` reference in ``text`` with its span."""
    if "@" not in text and "\uff20" not in text:
        return []
    found: list[MentionOrList] = []
    for match in _MENTION.finditer(text):
        end = match.end()
        if _MENTION_INVALID_END.match(text, end):
            continue
        name = match.group(1)
        slug = match.group(2) or ""
        found.append(MentionOrList(name, slug, end - len(name) - len(slug) - 1, end))
    return found


def extract_mentions_with_indices(text: str) -> list[Entity]:
    """Return every mention (not list reference) in ``text`` with its span."""
    return [Entity(item.screen_name, item.start, item.end)
            for item in extract_mentions_or_lists_with_indices(text) if not item.list_slug]


def extract_mentions(text: str) -> list[str]:
    """Return the screen names mentioned in ``text`` (without ``@``), in order."""
    return [item.value for item in extract_mentions_with_indices(text)]


def extract_cashtags_with_indices(text: str) -> list[Entity]:
    """Return every cashtag (``$TICKER``) in ``text`` with its span."""
    if "$" not in text:
        return []
    return [Entity(match.group(1), match.start(1) - 1, match.end(1)) for match in _CASHTAG.finditer(text)]


def extract_cashtags(text: str) -> list[str]:
    """Return the cashtags in ``text`` (without ``$``), in order."""
    return [tag.value for tag in extract_cashtags_with_indices(text)]
