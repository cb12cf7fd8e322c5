"""Rate limits per endpoint, per app and per user, on fixed windows of the fake's clock.

Presets: ``real`` (the documented values, default), ``off`` (limits of 10**9 so nothing is ever
refused but headers still flow), or a JSON/TOML file overriding ``real`` per route key::

    {"POST /2/tweets": {"app": [[10000, 86400]], "user": [[100, 900]], "app_counts_user_requests": true}}

``app`` limits count requests made with the app-only bearer token, and also user-context requests
when ``app_counts_user_requests`` is true (the 24 h app caps of POST /2/tweets and DM create count
everything the app does). ``user`` limits count per user. Every response of an authenticated API
request carries ``x-rate-limit-limit/remaining/reset`` of its tightest window, plus
``x-app-limit-24hour-*`` / ``x-user-limit-24hour-*`` where a 24 h window applies, as X sends them.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fake_twitter.clock import Clock
from fake_twitter.exceptions import RateLimitExceeded

__all__ = ["DEFAULT_LIMITS", "EndpointLimits", "Limit", "RateLimiter", "load_preset"]

MIN15 = 900.0
DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class Limit:
    limit: int
    window: float

    @property
    def limit_bytes(self) -> bytes:
        return b"%d" % self.limit


@dataclass(frozen=True, slots=True)
class EndpointLimits:
    app: tuple[Limit, ...]
    user: tuple[Limit, ...]
    app_counts_user_requests: bool = False


def _limits(
    app: list[tuple[int, float]], user: list[tuple[int, float]], all_: bool = False
) -> EndpointLimits:
    return EndpointLimits(tuple(Limit(n, w) for n, w in app), tuple(Limit(n, w) for n, w in user), all_)


#: Used for routes absent from the table (values not given in the anchors' table).
DEFAULT_LIMITS = _limits([(900, MIN15)], [(900, MIN15)])

#: The documented values (docs x-api/fundamentals/rate-limits.mdx); others are X's published ones.
REAL: dict[str, EndpointLimits] = {
    "POST /2/tweets": _limits([(10_000, DAY)], [(100, MIN15)], True),
    "GET /2/users/:id/mentions": _limits([(450, MIN15)], [(300, MIN15)]),
    "GET /2/users/:id/tweets": _limits([(1500, MIN15)], [(900, MIN15)]),
    "GET /2/users/me": _limits([], [(75, MIN15)]),
    "GET /2/users/by/username/:username": _limits([(300, MIN15)], [(900, MIN15)]),
    "GET /2/users/:id": _limits([(300, MIN15)], [(900, MIN15)]),
    "GET /2/tweets/:id": _limits([(450, MIN15)], [(900, MIN15)]),
    "GET /2/tweets": _limits([(450, MIN15)], [(900, MIN15)]),
    "DELETE /2/tweets/:id": _limits([], [(50, MIN15)]),
    "GET /2/dm_events": _limits([], [(15, MIN15)]),
    "GET /2/dm_conversations/with/:participant_id/dm_events": _limits([], [(15, MIN15)]),
    "POST /2/dm_conversations/with/:participant_id/messages": _limits(
        [(1440, DAY)], [(15, MIN15), (1440, DAY)], True
    ),
    "POST /2/dm_conversations/:dm_conversation_id/messages": _limits(
        [(1440, DAY)], [(15, MIN15), (1440, DAY)], True
    ),
    "GET /2/dm_conversations/:id/dm_events": _limits([], [(15, MIN15)]),
    "GET /2/tweets/search/recent": _limits([(450, MIN15)], [(300, MIN15)]),
}

OFF_LIMITS = _limits([(10**9, MIN15)], [(10**9, MIN15)])


def _parse_entry(raw: dict[str, Any]) -> EndpointLimits:
    def pairs(key: str) -> list[tuple[int, float]]:
        return [(int(n), float(w)) for n, w in raw.get(key, [])]

    return _limits(pairs("app"), pairs("user"), bool(raw.get("app_counts_user_requests", False)))


def load_preset(preset: str) -> tuple[dict[str, EndpointLimits], EndpointLimits]:
    """The table and default for ``real``, ``off`` or a JSON/TOML file path."""
    if preset == "real":
        return dict(REAL), DEFAULT_LIMITS
    if preset == "off":
        return {}, OFF_LIMITS
    path = Path(preset)
    text = path.read_text(encoding="utf-8")
    data: dict[str, Any] = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    return preset_from_mapping(data)


def preset_from_mapping(data: dict[str, Any]) -> tuple[dict[str, EndpointLimits], EndpointLimits]:
    """``real`` overridden by ``data`` (route key -> limits; key ``"*"`` replaces the default)."""
    if not isinstance(data, dict):
        raise TypeError("limits must be an object of route -> limits")
    table = dict(REAL)
    default = DEFAULT_LIMITS
    for key, raw in data.items():
        if key == "*":
            default = _parse_entry(raw)
        else:
            table[key] = _parse_entry(raw)
    return table, default


class RateLimiter:
    """Fixed windows opened by the first request; ``hit`` counts a request or raises 429."""

    def __init__(self, clock: Clock, preset: str = "real") -> None:
        self.clock = clock
        self.table, self.default = load_preset(preset)
        self.preset = preset
        self.buckets: dict[tuple[str, int, int, int], list[float]] = {}

    def configure(self, table: dict[str, EndpointLimits], default: EndpointLimits, name: str) -> None:
        self.table, self.default, self.preset = table, default, name
        self.buckets.clear()

    def limits_for(self, route: str) -> EndpointLimits:
        return self.table.get(route, self.default)

    def hit(self, route: str, app_id: int, user_id: int | None) -> list[tuple[bytes, bytes]]:
        """Count one request; return its headers, or raise RateLimitExceeded with them."""
        spec = self.table.get(route, self.default)
        now = self.clock.time()
        buckets = self.buckets
        checks: list[tuple[list[float], Limit, bytes]] = []
        if user_id is None or spec.app_counts_user_requests:
            for index, limit in enumerate(spec.app):
                key = (route, 0, app_id, index)
                bucket = buckets.get(key)
                if bucket is None or now >= bucket[0] + limit.window:
                    bucket = buckets[key] = [now, 0]
                checks.append((bucket, limit, b"app"))
        if user_id is not None:
            for index, limit in enumerate(spec.user):
                key = (route, 1, user_id, index)
                bucket = buckets.get(key)
                if bucket is None or now >= bucket[0] + limit.window:
                    bucket = buckets[key] = [now, 0]
                checks.append((bucket, limit, b"user"))
        for bucket, limit, _ in checks:
            if bucket[1] >= limit.limit:
                raise RateLimitExceeded(self._headers(checks, bucket, limit))
        tight: tuple[list[float], Limit] | None = None
        room: float = 2.0**62
        for bucket, limit, _ in checks:
            bucket[1] += 1
            left = limit.limit - bucket[1]
            if left < room:
                room, tight = left, (bucket, limit)
        if tight is None:
            return []
        return self._headers(checks, *tight)

    @staticmethod
    def _headers(
        checks: list[tuple[list[float], Limit, bytes]], tight_bucket: list[float], tight_limit: Limit
    ) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"x-rate-limit-limit", tight_limit.limit_bytes),
            (b"x-rate-limit-remaining", b"%d" % max(0, tight_limit.limit - tight_bucket[1])),
            (b"x-rate-limit-reset", b"%d" % (tight_bucket[0] + tight_limit.window)),
        ]
        for bucket, limit, scope in checks:
            if limit.window == DAY:
                prefix = b"x-" + scope + b"-limit-24hour-"
                headers.append((prefix + b"limit", limit.limit_bytes))
                headers.append((prefix + b"remaining", b"%d" % max(0, limit.limit - bucket[1])))
                headers.append((prefix + b"reset", b"%d" % (bucket[0] + limit.window)))
        return headers
