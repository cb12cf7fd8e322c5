"""Fixtures of the runtime's tests: the in-process live stack (helpers live in ``stack``)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rt_stack import Stack  # noqa: E402


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    """Fake X, fake SMS and the service on the in-memory store, webhook registered."""
    live = Stack("memory://")
    await live.start()
    try:
        yield live
    finally:
        await live.stop()
