"""Handsets: what each phone has actually received, bounded per phone and in number of phones."""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

__all__ = ["Handsets", "Received"]


@dataclass(frozen=True, slots=True)
class Received:
    """One SMS as the phone saw it: carrier time (seconds since the fake started), its RFC 2822 date
    and the wall-clock time (Unix seconds) at which the fake delivered it."""

    sid: str
    from_: str
    body: str
    carrier_time: float
    date: str
    wall_time: float
    num_segments: int

    def to_json(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "from": self.from_,
            "body": self.body,
            "carrier_time": self.carrier_time,
            "date": self.date,
            "wall_time": self.wall_time,
            "num_segments": self.num_segments,
        }


class Handsets:
    """Inboxes keyed by E.164 number; oldest messages and oldest phones drop first."""

    def __init__(self, max_per_handset: int = 200, max_handsets: int = 200_000) -> None:
        self.max_per_handset = max_per_handset
        self.max_handsets = max_handsets
        self._inboxes: OrderedDict[str, deque[Received]] = OrderedDict()  # O(1) oldest-phone eviction
        self.dropped_handsets = 0

    def deliver(self, to: str, received: Received) -> None:
        inbox = self._inboxes.get(to)
        if inbox is None:
            while self._inboxes and len(self._inboxes) >= self.max_handsets:
                self._inboxes.popitem(last=False)
                self.dropped_handsets += 1
            inbox = self._inboxes[to] = deque(maxlen=self.max_per_handset)
        inbox.append(received)

    def inbox(self, number: str) -> list[Received]:
        return list(self._inboxes.get(number, ()))

    def __len__(self) -> int:
        return len(self._inboxes)
