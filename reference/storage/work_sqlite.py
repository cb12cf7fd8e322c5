"""SQLite work queues (stdlib :mod:`sqlite3`): the runtime's :class:`~reference.service.work_queue.WorkQueue`.

One connection per queue object, WAL, ``synchronous=NORMAL``. Each method is one
``BEGIN IMMEDIATE`` transaction, so a claim (select + lease update) cannot interleave with another
process's claim: SQLite has one writer at a time. Claims use ``UPDATE ... RETURNING`` (SQLite 3.35+).
The tables come from migration 0002, applied by the core's :class:`~reference.storage.sqlite.SqliteStore`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

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
from reference.storage.sqlite import SqliteStore
from reference.storage.timeconv import from_micros, to_micros
from reference.storage.work_common import (
    FINAL_SQL,
    OUTBOX_ROW_COLUMNS,
    RANK_SQL,
    outbox_row_dict,
    record_delivery,
)

__all__ = ["SqliteWorkQueue"]

SQL_ENQUEUE = (
    "INSERT INTO inbound_queue (channel, message_id, author_id, handle, text, received_at) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (channel, message_id) DO NOTHING"
)
SQL_CLAIM_INBOUND = (
    "UPDATE inbound_queue SET lease_owner = ?, lease_until = ?, attempts = attempts + 1 WHERE id IN "
    "(SELECT id FROM inbound_queue WHERE done = 0 AND (lease_until IS NULL OR lease_until < ?) "
    "ORDER BY id LIMIT ?) "
    "RETURNING id, channel, message_id, author_id, handle, text, received_at, attempts"
)
SQL_COMPLETE = "UPDATE inbound_queue SET done = 1, lease_until = NULL WHERE id = ? AND lease_owner = ?"
SQL_REDACT = "UPDATE inbound_queue SET text = ? WHERE id = ? AND lease_owner = ?"
SQL_RELEASE = "UPDATE inbound_queue SET lease_until = NULL WHERE id = ? AND lease_owner = ? AND done = 0"
SQL_ADD_OUTBOX = (
    "INSERT INTO outbox (created_at, kind, user_id, handle, recipient, in_reply_to, text, shown, priority) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
)
SQL_CLAIM_OUTBOX = (
    "UPDATE outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1 WHERE id IN "
    "(SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "
    "AND (lease_until IS NULL OR lease_until < ?) ORDER BY priority, id LIMIT ?) "
    "RETURNING id, kind, user_id, handle, recipient, in_reply_to, text, shown, attempts, priority, created_at"
)
SQL_FINISH = (
    "UPDATE outbox SET status = ?, provider_ref = coalesce(?, provider_ref), last_error = ?, "
    "next_attempt_at = ?, sent_at = coalesce(?, sent_at), lease_owner = NULL, lease_until = NULL, "
    "text = CASE WHEN ? <> 'pending' THEN coalesce(shown, text) ELSE text END "
    "WHERE id = ? AND lease_owner = ?"
)
SQL_DELIVERY = (
    "UPDATE outbox SET delivery_status = ?, delivered_at = ? WHERE provider_ref = ? AND kind = 'sms' "
    f"AND (delivery_status IS NULL OR {RANK_SQL} < ?) "
    "RETURNING id, user_id, handle, recipient, created_at, shown IS NOT NULL"
)
SQL_EVENT = "INSERT INTO customer_events (at, user_id, handle, msisdn, kind, text) VALUES (?, ?, ?, ?, ?, ?)"


class SqliteWorkQueue:
    """Work queues on the connection of a core :class:`SqliteStore` (which opened and migrated it).

    A worker shares one connection between its store and its queue (they are used in turn);
    :meth:`open` makes a queue with a connection of its own.
    """

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self.conn: sqlite3.Connection = store.conn

    @classmethod
    def open(cls, path: str | Path, *, busy_timeout_ms: int = 30_000) -> SqliteWorkQueue:
        """A queue on a new connection to the database at ``path``."""
        return cls(SqliteStore(path, busy_timeout_ms=busy_timeout_ms))

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc

    # inbound --------------------------------------------------------------------------------
    def enqueue(self, events: Sequence[NewEvent]) -> int:
        if not events:
            return 0
        rows = [
            (e.channel, e.message_id, e.author_id, e.handle, e.text, to_micros(e.received_at)) for e in events
        ]
        with self._tx() as conn:
            before = conn.total_changes
            conn.executemany(SQL_ENQUEUE, rows)
            return conn.total_changes - before

    def claim_inbound(self, owner: str, limit: int, now: datetime, lease_s: float) -> list[QueuedEvent]:
        at = to_micros(now)
        with self._tx() as conn:
            rows = conn.execute(SQL_CLAIM_INBOUND, (owner, at + int(lease_s * 1e6), at, limit)).fetchall()
        rows.sort(key=lambda r: r[0])
        return [
            QueuedEvent(r[0], Inbound(r[1], r[2], r[3], r[4], r[5], from_micros(r[6])), r[7]) for r in rows
        ]

    def complete_inbound(
        self, ids: Sequence[int], owner: str, redacted: Mapping[int, str] | None = None
    ) -> None:
        if ids:
            with self._tx() as conn:
                conn.executemany(SQL_COMPLETE, [(i, owner) for i in ids])
                if redacted:
                    conn.executemany(SQL_REDACT, [(text, i, owner) for i, text in redacted.items()])

    def release_inbound(self, ids: Sequence[int], owner: str) -> None:
        if ids:
            with self._tx() as conn:
                conn.executemany(SQL_RELEASE, [(i, owner) for i in ids])

    # outbox ---------------------------------------------------------------------------------
    def add_outbox(self, rows: Sequence[OutboxRow]) -> list[int]:
        ids: list[int] = []
        with self._tx() as conn:
            for r in rows:
                params = (to_micros(r.created_at), r.kind, r.user_id, r.handle, r.recipient, r.in_reply_to,
                          r.text, r.shown, r.priority)  # fmt: skip
                ids.append(int(conn.execute(SQL_ADD_OUTBOX, params).fetchone()[0]))
        return ids

    def claim_outbox(self, owner: str, limit: int, now: datetime, lease_s: float) -> list[OutboxItem]:
        at = to_micros(now)
        with self._tx() as conn:
            rows = conn.execute(SQL_CLAIM_OUTBOX, (owner, at + int(lease_s * 1e6), at, at, limit)).fetchall()
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
        params = [
            (
                r.status,
                r.provider_ref,
                r.last_error,
                to_micros(r.next_attempt_at) if r.next_attempt_at is not None else 0,
                to_micros(r.sent_at) if r.sent_at is not None else None,
                r.status,
                r.id,
                owner,
            )
            for r in results
        ]
        with self._tx() as conn:
            conn.executemany(SQL_FINISH, params)

    def record_delivery(
        self, provider_ref: str, status: str, error_code: str | None, at: datetime
    ) -> Delivery | None:
        with self._tx() as conn:
            return record_delivery(conn, SQL_DELIVERY, SQL_EVENT, provider_ref, status, error_code, at)

    def held_refs(self, refs: Sequence[str], own_id: int) -> set[str]:
        if not refs:
            return set()
        sql = (
            "SELECT provider_ref FROM outbox WHERE provider_ref IN (SELECT value FROM json_each(?)) "
            "AND id <> ?"
        )
        params = (json.dumps(list(refs)), own_id)
        return {str(r[0]) for r in self.conn.execute(sql, params).fetchall()}

    def unsettled_sms(
        self, sent_after: datetime, sent_before: datetime, after_id: int, limit: int
    ) -> list[tuple[int, str]]:
        sql = (
            "SELECT id, provider_ref FROM outbox WHERE kind = 'sms' AND status = 'sent' "
            "AND provider_ref IS NOT NULL AND sent_at > ? AND sent_at < ? AND id > ? "
            f"AND (delivery_status IS NULL OR delivery_status NOT IN {FINAL_SQL}) ORDER BY id LIMIT ?"
        )
        params = (to_micros(sent_after), to_micros(sent_before), after_id, limit)
        return [(int(r[0]), str(r[1])) for r in self.conn.execute(sql, params).fetchall()]

    def outbox_rows(self, statuses: Sequence[str], limit: int) -> list[dict[str, object]]:
        sql = (
            f"SELECT {OUTBOX_ROW_COLUMNS} FROM outbox WHERE status IN (SELECT value FROM json_each(?)) "
            "ORDER BY id DESC LIMIT ?"
        )
        params = (json.dumps(list(statuses)), limit)
        return [outbox_row_dict(r) for r in self.conn.execute(sql, params).fetchall()]

    def requeue_outbox(self, ids: Sequence[int], now: datetime) -> int:
        if not ids:
            return 0
        with self._tx() as conn:
            cursor = conn.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, created_at = ?, "
                "lease_owner = NULL, lease_until = NULL "
                "WHERE id IN (SELECT value FROM json_each(?)) "
                "AND status IN ('failed', 'expired') AND shown IS NULL",
                (to_micros(now), to_micros(now), json.dumps([int(i) for i in ids])),
            )
            return int(cursor.rowcount)

    def oldest_pending(self) -> datetime | None:
        sql = "SELECT min(created_at) FROM outbox WHERE status = 'pending'"
        params: tuple[()] = ()
        rows = self.conn.execute(sql, params).fetchall()
        return None if not rows or rows[0][0] is None else from_micros(rows[0][0])

    # cursors and state ----------------------------------------------------------------------
    def cursor(self, name: str) -> str | None:
        row = self.conn.execute("SELECT value FROM ingest_cursors WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_cursor(self, name: str, value: str, at: datetime) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO ingest_cursors VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                "value = excluded.value, updated_at = excluded.updated_at",
                (name, value, to_micros(at)),
            )

    def state(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM runtime_state WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_state(self, key: str, value: str, at: datetime) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO runtime_state VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                "value = excluded.value, updated_at = excluded.updated_at",
                (key, value, to_micros(at)),
            )

    def states(self, prefix: str) -> dict[str, str]:
        rows = self.conn.execute(
            "SELECT key, value FROM runtime_state WHERE substr(key, 1, ?) = ? ORDER BY key",
            (len(prefix), prefix),
        ).fetchall()
        return {str(k): str(v) for k, v in rows}

    def add_state(self, key: str, value: str, at: datetime) -> str:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO runtime_state VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
                (key, value, to_micros(at)),
            )
            row = conn.execute("SELECT value FROM runtime_state WHERE key = ?", (key,)).fetchone()
        return str(row[0])

    def count_hit(self, key: str, at: datetime) -> int:
        with self._tx() as conn:
            row = conn.execute(
                "INSERT INTO runtime_state VALUES (?, '1', ?) ON CONFLICT (key) DO UPDATE SET "
                "value = CAST(CAST(runtime_state.value AS INTEGER) + 1 AS TEXT), "
                "updated_at = excluded.updated_at RETURNING value",
                (key, to_micros(at)),
            ).fetchone()
        return int(row[0])

    def drop_states(self, prefix: str, before: datetime) -> int:
        with self._tx() as conn:
            cursor = conn.execute(
                "DELETE FROM runtime_state WHERE substr(key, 1, ?) = ? AND updated_at < ?",
                (len(prefix), prefix, to_micros(before)),
            )
            return int(cursor.rowcount)

    def depths(self, now: datetime) -> dict[str, int]:
        conn = self.conn
        inbound = conn.execute("SELECT count(*) FROM inbound_queue WHERE done = 0").fetchone()[0]
        pending, due = conn.execute(
            "SELECT count(*), coalesce(sum(next_attempt_at <= ?), 0) FROM outbox WHERE status = 'pending'",
            (to_micros(now),),
        ).fetchone()
        return {"inbound_pending": int(inbound), "outbox_pending": int(pending), "outbox_due": int(due)}

    def outbox_counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
        return {str(status): int(n) for status, n in rows}

    def ping(self) -> int:
        return self._store.schema_version()

    def close(self) -> None:
        self._store.close()
