"""One repository/unit-of-work contract, run against the memory, SQLite and PostgreSQL stores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from refworld import ALICE, ALICE_NO, BOB, BOB_NO, DAVE, FakeClock, make_world

from reference.bootstrap import Settings, open_store
from reference.domain.catalog import Catalog
from reference.domain.commands import Inbound
from reference.domain.errors import MigrationError, StorageError
from reference.domain.otp import PendingCode
from reference.domain.outcomes import Outcome
from reference.domain.subscribers import Binding, Subscriber
from reference.service.changes import ChangeSet
from reference.storage.migrations import migrations_for

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ENGINES = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=ENGINES)
def open_fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Any]]:
    """``open_fresh()`` -> a store on a new, empty database of the parametrised engine; and its DSN."""
    opened: list[Any] = []
    if request.param == "memory":
        dsn = "memory://"
    elif request.param == "sqlite":
        dsn = str(tmp_path / "contract.db")
    else:
        dsn = request.getfixturevalue("pg_schema_factory")()

    def factory() -> Any:
        store = open_store(dsn)
        opened.append(store)
        return store

    factory.engine = request.param  # type: ignore[attr-defined]
    factory.dsn = dsn  # type: ignore[attr-defined]
    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store(open_fresh: Callable[[], Any]) -> Any:
    store = open_fresh()
    store.add_subscribers([Subscriber(ALICE_NO, "DL", 10_000), Subscriber(BOB_NO, "MU", 500, name="Bob")])
    return store


def _msg(message_id: str, channel: str = "tweet", user: str = "u1") -> Inbound:
    return Inbound(channel, message_id, user, "handle", f"text {message_id}", T0)  # type: ignore[arg-type]


def test_claim_returns_only_new_keys(store: Any) -> None:
    """A committed claim makes the key processed; claiming it again returns nothing."""
    store.begin()
    assert store.claim([_msg("1"), _msg("2")], T0) == {("tweet", "1"), ("tweet", "2")}
    store.commit()
    store.begin()
    assert store.claim([_msg("2"), _msg("3")], T0) == {("tweet", "3")}
    store.commit()
    assert store.totals()["inbox"] == 3


def test_claim_keys_include_the_channel(store: Any) -> None:
    """A DM and a tweet with the same id are different messages."""
    store.begin()
    assert store.claim([_msg("7", "tweet"), _msg("7", "dm")], T0) == {("tweet", "7"), ("dm", "7")}
    store.commit()


def test_rollback_releases_claims(store: Any) -> None:
    """A rolled-back claim leaves the message unprocessed."""
    store.begin()
    store.claim([_msg("9")], T0)
    store.rollback()
    store.begin()
    assert store.claim([_msg("9")], T0) == {("tweet", "9")}
    store.commit()


def test_load_and_apply_bindings_codes_sends(store: Any) -> None:
    """Bindings, codes and sends written by apply() come back from load()."""
    code = PendingCode("u1", "alice", ALICE_NO, "ab" * 32, T0, T0 + timedelta(minutes=10))
    changes = ChangeSet()
    changes.bindings["u1"] = Binding("u1", "alice", ALICE_NO, T0)
    changes.unbound_users.add("u1")
    changes.codes["u1"] = code
    changes.sends.append((ALICE_NO, T0))
    store.begin()
    store.apply(changes)
    store.commit()
    store.begin()
    snap = store.load(["u1"], [BOB_NO], with_codes=True, sends_since=T0 - timedelta(minutes=1))
    store.commit()
    assert snap.bindings_by_user["u1"] == Binding("u1", "alice", ALICE_NO, T0)
    assert set(snap.subscribers) == {ALICE_NO, BOB_NO}
    assert snap.subscribers[BOB_NO] == Subscriber(BOB_NO, "MU", 500, name="Bob")
    assert snap.codes["u1"] == code
    store.begin()
    sends = store.load(["u1"], [ALICE_NO], with_codes=False, sends_since=T0 - timedelta(minutes=1))
    store.commit()
    assert sends.recent_sends == {ALICE_NO: [T0]}
    assert sends.codes == {}


def test_rebinding_moves_a_number(store: Any) -> None:
    """Binding a number to a new handle removes the old handle's binding (both sides unique)."""
    first = ChangeSet()
    first.bindings["u1"] = Binding("u1", "alice", ALICE_NO, T0)
    store.begin()
    store.apply(first)
    store.commit()
    move = ChangeSet()
    move.unbound_users.update({"u2", "u1"})
    move.unbound_msisdns.add(ALICE_NO)
    move.bindings["u2"] = Binding("u2", "dave", ALICE_NO, T0)
    store.begin()
    store.apply(move)
    store.commit()
    assert store.binding_of_handle("dave") == ("u2", ALICE_NO)
    assert store.binding_of_handle("alice") is None


