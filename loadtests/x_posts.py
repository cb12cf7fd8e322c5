"""Open-loop Poisson posts through fake X, and the system's first answer to each, from the fakes only.

``twittcom sweep --against`` offers a step of a scenario's mix to a system under test the way its
users would: each event is a mention (``POST /2/tweets``) or a DM to the operator
(``POST /2/dm_conversations/with/:id/messages``) by a user of its own (created in bulk before the
step, so every answer belongs to one event). :func:`post_requests` builds each whole HTTP/1.1
request before the clock starts; :func:`drive_posts_in_subprocess` sends them at their Poisson
times over keep-alive connections with :mod:`loadtests.sweep_driver`'s machinery (one spawned
process, its CPU measured; latency counts from the *scheduled* time). :func:`first_answers` reads,
after the step, what the system answered (the newest of the fakes' records, bounded by the step):

- ``reg`` (``#reg <mobile>``, a new number each): the first SMS to that number, or a reply tweet;
- ``act`` (``#act #PACK``): a reply tweet to it, or an SMS to the author's number (none: a new user);
- ``dm`` (``act PACK``): the operator's first DM in that conversation after it;
- ``noise``: nothing (offered as load, never timed).
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from loadtests.journeys import snowflake_time
from loadtests.sweep_driver import DriverResult, _Connection, _Step, run_in_subprocess

_MENTIONS = "GET /2/users/:id/mentions"

__all__ = [
    "PostEvent", "drive_posts_in_subprocess", "first_answers", "mention_rounds", "post_requests",
    "timeline_reads", "wait_until_quiet",
]  # fmt: skip


@dataclass(frozen=True)
class PostEvent:
    """One event: its kind, the posting user's id and bearer token, its text, the number it names."""

    kind: str
    user_id: str
    token: str
    text: str
    number: str = ""


def post_requests(x_url: str, operator_id: str, events: list[PostEvent]) -> list[bytes]:
    """The whole HTTP/1.1 request of each event (a DM for ``dm``, else a tweet)."""
    parts = urlsplit(x_url)
    host = f"{parts.hostname}:{parts.port}"
    out = []
    for event in events:
        path = f"/2/dm_conversations/with/{operator_id}/messages" if event.kind == "dm" else "/2/tweets"
        body = json.dumps({"text": event.text}).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n"
            f"authorization: Bearer {event.token}\r\ncontent-length: {len(body)}\r\n\r\n"
        )
        out.append(head.encode() + body)
    return out


async def _drive(url: str, offsets: list[float], payloads: list[bytes], connections: int) -> DriverResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    loop = asyncio.get_running_loop()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    step = _Step(payloads, time.perf_counter())
    for _ in range(connections):
        await loop.create_connection(lambda: _Connection(step), host, port)
    start_epoch, step.t0 = time.time(), time.perf_counter()
    lateness = 0.0
    for index, offset in enumerate(offsets):
        delay = offset - (time.perf_counter() - step.t0)
        while delay > 0:  # never early
            await asyncio.sleep(delay)
            delay = offset - (time.perf_counter() - step.t0)
        lateness = max(lateness, time.perf_counter() - step.t0 - offset)
        step.release(index)
    if offsets:
        try:
            await asyncio.wait_for(step.done, 30.0)
        except TimeoutError:
            pass  # unanswered posts stay status 0: offered, not accepted
    wall = time.perf_counter() - step.t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    for connection in list(step.idle):
        if connection.transport is not None:
            connection.transport.close()
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return DriverResult(start_epoch, offsets, step.answered, step.statuses, cpu, wall, lateness)


def _drive_posts(url: str, offsets: list[float], payloads: list[bytes], conns: int) -> DriverResult:
    return asyncio.run(_drive(url, offsets, payloads, conns))


def drive_posts_in_subprocess(
    x_url: str, offsets: list[float], payloads: list[bytes], connections: int = 16
) -> DriverResult:
    """Send ``payloads[i]`` at ``offsets[i]`` (s) from a spawned process; its record and CPU."""
    return run_in_subprocess(_drive_posts, (x_url, offsets, payloads, connections), "the post driver")


def _x_offset(client: httpx.Client, x_url: str) -> float:
    before = time.time()
    return float(client.get(f"{x_url}/_fake/clock").json()["now"]) - (before + time.time()) / 2


