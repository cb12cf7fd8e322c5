"""The queue-vacuum chore: every ``vacuum_interval_s`` the work-queue tables are VACUUMed (PostgreSQL).

A round runs in a worker thread (VACUUM is a blocking network call), on the vacuum's own
autocommit connection. A failed round is logged and counted, never raised: the next round tries
again (the loop around it, :func:`reference.runtime.loops.periodic_loop`, keeps going).
"""

from __future__ import annotations

import asyncio
import logging
import time

from reference.runtime.loops import periodic_loop
from reference.runtime.metrics import ServiceMetrics
from reference.service.database import Database, QueueVacuum

__all__ = ["QueueVacuumChore"]

_log = logging.getLogger(__name__)


class QueueVacuumChore:
    """Runs rounds of ``vacuum`` and records them in ``metrics``."""

    def __init__(self, vacuum: QueueVacuum, *, metrics: ServiceMetrics) -> None:
        self.vacuum = vacuum
        self.metrics = metrics

    @classmethod
    def wanted(cls, database: Database, every_s: float, metrics: ServiceMetrics) -> QueueVacuumChore | None:
        """The chore for ``database``, or None when it needs none (not PostgreSQL) or ``every_s`` is 0."""
        vacuum = database.queue_vacuum() if every_s > 0 else None
        return None if vacuum is None else cls(vacuum, metrics=metrics)

    async def run(self, every_s: float, stopped: asyncio.Event) -> None:
        """A round every ``every_s`` until ``stopped`` is set; then the connection is closed."""
        try:
            await periodic_loop(self.run_once, every_s, stopped=stopped, what="queue VACUUM", wait_first=True)
        finally:
            await asyncio.to_thread(self.vacuum.close)

    async def run_once(self) -> str:
        """One round: ``"vacuumed"``, ``"skipped"`` (another process has the duty) or ``"failed"``."""
        started = time.perf_counter()
        try:
            done = await asyncio.to_thread(self.vacuum.vacuum)
        except Exception:
            _log.exception("vacuum of %s failed; next round tries again", ", ".join(self.vacuum.tables))
            result = "failed"
        else:
            result = "vacuumed" if done else "skipped"
            if done:
                self.metrics.vacuum_last_seconds.set(time.perf_counter() - started)
        self.metrics.vacuum_rounds.labels(result).inc()
        return result
