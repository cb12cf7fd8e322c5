"""Helpers shared by the fake_twitter tests (users via the control API, auth headers, paths)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

BASE_URL = "https://api.x.com"


def shared_dir() -> Path:
    """The read-only ``shared`` folder beside the repository root (or beside the folder of worktrees
    the repository is checked out in): the nearest ancestor's ``shared`` holding ``data/``."""
    root = Path(__file__).resolve().parents[2]
    for ancestor in (root, *root.parents):
        candidate = ancestor.parent / "shared"
        if (candidate / "data").is_dir():
            return candidate
    return root.parent / "shared"


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


class ServedFake:
    """The fake served by uvicorn in a background thread on a free loopback port."""

    def __init__(self, **backend_args: Any) -> None:
        import socket
        import threading

        import uvicorn

        from fake_twitter import TwitterBackend, create_app

        self.backend = TwitterBackend(**backend_args)
        self.app = create_app(self.backend, retry_delays=(0.05, 0.1))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="error", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServedFake:
        import time

        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, self.base_url + path, **kwargs)
        response.raise_for_status()
        return response.json()
