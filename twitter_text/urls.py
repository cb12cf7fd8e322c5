"""URL extraction following twitter-text v3 (what a tweet's weighted length counts as 23).

A URL is an optional ``http(s)://``, a domain ending in a known top-level domain (see
:mod:`twitter_text.tlds`) or an ``xn--`` label, an optional port, path and query. Without a
protocol only the ASCII part of a domain counts, and not after ``-_./``. A domain whose labels
punycode-encode to more than 63 characters, or a URL longer than 4,096, is not a URL.
Unlike the reference, a domain has at most 127 labels (the DNS limit), which keeps the scan
near-linear on adversarial text.
``https://t.co/<slug>`` links end at the slug (and query) and need a slug of at most 40.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from twitter_text.charclass import LATIN_ACCENT_CHARS
from twitter_text.entities import Entity
from twitter_text.tlds import COUNTRY_CODE_TLDS, GENERIC_TLDS

__all__ = ["extract_urls", "extract_urls_with_indices"]

_MAX_URL_LENGTH = 4096
_MAX_TCO_SLUG_LENGTH = 40
_MAX_LABEL_LENGTH = 63
_DEFAULT_PROTOCOL = "https://"

_PUNCT = re.escape("!'#%&()*+,\\-./:;<=>?@[]^_{|}~$")
_SPACES = "\t-\r \x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_INVALID = "\ufffe\ufeff\uffff"
_DIRECTIONAL = "\u202a-\u202e\u061c\u200e\u200f\u2066-\u2069"
_CYRILLIC = "\u0400-\u04ff"

_DOMAIN_CHAR = f"[^{_PUNCT}{_SPACES}{_INVALID}{_DIRECTIONAL}]"
# Labels start and end with a domain character; possessive quantifiers are safe (after the longest
# run of label characters comes either the dot or nothing that a shorter run could use) and keep a
# long dash-riddled word linear.
_SUBDOMAIN = f"(?:{_DOMAIN_CHAR}(?:[_-]*+{_DOMAIN_CHAR})*+\\.)"
_DOMAIN_NAME = f"(?:{_DOMAIN_CHAR}(?:-*+{_DOMAIN_CHAR})*+\\.)"
# At most 127 labels (the DNS limit); unbounded, a long dotted word with no TLD is quadratic.
_MAX_SUBDOMAINS = 125


def _alternation(words: Iterable[str]) -> str:
    """A regex matching any of ``words``, as a trie (``re`` would try a flat alternation word by word)."""
    children: dict[str, list[str]] = {}
    for word in words:
        if word:
            children.setdefault(word[0], []).append(word[1:])
    branches = []
    for first in sorted(children):
        rest = children[first]
        tails = [tail for tail in rest if tail]
        if not tails:
            branches.append(re.escape(first))
            continue
        inner = _alternation(tails)
        optional = "?" if "" in rest else ""
        branches.append(f"{re.escape(first)}(?:{inner}){optional}")
    return "|".join(branches)


_TLD_END = "(?=[^0-9a-zA-Z@+-]|$)"
_GTLD = f"(?:(?:{_alternation(GENERIC_TLDS)}){_TLD_END})"
_CCTLD = f"(?:(?:{_alternation(COUNTRY_CODE_TLDS)}){_TLD_END})"
_PUNYCODE = "(?:xn--[\\-0-9a-z]+)"
_DOMAIN = f"(?:{_SUBDOMAIN}{{0,{_MAX_SUBDOMAINS}}}{_DOMAIN_NAME}(?:{_GTLD}|{_CCTLD}|{_PUNYCODE}))"

_PATH_CHAR = f"[a-z{_CYRILLIC}0-9!*';:=+,.$/%#\\[\\]\\-\u2013_~@|&{LATIN_ACCENT_CHARS}]"
_BALANCED_PARENS = (
    f"\\((?:{_PATH_CHAR}+|(?:{_PATH_CHAR}*\\({_PATH_CHAR}+\\){_PATH_CHAR}*))\\)"
)
_PATH_END = f"(?:[+\\-a-z{_CYRILLIC}0-9=_#/{LATIN_ACCENT_CHARS}]|{_BALANCED_PARENS})"
_PATH = (
    f"(?:(?:{_PATH_CHAR}*(?:{_BALANCED_PARENS}{_PATH_CHAR}*)*{_PATH_END})|(?:@{_PATH_CHAR}+/))"
)
_QUERY = "[a-z0-9!?*'@();:&=+$/%#\\[\\]\\-_.,~|]*[a-z0-9\\-_&=#/]"

_URL = re.compile(
    f"(?:[^A-Za-z0-9@\uff20$#\uff03{_INVALID}]|^)"  # preceding character
    "("  # 1: the URL
    "(https?://)?"  # 2: protocol
    f"({_DOMAIN})"  # 3: domain
    "(?::[0-9]+)?"  # port
    f"(/{_PATH}*)?"  # 4: path
    f"(\\?{_QUERY})?"  # query
    ")",
    re.IGNORECASE,
)
_ASCII_DOMAIN = re.compile(
    f"(?:[\\-a-z0-9{LATIN_ACCENT_CHARS}]+\\.)+(?:{_GTLD}|{_CCTLD}|{_PUNYCODE})", re.IGNORECASE
)
_TCO_URL = re.compile(f"https?://t\\.co/([a-z0-9]+)(?:\\?{_QUERY})?", re.IGNORECASE)
_INVALID_BEFORE_BARE_DOMAIN = frozenset("-_./")
# Every URL has a dot followed by a top-level domain: a cheap test that skips prose and numbers.
_DOT_TLD = re.compile(f"\\.(?:{_GTLD}|{_CCTLD}|{_PUNYCODE})", re.IGNORECASE)


def _punycode_length(domain: str) -> int | None:
    """Length of ``domain`` in its ASCII (punycode) form, or None if a label is empty or too long."""
    if domain.startswith("xn--") and not _ASCII_DOMAIN.search(domain):
        return None
    total = 0
    labels = domain.split(".")
    for label in labels:
        encoded = len(label) if label.isascii() else 4 + len(label.encode("punycode"))
        if encoded < 1 or encoded > _MAX_LABEL_LENGTH:
            return None
        total += encoded
    return total + len(labels) - 1


def _is_valid_url(url: str, protocol: str, domain: str) -> bool:
    ascii_length = _punycode_length(domain)
    if ascii_length is None:
        return False
    return len(protocol) + len(url) + ascii_length - len(domain) <= _MAX_URL_LENGTH


def extract_urls_with_indices(text: str) -> list[Entity]:
    """Return every URL in ``text`` with its span; cheap on text with no dot followed by a TLD."""
    if "." not in text or _DOT_TLD.search(text) is None:
        return []
    urls: list[Entity] = []
    for match in _URL.finditer(text):
        url, protocol, domain, path = match.group(1, 2, 3, 4)
        start, end = match.span(1)
        if not _is_valid_url(url, protocol or _DEFAULT_PROTOCOL, domain):
            continue
        if protocol:
            tco = _TCO_URL.match(url)
            if tco is not None:
                if len(tco.group(1)) > _MAX_TCO_SLUG_LENGTH:
                    continue
                url = tco.group(0)
                end = start + len(url)
            urls.append(Entity(url, start, end))
            continue
        if start > 0 and text[start - 1] in _INVALID_BEFORE_BARE_DOMAIN:
            continue
        urls.extend(_bare_ascii_domains(text, start, end, domain, path))
    return urls


def _bare_ascii_domains(text: str, start: int, end: int, domain: str, path: str | None) -> list[Entity]:
    """Split a protocol-less match into its ASCII domains; the last one keeps the path."""
    found: list[Entity] = []
    for ascii_match in _ASCII_DOMAIN.finditer(domain):
        found.append(Entity(ascii_match.group(0), start + ascii_match.start(), start + ascii_match.end()))
    if found and path:
        last = found[-1]
        found[-1] = Entity(text[last.start:end], last.start, end)
    return found


def extract_urls(text: str) -> list[str]:
    """Return the URLs in ``text``, in order."""
    return [url.value for url in extract_urls_with_indices(text)]
