"""Purchases per second through the reference core, beside the bare-SQL ceiling of the same run.

* SQLite: one worker, group commit (``process_batch`` of ``BATCH`` messages per transaction).
* PostgreSQL: ``WORKERS`` concurrent workers (threads, each its own connection), group commit.

Figure: purchase tweets (``@tatadocomo #act #PACK`` in varied forms) parsed, checked and applied
by ``Processor.process_batch``: inbox claim, one load, conditional debit, activation, reply tweet
and SMS in the outbox, all in one transaction per group.
Ceiling: the very statements and parameters the core sent (recorded during the core run), replayed
bare on an identical second database: same SQL, no parsing, no domain, no row building.
Ratio = figure / ceiling: what the Python core costs over its own SQL.

Full run: ``.venv/bin/python -m pytest benchmarks/test_core_purchases.py --benchmark-only -s``
Short (CI): ``TWITTCOM_BENCH_SHORT=1 .venv/bin/python -m pytest benchmarks --benchmark-disable``
"""

from __future__ import annotations

import gc
import json
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reference.bootstrap import Settings, build_processor, open_store, tune_gc_for_throughput
from reference.domain.catalog import Catalog, default_catalog_path, load_catalog
from reference.domain.commands import Inbound
from reference.domain.otp import SeededOtpSource
from reference.domain.outcomes import Outcome
from reference.domain.subscribers import Binding, Subscriber
from reference.service.changes import ChangeSet
from reference.service.ports import SystemClock
from reference.storage import postgres as pg_sql
from reference.storage import sqlite as sqlite_sql
from reference.storage.rows import MicrosCache, aggregate_debits

SHORT = bool(os.environ.get("TWITTCOM_BENCH_SHORT"))
PURCHASES = 500 if SHORT else 20_000
SUBSCRIBERS = 500 if SHORT else 10_000
BATCH = 1000  # messages per group commit: ~50 ms of latency at 20k/s
WORKERS = 8
PG_BATCH = 500
SQLITE_TARGET = 20_000
PG_TARGET = 5_000
#: CPU seconds of this process in the last timed core / bare run (wall time is the figure; CPU
#: time is reported beside it because this 2-core machine is shared and wall time is noisy)
CPU_SECONDS: dict[str, float] = {}
_FORMS = (
    "@tatadocomo #act #{t}",
    "@TataDocomo #{t} #act please",
    "@tatadocomo #act# {t}",
    "@tatadocomo pls #act #{t} now",
)


@dataclass
class Workload:
    subscribers: list[Subscriber]
    bindings: ChangeSet
    messages: list[Inbound]
    price_of: dict[str, int] = field(default_factory=dict)


def _workload(catalog: Catalog, seed: int = 1) -> Workload:
    """Bound subscribers with ample balance and purchase tweets spread over them and the packs."""
    rng = random.Random(seed)
    circles = catalog.circles()
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    subscribers, bindings = [], ChangeSet()
    for index in range(SUBSCRIBERS):
        msisdn = f"+919{index:09d}"
        subscribers.append(Subscriber(msisdn, circles[index % len(circles)], 10**10))
        bindings.bindings[str(10**15 + index)] = Binding(str(10**15 + index), f"buyer{index}", msisdn, start)
    messages = []
    for index in range(PURCHASES):
        who = rng.randrange(SUBSCRIBERS)
        pack = rng.choice(catalog.packs_in(circles[who % len(circles)]))
        tag = pack.hashtag if rng.random() < 0.7 else pack.hashtag.lower()
        text = rng.choice(_FORMS).format(t=tag)
        messages.append(
            Inbound(
                "tweet", str(1_800_000_000_000_000_000 + index), str(10**15 + who), f"buyer{who}", text, start
            )
        )
    return Workload(subscribers, bindings, messages)


def _seed(dsn: str, work: Workload) -> None:
    store = open_store(dsn)
    store.add_subscribers(work.subscribers)
    store.begin()
    store.apply(work.bindings)
    store.commit()
    store.close()


