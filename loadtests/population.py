"""The one adapter that learns who can take part in a load run, over HTTP only.

A journey needs a real subscriber number (with its circle and balance) and the packs sold in that
circle. Sources, in order:

- a population file (``--population FILE``: JSON ``{"subscribers": [...], "packs": [...]}``);
- the processor's admin API: ``GET /admin/subscribers?limit=&offset=`` (a JSON list, or an object
  with ``subscribers``/``items``/``data``) and ``GET /admin/catalog`` (``{"packs": [...]}``), with the
  admin bearer token. These route names are the only place the load tests depend on the processor's
  admin API; adjust :data:`SUBSCRIBERS_ROUTE` and :data:`CATALOG_ROUTE` here if it changes. When
  the list route is missing (404/405), a harness stack's ``GET /_stack/subscribers?limit=`` is used;
- stand-in mode (no processor): a seeded synthetic directory over the scenario's circles.

Subscribers are dealt to worker processes by index (``i % workers == worker_index``) so no two
processes ever use the same number (a handset's inbox is then unambiguous).
"""

from __future__ import annotations

import json
import random
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "CATALOG_ROUTE",
    "STACK_SUBSCRIBERS_ROUTE",
    "SUBSCRIBERS_ROUTE",
    "Pack",
    "SubscriberPool",
    "PopulationError",
    "Subscriber",
    "fetch_population",
    "load_population_file",
    "synthetic_population",
]

SUBSCRIBERS_ROUTE = "/admin/subscribers"
CATALOG_ROUTE = "/admin/catalog"
#: a harness stack's sample of its seeded directory (twittcom/stack_control.py), used when the
#: processor has no list route
STACK_SUBSCRIBERS_ROUTE = "/_stack/subscribers"


class PopulationError(RuntimeError):
    """The population could not be obtained (says which route or file and why)."""


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A number on the operator's directory."""

    msisdn: str
    circle: str
    balance_paise: int
    active: bool = True


@dataclass(frozen=True, slots=True)
class Pack:
    """A pack as sold in one circle (only what a buyer tweets and what it costs)."""

    hashtag: str
    circle: str
    price_paise: int


class SubscriberPool:
    """This process's subscribers (unused ones first) and the packs per circle."""

    def __init__(self, subscribers: Sequence[Subscriber], packs: Sequence[Pack]) -> None:
        self.subscribers = list(subscribers)
        self.packs_by_circle: dict[str, list[Pack]] = {}
        for pack in packs:
            self.packs_by_circle.setdefault(pack.circle.upper(), []).append(pack)
        # numbers in circles with packs on sale first, those whose balance covers a pack before the
        # others: such a journey can end in a purchase, as the scenario's buy_share assumes
        usable = [s for s in self.subscribers if s.active]
        selling = [s for s in usable if s.circle.upper() in self.packs_by_circle]
        selling.sort(key=lambda s: s.balance_paise < (self.cheapest(s.circle) or 0))
        self._unused: deque[Subscriber] = deque(selling or usable)

    def share(self, worker_index: int, workers: int) -> SubscriberPool:
        """The subscribers dealt to one worker (every ``workers``-th), with all packs."""
        mine = [s for i, s in enumerate(self.subscribers) if i % workers == worker_index]
        return SubscriberPool(mine, [p for packs in self.packs_by_circle.values() for p in packs])

    def take_unused(self) -> Subscriber | None:
        """A number no journey of this process has used yet (None when all are taken)."""
        return self._unused.popleft() if self._unused else None

    @property
    def unused(self) -> int:
        """How many numbers are still unused."""
        return len(self._unused)

    def cheapest(self, circle: str) -> int | None:
        """The lowest pack price in ``circle`` (None when nothing is sold there)."""
        packs = self.packs_by_circle.get(circle.upper())
        return min(p.price_paise for p in packs) if packs else None

    def pack_for(self, circle: str, rng: random.Random, affordable_from: int | None = None) -> Pack | None:
        """A pack sold in ``circle`` (one within ``affordable_from`` paise when such a pack exists)."""
        packs = self.packs_by_circle.get(circle.upper(), [])
        if not packs:
            return None
        if affordable_from is not None:
            cheap = [p for p in packs if p.price_paise <= affordable_from]
            if cheap:
                return rng.choice(cheap)
        return rng.choice(packs)


