"""The faker en_IN subscriber directory used by the demo, benchmarks and simulations."""

from __future__ import annotations

from reference.domain.circles import CIRCLE_CODES
from reference.domain.phone import normalise_mobile
from reference.population import build_population


def test_same_seed_same_population() -> None:
    """A seed fully determines the population."""
    assert build_population(50, seed=4) == build_population(50, seed=4)
    assert build_population(50, seed=4) != build_population(50, seed=5)


def test_numbers_handles_and_circles_are_valid() -> None:
    """Numbers are valid E.164 Indian mobiles, unique, and spread over the 22 circles."""
    population = build_population(600, seed=1)
    numbers = [c.msisdn for c in population.customers]
    assert all(normalise_mobile(n) == n for n in numbers)
    assert len(set(numbers)) == len(numbers)
    handles = [c.handle.casefold() for c in population.customers]
    assert len(set(handles)) == len(handles)
    assert all(0 < len(h) <= 15 and h.replace("_", "").isalnum() and h.isascii() for h in handles)
    assert {c.circle for c in population.customers} == set(CIRCLE_CODES)


def test_shares_of_unusual_subscribers() -> None:
    """Some users are off-network, some numbers inactive or postpaid, balances are integer paise."""
    population = build_population(1000, seed=2)
    off = sum(not c.on_network for c in population.customers)
    assert 10 < off < 100
    assert len(population.subscribers) == 1000 - off
    assert any(not s.active for s in population.subscribers)
    assert any(not s.prepaid for s in population.subscribers)
    assert all(isinstance(s.balance_paise, int) and s.balance_paise >= 0 for s in population.subscribers)
