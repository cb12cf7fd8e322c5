"""SMPP benchmark servers in a child process: the fake SMSC, and a bare TCP echo as its ceiling.

``python -m benchmarks.support.smpp smsc PORT`` serves :class:`fake_sms.smpp.SmppServer` on the
SMS fake's backend (real-time carrier clock and its driver running, as ``twittcom fake-sms
--smpp-port`` does); ``... echo PORT`` serves a TCP echo that frames nothing: it writes back what
it reads. Both run on uvloop when it is installed. :func:`serve_smpp` starts one and yields its port.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from benchmarks.support.servers import _running, free_port

__all__ = ["serve_smpp"]


@contextmanager
def serve_smpp(kind: str, *, cpu: int | None = None, startup_timeout: float = 30.0) -> Iterator[int]:
    """Run the ``smsc`` or the ``echo`` server on loopback; yield its port."""
    port = free_port()
    command = [sys.executable, "-m", "benchmarks.support.smpp", kind, str(port)]
    with _running(command, port, startup_timeout, cpu, {}):
        yield port


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65_536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def _serve(kind: str, port: int) -> None:
    if kind == "echo":
        server = await asyncio.start_server(_echo, "127.0.0.1", port)
        await server.serve_forever()
    from fake_sms import create_app
    from fake_sms.senders import DEFAULT_ACCOUNT_SID, DEFAULT_SHORT_CODE

    fast_sender = {"number": DEFAULT_SHORT_CODE, "kind": "short_code", "rate": 1e6}
    app = create_app(
        config={"accounts": [{"sid": DEFAULT_ACCOUNT_SID, "senders": [fast_sender]}]}, smpp_port=port
    )
    await app.start()
    await asyncio.Event().wait()


def main() -> None:
    kind, port = sys.argv[1], int(sys.argv[2])
    try:
        import uvloop

        uvloop.run(_serve(kind, port))
    except ImportError:
        asyncio.run(_serve(kind, port))


if __name__ == "__main__":
    main()
