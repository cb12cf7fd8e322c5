"""What a system did, seen from the fakes' side only (control routes over HTTP, no admin API).

After a load run, :func:`observe_run` reads fake X's tweets, the operator's DMs and timeline reads
(``GET /_fake/reads``) and fake SMS's outbox, and turns them into *jobs*: one per command a
subscriber sent, with when it was posted and when the system's first answer to it appeared at a
fake (its *done* time), on the wall clock:

- ``reg`` (``#reg <mobile>`` tweet): the code SMS to that number, or a reply tweet to it;
- ``code`` (``#code NNNNNN``): the "now linked" SMS to the author's number, or a reply;
- ``act`` (``#act #PACK``): a purchase answer SMS to the author's number, or a reply;
- ``dm`` (a DM to the operator): the operator's DM answer in that conversation, or an SMS answer;
- ``noise`` (any other mention): no answer expected (done is None).

An SMS answer counts only before the author's next command (a mistyped code that got no answer
then stays unanswered, not answered by the next try's SMS). ``reads`` are when the system read
mentions and DM events (polling); ``replied`` counts per command the jobs answered by reply tweet.
The document is JSON-ready; :mod:`simulator.fit` fits the model's stations to it.
"""

from __future__ import annotations

import bisect
import re
import time
from collections import defaultdict
from typing import Any

import httpx

from loadtests.journeys import snowflake_time
from loadtests.message_counts import sms_kind

__all__ = ["command_of", "observe_run"]

_LIMIT = 1_000_000
_REG = re.compile(r"#reg\s+\+?(?:91)?(\d{10})\b", re.IGNORECASE)
_MENTIONS = "GET /2/users/:id/mentions"


def command_of(text: str) -> str:
    """The command a mention carries (``reg``, ``code``, ``act`` or ``noise``)."""
    lowered = text.lower()
    for tag in ("reg", "code", "act"):
        if f"#{tag}" in lowered:
            return tag
    return "noise"


def _sms_index(client: httpx.Client, sms_url: str) -> dict[str, list[tuple[float, str]]]:
    """SMS the system sent, per number: (wall time created at the fake, kind), oldest first."""
    clock = client.get(f"{sms_url}/_fake/clock").json()
    scale = float(clock.get("time_scale") or 1.0)
    carrier_now, wall_now = float(clock["carrier_time"]), time.time()
    out: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for message in client.get(f"{sms_url}/_fake/outbox", params={"limit": _LIMIT}).json().get("messages", []):
        created = wall_now - (carrier_now - float(message["carrier"]["created"])) / scale
        out[str(message.get("to", ""))].append((created, sms_kind(str(message.get("body", "")))))
    for sent in out.values():
        sent.sort()
    return out


def _first_sms(
    sent: list[tuple[float, str]], kinds: tuple[str, ...], after: float, before: float
) -> float | None:
    times = [t for t, _ in sent]
    for t, kind in sent[bisect.bisect_left(times, after) :]:
        if t >= before:
            return None
        if kind in kinds:
            return t
    return None


def _earliest(*times: float | None) -> float | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None


