"""The Twittcom reference processor: a pure domain core, a service layer and storage adapters.

``reference.domain`` is pure and synchronous; ``reference.service`` runs commands in a unit of work
behind ports; ``reference.storage`` implements those ports on memory, SQLite and PostgreSQL;
``reference.bootstrap`` is the one place where adapters are chosen.
"""

from __future__ import annotations

__all__: list[str] = []
