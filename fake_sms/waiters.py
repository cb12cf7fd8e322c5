"""Long-poll waiters for handsets: a control request parks until an SMS for its number settles.

The model stays HTTP-free: :class:`HandsetWaiters` is one more of the backend's ``final_listeners``
(plain callables told of every message that reaches a final status). The control route parks a
future per waiting request; a final status for that number (delivered, undelivered or failed)
wakes every future parked on it, and the route re-reads the handset. The listener runs inside the
carrier engine's transition, before the delivered message is in the inbox; the woken route resumes
only after the engine's synchronous step, so by then it is.
"""

from __future__ import annotations

import asyncio

from .messages import Message

__all__ = ["MAX_WAIT_S", "HandsetWaiters"]

#: the longest a single long-poll may park (seconds); a client wanting longer asks again
MAX_WAIT_S = 60.0


class HandsetWaiters:
    """Futures parked per E.164 number, woken when a message to that number settles."""

    def __init__(self) -> None:
        self._parked: dict[str, set[asyncio.Future[None]]] = {}

    def __call__(self, message: Message) -> None:
        """The backend's final listener: wake everyone waiting on ``message.to``."""
        parked = self._parked.pop(message.to, None)
        if parked:
            for future in parked:
                if not future.done():
                    future.set_result(None)

    def __len__(self) -> int:
        return sum(len(p) for p in self._parked.values())

    async def wait(self, number: str, timeout: float) -> bool:
        """Park until a message to ``number`` settles or ``timeout`` passes; True when woken."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._parked.setdefault(number, set()).add(future)
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            parked = self._parked.get(number)
            if parked is not None:
                parked.discard(future)
                if not parked:
                    del self._parked[number]