def observe_run(x_url: str, sms_url: str, operator_handle: str, t0: float, t1: float) -> dict[str, Any]:
    """Jobs posted in [t0, t1) (wall clock), the system's timeline reads, its reply habits."""
    with httpx.Client(timeout=120) as client:
        before = time.time()
        x_offset = float(client.get(f"{x_url}/_fake/clock").json()["now"]) - (before + time.time()) / 2
        tweets = client.get(f"{x_url}/_fake/tweets", params={"limit": _LIMIT}).json().get("data", [])
        users = client.get(f"{x_url}/_fake/users").json().get("data", [])
        operator = next((u for u in users if u.get("username") == operator_handle), None)
        if operator is None:
            raise RuntimeError(f"@{operator_handle} does not exist at fake X {x_url}")
        op_id = str(operator["id"])
        dms = client.get(f"{x_url}/_fake/timelines/{op_id}", params={"kind": "dms", "limit": _LIMIT}).json()
        reads = client.get(f"{x_url}/_fake/reads").json().get("data", [])
        sms = _sms_index(client, sms_url)

    def wall(snowflake: str) -> float:
        return snowflake_time(snowflake) - x_offset

    replies: dict[str, float] = {}
    mentions: list[dict[str, Any]] = []
    for tweet in tweets:
        if str(tweet.get("author_id")) == op_id:
            for ref in tweet.get("referenced_tweets", []):
                if ref.get("type") == "replied_to":
                    replies.setdefault(str(ref["id"]), wall(str(tweet["id"])))
        elif f"@{operator_handle.lower()}" in str(tweet.get("text", "")).lower():
            mentions.append(tweet)
    mentions.sort(key=lambda t: int(t["id"]))
    number_of: dict[str, str] = {}
    commands_by_author: dict[str, list[float]] = defaultdict(list)
    for tweet in mentions:
        found = _REG.search(str(tweet.get("text", "")))
        if found:
            number_of.setdefault(str(tweet["author_id"]), "+91" + found.group(1))
        if command_of(str(tweet.get("text", ""))) != "noise":
            commands_by_author[str(tweet["author_id"])].append(wall(str(tweet["id"])))
    dm_events = sorted(dms.get("data", []), key=lambda e: int(e["id"]))
    for event in dm_events:
        if str(event.get("sender_id")) != op_id:
            commands_by_author[str(event.get("sender_id"))].append(wall(str(event["id"])))
    for posts in commands_by_author.values():
        posts.sort()

    def next_command(author: str, posted: float) -> float:
        posts = commands_by_author.get(author, [])
        i = bisect.bisect_right(posts, posted)
        return posts[i] if i < len(posts) else float("inf")

    jobs: list[list[Any]] = []
    replied: dict[str, int] = defaultdict(int)
    answer_kinds = {"reg": ("sms_code",), "code": ("sms_link",), "act": ("sms_confirmation",)}
    for tweet in mentions:
        posted = wall(str(tweet["id"]))
        if not t0 <= posted < t1:
            continue
        command, author = command_of(str(tweet.get("text", ""))), str(tweet["author_id"])
        if command == "noise":
            jobs.append(["noise", posted, None])
            continue
        found = _REG.search(str(tweet["text"])) if command == "reg" else None
        number = "+91" + found.group(1) if found else number_of.get(author, "")
        by_sms = _first_sms(sms.get(number, []), answer_kinds[command], posted, next_command(author, posted))
        reply = replies.get(str(tweet["id"]))
        replied[command] += reply is not None
        jobs.append([command, posted, _earliest(by_sms, reply)])
    for i, event in enumerate(dm_events):
        sender = str(event.get("sender_id"))
        posted = wall(str(event["id"]))
        if sender == op_id or not t0 <= posted < t1:
            continue
        conversation = event.get("dm_conversation_id")
        answer = next(
            (wall(str(e["id"])) for e in dm_events[i + 1 :]
             if str(e.get("sender_id")) == op_id and e.get("dm_conversation_id") == conversation),
            None,
        )  # fmt: skip
        number = number_of.get(sender, "")
        by_sms = _first_sms(sms.get(number, []), ("sms_confirmation",), posted, next_command(sender, posted))
        jobs.append(["dm", posted, _earliest(answer, by_sms)])
    jobs.sort(key=lambda j: j[1])
    mention_reads = [float(r["t"]) - x_offset for r in reads if r["route"] == _MENTIONS]
    dm_reads = [float(r["t"]) - x_offset for r in reads if str(r["route"]).startswith("GET /2/dm_")]
    sizes = sorted({int(r["max_results"]) for r in reads if r["route"] == _MENTIONS and r["max_results"]})
    counts: dict[str, int] = defaultdict(int)
    for command, _, _ in jobs:
        counts[command] += 1
    return {
        "t0": t0,
        "t1": t1,
        "jobs": jobs,
        "reads": {"mentions": sorted(mention_reads), "dms": sorted(dm_reads)},
        "page_sizes": sizes,
        "replied": dict(replied),
        "counts": dict(counts),
    }
