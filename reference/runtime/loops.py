"""The service's background loops, written once: claim-and-wait, poll rounds, periodic chores.

Each loop runs until ``stopping()`` says so; an exception in one round is logged and the loop
goes on (a broken round never ends the service).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

__all__ = ["claim_loop", "periodic_loop", "poll_loop"]

_log = logging.getLogger(__name__)
_AFTER_FAILURE_S = 0.5


async def claim_loop(
    step: Callable[[], Awaitable[int]],
    ready: asyncio.Event,
    *,
    stopping: Callable[[], bool],
    idle_s: float,
    what: str,
) -> None:
    """Run ``step`` (which returns how many rows it claimed) again and again; when it found
    nothing, wait for ``ready`` (set when work arrives) or ``idle_s``."""
    while not stopping():
        ready.clear()
        try:
            claimed = await step()
        except Exception:
            _log.exception("%s failed; retrying", what)
            claimed = 0
            await asyncio.sleep(_AFTER_FAILURE_S)
        if claimed == 0 and not stopping():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ready.wait(), idle_s)


async def poll_loop(
    round_: Callable[[], Awaitable[int]], interval_s: float, *, stopping: Callable[[], bool]
) -> None:
    """One polling round every ``interval_s`` (cancelled at stop)."""
    while not stopping():
        try:
            await round_()
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("polling failed; next round in %.0f s", interval_s)
        await asyncio.sleep(interval_s)


async def periodic_loop(
    step: Callable[[], Awaitable[object]],
    every_s: float,
    *,
    stopped: asyncio.Event,
    what: str,
    wait_first: bool,
) -> None:
    """``step`` every ``every_s`` until ``stopped`` is set (which also cuts the wait short)."""
    first = True
    while not stopped.is_set():
        if wait_first or not first:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopped.wait(), every_s)
            if stopped.is_set():
                return
        first = False
        try:
            await step()
        except Exception:
            _log.exception("%s failed", what)
