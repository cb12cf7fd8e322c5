"""``no_network``: every socket connection refused, so a test proves nothing left the process."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest


class RefusingSocket(socket.socket):
    """A socket that can be created (event loops need socket pairs) but never connects."""

    def connect(self, address: Any) -> None:
        raise ConnectionRefusedError(f"no_network: connect to {address!r} refused")

    def connect_ex(self, address: Any) -> int:
        raise ConnectionRefusedError(f"no_network: connect to {address!r} refused")


def _no_lookup(*args: Any, **kwargs: Any) -> Any:
    raise OSError(f"no_network: name lookup of {args[:1]!r} refused")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``socket.socket`` refuses every connection and ``getaddrinfo`` every lookup for the test.

    Ask for it before the fake's fixture: the fakes are then built and started under the patch."""
    monkeypatch.setattr(socket, "socket", RefusingSocket)
    monkeypatch.setattr(socket, "getaddrinfo", _no_lookup)
    monkeypatch.setattr(socket, "create_connection", _no_lookup)
    yield
