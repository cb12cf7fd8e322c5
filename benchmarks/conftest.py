"""Benchmark fixtures: the PostgreSQL session-schema fixtures of the test suite, reused.

``pg_schema_factory`` creates a fresh schema per call (dropped at session end) and fails in CI /
skips locally when the server is unreachable; see ``tests/conftest.py``, loaded here by path
(a stray ``tests`` package in site-packages shadows ``import tests``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_path = Path(__file__).resolve().parents[1] / "tests" / "conftest.py"
_spec = importlib.util.spec_from_file_location("twittcom_tests_conftest", _path)
assert _spec is not None and _spec.loader is not None
_shared = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_shared)

pg_schema_factory = _shared.pg_schema_factory
pg_dsn = _shared.pg_dsn

__all__ = ["pg_dsn", "pg_schema_factory"]
