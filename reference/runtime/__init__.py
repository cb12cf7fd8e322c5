"""The processor as a service: durable work queues, workers, outbox dispatcher, webhooks and HTTP surface.

``Service`` (``supervisor.py``) owns the background tasks and ``.app`` (ASGI, routes in ``app.py``);
build one with :func:`reference.bootstrap.build_service` (the composition root: engine, app,
metric subscriptions); ``twittcom serve`` runs it under uvicorn.
"""

from __future__ import annotations

from reference.runtime.app import create_service_app
from reference.runtime.budget import WindowLimit, WriteBudget
from reference.runtime.config import ServiceConfig
from reference.runtime.connections import GroupCommitter, LockedConnection
from reference.runtime.dispatcher import OutboxDispatcher
from reference.runtime.errors import (
    BadPayload,
    BadSignature,
    NotFound,
    NotStarted,
    ServiceError,
    StoreUnavailable,
    Unauthorized,
)
from reference.runtime.ingest import (
    Operator,
    events_from_dm_events,
    events_from_mentions,
    events_from_webhook,
)
from reference.runtime.metrics import ServiceMetrics
from reference.runtime.outage import OutageMode, OutageState, status_reply
from reference.runtime.poller import Poller
from reference.runtime.registration import ProcessorCodeRequests
from reference.runtime.supervisor import Service
from reference.runtime.workers import InboundWorker
from reference.service.work_queue import (
    COMMERCE_PRIORITY,
    NOTICE_PRIORITY,
    Delivery,
    NewEvent,
    OutboxItem,
    OutboxResult,
    QueuedEvent,
    WorkQueue,
)

__all__ = [
    "COMMERCE_PRIORITY",
    "NOTICE_PRIORITY",
    "BadPayload",
    "BadSignature",
    "Delivery",
    "GroupCommitter",
    "InboundWorker",
    "LockedConnection",
    "NewEvent",
    "NotFound",
    "NotStarted",
    "Operator",
    "OutageMode",
    "OutageState",
    "OutboxDispatcher",
    "OutboxItem",
    "OutboxResult",
    "Poller",
    "ProcessorCodeRequests",
    "QueuedEvent",
    "Service",
    "ServiceConfig",
    "ServiceError",
    "ServiceMetrics",
    "StoreUnavailable",
    "Unauthorized",
    "WindowLimit",
    "WorkQueue",
    "WriteBudget",
    "create_service_app",
    "events_from_dm_events",
    "events_from_mentions",
    "events_from_webhook",
    "status_reply",
]
