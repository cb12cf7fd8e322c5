"""Id-ordered timelines with cheap eviction from the old end, and X-style pagination tokens.

A :class:`Timeline` keeps ascending ids in a list plus a start offset; evicting the oldest entries
moves the offset (compacting now and then), so retention costs O(1) amortised per tweet.
Pages run newest first; a ``next_token`` encodes the exclusive upper bound of the next page as
lowercase base32hex (31 characters for a 19-digit id, like X's tokens, and >= 16 as the DM spec asks).
"""

from __future__ import annotations

import base64
import binascii
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Container
from dataclasses import dataclass

__all__ = ["Page", "Timeline", "decode_token", "encode_token"]


def encode_token(until_id: int) -> str:
    return base64.b32hexencode(str(until_id).encode()).decode().rstrip("=").lower()


def decode_token(token: str) -> int | None:
    """The id a token stands for, or None if it is not one of ours."""
    padded = token.upper() + "=" * (-len(token) % 8)
    try:
        raw = base64.b32hexdecode(padded).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return int(raw) if (raw.isascii() and raw.isdigit()) and len(raw) <= 19 else None


@dataclass(slots=True)
class Page:
    ids: list[int]
    next_until: int | None


class Timeline:
    """Ascending ids with a movable start (entries before it are evicted)."""

    __slots__ = ("ids", "start")

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.start = 0

    def __len__(self) -> int:
        return len(self.ids) - self.start

    def append(self, item_id: int) -> None:
        self.ids.append(item_id)

    def evict_through(self, item_id: int) -> None:
        """Drop every entry <= ``item_id`` from the old end."""
        ids, start = self.ids, self.start
        while start < len(ids) and ids[start] <= item_id:
            start += 1
        if start == len(ids) or (start > 64 and start * 2 > len(ids)):
            # compact: at most as many dead entries as live ones (or 64), so a store of many users
            # with few retained tweets each does not keep ~1,000 dead ids per timeline
            del ids[:start]
            start = 0
        self.start = start

    def newest(self) -> int | None:
        return self.ids[-1] if len(self.ids) > self.start else None

    def page(
        self,
        *,
        after: int,
        before: int,
        limit: int,
        present: Container[int],
        accept: Callable[[int], bool] | None = None,
    ) -> Page:
        """Up to ``limit`` ids in (after, before), newest first, skipping ids no longer ``present``."""
        ids = self.ids
        low = bisect_right(ids, after, lo=self.start)
        index = bisect_left(ids, before, lo=low) - 1
        out: list[int] = []
        while index >= low:
            item = ids[index]
            index -= 1
            if item in present and (accept is None or accept(item)):
                out.append(item)
                if len(out) == limit:
                    break
        more = index >= low and bool(out)
        return Page(out, out[-1] if more else None)
