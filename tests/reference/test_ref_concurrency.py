"""Purchases from many concurrent workers (each its own connection) against few subscribers.

Hundreds of purchase attempts, a quarter of them duplicate deliveries of the same tweet id spread
over different workers, in random batch sizes. Afterwards: no balance is negative, each tweet id is
debited at most once, and the debits acknowledged to workers == the balance decrease in the
directory == the sum of activation prices recorded.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
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


def _hammer(dsn: str, catalog: Catalog) -> None:
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
    results: list[Processed] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    before = open_store(dsn)
    start_total = sum(before.subscriber(s.msisdn).balance_paise for _, s in people)
    before.close()

    def work(lane: list[Inbound], seed: int) -> None:
        try:
            store = open_store(dsn)
            processor = build_processor(
                store,
                Settings(otp_key=OTP_KEY),
                catalog=catalog,
                clock=FakeClock(),
                otp_source=SeededOtpSource(seed),
            )
            local_rng = random.Random(seed)
            position = 0
            while position < len(lane):
                size = local_rng.randint(1, 20)
                done = processor.process_batch(lane[position : position + size])
                position += size
                with lock:
                    results.extend(done)
            store.close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(lane, i)) for i, lane in enumerate(lanes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
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


def test_sqlite_concurrent_purchases(tmp_path: Path, catalog: Catalog) -> None:
    """SQLite (BEGIN IMMEDIATE per batch): no overdraft, one debit per tweet id, books balance."""
    _hammer(str(tmp_path / "concurrency.db"), catalog)


@pytest.mark.postgres
def test_postgres_concurrent_purchases(pg_schema_factory: Any, catalog: Catalog) -> None:
    """PostgreSQL (row locks + conditional debit + inbox key): no overdraft, one debit per id."""
    _hammer(pg_schema_factory(), catalog)
