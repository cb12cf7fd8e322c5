"""Loopback bridges into network namespaces: one process, every listener on a loopback address.

``twittcom storm --netns`` runs each locust worker in a network namespace of its own, where the
only interface is that namespace's loopback. The stack and the locust master stay on the root
namespace's 127.0.0.1. This relay, started in the root namespace, bridges the two per port:

- for each namespace and each port it enters the namespace (``setns(2)`` on ``/run/netns/NAME``,
  on this thread only), binds ``127.0.0.1:PORT`` there and returns: the socket stays in the
  namespace it was created in;
- each connection accepted on such a listener is relayed, bytes both ways, to ``127.0.0.1:PORT``
  of the root namespace (the stack or the master), half-closes passed on.

So a worker uses the very URLs a local worker uses, nothing anywhere listens on anything but a
loopback address, and no Unix socket files or per-namespace helper processes are needed. Run::

    python -m twittcom.loopback_relay --netns twittcom-1-w0 --netns twittcom-1-w1 --port 8080 --port 5557

It prints ``ready`` once every listener is bound and runs until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

__all__ = ["listen_in_namespace", "main", "relay"]

CLONE_NEWNET = 0x40000000
#: bytes read per chunk from either side
CHUNK = 65536


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns: {os.strerror(errno)}")


def listen_in_namespace(namespace: str, port: int, host: str = "127.0.0.1") -> socket.socket:
    """A listening socket on ``host:port`` inside network namespace ``namespace`` (``ip netns`` name)."""
    root = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
    try:
        _setns(target)
        try:
            server = socket.create_server((host, port), backlog=1024)
        finally:
            _setns(root)
    finally:
        os.close(target)
        os.close(root)
    server.setblocking(False)
    return server


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy ``reader`` to ``writer`` until EOF, then half-close ``writer``."""
    try:
        while chunk := await reader.read(CHUNK):
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.transport.abort()


def _handler(
    host: str, port: int
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Coroutine[Any, Any, None]]:
    """Relays each accepted connection to ``host:port``."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.transport.abort()
            return
        try:
            await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))
        finally:
            for side in (writer, up_writer):
                side.close()
                with contextlib.suppress(OSError, ConnectionError):
                    await side.wait_closed()

    return handle


async def relay(listeners: Sequence[tuple[socket.socket, int]], host: str = "127.0.0.1") -> None:
    """Serve every ``(listening socket, port)``: each connection relayed to ``host:port`` here,
    until cancelled."""
    servers = [await asyncio.start_server(_handler(host, port), sock=sock) for sock, port in listeners]
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for server in servers:
            server.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m twittcom.loopback_relay", description=__doc__)
    parser.add_argument("--netns", action="append", required=True, help="an `ip netns` name (repeatable)")
    parser.add_argument(
        "--port", action="append", type=int, required=True, help="a port to bridge (repeatable)"
    )
    args = parser.parse_args(argv)
    try:
        listeners = [(listen_in_namespace(ns, port), port) for ns in args.netns for port in args.port]
    except OSError as exc:
        print(f"loopback relay: cannot listen in the namespaces: {exc}", file=sys.stderr, flush=True)
        return 2
    asyncio.run(relay(listeners))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
