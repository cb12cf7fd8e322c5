"""VACUUM of the PostgreSQL work-queue tables, on an autocommit connection of its own.

The queue tables churn: every inbound row is inserted, leased, completed (and redacted); every
outbox row is inserted, leased and finished, sometimes several times; the web's hit counters are
upserted on every request and dropped later. Each UPDATE leaves a dead tuple that the claims
(``FOR UPDATE SKIP LOCKED ... ORDER BY ... LIMIT``) and the partial indexes wade through until a
VACUUM removes it. With autovacuum off (or left at its default 20 % scale factor, far too lazy for
a queue) latency doubles after a burst and throughput collapses after overload.

One process of ``twittcom serve --processes N`` does it: each round first tries a session-level
advisory lock; the process holding it vacuums, the others skip the round. If that process dies
its session ends, the lock goes with it and another process takes over on its next round.
``SKIP_LOCKED`` skips a table someone else (an operator's VACUUM, autovacuum) is vacuuming now.
"""

from __future__ import annotations

from typing import Any

import psycopg

from reference.domain.errors import StorageError

__all__ = ["HOT_TABLES", "PostgresQueueVacuum"]

#: tables with heavy update/delete churn (reference/storage/work_postgres.py)
HOT_TABLES = ("inbound_queue", "outbox", "runtime_state")
#: first half of the advisory lock key of the vacuuming process ("twvc"); the second half is the
#: schema's name hashed, so services on different schemas of one database each vacuum their own
_LOCK_CLASS = 0x7477_7663


class PostgresQueueVacuum:
    """VACUUMs :data:`HOT_TABLES` when asked (:meth:`vacuum`); connects lazily and reconnects after
    an error, so a round that failed (server restart, network) is simply tried again next time."""

    def __init__(self, dsn: str, tables: tuple[str, ...] = HOT_TABLES) -> None:
        self._dsn = dsn
        self.tables = tables
        self._conn: psycopg.Connection[Any] | None = None
        self._holds_lock = False

    def vacuum(self) -> bool:
        """One round: True if this process vacuumed, False if another process holds the duty.
        Raises :class:`StorageError` when the round failed."""
        try:
            conn = self._connection()
            if not self._holds_lock:
                sql = "SELECT pg_try_advisory_lock(%s, hashtext(current_schema()))"
                row = conn.execute(sql, (_LOCK_CLASS,)).fetchone()
                self._holds_lock = bool(row and row[0])
                if not self._holds_lock:
                    return False
            conn.execute(f"VACUUM (SKIP_LOCKED) {', '.join(self.tables)}".encode())
            return True
        except psycopg.Error as exc:
            self.close()
            raise StorageError(f"VACUUM of {', '.join(self.tables)} failed: {str(exc).strip()}") from exc

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self._dsn, autocommit=True)  # VACUUM cannot run in a transaction
            self._holds_lock = False
        return self._conn

    def close(self) -> None:
        """Give up the duty and close the connection. The lock is released explicitly first: a
        closed client connection ends its server backend asynchronously, and until that backend
        has gone its session-level lock would still refuse the next process's round."""
        conn, holds_lock = self._conn, self._holds_lock
        self._conn, self._holds_lock = None, False
        if conn is None or conn.closed:
            return
        try:
            if holds_lock:
                conn.execute("SELECT pg_advisory_unlock(%s, hashtext(current_schema()))", (_LOCK_CLASS,))
        except psycopg.Error:
            pass  # the session is gone or going: its lock goes with it
        finally:
            conn.close()
