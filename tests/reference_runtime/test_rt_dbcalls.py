"""Where the service runs database work: inline on the loop under SQLite's write guard, or in threads."""

from __future__ import annotations

import asyncio
import fcntl
import os
import threading
import time
from pathlib import Path

import pytest

from reference.storage.engines import DatabaseCalls, StoreFactory


def test_auto_is_inline_for_sqlite_and_memory_and_threads_for_postgresql(tmp_path: Path) -> None:
    assert StoreFactory(str(tmp_path / "a.db")).calls().inline
    assert StoreFactory("memory://").calls().inline
    assert not StoreFactory("postgresql://127.0.0.1/test").calls().inline
    assert not StoreFactory(str(tmp_path / "a.db")).calls("threads").inline


async def test_inline_work_runs_on_the_loop_thread_and_re_enters_the_guard(tmp_path: Path) -> None:
    """The work itself takes the guard with ``with``; inline that re-enters the runner's hold."""
    factory = StoreFactory(str(tmp_path / "a.db"))
    calls = factory.calls()
    loop_thread = threading.get_ident()

    def work() -> int:
        with factory.guard(), factory.guard():
            return threading.get_ident()

    assert await calls.run(work) == loop_thread
    assert await factory.calls("threads").run(work) != loop_thread
    with factory.guard():  # released: a plain thread-side acquisition still works
        pass
    factory.close()


async def test_another_process_holding_the_lock_does_not_block_the_loop(tmp_path: Path) -> None:
    """While the lock file is flocked elsewhere, the inline call polls for it: the loop keeps
    ticking, and the work runs as soon as the other holder lets go."""
    factory = StoreFactory(str(tmp_path / "a.db"))
    calls = factory.calls()
    # another open file description behaves as another process would
    other = os.open(str(tmp_path / "a.db.lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)
    ran: list[float] = []
    task = asyncio.create_task(calls.run(lambda: ran.append(time.monotonic())))
    ticks = 0
    for _ in range(10):
        await asyncio.sleep(0.01)
        ticks += 1
    assert ticks == 10 and not ran and not task.done()
    released = time.monotonic()
    fcntl.flock(other, fcntl.LOCK_UN)
    await asyncio.wait_for(task, 5)
    assert ran and ran[0] >= released
    os.close(other)
    factory.close()


async def test_a_cancelled_wait_gives_the_lock_back(tmp_path: Path) -> None:
    """Cancelling a call that waits for the lock must not leave the lock taken for nobody."""
    factory = StoreFactory(str(tmp_path / "a.db"))
    calls = factory.calls()
    other = os.open(str(tmp_path / "a.db.lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)
    task = asyncio.create_task(calls.run(lambda: None))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    fcntl.flock(other, fcntl.LOCK_UN)
    assert await asyncio.wait_for(calls.run(lambda: "again"), 5) == "again"
    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # nobody holds it
    os.close(other)
    factory.close()


async def test_a_thread_holding_the_guard_makes_the_loop_wait_without_blocking(tmp_path: Path) -> None:
    """The registration page's thread holds the guard; the loop's call queues behind it."""
    factory = StoreFactory(str(tmp_path / "a.db"))
    calls: DatabaseCalls = factory.calls()
    holding, release = threading.Event(), threading.Event()

    def page_thread() -> None:
        with factory.guard():
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=page_thread)
    thread.start()
    holding.wait(5)
    task = asyncio.create_task(calls.run(lambda: "done"))
    await asyncio.sleep(0.05)
    assert not task.done()
    release.set()
    assert await asyncio.wait_for(task, 5) == "done"
    thread.join(5)
    factory.close()


async def test_freeze_gc_freezes_the_heap_once_started(monkeypatch: pytest.MonkeyPatch) -> None:
    """``freeze_gc`` (on under ``twittcom serve``) calls gc.freeze after start; off by default."""
    import gc

    from reference.bootstrap import build_service
    from reference.runtime import ServiceConfig

    frozen: list[int] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(1))
    assert ServiceConfig.from_env({"TWITTCOM_FREEZE_GC": "1"}).freeze_gc
    for flag, expected in ((False, []), (True, [1])):
        service = build_service(ServiceConfig(dsn="memory://", freeze_gc=flag))
        await service.start()
        await service.stop()
        assert frozen == expected
