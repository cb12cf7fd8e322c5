"""Helpers shared by the fake_twitter tests (users via the control API, auth headers, paths)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

BASE_URL = "https://api.x.com"


def shared_dir() -> Path:
    """The read-only ``shared`` folder beside the repository root."""
    return Path(__file__).resolve().parents[2] / ".." / "shared"


class Account:
    """A user created through the control API, with ready-made auth headers."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.id: str = data["id"]
        self.username: str = data["username"]
        self.headers = {"Authorization": f"Bearer {data['bearer_token']}"}


async def make_user(client: httpx.AsyncClient, username: str) -> Account:
    response = await client.post("/_fake/users", json={"username": username})
    assert response.status_code == 201, response.text
    return Account(response.json())


async def app_headers(client: httpx.AsyncClient) -> dict[str, str]:
    app = (await client.get("/_fake/app")).json()
    return {"Authorization": f"Bearer {app['bearer_token']}"}
