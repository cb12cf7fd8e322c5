"""Fault injection for the process tests: a TCP gate that makes a gateway unreachable, the SMS fake
as its own process (to freeze it with SIGSTOP), and an X stub that can answer 503 for a while."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from rt_procs import OPERATOR_ID, REPO_ROOT, free_port
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = ["FakeSmsProcess", "Gate", "x_stub"]


class Gate:
    """A TCP forwarder on a loopback port to ``target_port``. :meth:`close` refuses new connections
    and cuts the open ones (the gateway unreachable); :meth:`open` listens again on the same port."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.open()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self, coro: object) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)  # type: ignore[arg-type]

    def open(self) -> None:
        self._run(self._listen())

    def close(self) -> None:
        self._run(self._shut())

    def stop(self) -> None:
        self.close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)

    async def _shut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                while chunk := await src.read(65536):
                    dst.write(chunk)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.discard(writer)
        self._writers.discard(up_writer)


class FakeSmsProcess:
    """``twittcom fake-sms`` as a child process (real time), which SIGSTOP can freeze."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.log = log
        command = [sys.executable, "-c", "from twittcom.cli import main; main()", "fake-sms",
                   "--port", str(self.port)]  # fmt: skip
        with log.open("ab") as out:
            self.process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=out, stderr=out)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/_fake/faults", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"the SMS fake did not start: {log.read_text()[-2000:]}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def faults(self, **values: float) -> None:
        httpx.put(self.url + "/_fake/faults", json=values, timeout=10).raise_for_status()

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.thaw()
        self.process.terminate()
        self.process.wait(timeout=30)


@contextmanager
def fake_sms_process(log: Path) -> Iterator[FakeSmsProcess]:
    fake = FakeSmsProcess(log)
    try:
        yield fake
    finally:
        fake.stop()


def x_stub() -> Starlette:
    """X reduced to tweets and DMs that answer 201, or 503 while ``app.state.failing`` is set, and
    the two reads a retried send is looked up with (the account's tweets, a conversation's DM events), in X's
    wire format; ``app.state.replies`` counts the replies created per replied-to tweet id."""
    ids = itertools.count(1_900_000_000_000_000_000)
    replies: dict[str, int] = {}
    tweets: list[dict[str, Any]] = []  # newest last
    dms: list[dict[str, Any]] = []

    def unavailable() -> JSONResponse:
        return JSONResponse({"title": "Service Unavailable", "type": "about:blank", "status": 503},
                            status_code=503)  # fmt: skip

    def page(items: list[dict[str, Any]], request: Request) -> JSONResponse:
        start = int(request.query_params.get("pagination_token") or 0)
        size = int(request.query_params.get("max_results") or 100)
        since = request.query_params.get("since_id")
        if since is not None:
            items = [item for item in items if int(item["id"]) > int(since)]
        chunk = list(reversed(items))[start : start + size]
        meta: dict[str, Any] = {"result_count": len(chunk)}
        if start + size < len(items):
            meta["next_token"] = str(start + size)
        return JSONResponse({"data": chunk, "meta": meta} if chunk else {"meta": meta})

    async def tweet(request: Request) -> JSONResponse:
        if app.state.failing:
            return unavailable()
        body = await request.json()
        parent = str((body.get("reply") or {}).get("in_reply_to_tweet_id", ""))
        replies[parent] = replies.get(parent, 0) + 1
        created = {"id": str(next(ids)), "text": body["text"]}
        refs = [{"type": "replied_to", "id": parent}] if parent else []
        tweets.append({**created, **({"referenced_tweets": refs} if refs else {})})
        return JSONResponse({"data": created}, status_code=201)

    async def own_tweets(request: Request) -> JSONResponse:
        return unavailable() if app.state.failing else page(tweets, request)

    async def dm(request: Request) -> JSONResponse:
        if app.state.failing:
            return unavailable()
        body = await request.json()
        event = str(next(ids))
        conversation = f"{request.path_params['participant']}-{OPERATOR_ID}"
        dms.append({"id": event, "event_type": "MessageCreate", "text": body["text"],
                    "sender_id": OPERATOR_ID, "dm_conversation_id": conversation})  # fmt: skip
        return JSONResponse(
            {"data": {"dm_conversation_id": conversation, "dm_event_id": event}}, status_code=201
        )

    async def dm_events(request: Request) -> JSONResponse:
        return unavailable() if app.state.failing else page(dms, request)

    async def conversation_events(request: Request) -> JSONResponse:
        participant = request.path_params["participant"]
        mine = [event for event in dms if participant in event["dm_conversation_id"].split("-")]
        return unavailable() if app.state.failing else page(mine, request)

    app = Starlette(routes=[
        Route("/2/tweets", tweet, methods=["POST"]),
        Route("/2/users/{id}/tweets", own_tweets, methods=["GET"]),
        Route("/2/dm_conversations/with/{participant}/messages", dm, methods=["POST"]),
        Route("/2/dm_events", dm_events, methods=["GET"]),
        Route("/2/dm_conversations/with/{participant}/dm_events", conversation_events, methods=["GET"]),
    ])  # fmt: skip
    app.state.failing = False
    app.state.replies = replies
    return app
