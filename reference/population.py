"""A seedable fake subscriber directory (faker ``en_IN``) and the Twitter users who own the numbers.

Shares (configurable): most numbers are active prepaid; some are inactive, some postpaid; some
users give a number that is not on the network at all. Balances are integer paise.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from faker import Faker

from reference.domain.circles import CIRCLE_CODES
from reference.domain.subscribers import Subscriber

__all__ = ["Customer", "Directory", "build_population"]

_HANDLE_CHARS = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True, slots=True)
class Customer:
    """A Twitter user and the mobile number they own (``on_network`` False: not ours)."""

    user_id: str
    handle: str
    msisdn: str
    circle: str
    on_network: bool


@dataclass(frozen=True, slots=True)
class Directory:
    """The operator's directory and the users, in the same order for on-network users."""

    subscribers: list[Subscriber]
    customers: list[Customer]


def build_population(
    size: int,
    *,
    seed: int = 0,
    circles: tuple[str, ...] = CIRCLE_CODES,
    inactive_share: float = 0.04,
    postpaid_share: float = 0.04,
    off_network_share: float = 0.04,
    low_balance_share: float = 0.15,
    names: bool = True,
    weights: tuple[float, ...] = (),
) -> Directory:
    """``size`` users with numbers spread over ``circles`` (evenly, or by ``weights``, one per circle);
    the same seed gives the same population."""
    if weights and len(weights) != len(circles):
        raise ValueError("weights: one per circle")
    rng = random.Random(seed)
    fake = Faker("en_IN")
    fake.seed_instance(seed)
    subscribers: list[Subscriber] = []
    customers: list[Customer] = []
    numbers: set[str] = set()
    handles: set[str] = set()
    for index in range(size):
        while True:
            msisdn = f"+91{rng.choice('6789')}{rng.randrange(10**9):09d}"
            if msisdn not in numbers:
                numbers.add(msisdn)
                break
        name = fake.name() if names else f"Subscriber {index}"
        base = _HANDLE_CHARS.sub("", fake.user_name() if names else f"user{index}")[:11] or "user"
        handle = base
        while handle.casefold() in handles:
            handle = f"{base}{rng.randrange(10_000)}"[:15]
        handles.add(handle.casefold())
        circle = rng.choices(circles, weights)[0] if weights else rng.choice(circles)
        user_id = str(1_000_000_000_000_000_000 + index * 7919 + rng.randrange(7919))
        roll = rng.random()
        on_network = roll >= off_network_share
        customers.append(Customer(user_id, handle, msisdn, circle, on_network))
        if not on_network:
            continue
        low = rng.random() < low_balance_share
        balance = rng.randrange(0, 2_000) if low else rng.randrange(5_000, 60_000)
        status = rng.random()
        subscribers.append(
            Subscriber(
                msisdn=msisdn,
                circle=circle,
                balance_paise=balance,
                active=status >= inactive_share,
                prepaid=not (inactive_share <= status < inactive_share + postpaid_share),
                name=name,
            )
        )
    return Directory(subscribers, customers)
