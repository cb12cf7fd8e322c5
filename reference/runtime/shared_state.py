"""State every service process must share: generated secrets and the web page's rate-limit counters.

Both live in the store's ``runtime_state`` table.

* :func:`shared_secret`: the OTP key or the web (CSRF) secret when no ``TWITTCOM_OTP_KEY`` /
  ``TWITTCOM_WEB_SECRET`` is set. The first process to start stores a random one and every later
  start (a restart, another host on the same PostgreSQL) reads it back, so a restart never voids
  the codes and forms already handed out. Set the variables in production: a key kept in the
  database is only as secret as the database.
* :class:`StoreHitCounter`: the ``hit`` of :class:`reference.web.ratelimit.SharedWindowCounter`,
  one atomic counter per window and key, so N processes give a client the budget once; windows
  older than ``keep_s`` are pruned now and then.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from reference.domain.errors import ConfigError
from reference.service.work_queue import WorkQueue

__all__ = ["RATE_LIMIT_PREFIX", "SECRET_PREFIX", "StoreHitCounter", "shared_secret"]

SECRET_PREFIX = "secret/"
RATE_LIMIT_PREFIX = "ratelimit/"


def shared_secret(queue: WorkQueue, name: str, at: datetime, size: int = 32) -> bytes:
    """The secret ``name`` kept in the store (hex), created with ``size`` random bytes if absent."""
    value = queue.add_state(SECRET_PREFIX + name, secrets.token_hex(size), at)
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise ConfigError(
            f"the stored {name} is not hex; delete runtime_state key {SECRET_PREFIX}{name}"
        ) from exc


class StoreHitCounter:
    """Counts hits in the store, one call at a time (page threads share the connection)."""

    def __init__(
        self,
        queue: WorkQueue,
        *,
        guard: Callable[[], AbstractContextManager[Any]],
        clock: Callable[[], datetime],
        keep_s: float,
        prune_every_s: float = 60.0,
    ) -> None:
        self.queue = queue
        self.guard = guard
        self.clock = clock
        self.keep = timedelta(seconds=keep_s)
        self.prune_every = timedelta(seconds=prune_every_s)
        self._lock = threading.Lock()
        self._pruned: datetime | None = None

    def __call__(self, key: str) -> int:
        with self._lock, self.guard():
            now = self.clock()
            if self._pruned is None or now - self._pruned >= self.prune_every:
                self.queue.drop_states(RATE_LIMIT_PREFIX, now - self.keep)
                self._pruned = now
            return self.queue.count_hit(RATE_LIMIT_PREFIX + key, now)
