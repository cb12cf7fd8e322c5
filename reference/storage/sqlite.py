"""SQLite store (stdlib :mod:`sqlite3`): the embedded default.

WAL journal, ``synchronous=NORMAL`` (a crash may lose the last commits but never corrupts), a
64 MiB page cache, one connection per store. Each unit of work is a
``BEGIN IMMEDIATE`` transaction, so writers are serialised by SQLite's write lock and a batch's
reads cannot go stale before its writes. Debits are still conditional
(``... WHERE balance_paise >= ?``) and the schema forbids negative balances, as a second line of
defence. Bulk writes use ``executemany`` so the per-purchase cost stays in C.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

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

__all__ = ["SqliteStore"]

_IN = "(SELECT value FROM json_each(?))"
SQL_INBOX_SEEN = f"SELECT channel, message_id FROM inbox WHERE message_id IN {_IN}"
SQL_INBOX_CLAIM = (
    "INSERT INTO inbox (channel, message_id, user_id, handle, text, received_at, processed_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
SQL_BINDINGS_BY_USER = f"SELECT user_id, handle, msisdn, bound_at FROM bindings WHERE user_id IN {_IN}"
SQL_BINDINGS_BY_MSISDN = f"SELECT user_id, handle, msisdn, bound_at FROM bindings WHERE msisdn IN {_IN}"
SQL_SUBSCRIBERS = (
    f"SELECT msisdn, circle, balance_paise, active, prepaid, name FROM subscribers WHERE msisdn IN {_IN}"
)
SQL_CODES = (
    "SELECT user_id, handle, msisdn, code_hash, issued_at, expires_at, attempts, state "
    f"FROM otp_codes WHERE user_id IN {_IN}"
)
SQL_SENDS = f"SELECT msisdn, sent_at FROM otp_sends WHERE msisdn IN {_IN} AND sent_at > ?"
SQL_UNBIND_USER = "DELETE FROM bindings WHERE user_id = ?"
SQL_UNBIND_MSISDN = "DELETE FROM bindings WHERE msisdn = ?"
SQL_BIND = "INSERT INTO bindings (user_id, handle, msisdn, bound_at) VALUES (?, ?, ?, ?)"
SQL_CODE_PUT = "INSERT OR REPLACE INTO otp_codes VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
SQL_SEND = "INSERT INTO otp_sends (msisdn, sent_at) VALUES (?, ?)"
SQL_DEBIT = "UPDATE subscribers SET balance_paise = balance_paise - ? WHERE msisdn = ? AND balance_paise >= ?"
SQL_ACTIVATION = (
    "INSERT INTO activations (msisdn, user_id, pack_id, pack_name, hashtag, circle, price_paise, "
    "balance_after, channel, message_id, activated_at, valid_until) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
SQL_OUTBOX = (
    "INSERT INTO outbox (created_at, kind, user_id, handle, recipient, in_reply_to, text, shown) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
SQL_EVENT = "INSERT INTO customer_events (at, user_id, handle, msisdn, kind, text) VALUES (?, ?, ?, ?, ?, ?)"
SQL_TIMELINE_COLUMNS = "at, user_id, handle, msisdn, kind, text, amount_paise, ref"


def _transient(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.IntegrityError) or "locked" in text or "busy" in text


class SqliteStore:
    """Unit of work and queries on one SQLite connection (``path`` or ``":memory:"``)."""

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 30_000) -> None:
        self.path = str(path)
        try:
            self.conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, cached_statements=256
            )
            self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if self.path != ":memory:":
                self.conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open SQLite database {self.path}: {exc}") from exc
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute("PRAGMA cache_size = -65536")  # 64 MiB page cache
        self.conn.execute("PRAGMA temp_store = MEMORY")
        self.conn.execute("PRAGMA wal_autocheckpoint = 4000")  # fewer checkpoint fsyncs under load
        self.conn.execute("PRAGMA foreign_keys = ON")
        self._micros = MicrosCache()
        self._migrate()

    # schema --------------------------------------------------------------------------------
    def _migrate(self) -> None:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            current = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]
            known = migrations_for("sqlite")
            if current > len(known):
                raise MigrationError(f"database schema v{current} is newer than this code (v{len(known)})")
            for migration in known[current:]:
                for statement in split_statements(migration.sql):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version VALUES (?, datetime('now'))", (migration.version,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def schema_version(self) -> int:
        """The highest migration applied."""
        return int(self.conn.execute("SELECT max(version) FROM schema_version").fetchone()[0])

    # unit of work --------------------------------------------------------------------------
    def begin(self) -> None:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransientConflict(str(exc)) from exc

    def claim(self, messages: Sequence[Inbound], at: datetime) -> set[MessageKey]:
        conn = self.conn
        ids = json.dumps([m.message_id for m in messages])
        seen = set(conn.execute(SQL_INBOX_SEEN, (ids,)).fetchall())
        new = [m for m in messages if (m.channel, m.message_id) not in seen]
        try:
            conn.executemany(SQL_INBOX_CLAIM, self._micros.inbox(new, at))
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        return {(m.channel, m.message_id) for m in new}

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
        users_json = json.dumps(list(user_ids))
        for row in conn.execute(SQL_BINDINGS_BY_USER, (users_json,)):
            binding = binding_from_row(row)
            by_user[binding.user_id] = binding
            by_msisdn[binding.msisdn] = binding
        numbers = set(msisdns)
        if with_codes:
            snap.codes = {row[0]: code_from_row(row) for row in conn.execute(SQL_CODES, (users_json,))}
            numbers.update(code.msisdn for code in snap.codes.values())
        numbers_json = json.dumps(list(numbers)) if numbers else None
        if numbers_json is not None:
            for row in conn.execute(SQL_BINDINGS_BY_MSISDN, (numbers_json,)):
                binding = binding_from_row(row)
                by_user[binding.user_id] = binding
                by_msisdn[binding.msisdn] = binding
        wanted = json.dumps(list(numbers | by_msisdn.keys()))
        subscribers = snap.subscribers
        for row in conn.execute(SQL_SUBSCRIBERS, (wanted,)):
            subscribers[row[0]] = Subscriber(row[0], row[1], row[2], bool(row[3]), bool(row[4]), row[5])
        if sends_since is not None and numbers_json is not None:
            for msisdn, sent_at in conn.execute(SQL_SENDS, (numbers_json, to_micros(sends_since))):
                snap.recent_sends.setdefault(msisdn, []).append(from_micros(sent_at))
        return snap

    def apply(self, changes: ChangeSet) -> None:
        conn, micros = self.conn, self._micros
        try:
            if changes.unbound_users or changes.unbound_msisdns:
                conn.executemany(SQL_UNBIND_USER, [(u,) for u in changes.unbound_users])
                conn.executemany(SQL_UNBIND_MSISDN, [(m,) for m in changes.unbound_msisdns])
            if changes.bindings:
                conn.executemany(SQL_BIND, micros.bindings(changes))
            if changes.codes:
                conn.executemany(SQL_CODE_PUT, [code_params(c) for c in changes.codes.values()])
            if changes.sends:
                conn.executemany(SQL_SEND, micros.sends(changes))
            if changes.debits:
                totals = aggregate_debits(changes.debits)
                cursor = conn.executemany(SQL_DEBIT, [(p, m, p) for m, p in totals.items()])
                if cursor.rowcount != len(totals):
                    raise StorageError("a conditional debit did not hold (balance changed underneath)")
            if changes.activations:
                conn.executemany(SQL_ACTIVATION, micros.activations(changes.activations))
            if changes.outbox:
                conn.executemany(SQL_OUTBOX, micros.outbox(changes.outbox))
            if changes.events:
                conn.executemany(SQL_EVENT, micros.events(changes.events))
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def commit(self) -> None:
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    @staticmethod
    def _error(exc: sqlite3.Error) -> StorageError:
        return TransientConflict(str(exc)) if _transient(exc) else StorageError(str(exc))

    # queries -------------------------------------------------------------------------------
    def add_subscribers(self, subscribers: Iterable[Subscriber]) -> None:
        rows = [
            (s.msisdn, s.circle, s.balance_paise, int(s.active), int(s.prepaid), s.name) for s in subscribers
        ]
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.executemany("INSERT OR REPLACE INTO subscribers VALUES (?, ?, ?, ?, ?, ?)", rows)

    def subscriber(self, msisdn: str) -> Subscriber | None:
        row = self.conn.execute(
            "SELECT msisdn, circle, balance_paise, active, prepaid, name FROM subscribers WHERE msisdn = ?",
            (msisdn,),
        ).fetchone()
        return subscriber_from_row(row) if row else None

    def binding_of_handle(self, handle: str) -> tuple[str, str] | None:
        row = self.conn.execute(
            "SELECT user_id, msisdn FROM bindings WHERE lower(handle) = lower(?) "
            "ORDER BY bound_at DESC LIMIT 1",
            (handle.lstrip("@"),),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def timeline(self, *, user_id: str | None = None, handle: str | None = None) -> list[dict[str, Any]]:
        columns = SQL_TIMELINE_COLUMNS
        if user_id is not None:
            rows = self.conn.execute(
                f"SELECT {columns} FROM timeline WHERE user_id = ? ORDER BY at, prio, id", (user_id,)
            )
        else:
            rows = self.conn.execute(
                f"SELECT {columns} FROM timeline WHERE user_id IN "
                "(SELECT DISTINCT user_id FROM inbox WHERE lower(handle) = lower(?)) ORDER BY at, prio, id",
                ((handle or "").lstrip("@"),),
            )
        return [timeline_entry(tuple(row)) for row in rows]

    def totals(self) -> dict[str, int]:
        one = self._scalar
        return {
            "balance_paise": one("SELECT coalesce(sum(balance_paise), 0) FROM subscribers"),
            "activations": one("SELECT count(*) FROM activations"),
            "activation_paise": one("SELECT coalesce(sum(price_paise), 0) FROM activations"),
            "outbox": one("SELECT count(*) FROM outbox"),
            "inbox": one("SELECT count(*) FROM inbox"),
            "bindings": one("SELECT count(*) FROM bindings"),
        }

    def _scalar(self, sql: str) -> int:
        return int(self.conn.execute(sql).fetchone()[0])

    def close(self) -> None:
        self.rollback()
        self.conn.close()
