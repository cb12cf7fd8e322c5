"""The event loop the in-process fakes run on: one daemon thread per process, started on first use.

The fakes (and the whole stack) live on this loop whatever the test does: a synchronous test
(tweepy, twilio, xdk all use ``requests``) blocks on :meth:`FakeLoop.run` while the fake answers on
the loop thread; an asynchronous test awaits :meth:`FakeLoop.arun` and its own loop keeps running.
Background tasks of the fakes (webhook deliveries, SMS status callbacks, the carrier driver) keep
running between requests, as they would in a served fake.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["FakeLoop", "shared_loop"]

T = TypeVar("T")

#: how long a synchronous caller waits for one exchange with a fake before giving up
DEFAULT_TIMEOUT_S = 60.0


class FakeLoop:
    """An asyncio loop running forever in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._main, name="twittcom-fakes", daemon=True)
        self.thread.start()
        self._ready.wait()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()

    def in_loop_thread(self) -> bool:
        return threading.get_ident() == self.thread.ident

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = DEFAULT_TIMEOUT_S) -> T:
        """Run ``coro`` on the fakes' loop and wait for its result (from any other thread)."""
        if self.in_loop_thread():
            coro.close()
            raise RuntimeError(
                "a blocking call reached the fakes from their own event loop; use an async client there"
            )
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def arun(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the fakes' loop without blocking the caller's loop."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:  # pragma: no cover - arun is only awaited from a loop
            running = None
        if running is self.loop:
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))


_shared: FakeLoop | None = None
_lock = threading.Lock()


def shared_loop() -> FakeLoop:
    """The process's fake loop (created on first call)."""
    global _shared
    with _lock:
        if _shared is None or not _shared.thread.is_alive():
            _shared = FakeLoop()
        return _shared
