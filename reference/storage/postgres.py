"""PostgreSQL store (psycopg 3), selected by a ``postgresql://`` DSN.

Each unit of work is one transaction. Locks are taken in one global order so concurrent workers
cannot deadlock: inbox keys (sorted) when claiming, then code rows (``FOR UPDATE``, sorted by user
id), then subscriber rows (``FOR UPDATE``, sorted by number). With the subscriber rows locked, the
batch's balance checks cannot go stale; the debit is still conditional
(``balance_paise >= amount``) and the schema forbids negative balances. The inbox primary key
makes a message id claimable once: a second worker claiming the same id waits for the first to
commit and then gets nothing back.
Bulk writes use one ``unnest``-array insert per table (or ``executemany``, pipelined by psycopg, for
rare rows), so a batch costs a handful of round trips whatever its size.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from reference.domain.commands import Inbound, MessageKey
from reference.domain.errors import MigrationError, StorageError, TransientConflict
from reference.domain.subscribers import Subscriber
from reference.service.changes import ChangeSet, Snapshot
from reference.storage.migrations import migrations_for, split_statements
from reference.storage.rows import (
    MicrosCache,
    aggregate_debits,
    binding_from_row,
    code_from_row,
    code_params,
    subscriber_from_row,
    timeline_entry,
)
from reference.storage.timeconv import from_micros, to_micros

__all__ = ["PostgresStore"]

SQL_CLAIM = (
    "INSERT INTO inbox (channel, message_id, user_id, handle, text, received_at, processed_at) "
    "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[], "
    "%s::bigint[]) AS k ORDER BY 2, 1 ON CONFLICT DO NOTHING RETURNING channel, message_id"
)
SQL_BINDINGS_BY_USER = "SELECT user_id, handle, msisdn, bound_at FROM bindings WHERE user_id = ANY(%s)"
SQL_BINDINGS_BY_MSISDN = "SELECT user_id, handle, msisdn, bound_at FROM bindings WHERE msisdn = ANY(%s)"
SQL_SUBSCRIBERS = (
    "SELECT msisdn, circle, balance_paise, active, prepaid, name FROM subscribers "
    "WHERE msisdn = ANY(%s) ORDER BY msisdn FOR UPDATE"
)
SQL_CODES = (
    "SELECT user_id, handle, msisdn, code_hash, issued_at, expires_at, attempts, state "
    "FROM otp_codes WHERE user_id = ANY(%s) ORDER BY user_id FOR UPDATE"
)
SQL_SENDS = "SELECT msisdn, sent_at FROM otp_sends WHERE msisdn = ANY(%s) AND sent_at > %s"
SQL_UNBIND = "DELETE FROM bindings WHERE user_id = ANY(%s) OR msisdn = ANY(%s)"
SQL_BIND = "INSERT INTO bindings (user_id, handle, msisdn, bound_at) VALUES (%s, %s, %s, %s)"
SQL_CODE_PUT = (
    "INSERT INTO otp_codes VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (user_id) DO UPDATE SET "
    "handle = EXCLUDED.handle, msisdn = EXCLUDED.msisdn, code_hash = EXCLUDED.code_hash, "
    "issued_at = EXCLUDED.issued_at, expires_at = EXCLUDED.expires_at, attempts = EXCLUDED.attempts, "
    "state = EXCLUDED.state"
)
SQL_SEND = "INSERT INTO otp_sends (msisdn, sent_at) VALUES (%s, %s)"
SQL_DEBIT = (
    "UPDATE subscribers s SET balance_paise = s.balance_paise - d.amount "
    "FROM unnest(%s::text[], %s::bigint[]) AS d(msisdn, amount) "
    "WHERE s.msisdn = d.msisdn AND s.balance_paise >= d.amount"
)
# Bulk inserts take one array per column (one statement per table per batch, not one per row).
SQL_ACTIVATION = (
    "INSERT INTO activations (msisdn, user_id, pack_id, pack_name, hashtag, circle, price_paise, "
    "balance_after, channel, message_id, activated_at, valid_until) SELECT * FROM unnest(%s::text[], "
    "%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[], %s::bigint[], %s::text[], "
    "%s::text[], %s::bigint[], %s::text[])"
)
SQL_OUTBOX = (
    "INSERT INTO outbox (created_at, kind, user_id, handle, recipient, in_reply_to, text, shown) "
    "SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], "
    "%s::text[], %s::text[])"
)
SQL_EVENT = (
    "INSERT INTO customer_events (at, user_id, handle, msisdn, kind, text) VALUES (%s, %s, %s, %s, %s, %s)"
)
SQL_TIMELINE_COLUMNS = "at, user_id, handle, msisdn, kind, text, amount_paise, ref"
_TRANSIENT = (
    pg_errors.DeadlockDetected,
    pg_errors.SerializationFailure,
    pg_errors.UniqueViolation,
    pg_errors.LockNotAvailable,
)


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows -> one list per column (the parameters of an ``unnest`` insert)."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


def _error(exc: psycopg.Error) -> StorageError:
    return TransientConflict(str(exc)) if isinstance(exc, _TRANSIENT) else StorageError(str(exc))


class PostgresStore:
    """Unit of work and queries on one PostgreSQL connection."""

    def __init__(self, dsn: str, *, connect_timeout: int = 5) -> None:
        try:
            self.conn = psycopg.connect(dsn, connect_timeout=connect_timeout)
        except psycopg.OperationalError as exc:
            raise StorageError(f"cannot connect to PostgreSQL: {exc}") from exc
        self._micros = MicrosCache()
        self._migrate()

    def _migrate(self) -> None:
        conn = self.conn
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.twittcom_schema'))")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
            current = int(row[0]) if row else 0
            known = migrations_for("postgresql")
            if current > len(known):
                raise MigrationError(f"database schema v{current} is newer than this code (v{len(known)})")
            for migration in known[current:]:
                for statement in split_statements(migration.sql):
                    conn.execute(statement.encode())
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (migration.version,))

    def schema_version(self) -> int:
        """The highest migration applied."""
        row = self.conn.execute("SELECT max(version) FROM schema_version").fetchone()
        self.conn.rollback()
        return int(row[0]) if row else 0

    # unit of work --------------------------------------------------------------------------
    def begin(self) -> None:
        """psycopg opens the transaction with the first statement."""

    def claim(self, messages: Sequence[Inbound], at: datetime) -> set[MessageKey]:
        try:
            rows = self.conn.execute(SQL_CLAIM, _columns(self._micros.inbox(messages, at), 7)).fetchall()
        except psycopg.Error as exc:
            raise _error(exc) from exc
        return {(c, m) for c, m in rows}

    def load(
        self,
        user_ids: Collection[str],
        msisdns: Collection[str],
        *,
        with_codes: bool,
        sends_since: datetime | None,
    ) -> Snapshot:
        conn = self.conn
        snap = Snapshot()
        by_user, by_msisdn = snap.bindings_by_user, snap.bindings_by_msisdn
        users = list(user_ids)
        numbers = list(msisdns)
        try:
            for row in conn.execute(SQL_BINDINGS_BY_USER, (users,)):
                binding = binding_from_row(row)
                by_user[binding.user_id] = binding
                by_msisdn[binding.msisdn] = binding
            related = set(numbers)
            if with_codes:  # lock order: inbox keys, then codes, then subscribers
                snap.codes = {row[0]: code_from_row(row) for row in conn.execute(SQL_CODES, (users,))}
                related.update(code.msisdn for code in snap.codes.values())
            if related:
                for row in conn.execute(SQL_BINDINGS_BY_MSISDN, (list(related),)):
                    binding = binding_from_row(row)
                    by_user[binding.user_id] = binding
                    by_msisdn[binding.msisdn] = binding
            wanted = list(related | by_msisdn.keys())
            subscribers = snap.subscribers
            for row in conn.execute(SQL_SUBSCRIBERS, (wanted,)):
                subscribers[row[0]] = Subscriber(row[0], row[1], row[2], row[3], row[4], row[5])
            if sends_since is not None and numbers:
                for msisdn, sent_at in conn.execute(SQL_SENDS, (numbers, to_micros(sends_since))):
                    snap.recent_sends.setdefault(msisdn, []).append(from_micros(sent_at))
        except psycopg.Error as exc:
            raise _error(exc) from exc
        return snap

    def apply(self, changes: ChangeSet) -> None:
        conn, micros = self.conn, self._micros
        try:
            with conn.cursor() as cur:
                if changes.unbound_users or changes.unbound_msisdns:
                    cur.execute(SQL_UNBIND, (list(changes.unbound_users), list(changes.unbound_msisdns)))
                if changes.bindings:
                    cur.executemany(SQL_BIND, micros.bindings(changes))
                if changes.codes:
                    cur.executemany(SQL_CODE_PUT, [code_params(c) for c in changes.codes.values()])
                if changes.sends:
                    cur.executemany(SQL_SEND, micros.sends(changes))
                if changes.debits:
                    totals = aggregate_debits(changes.debits)
                    cur.execute(SQL_DEBIT, (list(totals), list(totals.values())))
                    if cur.rowcount != len(totals):
                        raise StorageError("a conditional debit did not hold (balance changed underneath)")
                if changes.activations:
                    cur.execute(SQL_ACTIVATION, _columns(micros.activations(changes.activations), 12))
                if changes.outbox:
                    cur.execute(SQL_OUTBOX, _columns(micros.outbox(changes.outbox), 8))
                if changes.events:
                    cur.executemany(SQL_EVENT, micros.events(changes.events))
        except psycopg.Error as exc:
            raise _error(exc) from exc

    def commit(self) -> None:
        try:
            self.conn.commit()
        except psycopg.Error as exc:
            raise _error(exc) from exc

    def rollback(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()

    # queries -------------------------------------------------------------------------------
    def add_subscribers(self, subscribers: Iterable[Subscriber]) -> None:
        rows = [(s.msisdn, s.circle, s.balance_paise, s.active, s.prepaid, s.name) for s in subscribers]
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO subscribers VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (msisdn) DO UPDATE SET "
                "circle = EXCLUDED.circle, balance_paise = EXCLUDED.balance_paise, active = EXCLUDED.active, "
                "prepaid = EXCLUDED.prepaid, name = EXCLUDED.name",
                rows,
            )

    def _fetch(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.conn.execute(sql.encode(), params).fetchall()
        finally:
            self.conn.rollback()

    def subscriber(self, msisdn: str) -> Subscriber | None:
        rows = self._fetch(
            "SELECT msisdn, circle, balance_paise, active, prepaid, name FROM subscribers WHERE msisdn = %s",
            (msisdn,),
        )
        return subscriber_from_row(rows[0]) if rows else None

    def binding_of_handle(self, handle: str) -> tuple[str, str] | None:
        rows = self._fetch(
            "SELECT user_id, msisdn FROM bindings WHERE lower(handle) = lower(%s) "
            "ORDER BY bound_at DESC LIMIT 1",
            (handle.lstrip("@"),),
        )
        return (rows[0][0], rows[0][1]) if rows else None

    def timeline(self, *, user_id: str | None = None, handle: str | None = None) -> list[dict[str, Any]]:
        columns = SQL_TIMELINE_COLUMNS
        if user_id is not None:
            rows = self._fetch(
                f"SELECT {columns} FROM timeline WHERE user_id = %s ORDER BY at, prio, id", (user_id,)
            )
        else:
            rows = self._fetch(
                f"SELECT {columns} FROM timeline WHERE user_id IN (SELECT DISTINCT user_id FROM inbox "
                "WHERE lower(handle) = lower(%s)) ORDER BY at, prio, id",
                ((handle or "").lstrip("@"),),
            )
        return [timeline_entry(row) for row in rows]

    def totals(self) -> dict[str, int]:
        row = self._fetch(
            "SELECT (SELECT coalesce(sum(balance_paise), 0) FROM subscribers),"
            " (SELECT count(*) FROM activations),"
            " (SELECT coalesce(sum(price_paise), 0) FROM activations),"
            " (SELECT count(*) FROM outbox), (SELECT count(*) FROM inbox), (SELECT count(*) FROM bindings)"
        )[0]
        names = (
            "balance_paise",
            "activations",
            "activation_paise",
            "outbox",
            "inbox",
            "bindings",
        )
        return {name: int(value) for name, value in zip(names, row, strict=True)}

    def close(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()
