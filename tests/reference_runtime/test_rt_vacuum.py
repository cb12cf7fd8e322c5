"""The queue-vacuum chore (PostgreSQL): a round leaves the churned queue tables without dead
tuples, a failed round is logged and counted and the loop goes on, one process has the duty,
and ``vacuum_interval_s = 0`` (or an engine other than PostgreSQL) runs no chore at all."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from rt_stack import Stack

from reference.domain.errors import ConfigError
from reference.runtime.config import ServiceConfig
from reference.runtime.metrics import ServiceMetrics
from reference.runtime.vacuum import QueueVacuumChore
from reference.service.changes import OutboxRow
from reference.service.work_queue import NewEvent, OutboxResult
from reference.storage.engines import StoreFactory
from reference.storage.vacuum_postgres import HOT_TABLES, PostgresQueueVacuum

_T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _rounds(metrics: ServiceMetrics, result: str) -> float:
    return metrics.vacuum_rounds.labels(result)._value.get()


def _churn(dsn: str, events: int) -> None:
    """Enqueue, claim and complete ``events`` inbound rows; add, claim and finish as many outbox
    rows (each one updated twice): what a burst leaves behind."""
    connection = StoreFactory(dsn).connect()
    queue = connection.queue
    try:
        for start in range(0, events, 200):
            batch = [NewEvent("mention", str(start + i), "u1", "asha", "#reg", _T0) for i in range(200)]
            queue.enqueue(batch)
            claimed = queue.claim_inbound("w", 200, _T0, 30.0)
            queue.complete_inbound([c.id for c in claimed], "w")
            queue.add_outbox([OutboxRow(_T0, "dm", "u1", "asha", "asha", None, "hi")] * 200)
            items = queue.claim_outbox("d", 200, _T0 + timedelta(seconds=1), 30.0)
            queue.finish_outbox([OutboxResult(item.id, "sent", sent_at=_T0) for item in items], "d")
            queue.count_hit("web:1.2.3.4", _T0)
    finally:
        connection.close()  # the backend's statistics are flushed when it ends


def _dead_tuples(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT relname, n_dead_tup FROM pg_stat_user_tables "
            "WHERE schemaname = current_schema() AND relname = ANY(%s)",
            (list(HOT_TABLES),),
        ).fetchall()
    return {str(name): int(dead) for name, dead in rows}


async def _dead_tuples_reported(dsn: str, at_least: int) -> dict[str, int]:
    """Statistics reach pg_stat_user_tables shortly after the churning backend ends."""
    dead = _dead_tuples(dsn)
    for _ in range(50):
        if dead.get("inbound_queue", 0) >= at_least and dead.get("outbox", 0) >= at_least:
            break
        await asyncio.sleep(0.1)
        dead = _dead_tuples(dsn)
    return dead


@pytest.mark.postgres
async def test_a_round_leaves_the_churned_queue_tables_without_dead_tuples(pg_schema_factory) -> None:
    dsn = pg_schema_factory()
    _churn(dsn, 2_000)
    before = await _dead_tuples_reported(dsn, 2_000)
    assert before["inbound_queue"] >= 2_000 and before["outbox"] >= 2_000, before
    metrics = ServiceMetrics()
    chore = QueueVacuumChore.wanted(StoreFactory(dsn), 5.0, metrics)
    assert chore is not None
    try:
        assert await chore.run_once() == "vacuumed"
    finally:
        chore.vacuum.close()
    after = _dead_tuples(dsn)  # VACUUM reports what it left at once
    assert all(dead < 50 for dead in after.values()), (before, after)
    assert _rounds(metrics, "vacuumed") == 1
    assert metrics.vacuum_last_seconds._value.get() > 0
    assert b"twittcom_queue_vacuum_rounds_total" in metrics.exposition()


@pytest.mark.postgres
async def test_a_failed_round_is_logged_and_counted_and_the_loop_goes_on(
    pg_schema_factory, caplog: pytest.LogCaptureFixture
) -> None:
    dsn = pg_schema_factory()
    StoreFactory(dsn).connect().close()  # the schema
    metrics = ServiceMetrics()
    chore = QueueVacuumChore(PostgresQueueVacuum(dsn, tables=("created_later",)), metrics=metrics)
    stopped = asyncio.Event()
    loop = asyncio.create_task(chore.run(0.05, stopped))
    with caplog.at_level(logging.ERROR, logger="reference.runtime.vacuum"):
        for _ in range(100):
            if _rounds(metrics, "failed") >= 2:
                break
            await asyncio.sleep(0.05)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE created_later (id int)")
        for _ in range(100):
            if _rounds(metrics, "vacuumed") >= 1:
                break
            await asyncio.sleep(0.05)
    stopped.set()
    await asyncio.wait_for(loop, 5)
    assert _rounds(metrics, "failed") >= 2
    assert _rounds(metrics, "vacuumed") >= 1
    assert "vacuum of created_later failed; next round tries again" in caplog.text
    assert not loop.exception()


@pytest.mark.postgres
def test_one_process_has_the_duty_and_hands_it_over_when_it_ends(pg_schema_factory) -> None:
    dsn = pg_schema_factory()
    StoreFactory(dsn).connect().close()
    first, second = PostgresQueueVacuum(dsn), PostgresQueueVacuum(dsn)
    try:
        assert first.vacuum() is True
        assert second.vacuum() is False
        first.close()  # the process stopped: it gave up the duty on its way out
        assert second.vacuum() is True
        assert first.vacuum() is False  # and a restarted process waits its turn
    finally:
        first.close()
        second.close()


@pytest.mark.postgres
def test_a_killed_process_hands_the_duty_over_once_its_backend_has_gone(pg_schema_factory) -> None:
    dsn = pg_schema_factory()
    StoreFactory(dsn).connect().close()
    dying, survivor = PostgresQueueVacuum(dsn), PostgresQueueVacuum(dsn)
    try:
        assert dying.vacuum() is True
        assert survivor.vacuum() is False
        pid = dying._conn.info.backend_pid  # type: ignore[union-attr]
        with psycopg.connect(dsn, autocommit=True) as admin:  # SIGKILL: the session just ends
            admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))
        assert survivor.vacuum() is True  # pg_terminate_backend waited for the backend to end
    finally:
        dying.close()
        survivor.close()


@pytest.mark.postgres
def test_interval_0_or_another_engine_runs_no_chore(pg_schema_factory, tmp_path) -> None:
    metrics = ServiceMetrics()
    dsn = pg_schema_factory()
    assert QueueVacuumChore.wanted(StoreFactory(dsn), 0.0, metrics) is None
    assert QueueVacuumChore.wanted(StoreFactory(str(tmp_path / "t.db")), 5.0, metrics) is None
    assert QueueVacuumChore.wanted(StoreFactory("memory://"), 5.0, metrics) is None
    chore = QueueVacuumChore.wanted(StoreFactory(dsn), 5.0, metrics)
    assert chore is not None and chore.vacuum.tables == HOT_TABLES


def test_the_interval_is_configured_like_the_others() -> None:
    assert ServiceConfig().vacuum_interval_s == 5.0
    assert ServiceConfig.from_env({"TWITTCOM_VACUUM_INTERVAL_S": "0"}).vacuum_interval_s == 0.0
    with pytest.raises(ConfigError, match="vacuum_interval_s must be >= 0"):
        ServiceConfig(vacuum_interval_s=-1.0)


@pytest.mark.postgres
@pytest.mark.parametrize("interval_s", [0.1, 0.0])
async def test_the_service_runs_the_chore_unless_disabled(pg_schema_factory, interval_s: float) -> None:
    live = Stack(pg_schema_factory(), vacuum_interval_s=interval_s)
    await live.start()
    try:
        assert live.service is not None
        await asyncio.sleep(0.5)
        names = {task.get_name() for task in live.service._tasks}
        vacuumed = _rounds(live.service.metrics, "vacuumed")
    finally:
        await live.stop()
    if interval_s:
        assert "queue-vacuum" in names and vacuumed >= 1
    else:
        assert "queue-vacuum" not in names and vacuumed == 0


@pytest.mark.postgres
def test_the_queue_tables_ask_autovacuum_for_a_vacuum_every_1000_dead_tuples(pg_schema_factory) -> None:
    dsn = pg_schema_factory()
    StoreFactory(dsn).connect().close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relname = ANY(%s)",
            (list(HOT_TABLES),),
        ).fetchall()
    options = {name: set(opts or ()) for name, opts in rows}
    wanted = {"autovacuum_vacuum_scale_factor=0", "autovacuum_vacuum_threshold=1000"}
    assert options == dict.fromkeys(HOT_TABLES, wanted)
