"""Composition root: the only place where storage adapters are chosen and the service is wired.

* :func:`open_store`: one store for the core alone (demo, CRM export, benchmarks);
* :func:`build_service`: the processor as a service: the database engine the DSN names
  (:class:`reference.storage.engines.StoreFactory`), the runtime
  (:class:`reference.runtime.supervisor.Service`), its ASGI app
  (:func:`reference.runtime.app.create_service_app`) and the metrics' subscriptions to the typed
  events; ``twittcom`` (serve, the in-process and loopback stacks) builds every service here;
* :func:`create_app_from_env`: the ``uvicorn --factory`` entry of ``twittcom serve --processes N``.

DSNs: ``memory://`` (in-process dicts), ``postgresql://...`` (psycopg 3), anything else is a SQLite
path (``:memory:``, ``/tmp/x.db`` or ``sqlite:///tmp/x.db``); one parser, :mod:`reference.storage.dsn`.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any

from reference.service.assembly import OTP_KEY_ENV, Settings, build_processor, otp_key_from_env
from reference.service.ports import Store
from reference.storage.dsn import parse_dsn

if TYPE_CHECKING:
    from reference.runtime.config import ServiceConfig
    from reference.runtime.supervisor import Service

__all__ = [
    "OTP_KEY_ENV",
    "Settings",
    "Store",
    "build_processor",
    "build_service",
    "create_app_from_env",
    "open_store",
    "otp_key_from_env",
    "tune_gc_for_throughput",
]


def tune_gc_for_throughput(young_threshold: int = 50_000) -> None:
    """Process-level GC tuning for a long-running worker (opt-in, call once after start-up).

    Freezes what start-up allocated (catalog, connections, imports) so the cyclic collector stops
    rescanning it, and lets the young generation grow before a collection: a group commit
    allocates tens of thousands of short-lived rows and the default threshold (700) runs the
    collector dozens of times per batch. Measured here: about 15% of the core's Python time.
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)


def open_store(dsn: str) -> Store:
    """Open (and migrate) the store a DSN names (:func:`reference.storage.dsn.parse_dsn`)."""
    parsed = parse_dsn(dsn, strict=False)
    if parsed.kind == "postgresql":
        from reference.storage.postgres import PostgresStore

        return PostgresStore(dsn)
    if parsed.kind == "memory":
        from reference.storage.memory import MemoryStore

        return MemoryStore()
    from reference.storage.sqlite import SqliteStore

    return SqliteStore(parsed.path)


def build_service(config: ServiceConfig, **collaborators: Any) -> Service:
    """The processor service ``config`` describes, wired: engine, runtime, app, metric subscriptions.

    ``collaborators`` go to :class:`reference.runtime.supervisor.Service` (``x_http``, ``sms_http``,
    ``clock``, ``epoch``, ``rng``, ``settings``, ``catalog``, ``otp_source``, ``subscribers``).
    The runtime is imported here, not at module level: the core's users (demo, CRM) never load it.
    """
    from reference.runtime.app import create_service_app
    from reference.runtime.supervisor import Service
    from reference.storage.engines import StoreFactory

    database = StoreFactory(config.dsn)
    service = Service(config, database=database, app_factory=create_service_app, **collaborators)
    service.metrics.observe(service.events)
    return service


def create_app_from_env() -> Any:
    """ASGI app factory for ``uvicorn --factory``: the service of the ``TWITTCOM_*`` variables
    (what ``twittcom serve --processes N`` runs in each of its N processes)."""
    from reference.runtime.config import ServiceConfig

    return build_service(ServiceConfig.from_env()).app
