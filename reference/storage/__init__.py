"""Storage adapters of the reference processor: in-memory, SQLite and PostgreSQL stores.

Each implements the unit-of-work and query ports of :mod:`reference.service.ports`; choose one
with :func:`reference.bootstrap.open_store`. Schema changes are numbered SQL files under
``migrations/<dialect>/`` applied on open.
"""

from __future__ import annotations

__all__: list[str] = []
