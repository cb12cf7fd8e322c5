"""What the service's HTTP surface needs of the running service: a narrow protocol, so the app
(:mod:`reference.runtime.app`, :mod:`reference.runtime.page`) never imports the class that runs it.

:class:`reference.runtime.supervisor.Service` implements it; the composition root
(:func:`reference.bootstrap.build_service`) hands the one to the other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from reference.domain.catalog import Catalog
from reference.runtime.budget import WriteBudget
from reference.runtime.config import ServiceConfig
from reference.runtime.connections import LockedConnection
from reference.runtime.ingest import Operator
from reference.runtime.metrics import ServiceMetrics
from reference.runtime.outage import OutageMode
from reference.runtime.registration import ProcessorCodeRequests
from reference.runtime.shared_state import StoreHitCounter
from reference.runtime.webhook_health import WebhookHealth
from reference.service.ports import Clock
from reference.service.work_queue import NewEvent

__all__ = ["ServiceSurface"]


class ServiceSurface(Protocol):
    """The members of the service its ASGI app and registration page use."""

    config: ServiceConfig
    clock: Clock
    epoch: Callable[[], float]
    metrics: ServiceMetrics
    catalog: Catalog
    operator: Operator
    outage: OutageMode
    tweet_budget: WriteBudget
    webhook_health: WebhookHealth | None
    code_requests: ProcessorCodeRequests | None
    hit_counter: StoreHitCounter | None
    web_secret: bytes | None

    @property
    def started(self) -> bool:
        """Started and not stopping."""
        ...

    async def start(self) -> None:
        """Open connections and clients, start the background tasks."""
        ...

    async def stop(self) -> None:
        """Stop the tasks, close clients and connections."""
        ...

    def admin_connection(self) -> LockedConnection:
        """The connection admin reads and writes share (``NotStarted`` before start)."""
        ...

    def outbox_changed(self) -> None:
        """Rows were added to the outbox or made due: the dispatcher looks."""
        ...

    async def enqueue(self, events: list[NewEvent], source: str) -> int:
        """Persist ``events`` (committed before it returns); how many were new."""
        ...

    async def quarantine(self, refused: list[tuple[NewEvent, str]], source: str) -> None:
        """Keep events the store cannot hold aside."""
        ...

    async def quarantined(self) -> list[dict[str, Any]]:
        """The quarantined events."""
        ...

    async def record_sms_status(self, sid: str, status: str, error_code: str | None) -> None:
        """Store a delivery status (a Twilio status callback or an SMPP receipt)."""
        ...

    async def depths(self) -> dict[str, int]:
        """Queue depths (also exported to the metrics)."""
        ...

