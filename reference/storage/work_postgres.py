"""PostgreSQL work queues (psycopg 3): the runtime's :class:`~reference.service.work_queue.WorkQueue`.

Claims select the oldest due rows ``FOR UPDATE SKIP LOCKED`` and stamp a lease in the same
statement, so two or more service processes share one queue and one outbox without ever leasing
the same row twice and without waiting on each other. Each method is one transaction.
The tables come from migration 0002, applied by the core's :class:`~reference.storage.postgres.PostgresStore`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg

from reference.domain.commands import Inbound
from reference.domain.errors import StorageError
from reference.service.changes import OutboxRow
from reference.service.work_queue import (
    Delivery,
    NewEvent,
    OutboxItem,
    OutboxResult,
    QueuedEvent,
)
from reference.storage.postgres import PostgresStore
from reference.storage.timeconv import from_micros, to_micros
from reference.storage.work_common import (
    FINAL_SQL,
    OUTBOX_ROW_COLUMNS,
    RANK_SQL,
    outbox_row_dict,
    record_delivery,
)

__all__ = ["PostgresWorkQueue"]

SQL_ENQUEUE = (
    "INSERT INTO inbound_queue (channel, message_id, author_id, handle, text, received_at) "
    "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[]) "
    "ON CONFLICT (channel, message_id) DO NOTHING"
)
SQL_CLAIM_INBOUND = (
    "WITH c AS (SELECT id FROM inbound_queue WHERE NOT done AND (lease_until IS NULL OR lease_until < %s) "
    "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) "
    "UPDATE inbound_queue q SET lease_owner = %s, lease_until = %s, attempts = q.attempts + 1 FROM c "
    "WHERE q.id = c.id "
    "RETURNING q.id, q.channel, q.message_id, q.author_id, q.handle, q.text, q.received_at, q.attempts"
)
SQL_COMPLETE = (
    "UPDATE inbound_queue SET done = TRUE, lease_until = NULL WHERE id = ANY(%s) AND lease_owner = %s"
)
SQL_REDACT = (
    "UPDATE inbound_queue q SET text = r.text FROM unnest(%s::bigint[], %s::text[]) AS r(id, text) "
    "WHERE q.id = r.id AND q.lease_owner = %s"
)
SQL_RELEASE = (
    "UPDATE inbound_queue SET lease_until = NULL WHERE id = ANY(%s) AND lease_owner = %s AND NOT done"
)
SQL_ADD_OUTBOX = (
    "INSERT INTO outbox (created_at, kind, user_id, handle, recipient, in_reply_to, text, shown, priority) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
)
SQL_CLAIM_OUTBOX = (
    "WITH c AS (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= %s "
    "AND (lease_until IS NULL OR lease_until < %s) ORDER BY priority, id LIMIT %s FOR UPDATE SKIP LOCKED) "
    "UPDATE outbox o SET lease_owner = %s, lease_until = %s, attempts = o.attempts + 1 FROM c "
    "WHERE o.id = c.id RETURNING o.id, o.kind, o.user_id, o.handle, o.recipient, o.in_reply_to, o.text, "
    "o.shown, o.attempts, o.priority, o.created_at"
)
SQL_FINISH = (
    "UPDATE outbox o SET status = r.status, provider_ref = coalesce(r.ref, o.provider_ref), "
    "last_error = r.err, next_attempt_at = r.next_at, sent_at = coalesce(r.sent_at, o.sent_at), "
    "lease_owner = NULL, lease_until = NULL, "
    "text = CASE WHEN r.status <> 'pending' THEN coalesce(o.shown, o.text) ELSE o.text END "
    "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::bigint[], %s::bigint[]) "
    "AS r(id, status, ref, err, next_at, sent_at) WHERE o.id = r.id AND o.lease_owner = %s"
)
SQL_DELIVERY = (
    "UPDATE outbox SET delivery_status = %s, delivered_at = %s WHERE provider_ref = %s AND kind = 'sms' "
    f"AND (delivery_status IS NULL OR {RANK_SQL} < %s) "
    "RETURNING id, user_id, handle, recipient, created_at, shown IS NOT NULL"
)
SQL_EVENT = (
    "INSERT INTO customer_events (at, user_id, handle, msisdn, kind, text) VALUES (%s, %s, %s, %s, %s, %s)"
)


class PostgresWorkQueue:
    """Work queues on the connection of a core :class:`PostgresStore` (which connected and migrated).

    A worker shares one connection between its store and its queue (they are used in turn);
    :meth:`open` makes a queue with a connection of its own.
    """

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self.conn: psycopg.Connection[Any] = store.conn

    @classmethod
    def open(cls, dsn: str) -> PostgresWorkQueue:
        """A queue on a new connection to the database at ``dsn``."""
        return cls(PostgresStore(dsn))

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self.conn.transaction():
                yield self.conn
        except psycopg.Error as exc:
            raise StorageError(str(exc)) from exc

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self.conn.transaction():
                return self.conn.execute(sql.encode(), params).fetchall()
        except psycopg.Error as exc:
            raise StorageError(str(exc)) from exc

    # inbound --------------------------------------------------------------------------------
    def enqueue(self, events: Sequence[NewEvent]) -> int:
        if not events:
            return 0
        columns: list[list[Any]] = [[], [], [], [], [], []]
        for e in events:
            for column, value in zip(
                columns,
                (e.channel, e.message_id, e.author_id, e.handle, e.text, to_micros(e.received_at)),
                strict=True,
            ):
                column.append(value)
        with self._tx() as conn:
            return conn.execute(SQL_ENQUEUE, columns).rowcount

    def claim_inbound(self, owner: str, limit: int, now: datetime, lease_s: float) -> list[QueuedEvent]:
        at = to_micros(now)
        with self._tx() as conn:
            rows = conn.execute(SQL_CLAIM_INBOUND, (at, limit, owner, at + int(lease_s * 1e6))).fetchall()
        rows.sort(key=lambda r: r[0])
        return [
            QueuedEvent(r[0], Inbound(r[1], r[2], r[3], r[4], r[5], from_micros(r[6])), r[7]) for r in rows
        ]

    def complete_inbound(
        self, ids: Sequence[int], owner: str, redacted: Mapping[int, str] | None = None
    ) -> None:
        if ids:
            with self._tx() as conn:
                conn.execute(SQL_COMPLETE, (list(ids), owner))
                if redacted:
                    conn.execute(SQL_REDACT, (list(redacted), list(redacted.values()), owner))

    def release_inbound(self, ids: Sequence[int], owner: str) -> None:
        if ids:
            with self._tx() as conn:
                conn.execute(SQL_RELEASE, (list(ids), owner))

    # outbox ---------------------------------------------------------------------------------
    def add_outbox(self, rows: Sequence[OutboxRow]) -> list[int]:
        ids: list[int] = []
        with self._tx() as conn:
            for r in rows:
                params = (to_micros(r.created_at), r.kind, r.user_id, r.handle, r.recipient, r.in_reply_to,
                          r.text, r.shown, r.priority)  # fmt: skip
                found = conn.execute(SQL_ADD_OUTBOX, params).fetchone()
                assert found is not None
                ids.append(int(found[0]))
        return ids

    def claim_outbox(self, owner: str, limit: int, now: datetime, lease_s: float) -> list[OutboxItem]:
        at = to_micros(now)
        with self._tx() as conn:
            rows = conn.execute(SQL_CLAIM_OUTBOX, (at, at, limit, owner, at + int(lease_s * 1e6))).fetchall()
        rows.sort(key=lambda r: (r[9], r[0]))
        return [
            OutboxItem(
                r[0], OutboxRow(from_micros(r[10]), r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[9]), r[8]
            )
            for r in rows
        ]

    def finish_outbox(self, results: Sequence[OutboxResult], owner: str) -> None:
        if not results:
            return
        ids = [r.id for r in results]
        statuses = [r.status for r in results]
        refs = [r.provider_ref for r in results]
        errors = [r.last_error for r in results]
        next_at = [to_micros(r.next_attempt_at) if r.next_attempt_at is not None else 0 for r in results]
        sent_at = [to_micros(r.sent_at) if r.sent_at is not None else None for r in results]
        with self._tx() as conn:
            conn.execute(SQL_FINISH, (ids, statuses, refs, errors, next_at, sent_at, owner))

    def record_delivery(
        self, provider_ref: str, status: str, error_code: str | None, at: datetime
    ) -> Delivery | None:
        with self._tx() as conn:
            return record_delivery(conn, SQL_DELIVERY, SQL_EVENT, provider_ref, status, error_code, at)

    def held_refs(self, refs: Sequence[str], own_id: int) -> set[str]:
        if not refs:
            return set()
        sql = "SELECT provider_ref FROM outbox WHERE provider_ref = ANY(%s) AND id <> %s"
        params = (list(refs), own_id)
        return {str(r[0]) for r in self._read(sql, params)}

    def unsettled_sms(
        self, sent_after: datetime, sent_before: datetime, after_id: int, limit: int
    ) -> list[tuple[int, str]]:
        sql = (
            "SELECT id, provider_ref FROM outbox WHERE kind = 'sms' AND status = 'sent' "
            "AND provider_ref IS NOT NULL AND sent_at > %s AND sent_at < %s AND id > %s "
            f"AND (delivery_status IS NULL OR delivery_status NOT IN {FINAL_SQL}) ORDER BY id LIMIT %s"
        )
        params = (to_micros(sent_after), to_micros(sent_before), after_id, limit)
        return [(int(r[0]), str(r[1])) for r in self._read(sql, params)]

    def outbox_rows(self, statuses: Sequence[str], limit: int) -> list[dict[str, object]]:
        sql = f"SELECT {OUTBOX_ROW_COLUMNS} FROM outbox WHERE status = ANY(%s) ORDER BY id DESC LIMIT %s"
        params = (list(statuses), limit)
        return [outbox_row_dict(r) for r in self._read(sql, params)]

    def requeue_outbox(self, ids: Sequence[int], now: datetime) -> int:
        if not ids:
            return 0
        with self._tx() as conn:
            cursor = conn.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = %s, created_at = %s, "
                "lease_owner = NULL, lease_until = NULL "
                "WHERE id = ANY(%s) "
                "AND status IN ('failed', 'expired') AND shown IS NULL",
                (to_micros(now), to_micros(now), [int(i) for i in ids]),
            )
            return int(cursor.rowcount)

    def oldest_pending(self) -> datetime | None:
        sql = "SELECT min(created_at) FROM outbox WHERE status = 'pending'"
        params: tuple[()] = ()
        rows = self._read(sql, params)
        return None if not rows or rows[0][0] is None else from_micros(rows[0][0])

    # cursors and state ----------------------------------------------------------------------
    def cursor(self, name: str) -> str | None:
        rows = self._read("SELECT value FROM ingest_cursors WHERE name = %s", (name,))
        return str(rows[0][0]) if rows else None

    def set_cursor(self, name: str, value: str, at: datetime) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO ingest_cursors VALUES (%s, %s, %s) ON CONFLICT (name) DO UPDATE SET "
                "value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
                (name, value, to_micros(at)),
            )

    def state(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM runtime_state WHERE key = %s", (key,))
        return str(rows[0][0]) if rows else None

    def set_state(self, key: str, value: str, at: datetime) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO runtime_state VALUES (%s, %s, %s) ON CONFLICT (key) DO UPDATE SET "
                "value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
                (key, value, to_micros(at)),
            )

    def states(self, prefix: str) -> dict[str, str]:
        rows = self._read(
            "SELECT key, value FROM runtime_state WHERE starts_with(key, %s) ORDER BY key", (prefix,)
        )
        return {str(k): str(v) for k, v in rows}

    def add_state(self, key: str, value: str, at: datetime) -> str:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO runtime_state VALUES (%s, %s, %s) ON CONFLICT (key) DO NOTHING",
                (key, value, to_micros(at)),
            )
            row = conn.execute("SELECT value FROM runtime_state WHERE key = %s", (key,)).fetchone()
        assert row is not None
        return str(row[0])

    def count_hit(self, key: str, at: datetime) -> int:
        with self._tx() as conn:
            row = conn.execute(
                "INSERT INTO runtime_state VALUES (%s, '1', %s) ON CONFLICT (key) DO UPDATE SET "
                "value = (runtime_state.value::bigint + 1)::text, updated_at = EXCLUDED.updated_at "
                "RETURNING value",
                (key, to_micros(at)),
            ).fetchone()
        assert row is not None
        return int(row[0])

    def drop_states(self, prefix: str, before: datetime) -> int:
        with self._tx() as conn:
            cursor = conn.execute(
                "DELETE FROM runtime_state WHERE starts_with(key, %s) AND updated_at < %s",
                (prefix, to_micros(before)),
            )
            return cursor.rowcount

    def depths(self, now: datetime) -> dict[str, int]:
        row = self._read(
            "SELECT (SELECT count(*) FROM inbound_queue WHERE NOT done), "
            "(SELECT count(*) FROM outbox WHERE status = 'pending'), "
            "(SELECT count(*) FROM outbox WHERE status = 'pending' AND next_attempt_at <= %s)",
            (to_micros(now),),
        )[0]
        return {"inbound_pending": int(row[0]), "outbox_pending": int(row[1]), "outbox_due": int(row[2])}

    def outbox_counts(self) -> dict[str, int]:
        return {str(s): int(n) for s, n in self._read("SELECT status, count(*) FROM outbox GROUP BY status")}

    def ping(self) -> int:
        return self._store.schema_version()

    def close(self) -> None:
        self._store.close()
