"""The loopback variant: each app served by uvicorn on a ``127.0.0.1`` port, all in this process.

Use it through :mod:`twittcom.stack`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

from fake_sms import create_app as create_sms_app
from fake_twitter import create_app as create_x_app
from reference.runtime import Service
from twittcom.qa.client import StackNotReady
from twittcom.stack_base import Stack, StackOptions

__all__ = ["LoopbackStack"]


def _loopback_socket(port: int = 0) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP (proto 0
    # left Nagle on, and every keep-alive response waited ~40 ms for a delayed ACK)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to its owner (several run in one loop; ``twittcom up``
    stops them all on Ctrl-C)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _Served:
    """One ASGI app under uvicorn on an already bound loopback socket, as a task of this loop."""

    def __init__(self, name: str, app: Any, sock: socket.socket) -> None:
        self.name = name
        self.sock = sock
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            app, lifespan="on", log_level="warning", access_log=False, timeout_graceful_shutdown=5
        )
        self.server = _Server(config)
        self.task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]), name=f"uvicorn-{self.name}")
        while not self.server.started:
            if self.task.done():
                self.task.result()
                raise StackNotReady(f"{self.name} stopped while starting")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self.task is None:
            return
        self.server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.task, 15)
        self.task = None
        self.sock.close()


class LoopbackStack(Stack):
    """Each app served by uvicorn on ``127.0.0.1`` (free ports unless given), all in this process.

    ``ports`` = (fake X, fake SMS, processor); 0 picks a free port.
    """

    mode = "loopback"

    def __init__(
        self,
        options: StackOptions | None = None,
        *,
        ports: tuple[int, int, int] = (0, 0, 0),
        smpp_port: int = 0,
    ) -> None:
        super().__init__(options)
        self.smpp_port = smpp_port  # the SMSC, when options.sms_protocol is "smpp"
        self._sockets = [_loopback_socket(port) for port in ports]
        self._served: list[_Served] = []

    def _url(self, index: int) -> str:
        return f"http://127.0.0.1:{self._sockets[index].getsockname()[1]}"

    def _endpoints_x(self) -> tuple[str, str]:
        return self._url(0), self._url(1)

    def _public_base_url(self) -> str:
        return self._url(2)

    async def _start_fakes(self) -> tuple[str, str]:
        self.x_app = create_x_app(self.x_backend, delivery_concurrency=self.delivery_concurrency)
        smsc = self.options.smsc_config()
        smpp_port = None if smsc is None else self.smpp_port
        self.sms_app = create_sms_app(self.sms_backend, smpp_port=smpp_port, smpp_config=smsc)
        for name, app, sock in (
            ("fake-x", self.x_app, self._sockets[0]),
            ("fake-sms", self.sms_app, self._sockets[1]),
        ):
            served = _Served(name, app, sock)
            await served.start()
            self._served.append(served)
        return self._url(0), self._url(1)

    async def _start_processor(self, service: Service) -> str:
        assert self.processor_app is not None
        served = _Served("processor", self.processor_app, self._sockets[2])
        await served.start()
        self._served.append(served)
        return served.url

    async def _stop_all(self) -> None:
        await self._quiesce()
        by_name = {served.name: served for served in self._served}
        for name in ("fake-sms", "processor", "fake-x"):  # see Stack._quiesce
            if name in by_name:
                await by_name.pop(name).stop()
        for served in by_name.values():
            await served.stop()
        self._served.clear()
        for sock in self._sockets:
            sock.close()
