"""Contract of the work queues on every engine: dedupe, leases, completion, outbox priority, deliveries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from reference.runtime import NOTICE_PRIORITY, NewEvent, OutboxResult
from reference.service.changes import OutboxRow
from reference.service.database import Connection
from reference.storage.engines import StoreFactory

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def factory(request, tmp_path) -> Iterator[StoreFactory]:
    if request.param == "memory":
        yield StoreFactory("memory://")
    elif request.param == "sqlite":
        yield StoreFactory(str(tmp_path / "work.db"))
    else:
        request.applymarker(pytest.mark.postgres)
        yield StoreFactory(request.getfixturevalue("pg_schema_factory")())


@pytest.fixture
def conn(factory: StoreFactory) -> Iterator[Connection]:
    connection = factory.connect()
    yield connection
    connection.close()


def event(message_id: str, channel: str = "tweet") -> NewEvent:
    return NewEvent(channel, message_id, "u1", "asha", f"text {message_id}", T0)  # type: ignore[arg-type]


def test_duplicates_collapse_on_channel_and_message_id(conn: Connection) -> None:
    """The same (channel, message id) queued twice is one row; the same id on another channel is not."""
    queue = conn.queue
    assert queue.enqueue([event("1"), event("2")]) == 2
    assert queue.enqueue([event("2"), event("3")]) == 1
    assert queue.enqueue([event("3", "dm")]) == 1
    assert queue.depths(T0)["inbound_pending"] == 4


def test_a_lease_hides_rows_until_it_runs_out(conn: Connection) -> None:
    """Leased rows are not claimed again until the lease expires; then they are, with attempts counted."""
    queue = conn.queue
    queue.enqueue([event(str(i)) for i in range(5)])
    first = queue.claim_inbound("a", 3, T0, 30)
    assert [r.message_id for r in first] == ["0", "1", "2"] and all(r.attempts == 1 for r in first)
    second = queue.claim_inbound("b", 10, T0, 30)
    assert [r.message_id for r in second] == ["3", "4"]
    assert queue.claim_inbound("c", 10, T0 + timedelta(seconds=10), 30) == []
    again = queue.claim_inbound("c", 10, T0 + timedelta(seconds=31), 30)
    assert len(again) == 5 and all(r.attempts == 2 for r in again)


def test_completed_rows_are_never_claimed_and_released_rows_come_back(conn: Connection) -> None:
    """complete_inbound ends a row; release_inbound hands it back at once; foreign owners change nothing."""
    queue = conn.queue
    queue.enqueue([event("1"), event("2")])
    rows = queue.claim_inbound("a", 10, T0, 30)
    queue.complete_inbound([rows[0].id], "someone-else")
    queue.complete_inbound([rows[0].id], "a")
    queue.release_inbound([rows[1].id], "a")
    assert [r.message_id for r in queue.claim_inbound("b", 10, T0, 30)] == ["2"]
    assert queue.depths(T0)["inbound_pending"] == 1


def test_outbox_claims_commerce_before_notices_and_honours_next_attempt(conn: Connection) -> None:
    """Claims order by priority then age; a row retried later is not due before its time."""
    queue = conn.queue
    notice, commerce, later = queue.add_outbox(
        [
            OutboxRow(T0, "tweet", "u1", "asha", "asha", "10", "status", priority=NOTICE_PRIORITY),
            OutboxRow(T0, "sms", "u1", "asha", "+919812345678", "11", "confirmation"),
            OutboxRow(T0, "tweet", "u2", "ravi", "ravi", "12", "reply"),
        ]
    )
    items = queue.claim_outbox("d", 10, T0, 30)
    assert [i.id for i in items] == [commerce, later, notice]
    queue.finish_outbox(
        [
            OutboxResult(commerce, "sent", provider_ref="SM1", sent_at=T0),
            OutboxResult(later, "pending", last_error="503", next_attempt_at=T0 + timedelta(seconds=5)),
            OutboxResult(notice, "skipped_budget"),
        ],
        "d",
    )
    assert queue.claim_outbox("d", 10, T0 + timedelta(seconds=1), 30) == []
    retried = queue.claim_outbox("d", 10, T0 + timedelta(seconds=6), 30)
    assert [(i.id, i.attempts) for i in retried] == [(later, 2)]
    counts = queue.outbox_counts()
    assert counts["sent"] == 1 and counts["skipped_budget"] == 1 and counts["pending"] == 1


def test_delivery_status_is_recorded_once_per_change_and_joins_the_timeline(conn: Connection) -> None:
    """A callback repeating the last status is ignored; a change adds an sms_status timeline entry."""
    queue, store = conn.queue, conn.store
    (sms,) = queue.add_outbox([OutboxRow(T0, "sms", "u1", "asha", "+919812345678", "11", "hello")])
    queue.claim_outbox("d", 1, T0, 30)
    queue.finish_outbox([OutboxResult(sms, "sent", provider_ref="SMabc", sent_at=T0)], "d")
    first = queue.record_delivery("SMabc", "sent", None, T0 + timedelta(seconds=1))
    assert first is not None and first.msisdn == "+919812345678" and first.created_at == T0
    assert queue.record_delivery("SMabc", "sent", None, T0 + timedelta(seconds=2)) is None
    assert queue.record_delivery("SMabc", "undelivered", "30003", T0 + timedelta(seconds=3)) is not None
    assert queue.record_delivery("SMunknown", "delivered", None, T0) is None
    statuses = [e["text"] for e in store.timeline(user_id="u1") if e["kind"] == "sms_status"]
    assert statuses == ["SMS SMabc sent", "SMS SMabc undelivered (error 30003)"]


def test_cursors_and_state_persist_across_connections(factory: StoreFactory, conn: Connection) -> None:
    """A cursor or state value written on one connection is read on another."""
    conn.queue.set_cursor("mentions", "123", T0)
    conn.queue.set_cursor("mentions", "456", T0)
    conn.queue.set_state("outage", '{"on": true}', T0)
    other = factory.connect()
    try:
        assert other.queue.cursor("mentions") == "456"
        assert other.queue.state("outage") == '{"on": true}'
        assert other.queue.cursor("unknown") is None
        assert other.queue.ping() >= 2
    finally:
        other.close()


def test_state_prefix_reads_first_writer_wins_counters_and_pruning(
    factory: StoreFactory, conn: Connection
) -> None:
    """add_state keeps the first value (shared secrets); count_hit counts across connections
    (shared rate limits); drop_states prunes old keys under a prefix only."""
    other = factory.connect()
    try:
        assert conn.queue.add_state("secret/otp", "first", T0) == "first"
        assert other.queue.add_state("secret/otp", "second", T0) == "first"
        assert [conn.queue.count_hit("rl/ip/1", T0) for _ in range(2)] == [1, 2]
        assert other.queue.count_hit("rl/ip/1", T0 + timedelta(seconds=5)) == 3
        assert conn.queue.count_hit("rl/ip/2", T0 + timedelta(seconds=60)) == 1
        assert conn.queue.states("rl/") == {"rl/ip/1": "3", "rl/ip/2": "1"}
        assert conn.queue.drop_states("rl/", T0 + timedelta(seconds=30)) == 1
        assert other.queue.states("rl/") == {"rl/ip/2": "1"}
        assert other.queue.states("secret/") == {"secret/otp": "first"}
    finally:
        other.close()


def test_a_sent_code_sms_keeps_only_its_redacted_text(conn: Connection) -> None:
    """Once a code SMS leaves, the outbox row keeps the redacted text: no code lies in the database."""
    from reference.service.changes import ChangeSet, OutboxRow

    store, queue = conn.store, conn.queue
    changes = ChangeSet()
    asha, ravi = ("u1", "asha", "+919812345678", "11"), ("u2", "ravi", "+919812345679", "12")
    changes.outbox.append(OutboxRow(T0, "sms", *asha, "Your code is 482913", "Your code is ******"))
    changes.outbox.append(OutboxRow(T0, "sms", *ravi, "Your code is 111222", "x"))
    store.begin()
    store.apply(changes)
    store.commit()
    first, retried = queue.claim_outbox("d", 10, T0, 30)
    assert first.text == "Your code is 482913"
    queue.finish_outbox(
        [
            OutboxResult(first.id, "sent", provider_ref="SMc", sent_at=T0),
            OutboxResult(retried.id, "pending", last_error="503", next_attempt_at=T0 + timedelta(seconds=5)),
        ],
        "d",
    )
    (again,) = queue.claim_outbox("d", 10, T0 + timedelta(seconds=6), 30)
    assert again.text == "Your code is 111222"  # still pending: the real text is still needed
    texts = [e["text"] for e in store.timeline(user_id="u1") if e["kind"] == "sms_out"]
    assert texts == ["Your code is ******"]
    assert _stored_outbox_texts(store) == {"Your code is ******", "Your code is 111222"}


def _stored_outbox_texts(store: object) -> set[str]:
    """The ``text`` column of every outbox row, read as an attacker with the database would."""
    db = getattr(store, "db", None)
    if db is not None and hasattr(db, "outbox"):  # the memory store
        return {row.text for row in db.outbox}
    cursor = store.conn.execute("SELECT text FROM outbox")  # type: ignore[attr-defined]
    return {row[0] for row in cursor.fetchall()}


def _sent_sms(conn: Connection, ref: str, text: str = "hello", at: datetime = T0) -> int:
    queue = conn.queue
    (sms,) = queue.add_outbox([OutboxRow(at, "sms", "u1", "asha", "+919812345678", "11", text)])
    queue.claim_outbox("d", 10, at, 30)
    queue.finish_outbox([OutboxResult(sms, "sent", provider_ref=ref, sent_at=at)], "d")
    return sms


def test_delivery_status_only_moves_forward(conn: Connection) -> None:
    """A late "sent" or "queued" never overwrites "delivered"; "read" still follows it."""
    queue = conn.queue
    _sent_sms(conn, "SMmono")
    assert queue.record_delivery("SMmono", "delivered", None, T0 + timedelta(seconds=1)) is not None
    assert queue.record_delivery("SMmono", "sent", None, T0 + timedelta(seconds=2)) is None
    assert queue.record_delivery("SMmono", "queued", None, T0 + timedelta(seconds=3)) is None
    assert queue.record_delivery("SMmono", "read", None, T0 + timedelta(seconds=4)) is not None
    statuses = [e["text"] for e in conn.store.timeline(user_id="u1") if e["kind"] == "sms_status"]
    assert statuses == ["SMS SMmono delivered", "SMS SMmono read"]


def test_held_refs_and_unsettled_sms(conn: Connection) -> None:
    """held_refs names the sids other rows hold; unsettled_sms walks sent SMS without a final status."""
    queue = conn.queue
    first = _sent_sms(conn, "SM1")
    second = _sent_sms(conn, "SM2")
    third = _sent_sms(conn, "SM3")
    assert queue.held_refs(["SM1", "SM2", "SMx"], first) == {"SM2"}
    assert queue.held_refs([], first) == set()
    queue.record_delivery("SM2", "delivered", None, T0)
    queue.record_delivery("SM3", "sent", None, T0)
    later = T0 + timedelta(seconds=60)
    assert queue.unsettled_sms(T0 - timedelta(days=1), later, 0, 10) == [(first, "SM1"), (third, "SM3")]
    assert queue.unsettled_sms(T0 - timedelta(days=1), later, first, 10) == [(third, "SM3")]
    assert queue.unsettled_sms(T0 - timedelta(days=1), later, 0, 1) == [(first, "SM1")]
    assert queue.unsettled_sms(T0 - timedelta(days=1), T0, 0, 10) == []  # the callback may still come
    assert queue.unsettled_sms(T0, later, 0, 10) == []  # sent too long ago: never fetched again
    assert second not in {i for i, _ in queue.unsettled_sms(T0 - timedelta(days=1), later, 0, 10)}


def test_failed_and_expired_rows_are_listed_and_requeued(conn: Connection) -> None:
    """outbox_rows lists by status without texts; requeue_outbox puts them back, re-dated, due now."""
    queue = conn.queue
    ids = queue.add_outbox(
        [OutboxRow(T0, "sms", "u1", "asha", "+919812345678", "11", f"text {i}") for i in range(3)]
    )
    queue.claim_outbox("d", 10, T0, 30)
    queue.finish_outbox(
        [
            OutboxResult(ids[0], "failed", last_error="21211 bad To"),
            OutboxResult(ids[1], "expired", last_error="expired: not sent within its validity"),
            OutboxResult(ids[2], "sent", provider_ref="SMok", sent_at=T0),
        ],
        "d",
    )
    assert queue.oldest_pending() is None
    listed = queue.outbox_rows(["failed", "expired"], 10)
    assert [(r["id"], r["status"]) for r in listed] == [(ids[1], "expired"), (ids[0], "failed")]
    assert all("text" not in r for r in listed) and listed[0]["last_error"].startswith("expired")
    later = T0 + timedelta(hours=7)
    assert queue.requeue_outbox([ids[0], ids[1], ids[2]], later) == 2  # the sent row stays sent
    assert queue.oldest_pending() == later
    claimed = queue.claim_outbox("d", 10, later, 30)
    assert sorted(i.id for i in claimed) == ids[:2]
    assert all(i.attempts == 1 and i.created_at == later for i in claimed)
