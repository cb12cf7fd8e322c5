"""Service layer: handlers, the group-committing processor, ports and event hooks."""

from __future__ import annotations

from reference.service.events import EventHook, Events
from reference.service.handlers import HandlerDeps
from reference.service.ports import Clock, Queries, SystemClock, UnitOfWork
from reference.service.processor import Processed, Processor

__all__ = [
    "Clock",
    "EventHook",
    "Events",
    "HandlerDeps",
    "Processed",
    "Processor",
    "Queries",
    "SystemClock",
    "UnitOfWork",
]
