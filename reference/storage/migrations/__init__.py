"""Versioned schema migrations: ``<dialect>/NNNN_name.sql`` files applied in order on open.

Each database records the versions applied in ``schema_version``. A database newer than the code
is refused (:class:`~reference.domain.errors.MigrationError`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from reference.domain.errors import MigrationError

__all__ = ["Migration", "migrations_for", "split_statements"]

_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered SQL file."""

    version: int
    name: str
    sql: str


def migrations_for(dialect: str) -> list[Migration]:
    """The migrations of ``dialect`` ("sqlite" or "postgresql"), by version."""
    folder = Path(__file__).resolve().parent / dialect
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.fullmatch(path.name)
        if match is None:
            raise MigrationError(f"migration file name must be NNNN_name.sql: {path.name}")
        found.append(Migration(int(match.group(1)), match.group(2), path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"{dialect} migrations must be numbered 1..n without gaps, got {versions}")
    return found


def split_statements(sql: str) -> list[str]:
    """Split a migration into statements (no semicolons inside statements; ``--`` comments dropped)."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]