def test_conditional_debit_refuses_overdraft(store: Any) -> None:
    """A debit larger than the balance raises and, rolled back, changes nothing."""
    changes = ChangeSet()
    changes.debits.extend([(BOB_NO, 300), (BOB_NO, 300)])
    store.begin()
    with pytest.raises(StorageError):
        store.apply(changes)
        store.commit()
    store.rollback()
    assert store.subscriber(BOB_NO).balance_paise == 500


def test_debits_in_one_batch_add_up(store: Any) -> None:
    """Several debits of one number in a batch are applied together."""
    changes = ChangeSet()
    changes.debits.extend([(ALICE_NO, 1_000), (ALICE_NO, 2_500), (BOB_NO, 500)])
    store.begin()
    store.apply(changes)
    store.commit()
    assert store.subscriber(ALICE_NO).balance_paise == 6_500
    assert store.subscriber(BOB_NO).balance_paise == 0


def test_processor_flow_and_timeline(
    open_fresh: Callable[[], Any], catalog: Catalog, settings: Settings
) -> None:
    """Registration, purchase and noise leave an ordered timeline with redacted codes."""
    clock = FakeClock()
    world = make_world(open_fresh(), clock, catalog, settings)
    _, code = world.register(ALICE, ALICE_NO)
    assert world.tweet(ALICE, f"@tatadocomo {code}").outcome is Outcome.REGISTERED
    assert world.tweet(ALICE, "@tatadocomo #act #TD49DEL").outcome is Outcome.ACTIVATED
    assert world.dm(ALICE, "thanks!").outcome is Outcome.NOISE
    entries = world.store.timeline(handle="@Alice")
    kinds = [e["kind"] for e in entries]
    assert kinds == [
        "tweet_in", "tweet_out", "sms_out",
        "tweet_in", "bound", "tweet_out", "sms_out",
        "tweet_in", "debit", "tweet_out", "sms_out",
        "dm_in",
    ]  # fmt: skip
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    outbound = [e for e in entries if e["kind"].endswith("_out")]
    assert code is not None and all(code not in e["text"] for e in outbound)
    debit = entries[8]
    assert debit["amount_paise"] == -4900 and debit["msisdn"] == ALICE_NO
    assert world.store.timeline(user_id=ALICE.user_id) == entries
    totals = world.store.totals()
    assert totals["activation_paise"] == 4900 and totals["bindings"] == 1


def test_engines_agree_on_outcomes(
    open_fresh: Callable[[], Any], catalog: Catalog, settings: Settings
) -> None:
    """A fixed scenario gives the same outcomes and balances on every engine."""
    world = make_world(open_fresh(), FakeClock(), catalog, settings)
    world.onboard(ALICE, ALICE_NO)
    world.onboard(BOB, BOB_NO)
    outcomes = [
        world.tweet(ALICE, "@tatadocomo #act #TD98DEL").outcome,
        world.tweet(ALICE, "@tatadocomo #act #TD11DEL").outcome,
        world.tweet(BOB, "@tatadocomo #act #TD11MUM").outcome,
        world.tweet(DAVE, "@tatadocomo #act #TD11MUM").outcome,
    ]
    assert outcomes == [
        Outcome.ACTIVATED,
        Outcome.INSUFFICIENT_BALANCE,
        Outcome.INSUFFICIENT_BALANCE,
        Outcome.NOT_REGISTERED,
    ]
    assert world.store.subscriber(ALICE_NO).balance_paise == 10_000 - 9_800
    assert world.store.subscriber(BOB_NO).balance_paise == 500


def test_migrations_are_recorded_and_not_reapplied(open_fresh: Callable[[], Any]) -> None:
    """Opening twice applies each numbered migration once and records the latest version."""
    engine = open_fresh.engine  # type: ignore[attr-defined]
    if engine == "memory":
        pytest.skip("the memory store has no schema")
    latest = len(migrations_for("sqlite" if engine == "sqlite" else "postgresql"))
    first = open_fresh()
    second = open_fresh()
    assert first.schema_version() == second.schema_version() == latest >= 1


def test_newer_schema_is_refused(open_fresh: Callable[[], Any]) -> None:
    """A database migrated by newer code is refused with a MigrationError."""
    engine = open_fresh.engine  # type: ignore[attr-defined]
    if engine == "memory":
        pytest.skip("the memory store has no schema")
    store = open_fresh()
    if engine == "sqlite":
        store.conn.execute("INSERT INTO schema_version VALUES (99, 'future')")
    else:
        store.conn.execute("INSERT INTO schema_version (version) VALUES (99)")
        store.conn.commit()
    with pytest.raises(MigrationError):
        open_fresh()
