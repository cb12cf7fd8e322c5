"""Typed event hooks (after locust's ``EventHook``): observers subscribe, the core fires.

Listeners' errors are logged, never raised, so a broken observer cannot break processing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

__all__ = ["EventHook", "Events"]

_log = logging.getLogger(__name__)


class EventHook:
    """A list of listeners called with keyword arguments only."""

    __slots__ = ("_listeners", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._listeners: list[Callable[..., Any]] = []

    def add_listener(self, listener: Callable[..., Any]) -> Callable[..., Any]:
        """Subscribe ``listener``; returns it so this works as a decorator."""
        self._listeners.append(listener)
        return listener

    def remove_listener(self, listener: Callable[..., Any]) -> None:
        """Unsubscribe ``listener``."""
        self._listeners.remove(listener)

    def __bool__(self) -> bool:
        return bool(self._listeners)

    def fire(self, **kwargs: Any) -> None:
        """Call every listener with ``kwargs``; log (do not raise) their errors."""
        for listener in tuple(self._listeners):
            try:
                listener(**kwargs)
            except Exception:
                _log.exception("listener %r of event %s failed", listener, self.name)


class Events:
    """The hooks the processor fires (after the transaction commits)."""

    message_processed: EventHook
    """One inbound message handled. :param message: the ``Inbound``; :param outcome: ``Outcome``."""

    code_sent: EventHook
    """A one-time code was issued. :param msisdn: the E.164 number it went to."""

    purchase_completed: EventHook
    """A pack was activated. :param activation: ``ActivationRow``."""

    batch_committed: EventHook
    """A group commit finished. :param size: messages in the group; :param seconds: wall time."""

    def __init__(self) -> None:
        for name in ("message_processed", "code_sent", "purchase_completed", "batch_committed"):
            setattr(self, name, EventHook(name))