def first_answers(
    x_url: str, sms_url: str, operator_id: str, events: list[PostEvent], after_epoch: float
) -> dict[int, float]:
    """Event index -> wall-clock epoch of the system's first answer to it (see the module docstring);
    only records newer than ``after_epoch`` (the step's start) are read."""
    bound = 4 * len(events) + 100
    with httpx.Client(timeout=120) as client:
        x_offset = _x_offset(client, x_url)
        # newest first: the step's posts and every answer to them (the answers come after the posts)
        tweets = client.get(f"{x_url}/_fake/tweets", params={"limit": bound}).json().get("data", [])
        timeline = f"{x_url}/_fake/timelines/{operator_id}"
        dms = client.get(timeline, params={"kind": "dms", "limit": bound}).json().get("data", [])
        clock = client.get(f"{sms_url}/_fake/clock").json()
        outbox = client.get(f"{sms_url}/_fake/outbox", params={"limit": bound}).json().get("messages", [])
    scale = float(clock.get("time_scale") or 1.0)
    carrier_now, wall_now = float(clock["carrier_time"]), time.time()

    def wall(snowflake: Any) -> float:
        return snowflake_time(str(snowflake)) - x_offset

    author_of = {str(t["id"]): str(t.get("author_id")) for t in tweets}
    answer: dict[str, float] = {}  # user id -> first answer
    for tweet in (t for t in tweets if str(t.get("author_id")) == operator_id):
        for ref in tweet.get("referenced_tweets", []):
            author = author_of.get(str(ref.get("id"))) if ref.get("type") == "replied_to" else None
            if author is not None:
                answer[author] = min(answer.get(author, float("inf")), wall(tweet["id"]))
    for event in dms:
        if str(event.get("sender_id")) == operator_id:
            conversation = str(event.get("dm_conversation_id", ""))
            other = next((p for p in conversation.split("-") if p != operator_id), "")
            answer[other] = min(answer.get(other, float("inf")), wall(event["id"]))
    by_number: dict[str, float] = {}
    for message in outbox:
        created = wall_now - (carrier_now - float(message["carrier"]["created"])) / scale
        to = str(message.get("to", ""))
        if created >= after_epoch:
            by_number[to] = min(by_number.get(to, float("inf")), created)
    out: dict[int, float] = {}
    for index, event in enumerate(events):
        if event.kind == "noise":
            continue
        found = min(answer.get(event.user_id, float("inf")), by_number.get(event.number, float("inf")))
        if found < float("inf"):
            out[index] = found
    return out


def wait_until_quiet(x_url: str, sms_url: str, quiet_s: float, deadline: float) -> None:
    """Return once the fakes have recorded nothing new (tweets, DMs, SMS) for ``quiet_s`` seconds,
    or at ``deadline`` (``time.monotonic()``). Only the fakes' counters are read: reading the
    records themselves (:func:`first_answers`) takes the fakes' process long enough to hold the
    system's last answers back, so it waits until the system has stopped answering."""
    last, since = -1, time.monotonic()
    with httpx.Client(timeout=60) as client:
        while time.monotonic() < deadline:
            x = client.get(f"{x_url}/_fake/counters").json()
            sms = client.get(f"{sms_url}/_fake/counters").json()
            seen = int(x["tweets_created"]) + int(x["dms_sent"]) + int(sms["stored_messages"])
            if seen != last:
                last, since = seen, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return
            time.sleep(0.2)


def timeline_reads(x_url: str) -> list[dict[str, Any]]:
    """Every timeline read the system made at fake X (``/_fake/reads``), its time on the wall clock."""
    with httpx.Client(timeout=60) as client:
        x_offset = _x_offset(client, x_url)
        reads = client.get(f"{x_url}/_fake/reads").json().get("data", [])
    return [{**r, "t": float(r["t"]) - x_offset} for r in reads]


def mention_rounds(x_url: str, gap_s: float) -> list[float]:
    """Wall-clock starts of the system's mention-reading rounds (its reads at fake X, pages of one
    round less than ``gap_s`` apart)."""
    with httpx.Client(timeout=60) as client:
        x_offset = _x_offset(client, x_url)
        reads = client.get(f"{x_url}/_fake/reads", params={"route": _MENTIONS}).json().get("data", [])
    starts: list[float] = []
    last = -1e18
    for t in sorted(float(r["t"]) - x_offset for r in reads):
        if t - last > gap_s:
            starts.append(t)
        last = t
    return starts
