"""Purchases from many concurrent workers (each its own connection) against few subscribers.

Hundreds of purchase attempts, a quarter of them duplicate deliveries of the same tweet id spread
over different workers, in random batch sizes. Afterwards: no balance is negative, each tweet id is
debited at most once, and the debits acknowledged to workers == the balance decrease in the
directory == the sum of activation prices recorded.
"""

from __future__ import annotations

import multiprocessing
import random
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from refworld import OTP_KEY, FakeClock, User, World, make_world

from reference.bootstrap import Settings, build_processor, open_store
from reference.domain.catalog import Catalog
from reference.domain.commands import Inbound
from reference.domain.otp import SeededOtpSource
from reference.domain.outcomes import Outcome
from reference.domain.subscribers import Subscriber
from reference.service.processor import Processed

WORKERS = 8
ATTEMPTS = 400
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _onboard(dsn: str, catalog: Catalog) -> list[tuple[User, Subscriber]]:
    settings = Settings(otp_key=OTP_KEY)
    store = open_store(dsn)
    world: World = make_world(store, FakeClock(), catalog, settings)
    rng = random.Random(5)
    people = []
    for index in range(5):
        sub = Subscriber(f"+9199000000{index:02d}", "DL", rng.randrange(20_000, 60_000))
        user = User(str(5000 + index), f"buyer{index}")
        store.add_subscribers([sub])
        assert world.onboard(user, sub.msisdn).outcome is Outcome.REGISTERED
        people.append((user, sub))
    store.close()
    return people


def _run_lane(dsn: str, lane: list[Inbound], seed: int) -> list[Processed]:
    """One worker: its own connection and processor, random group sizes."""
    store = open_store(dsn)
    processor = build_processor(
        store, Settings(otp_key=OTP_KEY), clock=FakeClock(), otp_source=SeededOtpSource(seed)
    )
    local_rng = random.Random(seed)
    results: list[Processed] = []
    position = 0
    while position < len(lane):
        size = local_rng.randint(1, 20)
        results.extend(processor.process_batch(lane[position : position + size]))
        position += size
    store.close()
    return results


def _hammer(dsn: str, catalog: Catalog, mode: str = "threads") -> None:
    people = _onboard(dsn, catalog)
    rng = random.Random(11)
    packs = catalog.packs_in("DL")
    price_of = {p.hashtag: p.price_paise for p in packs}
    attempts: list[Inbound] = []
    for index in range(ATTEMPTS):
        user, _ = rng.choice(people)
        tag = rng.choice(packs).hashtag
        attempts.append(
            Inbound(
                "tweet", str(9_000_000 + index), user.user_id, user.handle, f"@tatadocomo #act #{tag}", T0
            )
        )
    deliveries = attempts + rng.sample(attempts, ATTEMPTS // 4) + rng.sample(attempts, ATTEMPTS // 8)
    rng.shuffle(deliveries)
    lanes = [deliveries[i::WORKERS] for i in range(WORKERS)]
    before = open_store(dsn)
    start_total = sum(before.subscriber(s.msisdn).balance_paise for _, s in people)
    before.close()
    results: list[Processed] = []
    if mode == "threads":
        with ThreadPoolExecutor(WORKERS) as pool:
            for done in pool.map(_run_lane, [dsn] * WORKERS, lanes, range(WORKERS)):
                results.extend(done)
    else:
        with ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("fork")) as pool:
            for done in pool.map(_run_lane, [dsn] * WORKERS, lanes, range(WORKERS)):
                results.extend(done)
    assert len(results) == len(deliveries)
    outcomes = Counter(r.outcome for r in results)
    assert Outcome.FAILED not in outcomes
    handled = Counter(r.message.message_id for r in results if r.outcome is not Outcome.DUPLICATE)
    assert set(handled) == {m.message_id for m in attempts} and set(handled.values()) == {1}
    activated = [r for r in results if r.outcome is Outcome.ACTIVATED]
    assert len({r.message.message_id for r in activated}) == len(activated)
    assert outcomes[Outcome.ACTIVATED] > 20 and outcomes[Outcome.INSUFFICIENT_BALANCE] > 20
    acknowledged = sum(price_of[r.message.text.rsplit("#", 1)[1]] for r in activated)

    after: Any = open_store(dsn)
    balances = [after.subscriber(s.msisdn).balance_paise for _, s in people]
    totals = after.totals()
    after.close()
    assert min(balances) >= 0
    assert acknowledged == start_total - sum(balances) == totals["activation_paise"]
    assert totals["activations"] == len(activated)


@pytest.mark.parametrize("mode", ["threads", "processes"])
def test_sqlite_concurrent_purchases(tmp_path: Path, catalog: Catalog, mode: str) -> None:
    """SQLite (BEGIN IMMEDIATE per batch), worker threads or processes: no overdraft, one debit per
    tweet id, and the books balance."""
    _hammer(str(tmp_path / "concurrency.db"), catalog, mode)


@pytest.mark.postgres
@pytest.mark.parametrize("mode", ["threads", "processes"])
def test_postgres_concurrent_purchases(pg_schema_factory: Any, catalog: Catalog, mode: str) -> None:
    """PostgreSQL (row locks + conditional debit + inbox key), worker threads or processes: no
    overdraft, one debit per tweet id, and the books balance."""
    _hammer(pg_schema_factory(), catalog, mode)
