"""Loads the twitter-text conformance suite (extract.yml, validate.yml) from the shared folder."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

__all__ = ["SHARED", "cases"]

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
_SUITE = SHARED / "data" / "twitter-text"


@cache
def _load(name: str) -> dict[str, list[dict[str, Any]]]:
    with (_SUITE / name).open(encoding="utf-8") as handle:
        loaded: dict[str, dict[str, list[dict[str, Any]]]] = yaml.safe_load(handle)
    return loaded["tests"]


def cases(file: str, section: str) -> list[Any]:
    """One ``pytest.param`` per case of ``section``, with the case description as its id."""
    return [pytest.param(case, id=case["description"]) for case in _load(file)[section]]