class Recorder:
    """Passes a store through, remembering what each committed unit of work claimed, loaded, wrote."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.batches: list[dict[str, Any]] = []
        self._current: dict[str, Any] = {}

    def begin(self) -> None:
        self._current = {}
        self.store.begin()

    def claim(self, messages: Sequence[Inbound], at: datetime) -> Any:
        self._current["claim"] = (list(messages), at)
        return self.store.claim(messages, at)

    def load(self, user_ids: Any, msisdns: Any, **kw: Any) -> Any:
        snapshot = self.store.load(user_ids, msisdns, **kw)
        self._current["load"] = (list(user_ids), list(set(msisdns) | snapshot.bindings_by_msisdn.keys()))
        return snapshot

    def apply(self, changes: ChangeSet) -> None:
        self._current["changes"] = changes
        self.store.apply(changes)

    def commit(self) -> None:
        self.store.commit()
        self.batches.append(self._current)

    def rollback(self) -> None:
        self.store.rollback()


def _core(
    dsn: str, catalog: Catalog, lanes: list[list[Inbound]], batch: int
) -> tuple[float, Counter[Outcome], list[Recorder]]:
    """Run each lane through its own store+processor (a thread per lane); wall time, outcomes, recorders."""
    outcomes: Counter[Outcome] = Counter()
    recorders = [Recorder(open_store(dsn)) for _ in lanes]
    processors = [
        build_processor(
            r,
            Settings(otp_key=b"b" * 32),
            catalog=catalog,
            clock=SystemClock(),
            otp_source=SeededOtpSource(0),
        )  # type: ignore[arg-type]
        for r in recorders
    ]
    lock = threading.Lock()
    barrier = threading.Barrier(len(lanes) + 1)

    def work(index: int) -> None:
        lane, processor = lanes[index], processors[index]
        barrier.wait()
        local: Counter[Outcome] = Counter()
        for start in range(0, len(lane), batch):
            for result in processor.process_batch(lane[start : start + batch]):
                local[result.outcome] += 1
        with lock:
            outcomes.update(local)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(lanes))]
    for thread in threads:
        thread.start()
    barrier.wait()
    started, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    CPU_SECONDS["core"] = time.process_time() - cpu
    for recorder in recorders:
        recorder.store.close()
    return elapsed, outcomes, recorders


def _sqlite_plan(batches: list[dict[str, Any]]) -> list[list[tuple[str, Any, bool]]]:
    """The recorded units of work as (sql, params, many) lists, converted before timing."""
    micros = MicrosCache()
    plans = []
    for b in batches:
        messages, at = b["claim"]
        users, numbers = b["load"]
        changes: ChangeSet = b["changes"]
        totals = aggregate_debits(changes.debits)
        plans.append([
            (sqlite_sql.SQL_INBOX_SEEN, (json.dumps([m.message_id for m in messages]),), False),
            (sqlite_sql.SQL_INBOX_CLAIM, micros.inbox(messages, at), True),
            (sqlite_sql.SQL_BINDINGS_BY_USER, (json.dumps(users),), False),
            (sqlite_sql.SQL_SUBSCRIBERS, (json.dumps(numbers),), False),
            (sqlite_sql.SQL_DEBIT, [(p, m, p) for m, p in totals.items()], True),
            (sqlite_sql.SQL_ACTIVATION, micros.activations(changes.activations), True),
            (sqlite_sql.SQL_OUTBOX, micros.outbox(changes.outbox), True),
        ])  # fmt: skip
    return plans


def _replay_sqlite(path: str, plans: list[list[tuple[str, Any, bool]]]) -> float:
    store = open_store(path)
    conn = store.conn  # type: ignore[attr-defined]
    started, cpu = time.perf_counter(), time.process_time()
    for plan in plans:
        conn.execute("BEGIN IMMEDIATE")
        for sql, params, many in plan:
            if many:
                conn.executemany(sql, params)
            else:
                conn.execute(sql, params).fetchall()
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    CPU_SECONDS["bare"] = time.process_time() - cpu
    store.close()
    return elapsed


def _columns(rows: list[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


def _pg_plan(batches: list[dict[str, Any]]) -> list[list[tuple[str, Any]]]:
    micros = MicrosCache()
    plans = []
    for b in batches:
        messages, at = b["claim"]
        users, numbers = b["load"]
        changes: ChangeSet = b["changes"]
        totals = aggregate_debits(changes.debits)
        plans.append([
            (pg_sql.SQL_CLAIM, _columns(micros.inbox(messages, at))),
            (pg_sql.SQL_BINDINGS_BY_USER, (users,)),
            (pg_sql.SQL_SUBSCRIBERS, (numbers,)),
            (pg_sql.SQL_DEBIT, (list(totals), list(totals.values()))),
            (pg_sql.SQL_ACTIVATION, _columns(micros.activations(changes.activations))),
            (pg_sql.SQL_OUTBOX, _columns(micros.outbox(changes.outbox))),
        ])  # fmt: skip
    return plans


def _replay_pg(dsn: str, lanes: list[list[list[tuple[str, Any]]]]) -> float:
    import psycopg

    conns = [psycopg.connect(dsn) for _ in lanes]
    barrier = threading.Barrier(len(lanes) + 1)

    def work(index: int) -> None:
        conn = conns[index]
        barrier.wait()
        for plan in lanes[index]:
            with conn.cursor() as cur:
                for sql, params in plan:
                    cur.execute(sql, params)
                    if cur.description is not None:
                        cur.fetchall()
            conn.commit()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(lanes))]
    for thread in threads:
        thread.start()
    barrier.wait()
    started, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    CPU_SECONDS["bare"] = time.process_time() - cpu
    for conn in conns:
        conn.close()
    return elapsed


def _report(
    benchmark: Any,
    capsys: pytest.CaptureFixture[str],
    name: str,
    count: int,
    core: float,
    bare: float,
    target: int,
    outcomes: Counter[Outcome],
) -> None:
    figure, ceiling = count / core, count / bare
    benchmark.extra_info.update(
        {
            "purchases": count,
            "purchases_per_s": round(figure),
            "ceiling_bare_sql_per_s": round(ceiling),
            "ratio": round(figure / ceiling, 3),
            "target_per_s": target,
            "client_cpu_purchases_per_s": round(count / CPU_SECONDS["core"])
            if CPU_SECONDS.get("core")
            else None,
            "client_cpu_bare_per_s": round(count / CPU_SECONDS["bare"]) if CPU_SECONDS.get("bare") else None,
            "outcomes": {o.value: n for o, n in outcomes.items()},
        }
    )
    with capsys.disabled():
        print(
            f"\n{name}: {figure:,.0f} purchases/s through the core; bare SQL ceiling {ceiling:,.0f}/s; "
            f"ratio {figure / ceiling:.2f}; target {target:,}/s ({count} purchases); per client CPU-second: "
            f"core {benchmark.extra_info['client_cpu_purchases_per_s']:,}/s, "
            f"bare {benchmark.extra_info['client_cpu_bare_per_s']:,}/s"
        )


@pytest.fixture(autouse=True)
def worker_gc() -> Iterator[None]:
    """GC tuned as a worker process does at start-up (see reference.bootstrap), undone afterwards."""
    threshold = gc.get_threshold()
    tune_gc_for_throughput()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(default_catalog_path())


def test_sqlite_group_commit_purchases(
    benchmark: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path, catalog: Catalog
) -> None:
    """SQLite, one worker, group commit: purchases/s through the core vs the same SQL bare."""
    work = _workload(catalog)
    core_db, bare_db = str(tmp_path / "core.db"), str(tmp_path / "bare.db")
    _seed(core_db, work)
    _seed(bare_db, work)
    runs: list[tuple[float, Counter[Outcome], list[Recorder]]] = []

    def run() -> None:
        runs.append(_core(core_db, catalog, [work.messages], BATCH))

    benchmark.pedantic(run, rounds=1, iterations=1)
    elapsed, outcomes, recorders = runs[0]
    assert outcomes == Counter({Outcome.ACTIVATED: PURCHASES})
    bare = _replay_sqlite(bare_db, _sqlite_plan(recorders[0].batches))
    _report(benchmark, capsys, "SQLite group commit", PURCHASES, elapsed, bare, SQLITE_TARGET, outcomes)


@pytest.mark.postgres
def test_postgres_concurrent_purchases(
    benchmark: Any, capsys: pytest.CaptureFixture[str], pg_schema_factory: Callable[[], str], catalog: Catalog
) -> None:
    """PostgreSQL, 8 concurrent workers, group commit: purchases/s vs the same SQL bare (8 workers)."""
    work = _workload(catalog)
    core_dsn, bare_dsn = pg_schema_factory(), pg_schema_factory()
    _seed(core_dsn, work)
    _seed(bare_dsn, work)
    lanes = [work.messages[i::WORKERS] for i in range(WORKERS)]
    runs: list[tuple[float, Counter[Outcome], list[Recorder]]] = []

    def run() -> None:
        runs.append(_core(core_dsn, catalog, lanes, PG_BATCH))

    benchmark.pedantic(run, rounds=1, iterations=1)
    elapsed, outcomes, recorders = runs[0]
    assert outcomes == Counter({Outcome.ACTIVATED: PURCHASES})
    bare = _replay_pg(bare_dsn, [_pg_plan(r.batches) for r in recorders])
    _report(benchmark, capsys, f"PostgreSQL {WORKERS} workers", PURCHASES, elapsed, bare, PG_TARGET, outcomes)
