"""Data files shipped with the reference processor (the sample pack catalog, ``catalog.toml``)."""

from __future__ import annotations

__all__: list[str] = []