def _subscriber(raw: Mapping[str, Any]) -> Subscriber:
    try:
        return Subscriber(
            msisdn=str(raw["msisdn"]),
            circle=str(raw["circle"]),
            balance_paise=int(raw.get("balance_paise", 0)),
            active=bool(raw.get("active", True)) and bool(raw.get("prepaid", True)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PopulationError(f"subscriber entry {dict(raw)!r} lacks msisdn/circle: {exc}") from exc


def _pack(raw: Mapping[str, Any]) -> Pack:
    try:
        return Pack(str(raw["hashtag"]).lstrip("#"), str(raw["circle"]), int(raw.get("price_paise", 0)))
    except (KeyError, TypeError, ValueError) as exc:
        raise PopulationError(f"pack entry {dict(raw)!r} lacks hashtag/circle: {exc}") from exc


def _items(body: Any, *keys: str) -> list[Mapping[str, Any]]:
    if isinstance(body, list):
        return body
    if isinstance(body, Mapping):
        for key in keys:
            if isinstance(body.get(key), list):
                return list(body[key])
    raise PopulationError(f"unexpected JSON shape (wanted a list or one of {keys}): {str(body)[:200]}")


def load_population_file(path: str | Path) -> SubscriberPool:
    """Read ``{"subscribers": [...], "packs": [...]}`` from a JSON file."""
    try:
        body = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise PopulationError(f"cannot read population file {path}: {exc}") from exc
    subscribers = [_subscriber(s) for s in _items(body, "subscribers")]
    packs = [_pack(p) for p in _items(body, "packs")]
    return SubscriberPool(subscribers, packs)


def fetch_population(
    client: httpx.Client, processor_url: str, admin_token: str, *, limit: int = 5000, page: int = 500
) -> SubscriberPool:
    """Page through the processor's subscriber list and read its catalog."""
    headers = {"authorization": f"Bearer {admin_token}"} if admin_token else {}
    subscribers: list[Subscriber] = []
    offset = 0
    while len(subscribers) < limit:
        url = f"{processor_url}{SUBSCRIBERS_ROUTE}"
        response = client.get(
            url, params={"limit": min(page, limit - len(subscribers)), "offset": offset}, headers=headers
        )
        if response.status_code in (404, 405) and offset == 0:
            url = f"{processor_url}{STACK_SUBSCRIBERS_ROUTE}"
            response = client.get(url, params={"limit": limit}, headers=headers)
            if response.status_code == 200:
                subscribers = [_subscriber(s) for s in _items(response.json(), "subscribers")]
                break
        if response.status_code != 200:
            raise PopulationError(
                f"GET {url}?limit=&offset= answered {response.status_code} {response.text[:200]!r}; the load "
                "tests need the processor's subscriber list (or pass a population file)"
            )
        batch = [_subscriber(s) for s in _items(response.json(), "subscribers", "items", "data")]
        subscribers.extend(batch)
        offset += len(batch)
        if not batch:
            break
    response = client.get(f"{processor_url}{CATALOG_ROUTE}", headers=headers)
    if response.status_code != 200:
        raise PopulationError(f"GET {processor_url}{CATALOG_ROUTE} answered {response.status_code}")
    packs = [_pack(p) for p in _items(response.json(), "packs", "items", "data")]
    if not subscribers:
        raise PopulationError(f"{processor_url}{SUBSCRIBERS_ROUTE} lists no subscribers")
    return SubscriberPool(subscribers, packs)


def synthetic_population(circles: Sequence[tuple[str, float]], size: int, seed: int) -> SubscriberPool:
    """Stand-in mode: ``size`` distinct +91 numbers over the scenario's circles, one pack per circle."""
    rng = random.Random(seed)
    names = [name for name, _ in circles]
    weights = [share for _, share in circles]
    numbers: set[str] = set()
    subscribers: list[Subscriber] = []
    while len(subscribers) < size:
        number = f"+91{rng.choice('6789')}{rng.randrange(10**9):09d}"
        if number in numbers:
            continue
        numbers.add(number)
        circle = rng.choices(names, weights)[0]
        subscribers.append(Subscriber(number, circle, rng.randrange(0, 50_000)))
    packs = [Pack(f"LT{''.join(c for c in name if c.isalnum())[:6].upper()}", name, 4_900) for name in names]
    return SubscriberPool(subscribers, packs)
